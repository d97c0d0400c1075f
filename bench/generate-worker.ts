/**
 * One llm2vec generation workload in its own process (clean peak RSS):
 *   speed:  node dist/bench/generate-worker.js --mode speed --model DIR --batch 1 --prompt 16 --tokens 32 [--warmup 1 --repeats 3]
 *           greedy generation with the KV cache (DecodeSession), `batch` rows of `prompt` seeded
 *           random ids, exactly `tokens` ids each (no stop id): the same workload as
 *           competitors/torch_generate.py.
 *   memory: node dist/bench/generate-worker.js --mode memory --role both|embed|generate --model DIR --adapter DIR
 *           both: one LLM2Vec with the adapter attached unmerged, encodes and generates (one
 *           process serving both); embed: the adapter merged, encodes only; generate: the bare
 *           base, generates only (the two processes a deployment would otherwise run).
 * Prints one JSON line.
 */
import { LLM2Vec } from "../src/encoder/llm2vec.js";
import { generateBatch } from "../src/models/generate.js";
import { loadModelFolder } from "../src/models/load.js";
import { median, peakRssMb, timeIt } from "./common.js";

const args = process.argv.slice(2);
const arg = (name: string, dflt: string): string => (args.includes(name) ? args[args.indexOf(name) + 1]! : dflt);
const dir = arg("--model", "");
if (!dir) throw new Error("--model DIR is required");
const mode = arg("--mode", "speed");

function randomRows(B: number, T: number, V: number): number[][] {
  let s = 4242;
  return Array.from({ length: B }, () => Array.from({ length: T }, () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0), 3 + (s % (V - 3)))));
}

if (mode === "speed") {
  const [B, P, N] = [Number(arg("--batch", "1")), Number(arg("--prompt", "16")), Number(arg("--tokens", "32"))];
  const t0 = performance.now();
  const model = loadModelFolder(dir);
  const loadMs = performance.now() - t0;
  const prompts = randomRows(B, P, model.spec.vocabSize);
  let checksum = 0;
  let first: number[] = [];
  let prefillMs = 0;
  const runs = await timeIt(
    () => {
      const tp = performance.now();
      const rows = generateBatch(model, prompts, { maxTokens: N, greedy: true, stopIds: [], onLogits: (_l, step) => step === 0 && (prefillMs = performance.now() - tp) });
      checksum = rows.reduce((a, r) => a + r.ids.reduce((x, y) => x + y, 0), 0);
      first = rows[0]!.ids.slice(0, 8);
    },
    { warmup: Number(arg("--warmup", "1")), repeats: Number(arg("--repeats", "3")) },
  );
  const med = median(runs);
  console.log(JSON.stringify({
    batch: B, prompt: P, tokens: N, weight_dtype: model.embedTokens.dtype, load_ms: +loadMs.toFixed(1),
    median_ms: +med.toFixed(1), runs_ms: runs.map((r) => +r.toFixed(1)), prefill_ms: +prefillMs.toFixed(1),
    tokens_per_s: +((B * N) / (med / 1000)).toFixed(2), ids_checksum: checksum, first_ids: first, peak_rss_mb: +peakRssMb().toFixed(0),
  }));
} else {
  const role = arg("--role", "both");
  const adapter = arg("--adapter", "");
  const texts = Array.from({ length: 8 }, (_, i) => `Document ${i}: a short passage about retrieval and generation, number ${i}.`);
  const gen = { maxTokens: 8, greedy: true, stopIds: [] as number[] };
  let what = "";
  if (role === "generate") {
    const model = loadModelFolder(dir);
    generateBatch(model, randomRows(1, 16, model.spec.vocabSize), gen);
    what = "base model (loadModelFolder), 8 tokens generated";
  } else {
    const enc = await LLM2Vec.fromPretrained(dir, { adapter, mergeAdapter: role === "embed" });
    await enc.encode(texts);
    what = "LLM2Vec, adapter merged, 8 texts encoded";
    if (role === "both") {
      await enc.generate("Retrieval augmented generation", gen);
      what = "LLM2Vec, adapter attached unmerged, 8 texts encoded + 8 tokens generated";
    }
  }
  console.log(JSON.stringify({ role, what, peak_rss_mb: +peakRssMb().toFixed(0), rss_mb: +(process.memoryUsage().rss / 2 ** 20).toFixed(0) }));
}
