/** `llm2vec encode`: a file of texts in, a file of embeddings out, with a progress bar. */
import { Command } from "commander";
import { LLM2Vec } from "../../encoder/llm2vec.js";
import { checkEmbeddingOutput, writeEmbeddings } from "../../io/embedding-output.js";
import { readInputs } from "../../io/text-input.js";
import { addEncoderFlags, encoderOptionsFromFlags, type EncoderFlags } from "../encoder-flags.js";
import { progressBar } from "../progress.js";

export interface EncodeCommandOptions extends EncoderFlags {
  input: string;
  output: string;
  batchSize?: string;
  normalize?: boolean;
  progress?: boolean;
}

export async function encodeCommand(o: EncodeCommandOptions): Promise<{ count: number; dim: number }> {
  checkEmbeddingOutput(o.output);
  const rows = readInputs(o.input);
  const enc = await LLM2Vec.fromPretrained(o.model, encoderOptionsFromFlags(o));
  const batchSize = o.batchSize ? Number(o.batchSize) : 32;
  const bar = o.progress === false ? null : progressBar(rows.inputs.length, "encode", "texts");
  const t0 = Date.now();
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.once("SIGINT", onSigint);
  try {
    const opts = {
      batchSize,
      normalize: o.normalize,
      signal: ac.signal,
      onProgress: (done: number, _total: number, tokens: number) =>
        bar?.update(done, { "tok/s": (tokens / Math.max((Date.now() - t0) / 1000, 1e-9)).toFixed(0) }),
    };
    const vecs = rows.kind === "ids" ? await enc.encodeIds(rows.inputs, opts) : await enc.encode(rows.inputs, opts);
    bar?.stop();
    writeEmbeddings(o.output, vecs, enc.dimension);
    return { count: vecs.length, dim: enc.dimension };
  } finally {
    process.off("SIGINT", onSigint);
  }
}

export function registerEncode(program: Command): void {
  addEncoderFlags(
    program
      .command("encode")
      .description("embed texts: --input .txt (a text a line) or .jsonl ({text}, {instruction,text} or {input_ids}); --output .jsonl or .npy"),
  )
    .requiredOption("--input <file>", "input file (.txt or .jsonl)")
    .requiredOption("--output <file>", "output file (.jsonl or .npy)")
    .option("--batch-size <n>", "texts per forward pass", "32")
    .option("--normalize", "L2-normalise the embeddings")
    .option("--no-progress", "no progress bar")
    .action(async (o: EncodeCommandOptions) => {
      const r = await encodeCommand(o);
      process.stderr.write(`wrote ${r.count} embeddings of dimension ${r.dim} to ${o.output}\n`);
    });
}
