#!/usr/bin/env node
/**
 * The llm2vec command line: thin commands that parse flags, call the library and print.
 * Errors are printed as one clear line (no stack) and exit with status 1; LLM2VEC_DEBUG=1 shows stacks.
 */
import { buildProgram } from "./program.js";

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
