/**
 * The llm2vec command tree: every command registered, `--version`, the short flag-error hint and
 * the environment variables in the top-level help. Apart from main.ts so tests can build it
 * without running it.
 */
import { Command } from "commander";
import { VERSION } from "../serve/version.js";
import { registerEncode } from "./commands/encode.js";
import { registerGenerate } from "./commands/generate.js";
import { registerIndex } from "./commands/index.js";
import { registerSearch } from "./commands/search.js";
import { registerImportLlama2c } from "./commands/import-llama2c.js";
import { registerTokenize } from "./commands/tokenize.js";
import { registerExtraCommands } from "./extra-commands.js";

/** Variables read by more than one command (a flag's own variable is shown beside the flag). */
const ENVIRONMENT = `
Environment:
  LLM2VEC_THREADS=n            native thread pool size (default: the hardware threads)
  LLM2VEC_NATIVE_ISA=isa       cap the native kernels: generic, avx2, avx512, avx512bf16
  LLM2VEC_PROGRESS_INTERVAL=s  seconds between progress lines when stderr is not a terminal (default 10)
  LLM2VEC_DEBUG=1              print the stack of an error
  HF_HOME, HF_HUB_CACHE        the Hugging Face cache (shared with Python's huggingface_hub)
  HF_TOKEN                     Hub token for private or gated models
  HF_ENDPOINT                  a Hub mirror
  HF_HUB_OFFLINE=1             use the cache only, never the network`;

/** `prog sub sub` as typed on the command line. */
function fullName(cmd: Command): string {
  return cmd.parent ? `${fullName(cmd.parent)} ${cmd.name()}` : cmd.name();
}

/** After a flag error, one line pointing at the command's own help instead of the whole help. */
function hintAfterErrors(cmd: Command): void {
  cmd.showHelpAfterError(`run '${fullName(cmd)} --help' for usage`);
  for (const sub of cmd.commands) hintAfterErrors(sub);
}

export function buildProgram(): Command {
  const program = new Command()
    .name("llm2vec")
    .description("Turn decoder-only LLMs into text encoders (LLM2Vec): encode, evaluate, convert")
    .version(VERSION, "-V, --version", "print the version and exit")
    .addHelpText("after", ENVIRONMENT);
  registerEncode(program);
  registerTokenize(program);
  registerGenerate(program);
  registerIndex(program);
  registerSearch(program);
  registerImportLlama2c(program);
  registerExtraCommands(program);
  hintAfterErrors(program);
  return program;
}
