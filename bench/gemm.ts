/**
 * GEMM benchmark: the native addon against numpy (OpenBLAS) in the same run, same shapes, same
 * transposes, both on 2 threads (plus a few single-threaded rows, which are less sensitive to
 * other processes on the cores). Run directly: `node dist/bench/gemm.js [--rounds N]`.
 *
 * ratio = competitor_ms / ours_ms, i.e. our speed relative to the competitor (> 1: we are faster).
 * Each figure is the median over several timed repetitions after warm-up; the whole comparison
 * is done in two interleaved rounds (ours, numpy, ours, numpy) and each side keeps its best
 * round median, which damps the noise of other processes sharing the cores.
 */
import { spawnSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { loadNativeBackend, nativeInfo } from "../src/tensor/backend/native.js";
import type { GemmArgs } from "../src/tensor/backend/types.js";
import { fromFloat32, type DType } from "../src/tensor/dtype.js";
import { randomF32, type BenchRow } from "./common.js";


interface Case {
  name: string;
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  bDtype: DType;
  warmup: number;
  reps: number;
  /** B packed once before timing (Backend.packB, as frozen weights are): the per-call packing left out. */
  packed?: boolean;
}

const CASES: Case[] = [
  { name: "1024³ A·B", M: 1024, N: 1024, K: 1024, transA: false, transB: false, bDtype: "f32", warmup: 3, reps: 9 },
  { name: "2048³ A·B", M: 2048, N: 2048, K: 2048, transA: false, transB: false, bDtype: "f32", warmup: 2, reps: 7 },
  { name: "1024×512·512×512 A·B", M: 1024, N: 512, K: 512, transA: false, transB: false, bDtype: "f32", warmup: 5, reps: 21 },
  { name: "1024×512·512×1408 A·B", M: 1024, N: 1408, K: 512, transA: false, transB: false, bDtype: "f32", warmup: 5, reps: 21 },
  { name: "x·Wᵀ 1024×512·(1408×512)ᵀ A·Bᵀ", M: 1024, N: 1408, K: 512, transA: false, transB: true, bDtype: "f32", warmup: 5, reps: 21 },
  { name: "dX 1024×1408·1408×512 A·B", M: 1024, N: 512, K: 1408, transA: false, transB: false, bDtype: "f32", warmup: 5, reps: 21 },
  { name: "dX 1024×1408·(512×1408)ᵀ A·Bᵀ", M: 1024, N: 512, K: 1408, transA: false, transB: true, bDtype: "f32", warmup: 5, reps: 21 },
  { name: "dW (1024×512)ᵀ·1024×1408 Aᵀ·B", M: 512, N: 1408, K: 1024, transA: true, transB: false, bDtype: "f32", warmup: 5, reps: 21 },
  { name: "dW (1024×1408)ᵀ·1024×512 Aᵀ·B", M: 1408, N: 512, K: 1024, transA: true, transB: false, bDtype: "f32", warmup: 5, reps: 21 },
  { name: "x·Wᵀ bf16 W 1024×512·(1408×512)ᵀ", M: 1024, N: 1408, K: 512, transA: false, transB: true, bDtype: "bf16", warmup: 5, reps: 21 },
  // Decode steps (one or a few tokens times every weight matrix; 1.3B-model shapes): weight-bandwidth bound.
  { name: "decode 1×2048·(5504×2048)ᵀ bf16 W", M: 1, N: 5504, K: 2048, transA: false, transB: true, bDtype: "bf16", warmup: 5, reps: 21 },
  { name: "decode 1×2048·(5504×2048)ᵀ f32 W", M: 1, N: 5504, K: 2048, transA: false, transB: true, bDtype: "f32", warmup: 5, reps: 21 },
  { name: "decode 8×2048·(5504×2048)ᵀ bf16 W", M: 8, N: 5504, K: 2048, transA: false, transB: true, bDtype: "bf16", warmup: 5, reps: 21 },
  { name: "decode 8×2048·(5504×2048)ᵀ f32 W", M: 8, N: 5504, K: 2048, transA: false, transB: true, bDtype: "f32", warmup: 5, reps: 21 },
  { name: "decode 16×2048·(5504×2048)ᵀ bf16 W", M: 16, N: 5504, K: 2048, transA: false, transB: true, bDtype: "bf16", warmup: 5, reps: 21 },
  { name: "decode 8×5504·(2048×5504)ᵀ bf16 W", M: 8, N: 2048, K: 5504, transA: false, transB: true, bDtype: "bf16", warmup: 5, reps: 21 },
  { name: "lm_head 1×2048·(32000×2048)ᵀ bf16 W", M: 1, N: 32000, K: 2048, transA: false, transB: true, bDtype: "bf16", warmup: 3, reps: 11 },
  // Small batches against frozen weights (a server's requests): per-call packing vs packed once.
  ...[false, true].flatMap((packed) => [
    { name: `x·Wᵀ 64×512·(1408×512)ᵀ${packed ? " packed W" : ""}`, M: 64, N: 1408, K: 512, transA: false, transB: true, bDtype: "f32" as DType, warmup: 5, reps: 41, packed },
    { name: `x·Wᵀ 256×512·(1408×512)ᵀ${packed ? " packed W" : ""}`, M: 256, N: 1408, K: 512, transA: false, transB: true, bDtype: "f32" as DType, warmup: 5, reps: 41, packed },
    { name: `x·Wᵀ 1024×2048·(5504×2048)ᵀ bf16 W${packed ? " packed" : ""}`, M: 1024, N: 5504, K: 2048, transA: false, transB: true, bDtype: "bf16" as DType, warmup: 2, reps: 7, packed },
  ]),
];

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timeOurs(c: Case): number {
  const { backend } = loadNativeBackend();
  if (!backend) throw new Error("native backend unavailable");
  const A = randomF32(c.M * c.K, 1);
  const B = fromFloat32(randomF32(c.K * c.N, 2), c.bDtype);
  const C = new Float32Array(c.M * c.N);
  const g: GemmArgs = {
    batch: 1,
    M: c.M,
    N: c.N,
    K: c.K,
    transA: c.transA,
    transB: c.transB,
    A,
    lda: c.transA ? c.M : c.K,
    strideA: 0,
    B,
    bDtype: c.bDtype,
    ldb: c.transB ? c.K : c.N,
    strideB: 0,
    C,
    ldc: c.N,
    strideC: 0,
    alpha: 1,
    beta: 0,
  };
  if (c.packed) {
    if (!backend.packB) throw new Error("this addon cannot pack B (rebuild it)");
    g.packedB = backend.packB({ B, bDtype: c.bDtype, N: c.N, K: c.K, ldb: g.ldb, transB: c.transB, compute: "f32" });
  }
  for (let i = 0; i < c.warmup; i++) backend.gemm(g);
  const ts: number[] = [];
  for (let i = 0; i < c.reps; i++) {
    const t0 = process.hrtime.bigint();
    backend.gemm(g);
    ts.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(ts);
}

function competitorScript(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = join(dir, "bench", "competitors", "gemm_numpy.py");
    if (existsSync(p)) return p;
    const up = dirname(dir);
    if (up === dir) throw new Error("bench/competitors/gemm_numpy.py not found");
    dir = up;
  }
}

function timeNumpy(cases: Case[], threads = 2): { ms: Map<string, number>; label: string } {
  const env: Record<string, string | undefined> = { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const input = JSON.stringify(cases.map(({ name, M, N, K, transA, transB, warmup, reps }) => ({ name, M, N, K, transA, transB, warmup, reps }))); // numpy has no packing to skip
  const r = spawnSync("python3", [competitorScript()], { input, env, encoding: "utf8", maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`numpy competitor failed: ${r.error?.message ?? r.stderr}`);
  const out = JSON.parse(r.stdout) as { results: { name: string; ms: number }[]; info: { numpy: string; blas?: string } };
  return { ms: new Map(out.results.map((x) => [x.name, x.ms])), label: `numpy ${out.info.numpy}${out.info.blas ? ` (${out.info.blas})` : ""}` };
}

/** Single-threaded comparison on a few shapes: less sensitive to other processes on the cores. */
const SINGLE_THREAD = new Set(["1024³ A·B", "2048³ A·B", "1024×512·512×1408 A·B", "decode 1×2048·(5504×2048)ᵀ bf16 W", "decode 8×2048·(5504×2048)ᵀ bf16 W"]);

/** Our timings in a child process whose pool has `threads` threads (the pool size is fixed at load). */
function timeOursChild(cases: Case[], threads: number): Map<string, number> {
  const env = { ...process.env, LLM2VEC_THREADS: String(threads) };
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--child", JSON.stringify(cases)], { env, encoding: "utf8", maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`bench child failed: ${r.error?.message ?? r.stderr}`);
  return new Map(Object.entries(JSON.parse(r.stdout) as Record<string, number>));
}

function minInto(into: Map<string, number>, from: Map<string, number>): void {
  for (const [k, v] of from) into.set(k, Math.min(into.get(k) ?? Infinity, v));
}

export async function benchGemm(rounds = 2): Promise<BenchRow[]> {
  const ours = new Map<string, number>();
  const theirs = new Map<string, number>();
  const ours1 = new Map<string, number>();
  const theirs1 = new Map<string, number>();
  const single = CASES.filter((c) => SINGLE_THREAD.has(c.name)).map((c) => ({ ...c, reps: Math.min(c.reps, 7) }));
  let label = "numpy";
  for (let r = 0; r < rounds; r++) {
    minInto(ours, timeOursChild(CASES, 2));
    const np = timeNumpy(CASES, 2);
    label = np.label;
    minInto(theirs, np.ms);
    minInto(ours1, timeOursChild(single, 1));
    minInto(theirs1, timeNumpy(single, 1).ms);
  }
  const info = nativeInfo();
  const row = (c: Case, o: number, t: number, threads: number): BenchRow => {
    const gflops = (2 * c.M * c.N * c.K) / (o * 1e6);
    const notes = [`${gflops.toFixed(0)} GFLOP/s ours`, info ? `${info.gemm} kernel` : ""];
    if (c.M <= 16) notes.push(`B streamed at ${((c.N * c.K * (c.bDtype === "f32" ? 4 : 2)) / (o * 1e6)).toFixed(1)} GB/s`);
    if (c.bDtype !== "f32") notes.push(`B stored ${c.bDtype}, widened ${c.M <= 16 ? "as it streams" : c.packed ? "once, when packed" : "while packing"}; numpy multiplies f32`);
    if (c.packed) notes.push("B packed once before timing (frozen weights)");
    return { name: `${c.name} [${threads}T]`, ours_ms: o, competitor: `${label}, ${threads} thread${threads > 1 ? "s" : ""}`, competitor_ms: t, ratio: t / o, note: notes.filter(Boolean).join("; ") };
  };
  return [
    ...CASES.map((c) => row(c, ours.get(c.name)!, theirs.get(c.name)!, 2)),
    ...single.map((c) => row(c, ours1.get(c.name)!, theirs1.get(c.name)!, 1)),
  ];
}

export function printRows(rows: BenchRow[]): void {
  console.log("GEMM: ours (llm2vec native) vs numpy; ratio = competitor_ms / ours_ms (> 1 means ours is faster)");
  console.log(`competitor: ${rows[0]?.competitor ?? "?"} ([2T] rows; [1T] rows: both sides single-threaded)`);
  console.log(`machine: ${cpus()[0]?.model ?? "?"} × ${cpus().length}; load average ${loadavg().map((x) => x.toFixed(2)).join(" ")} (other processes share these cores: expect noise)`);
  const w = Math.max(...rows.map((r) => r.name.length));
  console.log(`${"case".padEnd(w)}  ${"ours ms".padStart(9)}  ${"numpy ms".padStart(9)}  ${"ratio".padStart(6)}  note`);
  for (const r of rows) console.log(`${r.name.padEnd(w)}  ${r.ours_ms.toFixed(2).padStart(9)}  ${r.competitor_ms.toFixed(2).padStart(9)}  ${r.ratio.toFixed(2).padStart(6)}  ${r.note ?? ""}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === "--child") {
  const cases = JSON.parse(process.argv[3]!) as Case[];
  process.stdout.write(JSON.stringify(Object.fromEntries(cases.map((c) => [c.name, timeOurs(c)]))));
} else if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf("--rounds");
  printRows(await benchGemm(i > 0 ? Math.max(1, Number(process.argv[i + 1]) || 2) : 2));
}
