/**
 * `llm2vec encode`: a file of texts in, a file of embeddings out, with a progress bar. Streams:
 * the input is read and encoded a chunk of lines at a time and each chunk's rows are appended to
 * `<output>.partial` (embedding-output.ts), so memory is bounded by a chunk, not the file.
 * Ctrl-C (or SIGTERM) stops before the next batch; the rows of finished chunks stay in the
 * partial file, and `--resume` continues from them.
 */
import { Command } from "commander";
import { createHash, type Hash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { LLM2Vec } from "../../encoder/llm2vec.js";
import { checkEmbeddingOutput, EmbeddingWriter, partialPath, readPartialNote, writePartialNote, type PartialNote } from "../../io/embedding-output.js";
import { countLines, readPrefix } from "../../io/line-reader.js";
import { checkInputName, readInputChunks } from "../../io/text-input.js";
import { addEncoderFlags, encoderOptionsFromFlags, type EncoderFlags } from "../encoder-flags.js";
import { addProgressFlag, progressBar } from "../progress.js";

export interface EncodeCommandOptions extends EncoderFlags {
  input: string;
  output: string;
  batchSize?: string;
  normalize?: boolean;
  progress?: boolean;
  overwrite?: boolean;
  resume?: boolean;
  /** Texts per chunk (default 256); for tests. */
  chunkTexts?: number;
  /** Called after each chunk is written, with the rows written so far; for tests. */
  onChunk?: (rows: number) => void;
}

export async function encodeCommand(o: EncodeCommandOptions): Promise<{ count: number; dim: number }> {
  checkInputName(o.input);
  checkEmbeddingOutput(o.output, { input: o.input, overwrite: o.overwrite, resume: o.resume });
  const total = countLines(o.input);
  const note = o.resume && fs.existsSync(partialPath(o.output)) ? readPartialNote(o.output) : null;
  const load = encoderOptionsFromFlags(o);
  const enc = await LLM2Vec.fromPretrained(o.model, load);
  const batchSize = o.batchSize ? Number(o.batchSize) : 32;
  // Batching does not change a row's embedding (pooling.ts), so --batch-size may differ on resume.
  const folders = { adapter: o.adapter?.map((a) => path.resolve(a)), tokenizer: o.tokenizer && path.resolve(o.tokenizer) };
  const settings = { model: path.resolve(o.model), load: { ...load, ...folders }, options: enc.options, normalize: o.normalize === true };
  const input = fs.realpathSync(o.input);
  const hash = createHash("sha256");
  let writer: EmbeddingWriter;
  if (note) {
    checkResumable(o.output, note, input, settings, enc.dimension, hash);
    writer = EmbeddingWriter.resume(o.output, enc.dimension, note.rows, note.outputBytes);
  } else writer = EmbeddingWriter.start(o.output, enc.dimension);
  const bar = o.progress === false ? null : progressBar(total, "encode", "texts");
  const t0 = Date.now();
  const ac = new AbortController();
  const onSignal = () => ac.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let tokens = 0;
  let kind = note?.kind;
  try {
    const chunks = readInputChunks(o.input, {
      startByte: note?.inputBytes,
      startLine: note?.nextLine,
      kind,
      maxTexts: o.chunkTexts,
      onBytes: (b) => hash.update(b),
    });
    for (const chunk of chunks) {
      if (ac.signal.aborted) throw new Error("encode: aborted");
      const base = writer.rows;
      let chunkTokens = 0;
      const opts = {
        batchSize,
        normalize: o.normalize,
        signal: ac.signal,
        onProgress: (done: number, _total: number, tok: number) => {
          chunkTokens = tok;
          bar?.update(base + done, { "tok/s": ((tokens + tok) / Math.max((Date.now() - t0) / 1000, 1e-9)).toFixed(0) });
        },
      };
      const rows = chunk.rows;
      const vecs = rows.kind === "ids" ? await enc.encodeIds(rows.inputs, opts) : await enc.encode(rows.inputs, opts);
      tokens += chunkTokens;
      kind = rows.kind;
      writer.append(vecs, chunk.keys);
      // The hash covers the bytes read so far, which end with this chunk's last line.
      const n: PartialNote = { rows: writer.rows, outputBytes: writer.bytes, dim: enc.dimension, input, inputBytes: chunk.endByte, inputSha256: hash.copy().digest("hex"), nextLine: chunk.nextLine, kind, settings };
      writePartialNote(o.output, n);
      o.onChunk?.(writer.rows);
    }
    bar?.stop();
    writer.finish();
    return { count: writer.rows, dim: enc.dimension };
  } catch (e) {
    bar?.stop();
    writer.close();
    if (writer.rows === 0) throw e;
    const why = ac.signal.aborted ? "interrupted" : `stopped: ${(e as Error).message}`;
    throw new Error(`encode ${why}; the ${writer.rows} embeddings done are kept in ${writer.partial}: run again with --resume to continue, or --overwrite to start over`);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/**
 * A partial file continues only the run that wrote it: the same input file whose bytes up to
 * where it stopped are unchanged (a later line may have been fixed), the same model and options.
 * Feeds those bytes into `hash`, which goes on over the rest of the input.
 */
function checkResumable(output: string, note: PartialNote, input: string, settings: Record<string, unknown>, dim: number, hash: Hash): void {
  const p = partialPath(output);
  const refuse = (why: string) => new Error(`--resume: ${p} ${why}; pass --overwrite to start over`);
  if (note.input !== input) throw refuse(`was written from ${note.input}, not ${input}`);
  const changed = Object.keys({ ...settings, ...note.settings }).filter((k) => JSON.stringify(settings[k]) !== JSON.stringify(note.settings[k]));
  if (changed.length) throw refuse(`was written with other settings (${changed.join(", ")} differ)`);
  if (note.dim !== dim) throw refuse(`holds embeddings of dimension ${note.dim}, not ${dim}`);
  if (fs.statSync(input).size < note.inputBytes) throw refuse(`covers ${note.inputBytes} bytes of the input, which now has fewer`);
  readPrefix(input, note.inputBytes, (b) => hash.update(b));
  if (hash.copy().digest("hex") !== note.inputSha256) throw refuse(`was written from other input: the first ${note.nextLine - 1} lines of ${input} changed since`);
}

export function registerEncode(program: Command): void {
  const cmd = addEncoderFlags(
    program
      .command("encode")
      .description("embed texts: --input .txt (a text a line) or .jsonl ({text}, {instruction,text} or {input_ids}); --output .jsonl or .npy"),
  )
    .requiredOption("--input <file>", "input file (.txt or .jsonl)")
    .requiredOption("--output <file>", "output file (.jsonl or .npy)")
    .option("--batch-size <n>", "texts per forward pass", "32")
    .option("--normalize", "L2-normalise the embeddings")
    .option("--overwrite", "replace an existing --output (and any interrupted run's <output>.partial)")
    .option("--resume", "continue an interrupted run from <output>.partial (same input, model and options)");
  addProgressFlag(cmd).action(async (o: EncodeCommandOptions) => {
    const r = await encodeCommand(o);
    process.stderr.write(`wrote ${r.count} embeddings of dimension ${r.dim} to ${o.output}\n`);
  });
}
