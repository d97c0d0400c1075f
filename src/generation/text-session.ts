/**
 * Text generation over a DecodeSession, the one path from prompt ids and options to text, deltas,
 * finish reasons and the seed: stop ids and padding defaulted from the model and tokenizer, stop
 * strings applied, one step at a time (so the server's worker can interleave steps with embedding
 * batches and drop a row whose client left). `generateText` runs one to the end in one go,
 * `generateTextAsync` between turns of the event loop (LLM2Vec.generate, the CLI).
 */
import type { Tokenizer } from "../formats/tokenizer.js";
import type { DecoderModel } from "../models/decoder.js";
import { DecodeSession, type DecodeOptions, type FinishReason } from "../models/generate.js";
import { TextStream } from "./text-stream.js";

export interface TextGenerateOptions extends Omit<DecodeOptions, "maxTokens"> {
  /** Default 256. */
  maxTokens?: number;
  /** Stop strings: the text ends before the first one that appears (not returned). */
  stop?: readonly string[];
}

export interface TextDelta {
  row: number;
  /** Newly released text (may be empty). */
  text: string;
  /** Set on the row's last delta. */
  finishReason: FinishReason | null;
}

export interface GeneratedText {
  text: string;
  ids: number[];
  promptTokens: number;
  finishReason: FinishReason;
  /** The seed the draws used (the one given, or the one drawn for this call); pass it back to redraw this text. */
  seed: number;
}

export interface AsyncGenerateOptions extends TextGenerateOptions {
  onDelta?: (d: TextDelta) => void;
  /** Aborting ends every row at the next step (finish "stop"); the text so far is returned. */
  signal?: AbortSignal;
}

export const DEFAULT_MAX_TOKENS = 256;

/** Stop ids: the tokenizer's EOS and the model config's eos_token_id(s). */
export function defaultStopIds(model: DecoderModel, tokenizer: Tokenizer): number[] {
  const ids = new Set(model.spec.eosTokenIds);
  if (tokenizer.eosTokenId !== null) ids.add(tokenizer.eosTokenId);
  return [...ids];
}

export class TextDecodeSession {
  private readonly session: DecodeSession;
  private readonly streams: TextStream[];
  private readonly reported: boolean[];

  constructor(model: DecoderModel, private readonly tokenizer: Tokenizer, readonly prompts: readonly (readonly number[])[], opts: TextGenerateOptions = {}) {
    this.session = new DecodeSession(model, prompts, {
      ...opts,
      maxTokens: opts.maxTokens ?? DEFAULT_MAX_TOKENS,
      stopIds: opts.stopIds ?? defaultStopIds(model, tokenizer),
      padId: opts.padId ?? tokenizer.padTokenId ?? 0,
    });
    this.streams = prompts.map((p) => new TextStream(tokenizer, opts.stop ?? [], p));
    this.reported = prompts.map(() => false);
  }

  get done(): boolean {
    return this.reported.every(Boolean);
  }

  /** The session's seed (given or drawn); row b draws with seed + b. */
  get seed(): number {
    return this.session.seed;
  }

  /** Ends a row now (its client went away); it reports no more deltas. */
  cancel(row: number): void {
    this.session.finish(row, "stop");
    this.reported[row] = true;
  }

  /** One decode step; the deltas of rows that released text or finished. */
  step(): TextDelta[] {
    const out: TextDelta[] = [];
    // maxTokens 0: rows are finished before any step.
    if (!this.session.done) this.session.step();
    this.session.rows.forEach((r, b) => {
      if (this.reported[b]) return;
      const s = this.streams[b]!;
      let text = s.update(r.ids);
      if (s.stopped) this.session.finish(b, "stop");
      const finish = r.finishReason;
      if (finish !== null) {
        text += s.flush();
        this.reported[b] = true;
      }
      if (text || finish !== null) out.push({ row: b, text, finishReason: finish });
    });
    return out;
  }

  results(): GeneratedText[] {
    return this.session.rows.map((r, b) => ({
      text: this.streams[b]!.output,
      ids: r.ids,
      promptTokens: this.prompts[b]!.length,
      finishReason: r.finishReason ?? "length",
      seed: (this.session.seed + b) | 0,
    }));
  }
}

/** Runs a session to the end; onDelta sees the text as it comes. */
export function generateText(model: DecoderModel, tokenizer: Tokenizer, prompts: readonly (readonly number[])[], opts: TextGenerateOptions = {}, onDelta?: (d: TextDelta) => void): GeneratedText[] {
  const s = new TextDecodeSession(model, tokenizer, prompts, opts);
  while (!s.done) for (const d of s.step()) onDelta?.(d);
  return s.results();
}

/** As generateText, letting timers, signals and other requests run between steps. */
export async function generateTextAsync(model: DecoderModel, tokenizer: Tokenizer, prompts: readonly (readonly number[])[], opts: AsyncGenerateOptions = {}): Promise<GeneratedText[]> {
  const { onDelta, signal, ...text } = opts;
  const s = new TextDecodeSession(model, tokenizer, prompts, text);
  while (!s.done) {
    if (signal?.aborted) prompts.forEach((_, b) => s.cancel(b));
    else for (const d of s.step()) onDelta?.(d);
    await new Promise((r) => setImmediate(r));
  }
  return s.results();
}
