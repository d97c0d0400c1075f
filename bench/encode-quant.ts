/**
 * Issue #24's encode comparison, whole process: ours in f32, bf16 compute, int8 and int4 weights
 * (`--quantize`, Q8_0/Q4_0) beside PyTorch f32, PyTorch's dynamic int8 quantization
 * (torch.ao.quantization.quantize_dynamic; fbgemm where the build has it, else onednn) and
 * onnxruntime-node f32, on two workloads:
 *   - h512: issue #10's 4-layer random Llama, 96 × 128 ids in batches of 32;
 *   - 1.3B: the Sheared-LLaMA-1.3B-shaped bf16 checkpoint, 8 × 128 ids in one batch (minutes, not
 *     the hour a larger batch would take on 2 cores).
 * Each entry is one process timed from spawn to exit (start, load, one encode of every row, exit)
 * with its peak RSS. Every side encodes the same seeded ids (benchIds; PyTorch's --bench-ids) and
 * dumps its embeddings; the quality figure is the smallest per-row cosine against our f32 rows
 * (PyTorch encodes its one batch `rows / batch` times, so it is compared on that batch's rows).
 * onnxruntime is skipped with a warning when it cannot be installed or the export fails (PyTorch
 * 1.13's exporter refuses the 1.3B model: its f32 graph exceeds protobuf's 2 GB).
 *
 *   npm run build && node dist/bench/encode-quant.js [--only h512|1.3b]
 */
import * as path from "node:path";
import { benchCacheDir, ensureOpenBlas, shearedLlamaCheckpoint } from "./checkpoints.js";
import { minRowCosine, printTable, readRowsF32, timedTorch, timedWorker, type BenchRow } from "./common.js";
import { ensureOnnxEncoder, ensureOnnxRuntime } from "./ort.js";
import { llama4RandomCheckpoint } from "./serve-checkpoint.js";

interface Workload {
  key: string;
  label: string;
  dir: () => string;
  vocab: number;
  rows: number;
  batch: number;
  seq: number;
}

const WORKLOADS: Workload[] = [
  { key: "h512", label: "h512 4-layer Llama (random f32), 96×128 ids in batches of 32", dir: llama4RandomCheckpoint, vocab: 32000, rows: 96, batch: 32, seq: 128 },
  { key: "1.3b", label: "Sheared-LLaMA-1.3B shapes (random bf16), 8×128 ids in one batch", dir: shearedLlamaCheckpoint, vocab: 32000, rows: 8, batch: 8, seq: 128 },
];

/** Our variants: the worker's flags for each. */
const OURS: [name: string, flags: string[]][] = [
  ["f32", []],
  ["bf16", ["--dtype", "bf16"]],
  ["int8", ["--quantize", "int8"]],
  ["int4", ["--quantize", "int4"]],
];

interface Run {
  wallMs: number;
  rssMb: number;
  out: Record<string, unknown>;
  dump: string;
}

function variantNote(r: Run, f32: Run, cos: number): string {
  return `${(r.wallMs / f32.wallMs).toFixed(2)}× our f32 time; peak RSS ${r.rssMb} MB; min cosine vs our f32 ${cos.toFixed(4)}`;
}

/** "0.87× ort f32 time, " or nothing when onnxruntime was skipped. */
function vsOrt(ms: number, ort: Run | undefined): string {
  return ort ? `${(ms / ort.wallMs).toFixed(2)}× ort f32 time, ` : "";
}

/** The quantized-encode comparison on one workload. */
export function benchEncodeQuantWorkload(w: Workload): BenchRow[] {
  const dir = w.dir();
  const cache = benchCacheDir();
  const dumpOf = (name: string): string => path.join(cache, `encode-quant-${w.key}-${name}.f32`);
  const ids = ["--rows", String(w.rows), "--batch", String(w.batch), "--seq", String(w.seq), "--warmup", "0", "--repeats", "1"];
  const ours = new Map<string, Run>();
  for (const [name, flags] of OURS) {
    const dump = dumpOf(name);
    const [out, wallMs] = timedWorker("encode-throughput-worker.js", ["--model", dir, ...ids, ...flags, "--dump", dump]);
    ours.set(name, { wallMs, rssMb: out.peak_rss_mb as number, out, dump });
  }
  ensureOpenBlas();
  const torch = new Map<string, Run>();
  for (const [name, flags] of [["f32", []], ["int8", ["--quantize", "int8"]]] as const) {
    const dump = dumpOf(`torch-${name}`);
    const args = ["--model", dir, "--batch", String(w.batch), "--seq", String(w.seq), "--warmup", "0", "--repeats", String(w.rows / w.batch), "--threads", "2", "--dtype", "float32", "--pool", "mean", "--bench-ids", ...flags, "--dump", dump];
    const [out, wallMs] = timedTorch("bench/competitors/torch_forward.py", args);
    torch.set(name, { wallMs, rssMb: out.peak_rss_mb as number, out, dump });
  }
  let ort: Run | undefined, ortSkipped = "";
  try {
    const ortDir = ensureOnnxRuntime();
    const onnx = ensureOnnxEncoder(dir);
    const dump = dumpOf("ort");
    const args = ["--ort", ortDir, "--model", onnx, "--vocab", String(w.vocab), "--threads", "2", ...ids, "--dump", dump];
    const [out, wallMs] = timedWorker("ort-encode-worker.js", args);
    ort = { wallMs, rssMb: out.peak_rss_mb as number, out, dump };
  } catch (e) {
    ortSkipped = (e instanceof Error ? e.message : String(e)).split("\n")[0]!.slice(0, 200);
    process.stderr.write(`[encode-quant] WARNING: onnxruntime competitor skipped on ${w.key}: ${ortSkipped}\n`);
  }

  const f32 = ours.get("f32")!;
  const ref = readRowsF32(f32.dump);
  const dim = ref.length / w.rows;
  const cos = (r: Run): number => minRowCosine(ref, readRowsF32(r.dump), dim);
  const ortName = ort ? `onnxruntime-node ${ort.out.ort} CPU f32 (2 intra-op threads), PyTorch ONNX export` : `onnxruntime-node f32: skipped (${ortSkipped})`;
  const rows: BenchRow[] = [];
  for (const [name] of OURS) {
    const r = ours.get(name)!;
    const ortMs = ort?.wallMs ?? NaN;
    rows.push({
      name: `${w.label}, whole process, ours ${name}`,
      ours_ms: r.wallMs,
      competitor: ortName,
      competitor_ms: ortMs,
      ratio: ortMs / r.wallMs,
      note:
        `${vsOrt(r.wallMs, ort)}${variantNote(r, f32, cos(r))}; load ${(r.out.load_ms as number).toFixed(0)} ms, encode ${r.out.median_ms} ms` +
        (name === "f32" && ort ? `; ort: peak RSS ${ort.rssMb} MB, min cosine vs our f32 ${cos(ort).toFixed(4)}` : ""),
    });
  }
  const t32 = torch.get("f32")!,
    t8 = torch.get("int8")!;
  const torchName = (r: Run, what: string): string => `PyTorch ${r.out.torch} CPU (2 threads, ${r.out.blas}), ${what}`;
  rows.push({
    name: `${w.label}, whole process, ours f32`,
    ours_ms: f32.wallMs,
    competitor: torchName(t32, "f32"),
    competitor_ms: t32.wallMs,
    ratio: t32.wallMs / f32.wallMs,
    note: `PyTorch f32: ${vsOrt(t32.wallMs, ort)}peak RSS ${t32.rssMb} MB, min cosine vs our f32 ${cos(t32).toFixed(4)}`,
  });
  const o8 = ours.get("int8")!;
  rows.push({
    name: `${w.label}, whole process, ours int8`,
    ours_ms: o8.wallMs,
    competitor: torchName(t8, `dynamic int8 (quantize_dynamic, ${t8.out.quantized_engine}, per-tensor scales)`),
    competitor_ms: t8.wallMs,
    ratio: t8.wallMs / o8.wallMs,
    note: `PyTorch int8: ${(t8.wallMs / t32.wallMs).toFixed(2)}× its own f32 time, ${vsOrt(t8.wallMs, ort)}${(t8.wallMs / f32.wallMs).toFixed(2)}× our f32 time, peak RSS ${t8.rssMb} MB, min cosine vs our f32 ${cos(t8).toFixed(4)}`,
  });
  return rows;
}

export function benchEncodeQuant(only?: string): BenchRow[] {
  const ws = only ? WORKLOADS.filter((w) => w.key === only) : WORKLOADS;
  if (ws.length === 0) throw new Error(`--only: unknown workload ${only} (known: ${WORKLOADS.map((w) => w.key).join(", ")})`);
  return ws.flatMap(benchEncodeQuantWorkload);
}

export const ENCODE_QUANT_TITLE = "Encoding whole process: ours f32, bf16, int8, int4 vs onnxruntime f32, PyTorch f32 and PyTorch dynamic int8 (issue #24)";

if (process.argv[1]?.endsWith("encode-quant.js")) {
  const i = process.argv.indexOf("--only");
  printTable(ENCODE_QUANT_TITLE, benchEncodeQuant(i > 0 ? process.argv[i + 1] : undefined));
}
