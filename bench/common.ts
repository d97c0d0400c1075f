/**
 * Shared benchmark plumbing: timing (warm-up, median), child processes for competitors and for
 * our own isolated runs (so each peak-RSS figure belongs to one workload), and the table.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface BenchRow {
  name: string;
  ours_ms: number;
  competitor: string;
  competitor_ms: number;
  /** competitor_ms / ours_ms: above 1 means we are faster (NaN, with competitor_ms, where there is no competitor). */
  ratio: number;
  note?: string;
}

/** A product x·Wᵀ of [M, K] by [N, K] and its timing repetitions (the GEMM benches). */
export interface Shape {
  M: number;
  N: number;
  K: number;
  warmup: number;
  reps: number;
}

/** n values uniform in [−1, 1) from a xorshift seeded by `seed` (the GEMM benches' operands). */
export function randomF32(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    a[i] = ((x >>> 0) / 4294967296) * 2 - 1;
  }
  return a;
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

/**
 * The OpenBLAS kernel for PyTorch's BLAS. Debian's OpenBLAS 0.3.21 does not recognise every
 * current CPU and then falls back to its generic SSE3 ("Prescott") kernels: measured here, that
 * made PyTorch's training step 3× slower (1.46 s vs 0.50 s). The competitor gets the kernel the
 * CPU supports, unless the caller set one.
 */
export function openblasCoretype(): string | undefined {
  if (process.env.OPENBLAS_CORETYPE) return process.env.OPENBLAS_CORETYPE;
  let flags = "";
  try {
    flags = fs.readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    return undefined;
  }
  if (/\bavx512f\b/.test(flags) && /\bavx512bw\b/.test(flags)) return "SkylakeX";
  if (/\bavx2\b/.test(flags)) return "Haswell";
  return undefined;
}

/**
 * Runs a competitor script with Debian's PyTorch and parses its JSON line. Threads: the script
 * calls torch.set_num_threads(2) and sets OPENBLAS_NUM_THREADS; OMP_NUM_THREADS is deliberately
 * not set (with it, OpenMP and OpenBLAS threads competed and PyTorch ran 3× slower here).
 */
export function runTorch(script: string, args: string[], timeoutMs = 30 * 60_000): Record<string, unknown> {
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_WAIT_POLICY: "PASSIVE" };
  delete env.OMP_NUM_THREADS;
  delete env.MKL_NUM_THREADS;
  const coretype = openblasCoretype();
  if (coretype) env.OPENBLAS_CORETYPE = coretype;
  const r = spawnSync("/usr/bin/python3", [path.join(ROOT, script), ...args], { env, encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    const how = r.signal ? `killed by ${r.signal}${r.signal === "SIGKILL" ? " (out of memory, or the timeout)" : ""}` : `status ${r.status}`;
    throw new Error(`${script} ${args.join(" ")} failed (${how}): ${r.stderr?.slice(-2000)}`);
  }
  const line = r.stdout.trim().split("\n").pop()!;
  const parsed = JSON.parse(line) as Record<string, unknown>;
  if (coretype && typeof parsed.blas === "string") parsed.blas = `${parsed.blas} ${coretype}`;
  return parsed;
}

/** Runs one of our own bench workers in a fresh Node process and parses its JSON line. */
export function runWorker(worker: string, args: string[], timeoutMs = 30 * 60_000): Record<string, unknown> {
  const r = spawnSync(process.execPath, ["--expose-gc", path.join(ROOT, "dist/bench", worker), ...args], { encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${worker} ${args.join(" ")} failed (status ${r.status}): ${r.stderr?.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as Record<string, unknown>;
}

/**
 * `rows` × `T` seeded pseudo-random token ids in [0, V) (an LCG): every encode worker, ours and the
 * competitors', draws the same ids from the same seed.
 */
export function benchIds(rows: number, T: number, V: number, seed = 4242): number[][] {
  let s = seed;
  return Array.from({ length: rows }, () => Array.from({ length: T }, () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0), s % V)));
}

/** Writes row vectors as one little-endian float32 file (rows × dim), for comparing two workers' outputs. */
export function writeRowsF32(file: string, rows: readonly Float32Array[]): void {
  const dim = rows[0]?.length ?? 0;
  const all = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => all.set(r, i * dim));
  fs.writeFileSync(file, new Uint8Array(all.buffer));
}

/** Reads a writeRowsF32 dump (rows × dim, float32) as one flat array. */
export function readRowsF32(file: string): Float32Array {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

/**
 * The smallest cosine similarity between matching rows of two flat row dumps of width `dim`, over
 * the rows both hold (a competitor may encode only the first batch of the same ids).
 */
export function minRowCosine(a: Float32Array, b: Float32Array, dim: number): number {
  if (!(dim > 0) || a.length % dim || b.length % dim) throw new Error(`minRowCosine: dumps of ${a.length} and ${b.length} floats are not rows of ${dim}`);
  const rows = Math.min(a.length, b.length) / dim;
  if (rows === 0) throw new Error("minRowCosine: no rows to compare");
  let min = Infinity;
  for (let r = 0; r < rows; r++) {
    let ab = 0,
      aa = 0,
      bb = 0;
    for (let i = r * dim; i < (r + 1) * dim; i++) {
      ab += a[i]! * b[i]!;
      aa += a[i]! * a[i]!;
      bb += b[i]! * b[i]!;
    }
    // A zero or non-finite row gives NaN, which Math.min keeps: the caller sees it, not a 1.
    min = Math.min(min, ab / Math.sqrt(aa * bb));
  }
  return min;
}

/** Wall time of one worker process from spawn to exit (node start, imports, load, the runs). */
export function timedWorker(worker: string, args: string[]): [Record<string, unknown>, number] {
  const t0 = performance.now();
  const r = runWorker(worker, args);
  return [r, performance.now() - t0];
}

/** Wall time of one PyTorch competitor process from spawn to exit (interpreter start, imports, load, the runs). */
export function timedTorch(script: string, args: string[]): [Record<string, unknown>, number] {
  const t0 = performance.now();
  const r = runTorch(script, args);
  return [r, performance.now() - t0];
}

export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/**
 * The process's resident memory now, split as Linux counts it (/proc/self/status): anonymous pages
 * (heap, packs, quantized weights, activations) and file-backed ones (pages of mapped safetensors
 * that were read; clean, so the kernel can drop them under pressure). Empty where there is no /proc.
 */
export function rssSplitMb(): { rss_anon_mb?: number; rss_file_mb?: number } {
  let status = "";
  try {
    status = fs.readFileSync("/proc/self/status", "utf8");
  } catch {
    return {};
  }
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rss_anon_mb: Math.round(kb("RssAnon") / 1024), rss_file_mb: Math.round(kb("RssFile") / 1024) };
}

export function printTable(title: string, rows: BenchRow[]): string {
  const head = `| workload | llm2vec (ms) | competitor | competitor (ms) | speed vs competitor (×, >1 = faster) | note |`;
  const sep = `|---|---:|---|---:|---:|---|`;
  // A row without a competitor carries NaN for its time and ratio: printed as a dash.
  const num = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : "—");
  const lines = rows.map(
    (r) => `| ${r.name} | ${num(r.ours_ms, 1)} | ${r.competitor} | ${num(r.competitor_ms, 1)} | ${num(r.ratio, 2)} | ${r.note ?? ""} |`,
  );
  const text = [`### ${title}`, "", head, sep, ...lines, ""].join("\n");
  console.log(text);
  return text;
}

/**
 * The sections `npm run bench` runs: those `--only a,b` names, else every section but the opt-in
 * ones (big checkpoints), each of which joins when `optIn` says it was asked for (its flag or
 * environment variable). Unknown names are refused.
 */
export function selectSections(argv: readonly string[], known: readonly string[], optIn: Readonly<Record<string, boolean>>): string[] {
  const i = argv.indexOf("--only");
  if (i >= 0) {
    const only = (argv[i + 1] ?? "").split(",").filter((k) => k !== "");
    if (only.length === 0) throw new Error(`--only: no section named (known: ${known.join(", ")})`);
    for (const k of only) if (!known.includes(k)) throw new Error(`--only: unknown section ${k} (known: ${known.join(", ")})`);
    return only;
  }
  return known.filter((k) => optIn[k] ?? true);
}
