/**
 * Progress on stderr: a redrawn bar (rate, ETA) on a terminal; elsewhere (CI, pipes, log files)
 * a plain line every LLM2VEC_PROGRESS_INTERVAL seconds and one at the end, so a long job is seen
 * to move without filling a log with redraws. `--no-progress` turns both off for every command.
 */
import cliProgress from "cli-progress";
import { Option, type Command } from "commander";

export const PROGRESS_INTERVAL_ENV = "LLM2VEC_PROGRESS_INTERVAL";
const DEFAULT_INTERVAL_S = 10;

export interface Progress {
  update(done: number, extra?: Record<string, string | number>): void;
  stop(): void;
}

export interface ProgressOptions {
  /** Draw the bar even when the stream is not a terminal. */
  force?: boolean;
  /** Where to write (default process.stderr); its isTTY picks bar or lines. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Milliseconds between lines off a terminal (default from LLM2VEC_PROGRESS_INTERVAL, else 10 s). */
  intervalMs?: number;
  /** The clock, in milliseconds (default Date.now); for tests. */
  now?: () => number;
}

/** `--no-progress`, plus `--quiet` kept working as a hidden, deprecated spelling of it. */
export function addProgressFlag(cmd: Command): Command {
  return cmd
    .option("--no-progress", "no progress bar or progress lines")
    .addOption(new Option("--quiet").hideHelp().implies({ progress: false }))
    .on("option:quiet", () => process.stderr.write(`llm2vec: --quiet is deprecated; use --no-progress\n`));
}

/** The line interval from the environment: seconds ≥ 0 (0: a line at every update). */
export function progressIntervalMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = env[PROGRESS_INTERVAL_ENV];
  if (v === undefined || v === "") return DEFAULT_INTERVAL_S * 1000;
  const s = Number(v);
  if (!Number.isFinite(s) || s < 0 || v.trim() === "") throw new Error(`${PROGRESS_INTERVAL_ENV} must be a number of seconds ≥ 0, got ${JSON.stringify(v)}`);
  return s * 1000;
}

const extraText = (extra: Record<string, string | number>) => Object.entries(extra).map(([k, v]) => `${v} ${k}`).join(" ");

export function progressBar(total: number, label: string, unit: string, opts: ProgressOptions = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  const now = opts.now ?? Date.now;
  const t0 = now();
  const rate = (done: number) => (done / Math.max((now() - t0) / 1000, 1e-9)).toFixed(1);
  if (!stream.isTTY && !opts.force) {
    const interval = opts.intervalMs ?? progressIntervalMs();
    let last = 0;
    let lastLine = t0;
    return {
      update(done, extra = {}) {
        last = done;
        if (now() - lastLine < interval) return;
        lastLine = now();
        const pct = total > 0 ? ` (${((100 * done) / total).toFixed(0)}%)` : "";
        const more = extraText(extra);
        stream.write(`${label}: ${done}/${total} ${unit}${pct}, ${rate(done)} ${unit}/s${more ? `, ${more}` : ""}\n`);
      },
      stop() {
        stream.write(`${label}: ${last}/${total} ${unit} in ${((now() - t0) / 1000).toFixed(1)} s (${rate(last)} ${unit}/s)\n`);
      },
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} ${unit} | {rate} ${unit}/s | {extra} | ETA {eta_formatted}`,
      stream: stream as NodeJS.WriteStream,
      hideCursor: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { rate: "0.0", extra: "" });
  return {
    update(done, extra = {}) {
      bar.update(done, { rate: rate(done), extra: extraText(extra) });
    },
    stop() {
      bar.stop();
    },
  };
}
