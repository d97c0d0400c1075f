/** Commands registered beyond the core set (evaluation), kept apart so main.ts stays a list. */
import type { Command } from "commander";
import { registerEval } from "./commands/eval.js";

export function registerExtraCommands(program: Command): void {
  registerEval(program);
}
