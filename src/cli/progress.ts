/** A progress bar on stderr (rate and ETA), silent when stderr is not a terminal unless forced. */
import cliProgress from "cli-progress";

export interface Progress {
  update(done: number, extra?: Record<string, string | number>): void;
  stop(): void;
}

export function progressBar(total: number, label: string, unit: string, opts: { force?: boolean } = {}): Progress {
  if (!process.stderr.isTTY && !opts.force) {
    // Non-interactive (CI, pipes): one line at the end instead of a redrawn bar.
    const t0 = Date.now();
    let last = 0;
    return {
      update(done) {
        last = done;
      },
      stop() {
        const s = (Date.now() - t0) / 1000;
        process.stderr.write(`${label}: ${last}/${total} ${unit} in ${s.toFixed(1)} s (${(last / Math.max(s, 1e-9)).toFixed(1)} ${unit}/s)\n`);
      },
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} ${unit} | {rate} ${unit}/s | {extra} | ETA {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  const t0 = Date.now();
  bar.start(total, 0, { rate: "0.0", extra: "" });
  return {
    update(done, extra = {}) {
      const s = (Date.now() - t0) / 1000;
      const parts = Object.entries(extra).map(([k, v]) => `${v} ${k}`);
      bar.update(done, { rate: (done / Math.max(s, 1e-9)).toFixed(1), extra: parts.join(" ") });
    },
    stop() {
      bar.stop();
    },
  };
}
