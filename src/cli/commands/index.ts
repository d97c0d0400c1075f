/**
 * `llm2vec index`: a .jsonl of passages ({"id","text","metadata"?} a line; a .txt's ids are its line
 * numbers) encoded as documents into the vector store in --db. Resumable by construction: each
 * batch is one transaction and ids already stored are skipped, so running it again after a kill
 * (or with more lines) adds only what is missing. --db is a folder or a postgres:// URL (pgvector).
 */
import type { Command } from "commander";
import { LLM2Vec } from "../../encoder/llm2vec.js";
import { countLines } from "../../io/line-reader.js";
import { readInputChunks } from "../../io/text-input.js";
import { indexDocuments, openStore, type Passage } from "../../store/text.js";
import { addEncoderFlags, encoderOptionsFromFlags, type EncoderFlags } from "../encoder-flags.js";
import { progressBar } from "../progress.js";

export interface IndexCommandOptions extends EncoderFlags {
  input: string;
  db: string;
  batchSize?: string;
  progress?: boolean;
  /** Called after each stored batch with the passages added so far; for tests. */
  onBatch?: (added: number) => void;
}

/** The input's passages; refuses token-id lines, a .jsonl line without an id, and an id repeated in the file. */
function* passages(file: string): Generator<Passage> {
  const seen = new Map<string, number>();
  for (const chunk of readInputChunks(file)) {
    if (chunk.rows.kind === "ids") throw new Error(`${file}:${chunk.keys[0]!.line}: index needs texts, not "input_ids"`);
    const inputs = chunk.rows.inputs;
    for (let i = 0; i < inputs.length; i++) {
      const k = chunk.keys[i]!;
      const input = inputs[i]!;
      if (typeof input !== "string") throw new Error(`${file}:${k.line}: a passage takes no "instruction" (documents are encoded plain; queries get the instruction)`);
      const id = file.endsWith(".txt") ? String(k.line) : k.id;
      if (id === undefined) throw new Error(`${file}:${k.line}: needs an "id" (a string or an integer) to be stored under`);
      const first = seen.get(id);
      if (first !== undefined) throw new Error(`${file}:${k.line}: id "${id}" is already used on line ${first}; ids must be unique`);
      seen.set(id, k.line);
      yield { id, text: input, metadata: k.metadata };
    }
  }
}

export async function indexCommand(o: IndexCommandOptions): Promise<{ added: number; skipped: number; total: number }> {
  if (!o.input.endsWith(".jsonl") && !o.input.endsWith(".txt")) throw new Error(`${o.input}: input must be .jsonl ({"id","text","metadata"} a line) or .txt`);
  // Reading every line first finds a bad or repeated id before hours of encoding.
  for (const _ of passages(o.input));
  const total = countLines(o.input);
  const batchSize = o.batchSize ? Number(o.batchSize) : 32;
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new Error(`--batch-size must be a positive integer, got ${o.batchSize}`);
  const model = await LLM2Vec.fromPretrained(o.model, encoderOptionsFromFlags(o));
  const store = await openStore(o.db, model);
  const bar = o.progress === false ? null : progressBar(total, "index", "passages");
  const ac = new AbortController();
  const onSignal = () => ac.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const r = await indexDocuments(model, store, passages(o.input), {
      batchSize,
      signal: ac.signal,
      onProgress: (added, skipped) => {
        bar?.update(added + skipped, { skipped });
        o.onBatch?.(added);
      },
    });
    return { ...r, total: await store.count() };
  } finally {
    bar?.stop();
    await store.close();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

export function registerIndex(program: Command): void {
  addEncoderFlags(program.command("index").description("encode passages (.jsonl: {id, text, metadata} a line) into a vector store; run again to resume"))
    .requiredOption("--input <file>", "passages (.jsonl, or .txt with line numbers as ids)")
    .requiredOption("--db <dir|url>", "the store's folder (created if absent), or postgres://user@host/db[?table=name] for pgvector")
    .option("--batch-size <n>", "passages per forward pass and per stored batch", "32")
    .option("--no-progress", "no progress bar")
    .action(async (o: IndexCommandOptions) => {
      const r = await indexCommand(o);
      process.stderr.write(`indexed ${r.added} passages (${r.skipped} already stored); ${o.db} holds ${r.total}\n`);
    });
}
