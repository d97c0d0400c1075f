/**
 * Quantized-weight products (Backend.gemmQ, x·Wᵀ with W in Q8_0 / Q4_1, and Q4_0 beside int4) against our own f32 GEMM
 * on the same shape (W f32, packed once as frozen weights are) and PyTorch's dynamic int8 Linear
 * (`torch.ao.quantization.quantize_dynamic`, per-tensor int8 weights) in the same run, 2 threads
 * on both sides. Shapes: a 1.3B decode step (M = 1), small batches against the h512 MLP, the h512
 * encode workload's MLP pair, a 1.3B MLP up-projection and 2048³ (issue #10's).
 *   node dist/bench/gemm-quant.js [--rounds 2]
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { loadNativeBackend, nativeInfo } from "../src/tensor/backend/native.js";
import type { GemmArgs, QuantKind } from "../src/tensor/backend/types.js";
import { quantizeWeight } from "../src/tensor/quant.js";
import { median, printTable, randomF32, runTorch, type BenchRow, type Shape } from "./common.js";

const SHAPES: Shape[] = [
  { M: 1, N: 5504, K: 2048, warmup: 5, reps: 21 },
  { M: 64, N: 1408, K: 512, warmup: 5, reps: 21 },
  { M: 256, N: 1408, K: 512, warmup: 3, reps: 11 },
  { M: 4096, N: 1408, K: 512, warmup: 1, reps: 5 },
  { M: 4096, N: 512, K: 1408, warmup: 1, reps: 5 },
  { M: 1024, N: 5504, K: 2048, warmup: 1, reps: 3 },
  { M: 2048, N: 2048, K: 2048, warmup: 1, reps: 3 },
];

const label = (s: Shape) => `${s.M}×${s.N}×${s.K}`;

function timeMs(fn: () => void, s: Shape): number {
  for (let i = 0; i < s.warmup; i++) fn();
  const ts: number[] = [];
  for (let i = 0; i < s.reps; i++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

type Side = { f32: number; q8: number; q4: number; q40: number };

/** Child (LLM2VEC_THREADS=2): median ms of f32 (packed W), q8_0 (int8), q4_1 (int4) and q4_0 per shape. */
function child(): Side[] {
  const be = loadNativeBackend().backend;
  if (!be?.packB) throw new Error("native backend unavailable");
  return SHAPES.map((s) => {
    const A = randomF32(s.M * s.K, 1),
      W = randomF32(s.N * s.K, 2),
      C = new Float32Array(s.M * s.N);
    const g: GemmArgs = { batch: 1, M: s.M, N: s.N, K: s.K, transA: false, transB: true, A, lda: s.K, strideA: 0, B: W, bDtype: "f32", ldb: s.K, strideB: 0, C, ldc: s.N, strideC: 0, alpha: 1, beta: 0 };
    g.packedB = be.packB!({ B: W, bDtype: "f32", N: s.N, K: s.K, ldb: s.K, transB: true, compute: "f32" });
    const q = (kind: QuantKind) => {
      const w = quantizeWeight(W, "f32", s.N, s.K, kind, "w");
      return timeMs(() => be.gemmQ({ M: s.M, A, W: w, C, alpha: 1, beta: 0 }), s);
    };
    return { f32: timeMs(() => be.gemm(g), s), q8: q("q8_0"), q4: q("q4_1"), q40: q("q4_0") };
  });
}

export async function benchGemmQuant(rounds = 2): Promise<BenchRow[]> {
  const best: Side[] = SHAPES.map(() => ({ f32: Infinity, q8: Infinity, q4: Infinity, q40: Infinity }));
  const torch = SHAPES.map(() => Infinity);
  let engine = "?";
  // Interleaved rounds, best median per side: damps other processes on the shared cores.
  for (let r = 0; r < rounds; r++) {
    const c = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--child"], { env: { ...process.env, LLM2VEC_THREADS: "2" }, encoding: "utf8", maxBuffer: 1 << 24 });
    if (c.status !== 0) throw new Error(`gemm-quant child failed: ${c.stderr}`);
    (JSON.parse(c.stdout) as Side[]).forEach((x, i) => (best[i] = { f32: Math.min(best[i]!.f32, x.f32), q8: Math.min(best[i]!.q8, x.q8), q4: Math.min(best[i]!.q4, x.q4), q40: Math.min(best[i]!.q40, x.q40) }));
    const t = runTorch("bench/competitors/gemm_torch_qint8.py", SHAPES.map((s) => `${s.M},${s.N},${s.K},${s.warmup},${s.reps}`)) as { engine: string; torch: string; results: { q8: number }[] };
    engine = `PyTorch ${t.torch} dynamic int8 (${t.engine})`;
    t.results.forEach((x, i) => (torch[i] = Math.min(torch[i]!, x.q8)));
  }
  const kernel = nativeInfo()?.quant ?? "?";
  const gf = (s: Shape, ms: number) => ((2 * s.M * s.N * s.K) / (ms * 1e6)).toFixed(0);
  return SHAPES.flatMap((s, i) => {
    const b = best[i]!,
      t = torch[i]!;
    const f32 = `our f32 GEMM (packed W) ${b.f32.toFixed(2)} ms = ${gf(s, b.f32)} GFLOP/s`;
    return (["q8", "q4"] as const).map((k) => ({
      name: `${k === "q8" ? "int8" : "int4"} x·Wᵀ ${label(s)} [2T]`,
      ours_ms: b[k],
      competitor: engine,
      competitor_ms: t,
      ratio: t / b[k],
      note: `${gf(s, b[k])} GFLOP/s-equivalent on the ${kernel} kernel, ${(b.f32 / b[k]).toFixed(2)}× our f32 speed${k === "q4" ? ` (q4_1; q4_0 ${b.q40.toFixed(2)} ms)` : ""}; ${f32}`,
    }));
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv[2] === "--child") process.stdout.write(JSON.stringify(child()));
  else {
    const i = process.argv.indexOf("--rounds");
    printTable("Quantized-weight GEMM (int8, int4) vs our f32 GEMM and PyTorch dynamic int8", await benchGemmQuant(i > 0 ? Math.max(1, Number(process.argv[i + 1]) || 2) : 2));
  }
}
