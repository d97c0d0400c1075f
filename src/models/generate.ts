/**
 * Causal text generation, so that a loaded model can be checked by what it writes. Each step
 * re-runs the whole prefix (no KV cache): fine for checks and small models, not for serving.
 */
import { noGrad } from "../tensor/autograd.js";
import { narrow } from "../tensor/ops/index.js";
import { Rng } from "../tensor/random.js";
import type { DecoderModel } from "./decoder.js";

export interface GenerateOptions {
  maxTokens: number;
  /** Greedy (argmax) when true or when temperature is 0. */
  greedy?: boolean;
  temperature?: number;
  seed?: number;
  /** Stop at any of these ids (not included in the output). */
  stopIds?: number[];
}

export function generate(model: DecoderModel, prompt: readonly number[], opts: GenerateOptions): number[] {
  if (prompt.length === 0) throw new Error("generate: the prompt has no tokens (a BOS token at least is needed)");
  const ids = [...prompt];
  const out: number[] = [];
  const rng = new Rng(opts.seed ?? 0);
  const V = model.spec.vocabSize;
  for (let step = 0; step < opts.maxTokens; step++) {
    const T = ids.length;
    const logits = noGrad(() => {
      const h = model.forward(Int32Array.from(ids), 1, T, { mode: "causal" });
      return model.logits(narrow(h, 1, T - 1, 1)).f32;
    });
    let next = 0;
    const temp = opts.temperature ?? 1;
    if (opts.greedy || temp === 0) {
      for (let v = 1; v < V; v++) if (logits[v]! > logits[next]!) next = v;
    } else {
      let max = -Infinity;
      for (let v = 0; v < V; v++) max = Math.max(max, logits[v]!);
      const p = new Float64Array(V);
      let sum = 0;
      for (let v = 0; v < V; v++) sum += p[v] = Math.exp((logits[v]! - max) / temp);
      let r = rng.next() * sum;
      for (next = 0; next < V - 1 && (r -= p[next]!) > 0; next++);
    }
    if (opts.stopIds?.includes(next)) break;
    ids.push(next);
    out.push(next);
  }
  return out;
}
