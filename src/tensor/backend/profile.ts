/**
 * Opt-in per-op profile at the backend boundary: a Backend that forwards every kernel call to
 * another one and adds the call's wall time (kernels are synchronous) to a counter per op kind,
 * with the op's flops or bytes, so a forward can be broken down into GEMM time, attention time and
 * the passes over memory between them. Off unless asked for, and then only through the wrapper:
 * the backends themselves carry no timing code.
 *
 *   LLM2VEC_PROFILE=1 node …        the chosen backend is wrapped from the start; the table is
 *                                   printed to stderr when the process exits
 *   startProfile() / profileReport() the same from code (the encode bench's --profile)
 *
 * GEMMs are keyed by shape (M×N×K, ᵀ marks a transposed operand), so each projection of a model
 * gets its own row; everything else by kernel name. Time between kernels (allocation, zero fills,
 * autograd bookkeeping, JavaScript) is what the report's "outside kernels" row holds when the
 * caller gives the total.
 */
import { backend, setBackend } from "./index.js";
import type { AttentionShape, Backend, GemmArgs } from "./types.js";

interface OpStat {
  calls: number;
  ms: number;
  flops: number;
  bytes: number;
}

const stats = new Map<string, OpStat>();

function record(op: string, ms: number, flops: number, bytes: number): void {
  let s = stats.get(op);
  if (!s) stats.set(op, (s = { calls: 0, ms: 0, flops: 0, bytes: 0 }));
  s.calls++;
  s.ms += ms;
  s.flops += flops;
  s.bytes += bytes;
}

function gemmKey(a: GemmArgs): string {
  const batch = a.batch > 1 ? `${a.batch}× ` : "";
  return `gemm ${batch}${a.M}×${a.N}×${a.K}${a.transA ? " Aᵀ" : ""}${a.transB ? " Bᵀ" : ""}${a.compute === "bf16" ? " bf16" : ""}`;
}

/** Query-key pairs the attention kernel visits (the causal triangle counted exactly). */
function attnPairs(s: AttentionShape): number {
  if (!s.causal) return s.T * s.S;
  let n = 0;
  for (let i = 0; i < s.T; i++) n += Math.max(0, Math.min(s.S, i + (s.S - s.T) + 1));
  return n;
}

const F = 4; // bytes per f32

/** `inner` with every kernel call timed into the profile counters. */
export function profiledBackend(inner: Backend): Backend {
  const t = <R>(op: string, flops: number, bytes: number, run: () => R): R => {
    const t0 = performance.now();
    const r = run();
    record(op, performance.now() - t0, flops, bytes);
    return r;
  };
  const timed: Record<string, unknown> = {
    name: inner.name,
    profiled: true,
    gemm: (a) => t(gemmKey(a), 2 * a.batch * a.M * a.N * a.K, 0, () => inner.gemm(a)),
    gemmQ: (a) => t(`gemmQ ${a.W.kind} ${a.M}×${a.W.N}×${a.W.K} Bᵀ`, 2 * a.M * a.W.N * a.W.K, 0, () => inner.gemmQ(a)),
    attentionForward: (s, q, k, v, out, lse) =>
      t(`attentionForward H${s.H}/${s.KVH} D${s.D}${s.causal ? " causal" : ""}`, 4 * s.B * s.H * s.D * attnPairs(s), 0, () => inner.attentionForward(s, q, k, v, out, lse)),
    attentionBackward: (s, q, k, v, out, lse, dOut, dq, dk, dv) =>
      t("attentionBackward", 10 * s.B * s.H * s.D * attnPairs(s), 0, () => inner.attentionBackward(s, q, k, v, out, lse, dOut, dq, dk, dv)),
    rmsnormForward: (x, w, wd, addOne, eps, N, C, out, rstd) => t("rmsnormForward", 0, 2 * N * C * F, () => inner.rmsnormForward(x, w, wd, addOne, eps, N, C, out, rstd)),
    rmsnormBackward: (x, w, wd, addOne, rstd, dOut, N, C, dx, dw) => t("rmsnormBackward", 0, 3 * N * C * F, () => inner.rmsnormBackward(x, w, wd, addOne, rstd, dOut, N, C, dx, dw)),
    rope: (x, pos, cos, sin, N, H, D, inverse, out) => t(inverse ? "rope (inverse)" : "rope", 0, 2 * N * H * D * F, () => inner.rope(x, pos, cos, sin, N, H, D, inverse, out)),
    gatedActForward: (kind, gate, up, out) => t(`gatedActForward ${kind}`, 0, 3 * out.length * F, () => inner.gatedActForward(kind, gate, up, out)),
    gatedActBackward: (kind, gate, up, dOut, dGate, dUp) => t(`gatedActBackward ${kind}`, 0, 5 * gate.length * F, () => inner.gatedActBackward(kind, gate, up, dOut, dGate, dUp)),
    crossEntropyForward: (l, tg, ig, N, V, loss, lse) => t("crossEntropyForward", 0, N * V * F, () => inner.crossEntropyForward(l, tg, ig, N, V, loss, lse)),
    crossEntropyBackward: (l, tg, ig, lse, rs, N, V, d) => t("crossEntropyBackward", 0, 2 * N * V * F, () => inner.crossEntropyBackward(l, tg, ig, lse, rs, N, V, d)),
    embeddingForward: (table, dt, ids, C, out) => t("embeddingForward", 0, 2 * out.length * F, () => inner.embeddingForward(table, dt, ids, C, out)),
    add: (a, b, out) => t("add", 0, 3 * out.length * F, () => inner.add(a, b, out)),
    mul: (a, b, out) => t("mul", 0, 3 * out.length * F, () => inner.mul(a, b, out)),
    axpy: (alpha, x, y) => t("axpy", 0, 3 * y.length * F, () => inner.axpy(alpha, x, y)),
    scale: (x, alpha, out) => t("scale", 0, 2 * out.length * F, () => inner.scale(x, alpha, out)),
    dropout: (x, out, p, seed, off) => t("dropout", 0, 2 * out.length * F, () => inner.dropout(x, out, p, seed, off)),
  } satisfies Omit<Backend, "packB"> & { profiled: true };
  // Every other method (optional ones such as packB, and any added later) is forwarded and
  // timed under its own name, so wrapping never hides a capability of the backend.
  for (const [key, fn] of Object.entries(inner))
    if (typeof fn === "function" && !(key in timed))
      timed[key] = (...args: unknown[]) => t(key, 0, 0, () => (fn as (...a: unknown[]) => unknown).apply(inner, args));
  return timed as unknown as Backend;
}

export interface ProfileRow {
  op: string;
  calls: number;
  ms: number;
  /** Of the total given to profileReport (or of the kernels' sum without one). */
  share: number;
  gflops?: number;
  gbs?: number;
}

/** Clears the counters and makes sure the active backend is the timing wrapper. */
export function startProfile(): void {
  const be = backend() as Backend & { profiled?: boolean };
  if (!be.profiled) setBackend(profiledBackend(be));
  stats.clear();
}

/**
 * The counters as rows, slowest first. With `totalMs` (the wall time the counted calls ran in),
 * shares are of that total and a last row "outside kernels" holds the rest.
 */
export function profileReport(opts: { totalMs?: number } = {}): ProfileRow[] {
  const rows: ProfileRow[] = [];
  let sum = 0;
  for (const s of stats.values()) sum += s.ms;
  const total = opts.totalMs ?? sum;
  for (const [op, s] of stats) {
    const r: ProfileRow = { op, calls: s.calls, ms: +s.ms.toFixed(2), share: +(s.ms / total).toFixed(4) };
    // Three significant digits: a tiny op's rate must not round to 0.
    if (s.flops > 0) r.gflops = +(s.flops / (s.ms * 1e6)).toPrecision(3);
    if (s.bytes > 0) r.gbs = +(s.bytes / (s.ms * 1e6)).toPrecision(3);
    rows.push(r);
  }
  rows.sort((a, b) => b.ms - a.ms);
  if (opts.totalMs !== undefined) rows.push({ op: "outside kernels", calls: 0, ms: +(total - sum).toFixed(2), share: +((total - sum) / total).toFixed(4) });
  return rows;
}

/** The rows as a Markdown table (op, calls, ms, share, GFLOP/s or GB/s). */
export function profileTable(rows: readonly ProfileRow[]): string {
  const lines = ["| op | calls | ms | share | GFLOP/s or GB/s |", "|---|---:|---:|---:|---:|"];
  for (const r of rows) {
    const rate = r.gflops !== undefined ? `${r.gflops} GFLOP/s` : r.gbs !== undefined ? `${r.gbs} GB/s` : "";
    lines.push(`| ${r.op} | ${r.calls} | ${r.ms.toFixed(1)} | ${(100 * r.share).toFixed(1)}% | ${rate} |`);
  }
  return lines.join("\n");
}
