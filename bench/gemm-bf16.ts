/**
 * bf16 GEMM benchmark: llm2vec's bf16-compute product (x·Wᵀ: activations f32, rounded to bf16
 * while packing; W stored bf16; f32 accumulation and output) against oneDNN's bf16 matmul
 * (src and weights bf16, dst f32) on the shapes of issue #10, both on 2 threads, in the same run.
 * Beside it: our f32 GEMM on the same shape (W f32), and the bf16 product forced onto each of its
 * two paths: the vdpbf16ps kernel (LLM2VEC_NATIVE_ISA=avx512bf16) and the f32 kernel on rounded
 * operands that CPUs without bf16 units run (LLM2VEC_NATIVE_ISA=avx512); the default row runs
 * whichever the addon's timing picked.
 *
 * oneDNN comes from Debian's libdnnl-dev (`apt-get install -y libdnnl-dev`): the bench compiles
 * bench/competitors/gemm_onednn.cc into .bench-cache/ with g++ and skips the comparison, saying
 * why, when the headers, the library or the compiler are missing. It is never a runtime
 * dependency. Note that oneDNN is handed activations already in bf16; ours starts from f32.
 *   node dist/bench/gemm-bf16.js [--rounds 2]
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { loadNativeBackend, nativeInfo } from "../src/tensor/backend/native.js";
import type { GemmArgs } from "../src/tensor/backend/types.js";
import { fromFloat32, type DType } from "../src/tensor/dtype.js";
import { benchCacheDir } from "./checkpoints.js";
import { median, printTable, randomF32, ROOT, type BenchRow, type Shape } from "./common.js";

/** Issue #10's shapes: 2048³, a 1.3B MLP up-projection, and the h512 encode workload's MLP pair. */
const SHAPES: Shape[] = [
  { M: 2048, N: 2048, K: 2048, warmup: 1, reps: 5 },
  { M: 1024, N: 5504, K: 2048, warmup: 1, reps: 5 },
  { M: 4096, N: 1408, K: 512, warmup: 2, reps: 7 },
  { M: 4096, N: 512, K: 1408, warmup: 2, reps: 7 },
];

const label = (s: Shape) => `${s.M}×${s.N}×${s.K}`;

/** Child: median ms of x·Wᵀ per shape, W stored as `wDtype`, products in `compute`. */
function timeShape(s: Shape, wDtype: DType, compute: "f32" | "bf16"): number {
  const be = loadNativeBackend().backend;
  if (!be) throw new Error("native backend unavailable");
  const A = randomF32(s.M * s.K, 1),
    W = fromFloat32(randomF32(s.N * s.K, 2), wDtype),
    C = new Float32Array(s.M * s.N);
  const g: GemmArgs = { batch: 1, M: s.M, N: s.N, K: s.K, transA: false, transB: true, A, lda: s.K, strideA: 0, B: W, bDtype: wDtype, ldb: s.K, strideB: 0, C, ldc: s.N, strideC: 0, alpha: 1, beta: 0, compute };
  for (let i = 0; i < s.warmup; i++) be.gemm(g);
  const ts: number[] = [];
  for (let i = 0; i < s.reps; i++) {
    const t0 = performance.now();
    be.gemm(g);
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

type Variant = "bf16" | "f32" | "units" | "rounded";
const VARIANTS: Variant[] = ["bf16", "f32", "units", "rounded"];

function ours(variant: Variant): { ms: number[]; kernel: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, LLM2VEC_THREADS: "2" };
  if (variant === "rounded") env.LLM2VEC_NATIVE_ISA = "avx512";
  if (variant === "units") env.LLM2VEC_NATIVE_ISA = "avx512bf16"; // falls back (and says so in `kernel`) without bf16 units
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--child", variant], { env, encoding: "utf8", maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`gemm-bf16 child (${variant}) failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { ms: number[]; kernel: string };
}

/** Builds the oneDNN harness once; null (with the reason) when it cannot be built here. */
function onednnHarness(): { exe: string } | { skip: string } {
  const src = path.join(ROOT, "bench/competitors/gemm_onednn.cc");
  const exe = path.join(benchCacheDir(), "gemm_onednn");
  if (fs.existsSync(exe) && fs.statSync(exe).mtimeMs >= fs.statSync(src).mtimeMs) return { exe };
  if (!fs.existsSync("/usr/include/oneapi/dnnl/dnnl.hpp")) return { skip: "oneDNN not installed (apt-get install -y libdnnl-dev): comparison skipped" };
  const r = spawnSync("g++", ["-O2", "-std=c++17", src, "-o", exe, "-ldnnl"], { encoding: "utf8" });
  if (r.status !== 0) return { skip: `building the oneDNN harness failed (${r.error?.message ?? r.stderr.trim().split("\n").pop()}): comparison skipped` };
  return { exe };
}

function onednn(exe: string): { ms: number; impl: string }[] {
  const env = { ...process.env, OMP_NUM_THREADS: "2", OMP_WAIT_POLICY: "PASSIVE" };
  const r = spawnSync(exe, SHAPES.map((s) => `${s.M},${s.N},${s.K},${s.warmup},${s.reps}`), { env, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`oneDNN harness failed: ${r.stderr}`);
  return r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { ms: number; impl: string });
}

export async function benchGemmBf16(rounds = 2): Promise<BenchRow[]> {
  const h = onednnHarness();
  const inf = () => SHAPES.map(() => Infinity);
  const best = { bf16: inf(), f32: inf(), units: inf(), rounded: inf(), dnnl: inf() };
  const kernels: Record<Variant, string> = { bf16: "?", f32: "?", units: "?", rounded: "?" };
  let impl = "";
  // Interleaved rounds, best median per side: damps other processes on the shared cores.
  for (let r = 0; r < rounds; r++) {
    for (const v of VARIANTS) {
      const o = ours(v);
      kernels[v] = o.kernel;
      o.ms.forEach((ms, i) => (best[v][i] = Math.min(best[v][i]!, ms)));
    }
    if ("exe" in h)
      onednn(h.exe).forEach((x, i) => {
        best.dnnl[i] = Math.min(best.dnnl[i]!, x.ms);
        impl = x.impl;
      });
  }
  const gf = (s: Shape, ms: number) => ((2 * s.M * s.N * s.K) / (ms * 1e6)).toFixed(0);
  return SHAPES.map((s, i) => {
    const o = best.bf16[i]!,
      f = best.f32[i]!,
      u = best.units[i]!,
      rd = best.rounded[i]!,
      d = best.dnnl[i]!;
    const note = [
      `ours bf16 on ${kernels.bf16} (the addon's pick): ${gf(s, o)} GFLOP/s`,
      "exe" in h ? `oneDNN ${impl}: ${gf(s, d)} GFLOP/s` : h.skip,
      `our f32 GEMM (${kernels.f32}, W f32) ${f.toFixed(1)} ms = ${gf(s, f)} GFLOP/s, bf16 is ${(f / o).toFixed(2)}× its speed`,
      `forced onto ${kernels.units}: ${u.toFixed(1)} ms = ${gf(s, u)} GFLOP/s; onto ${kernels.rounded}: ${rd.toFixed(1)} ms = ${gf(s, rd)} GFLOP/s`,
    ];
    return {
      name: `bf16 x·Wᵀ ${label(s)} [2T]`,
      ours_ms: o,
      competitor: "exe" in h ? "oneDNN 2.6 bf16 matmul, 2 threads" : "oneDNN (skipped)",
      competitor_ms: "exe" in h ? d : NaN,
      ratio: "exe" in h ? d / o : NaN,
      note: note.join("; "),
    };
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv[2] === "--child") {
    const v = process.argv[3] as Variant;
    const info = nativeInfo();
    const ms = SHAPES.map((s) => (v === "f32" ? timeShape(s, "f32", "f32") : timeShape(s, "bf16", "bf16")));
    process.stdout.write(JSON.stringify({ ms, kernel: v === "f32" ? info?.gemm : info?.gemmBf16 }));
  } else {
    const i = process.argv.indexOf("--rounds");
    printTable("bf16 GEMM vs oneDNN", await benchGemmBf16(i > 0 ? Math.max(1, Number(process.argv[i + 1]) || 2) : 2));
  }
}
