/**
 * What a task implementation gets from the runner, and the shared encode helper.
 * Scores are reported on a 0-100 scale (as the LLM2Vec/MTEB paper tables), except
 * thresholds and counts; MTEB's own JSON files use 0-1.
 */
import type { EncodeInput, TextEncoder, WordFeatureEncoder } from "../encoder-interface.js";
import type { SourceCache } from "./data.js";
import type { TaskSpec } from "./spec.js";

export interface ProgressEvent {
  task: string;
  phase: string;
  done: number;
  total: number;
}

export interface TaskContext {
  encoder: TextEncoder;
  wordEncoder?: WordFeatureEncoder;
  dataRoot: string;
  batchSize?: number;
  /** default for WordProbe params.shift (true for MNTP-trained models) */
  wordShift: boolean;
  cache: SourceCache;
  /** per-run cache of word features keyed by split, shared by POS/chunk/NER probes */
  wordFeatureCache: Map<string, Promise<Float32Array[][]>>;
  progress: (e: ProgressEvent) => void;
}

export interface TaskOutcome {
  split: string;
  /** main_score plus the other metrics */
  scores: Record<string, unknown> & { main_score: number };
  notes: string[];
  stats: Record<string, number | string>;
}

export type TaskRunner = (task: TaskSpec, ctx: TaskContext) => Promise<TaskOutcome>;

/** Pair texts with the instruction the way the encoder expects (plain string when none). */
export function withInstruction(texts: string[], instruction: string | undefined): EncodeInput[] {
  const instr = instruction ?? "";
  return texts.map((t) => (instr === "" ? t : [instr, t]));
}

/**
 * Encode texts once each (duplicates are common: STS sentences repeat) and return one
 * vector per input position. Vectors are checked for a consistent dimension.
 */
export async function encodeTexts(
  ctx: TaskContext,
  task: TaskSpec,
  phase: string,
  texts: string[],
  instruction: string | undefined,
): Promise<Float32Array[]> {
  const unique = [...new Set(texts)];
  const pos = new Map(unique.map((t, i) => [t, i]));
  const total = unique.length;
  ctx.progress({ task: task.name, phase, done: 0, total });
  const vecs = await ctx.encoder.encode(withInstruction(unique, instruction), {
    batchSize: ctx.batchSize,
    onProgress: (done) => ctx.progress({ task: task.name, phase, done, total }),
  });
  if (vecs.length !== unique.length)
    throw new Error(`task ${task.name}: encoder returned ${vecs.length} vectors for ${unique.length} inputs`);
  const dim = vecs[0]?.length ?? 0;
  for (const v of vecs) if (v.length !== dim) throw new Error(`task ${task.name}: encoder returned vectors of differing dimension`);
  ctx.progress({ task: task.name, phase, done: total, total });
  return texts.map((t) => vecs[pos.get(t) as number] as Float32Array);
}

export const pct = (x: number): number => x * 100;

export function meanStd(xs: number[]): { mean: number; std: number } {
  const n = xs.length;
  if (n === 0) return { mean: NaN, std: NaN };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  // Population std (numpy's default ddof=0), as MTEB reports v_measure_std.
  const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  return { mean, std };
}
