#!/usr/bin/env node
/**
 * The llm2vec command line: thin commands that parse flags, call the library and print.
 * Errors are printed as one clear line (no stack) and exit with status 1; LLM2VEC_DEBUG=1 shows stacks.
 */
import { Command } from "commander";
import { registerEncode } from "./commands/encode.js";
import { registerGenerate } from "./commands/generate.js";
import { registerIndex } from "./commands/index.js";
import { registerSearch } from "./commands/search.js";
import { registerImportLlama2c } from "./commands/import-llama2c.js";
import { registerTokenize } from "./commands/tokenize.js";
import { registerExtraCommands } from "./extra-commands.js";

export function buildProgram(): Command {
  const program = new Command()
    .name("llm2vec")
    .description("Turn decoder-only LLMs into text encoders (LLM2Vec): encode, evaluate, convert")
    .showHelpAfterError();
  registerEncode(program);
  registerTokenize(program);
  registerGenerate(program);
  registerIndex(program);
  registerSearch(program);
  registerImportLlama2c(program);
  registerExtraCommands(program);
  return program;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (e) {
    const err = e as Error;
    process.stderr.write(`llm2vec: ${process.env.LLM2VEC_DEBUG ? err.stack : err.message}\n`);
    process.exitCode = 1;
  }
}

await main();
