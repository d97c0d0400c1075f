/** `llm2vec generate`: causal generation, to check that a loaded model writes sensible text. */
import { Command } from "commander";
import { promptIds } from "../../generation/prompt.js";
import { generateTextAsync } from "../../generation/text-session.js";
import { setComputeDtype, type ComputeDtypeOption } from "../../models/compute-mode.js";
import { loadResolved, noteToStderr } from "../../models/load.js";
import { resolveModel } from "../../models/resolve.js";
import type { ComputeDtype } from "../../tensor/compute.js";
import { quantizeFrozenWeights } from "../../models/pack-weights.js";
import type { QuantizeOption } from "../../tensor/quant.js";
import { revisionOption, baseOption, dtypeOption, quantizeOption } from "../encoder-flags.js";

export interface GenerateCommandOptions {
  model: string;
  base?: string;
  revision?: string;
  tokenizer?: string;
  prompt: string;
  maxTokens: string;
  greedy?: boolean;
  temperature?: string;
  seed?: string;
  topK?: string;
  topP?: string;
  json?: boolean;
  dtype?: string;
  forceCausal?: boolean;
  quantize?: string;
}

export async function generateCommand(o: GenerateCommandOptions): Promise<{ ids: number[]; text: string; seed: number }> {
  const maxTokens = Number(o.maxTokens);
  if (!Number.isInteger(maxTokens) || maxTokens < 0) throw new Error(`--max-tokens must be a non-negative integer, got ${o.maxTokens}`);
  const resolved = await resolveModel({ model: o.model, tokenizer: o.tokenizer, base: o.base, revision: o.revision });
  for (const n of resolved.notes) noteToStderr(n);
  const { model, tokenizer: tok } = loadResolved(resolved);
  if (o.quantize !== undefined) quantizeFrozenWeights(model, o.quantize as QuantizeOption, { lmHead: true, where: "--quantize" });
  setComputeDtype(model, (o.dtype ?? "f32") as ComputeDtypeOption, "--dtype");
  const [r] = await generateTextAsync(model, tok, [promptIds(tok, null, o.prompt, resolved.tokenizerDir)], {
    maxTokens,
    greedy: o.greedy,
    temperature: o.temperature === undefined ? 1 : Number(o.temperature),
    seed: o.seed === undefined ? undefined : Number(o.seed), // none given: a fresh seed, reported with --json
    topK: o.topK === undefined ? undefined : Number(o.topK),
    topP: o.topP === undefined ? undefined : Number(o.topP),
    forceCausal: o.forceCausal,
  });
  return { ids: r!.ids, text: r!.text, seed: r!.seed };
}

export function registerGenerate(program: Command): void {
  program
    .command("generate")
    .description("generate text with causal attention and a KV cache (the base model, no adapter)")
    .requiredOption("--model <dir|id>", "model folder or Hub id (or a PEFT adapter folder over its base, merged)")
    .option("--tokenizer <dir>", "tokenizer folder, when not the model folder")
    .addOption(baseOption())
    .addOption(revisionOption())
    .option("--prompt <text>", "prompt (BOS is added as the tokenizer says)", "")
    .option("--max-tokens <n>", "tokens to generate", "32")
    .option("--greedy", "argmax decoding")
    .option("--temperature <t>", "sampling temperature", "1")
    .option("--seed <n>", "sampling seed (default: a fresh one each run; --json prints it)")
    .option("--top-k <k>", "sample from the k most likely tokens")
    .option("--top-p <p>", "sample from the smallest set reaching probability p")
    .option("--json", 'print {"ids": [...], "text": "...", "seed": n}')
    .option("--force-causal", "generate from a model trained bidirectionally (is_causal false, llama_bidirec), which is refused otherwise")
    .addOption(dtypeOption())
    .addOption(quantizeOption())
    .action(async (o: GenerateCommandOptions) => {
      const r = await generateCommand(o);
      process.stdout.write((o.json ? JSON.stringify(r) : o.prompt + r.text) + "\n");
    });
}
