/** Commands registered beyond the core set (evaluation, demo), kept apart so main.ts stays a list. */
import type { Command } from "commander";

export function registerExtraCommands(_program: Command): void {}
