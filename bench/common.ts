/**
 * Shared benchmark plumbing: timing (warm-up, median), child processes for competitors and for
 * our own isolated runs (so each peak-RSS figure belongs to one workload), and the table.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface BenchRow {
  name: string;
  ours_ms: number;
  competitor: string;
  competitor_ms: number;
  /** competitor_ms / ours_ms: above 1 means we are faster. */
  ratio: number;
  note?: string;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export async function timeIt(fn: () => unknown, opts: { warmup?: number; repeats?: number } = {}): Promise<number[]> {
  for (let i = 0; i < (opts.warmup ?? 1); i++) await fn();
  const runs: number[] = [];
  for (let i = 0; i < (opts.repeats ?? 5); i++) {
    const t0 = performance.now();
    await fn();
    runs.push(performance.now() - t0);
  }
  return runs;
}

/** Runs a competitor script with Debian's PyTorch (2 threads, passive OpenMP waits) and parses its JSON line. */
export function runTorch(script: string, args: string[], timeoutMs = 30 * 60_000): Record<string, unknown> {
  const env = { ...process.env, OMP_WAIT_POLICY: "PASSIVE", OMP_NUM_THREADS: "2", MKL_NUM_THREADS: "2" };
  const r = spawnSync("/usr/bin/python3", [path.join(ROOT, script), ...args], { env, encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${script} ${args.join(" ")} failed (status ${r.status}): ${r.stderr?.slice(-2000)}`);
  const line = r.stdout.trim().split("\n").pop()!;
  return JSON.parse(line) as Record<string, unknown>;
}

/** Runs one of our own bench workers in a fresh Node process and parses its JSON line. */
export function runWorker(worker: string, args: string[], timeoutMs = 30 * 60_000): Record<string, unknown> {
  const r = spawnSync(process.execPath, ["--expose-gc", path.join(ROOT, "dist/bench", worker), ...args], { encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${worker} ${args.join(" ")} failed (status ${r.status}): ${r.stderr?.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as Record<string, unknown>;
}

export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

export function printTable(title: string, rows: BenchRow[]): string {
  const head = `| workload | llm2vec (ms) | competitor | competitor (ms) | speed vs competitor (×, >1 = faster) | note |`;
  const sep = `|---|---:|---|---:|---:|---|`;
  const lines = rows.map(
    (r) => `| ${r.name} | ${r.ours_ms.toFixed(1)} | ${r.competitor} | ${r.competitor_ms.toFixed(1)} | ${r.ratio.toFixed(2)} | ${r.note ?? ""} |`,
  );
  const text = [`### ${title}`, "", head, sep, ...lines, ""].join("\n");
  console.log(text);
  return text;
}
