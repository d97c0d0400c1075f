/** `llm2vec tokenize`: the token ids the encoder would run for a text (with instruction and template). */
import { Command } from "commander";
import { LLM2Vec } from "../../encoder/llm2vec.js";
import { addEncoderFlags, encoderOptionsFromFlags, type EncoderFlags } from "../encoder-flags.js";

export interface TokenizeOptions extends EncoderFlags {
  instruction?: string;
}

export async function tokenizeCommand(text: string, o: TokenizeOptions): Promise<{ ids: number[]; tokens: string[]; pooled: number }> {
  const enc = await LLM2Vec.fromPretrained(o.model, encoderOptionsFromFlags(o));
  const [row] = enc.prepare([o.instruction ? [o.instruction, text] : text]);
  const ids = Array.from(row!.ids);
  return { ids, tokens: ids.map((i) => enc.tokenizer.idToToken(i) ?? "?"), pooled: row!.textTokens };
}

export function registerTokenize(program: Command): void {
  addEncoderFlags(program.command("tokenize").description("print the token ids (and pooled span) the encoder uses for TEXT").argument("<text>"))
    .option("--instruction <text>", "task instruction (conditions the text, not pooled)")
    .action(async (text: string, o: TokenizeOptions) => {
      process.stdout.write(JSON.stringify(await tokenizeCommand(text, o)) + "\n");
    });
}
