/**
 * Issue #24: a Llama-3.1-8B-shaped bf16 checkpoint (random weights at the published shapes, made
 * once into the bench cache): for the weights kept bf16 and quantized at load to int8 and int4,
 * each in its own process, load time (LLM2Vec.fromPretrained, quantization included), peak RSS and
 * encode tokens/s; then one MNTP LoRA step on the int8 base (QLoRA-style) with its peak RSS.
 * Targets: int8 encode under 10 GB RSS, the int8 MNTP step under 24 GB. There is no competitor
 * here (PyTorch's side of an 8B model is the Qwen3-8B entry's job): the quantized rows are set
 * beside the bf16 row, and the MNTP row beside nothing.
 *
 * Opt-in (16.1 GB written once, minutes of compute per row on 2 cores): `--only llama3-8b`,
 * `--llama3-8b` or LLM2VEC_BENCH_LLAMA3_8B=1, and only when MemAvailable is at least 20 GiB.
 *
 *   npm run build && node dist/bench/llama3.js
 */
import { checkpointBytes, llama3Checkpoint } from "./checkpoints.js";
import { printTable, runWorker, type BenchRow } from "./common.js";
import { memAvailableGiB, QWEN3_8B_MIN_GIB } from "./qwen3.js";

const ENCODE = { B: 2, T: 128, warmup: 0, repeats: 1 };
const MNTP = { B: 1, T: 128, warmup: 0, steps: 1 };

/** Whether the entry was asked for by flag or environment variable (`--only llama3-8b` asks too). */
export function llama3BigRequested(argv: readonly string[] = process.argv): boolean {
  return argv.includes("--llama3-8b") || process.env.LLM2VEC_BENCH_LLAMA3_8B === "1";
}

const gb = (mb: unknown) => `${((mb as number) / 1024).toFixed(2)} GiB`;
/** Where a worker's memory was: anonymous and mapped-file pages after load and at the end. */
const split = (r: Record<string, unknown>) => {
  const l = r.after_load as Record<string, number>;
  return `after load ${gb(l.peak_rss_mb)} peak (anon ${gb(l.rss_anon_mb)}, mapped file ${gb(l.rss_file_mb)}); at the end anon ${gb(r.rss_anon_mb)}, mapped file ${gb(r.rss_file_mb)}`;
};

export async function benchLlama3(): Promise<BenchRow[]> {
  const avail = memAvailableGiB();
  if (avail < QWEN3_8B_MIN_GIB) {
    process.stderr.write(`[llama3] Llama-3.1-8B entry skipped: MemAvailable ${avail.toFixed(1)} GiB < ${QWEN3_8B_MIN_GIB} GiB (bf16 holds the 16.1 GB checkpoint)\n`);
    return [];
  }
  const dir = llama3Checkpoint();
  const label = `Llama-3.1-8B shapes (random, bf16 ${(checkpointBytes(dir) / 1e9).toFixed(2)} GB)`;
  const e = ENCODE;
  const encArgs = ["--model", dir, "--batch", String(e.B), "--seq", String(e.T), "--warmup", String(e.warmup), "--repeats", String(e.repeats)];
  // Each worker's line goes to stderr as it ends: a row takes minutes, and a later one may fail.
  const logged = (what: string, r: Record<string, unknown>) => (process.stderr.write(`[llama3] ${what}: ${JSON.stringify(r)}\n`), r);
  const encode = (q: string) => logged(`encode ${q}`, runWorker("encode-throughput-worker.js", q === "bf16" ? encArgs : [...encArgs, "--quantize", q]));
  // One process at a time: each holds up to the whole checkpoint.
  const runs = ["bf16", "int8", "int4"].map((q) => [q, encode(q)] as const);
  const bf16 = runs[0]![1];
  const rows: BenchRow[] = runs.map(([q, r]) => ({
    name: `${label}: encode B${e.B}×T${e.T}, mean pooling, weights ${q}, f32 compute`,
    ours_ms: r.median_ms as number,
    competitor: q === "bf16" ? "—" : "ours, bf16 weights",
    competitor_ms: q === "bf16" ? NaN : (bf16.median_ms as number),
    ratio: q === "bf16" ? NaN : (bf16.median_ms as number) / (r.median_ms as number),
    note: `tokens/s ${r.tokens_per_s}; LLM2Vec.fromPretrained (weights mapped${q === "bf16" ? "" : `, quantized to ${q}`}, panels packed) ${((r.load_ms as number) / 1000).toFixed(1)} s; peak RSS (load + encode) ${gb(r.peak_rss_mb)}: ${split(r)}`,
  }));
  const m = MNTP;
  const mntp = logged("MNTP int8", runWorker("mntp-train-worker.js", ["--model", dir, "--batch", String(m.B), "--seq", String(m.T), "--steps", String(m.steps), "--warmup", String(m.warmup), "--quantize", "int8"]));
  rows.push({
    name: `${label}: MNTP step B${m.B}×T${m.T} on the int8 base, LoRA r16 ×7 (f32), AdamW, logits at masked rows`,
    ours_ms: mntp.median_ms as number,
    competitor: "—",
    competitor_ms: NaN,
    ratio: NaN,
    note: `tokens/s ${mntp.tokens_per_s}; load (quantized to int8) ${((mntp.load_ms as number) / 1000).toFixed(1)} s; peak RSS (load + step) ${gb(mntp.peak_rss_mb)}: ${split(mntp)}`,
  });
  return rows;
}

if (process.argv[1]?.endsWith("llama3.js")) printTable("Llama-3.1-8B shapes, bf16 random checkpoint: bf16, int8, int4 encode and an int8-base MNTP step", await benchLlama3());
