/**
 * The training report: the loss curve (train loss per step, held-out loss at each evaluation) as
 * a standalone SVG, and report.html around it with the run's config and before/after metrics.
 * Self-contained (inline SVG and CSS), like the evaluation report.
 */
import { esc } from "../eval/report/html.js";
import type { EvalRecord, StepRecord } from "./loop.js";

export function renderLossCurve(history: readonly StepRecord[], evals: readonly EvalRecord[], title = "loss"): string {
  const W = 640;
  const H = 320;
  const L = 56;
  const R = 16;
  const Tp = 28;
  const Bt = 40;
  const pts = history.map((r) => [r.step, r.loss] as const);
  const evs = evals.filter((e) => Number.isFinite(e.eval.loss)).map((e) => [e.step, e.eval.loss!] as const);
  const all = [...pts, ...evs];
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="${esc(title)}" font-family="system-ui,sans-serif">`];
  parts.push(`<text x="${W / 2}" y="18" font-size="13" text-anchor="middle">${esc(title)}</text>`);
  if (all.length === 0) {
    parts.push(`<text x="${W / 2}" y="${H / 2}" font-size="12" text-anchor="middle">no steps recorded</text></svg>`);
    return parts.join("\n");
  }
  const maxStep = Math.max(1, ...all.map((p) => p[0]));
  let lo = Math.min(...all.map((p) => p[1]));
  let hi = Math.max(...all.map((p) => p[1]));
  if (hi - lo < 1e-9) {
    hi += 0.5;
    lo -= 0.5;
  }
  const x = (s: number) => L + (s / maxStep) * (W - L - R);
  const y = (v: number) => Tp + (1 - (v - lo) / (hi - lo)) * (H - Tp - Bt);
  for (let g = 0; g <= 4; g++) {
    const v = lo + ((hi - lo) * g) / 4;
    parts.push(`<line x1="${L}" y1="${y(v)}" x2="${W - R}" y2="${y(v)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${L - 6}" y="${y(v) + 4}" font-size="10" text-anchor="end">${v.toFixed(3)}</text>`);
  }
  for (let g = 0; g <= 4; g++) {
    const s = Math.round((maxStep * g) / 4);
    parts.push(`<text x="${x(s)}" y="${H - Bt + 16}" font-size="10" text-anchor="middle">${s}</text>`);
  }
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 8}" font-size="11" text-anchor="middle">step</text>`);
  if (pts.length) parts.push(`<polyline fill="none" stroke="#4e79a7" stroke-width="1.5" points="${pts.map(([s, v]) => `${x(s).toFixed(1)},${y(v).toFixed(1)}`).join(" ")}"/>`);
  if (evs.length) {
    parts.push(`<polyline fill="none" stroke="#e15759" stroke-width="1.5" stroke-dasharray="4 3" points="${evs.map(([s, v]) => `${x(s).toFixed(1)},${y(v).toFixed(1)}`).join(" ")}"/>`);
    for (const [s, v] of evs) parts.push(`<circle cx="${x(s).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="#e15759"><title>step ${s}: held-out loss ${v.toFixed(4)}</title></circle>`);
  }
  parts.push(`<rect x="${W - R - 150}" y="${Tp}" width="10" height="3" fill="#4e79a7"/><text x="${W - R - 136}" y="${Tp + 5}" font-size="10">train loss</text>`);
  parts.push(`<rect x="${W - R - 150}" y="${Tp + 14}" width="10" height="3" fill="#e15759"/><text x="${W - R - 136}" y="${Tp + 19}" font-size="10">held-out loss</text>`);
  parts.push("</svg>");
  return parts.join("\n");
}

export function renderTrainingReport(meta: {
  title: string;
  config: Record<string, unknown>;
  metrics: Record<string, unknown>;
  history: readonly StepRecord[];
  evals: readonly EvalRecord[];
}): string {
  const fmt = (v: unknown) => (typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toPrecision(5)) : esc(JSON.stringify(v)));
  const rows = (o: Record<string, unknown>) => Object.entries(o).map(([k, v]) => `<tr><td>${esc(k)}</td><td>${fmt(v)}</td></tr>`).join("\n");
  const evalRows = meta.evals
    .map((e) => `<tr><td class="n">${e.step}</td>${Object.values(e.eval).map((v) => `<td class="n">${fmt(v)}</td>`).join("")}</tr>`)
    .join("\n");
  const evalHead = meta.evals[0] ? Object.keys(meta.evals[0].eval).map((k) => `<th>${esc(k)}</th>`).join("") : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(meta.title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px}td.n{text-align:right}
</style></head><body>
<h1>${esc(meta.title)}</h1>
${renderLossCurve(meta.history, meta.evals, "loss per step")}
<h2>Held-out evaluation</h2>
<table><thead><tr><th>step</th>${evalHead}</tr></thead><tbody>
${evalRows}
</tbody></table>
<h2>Metrics</h2>
<table><tbody>
${rows(meta.metrics)}
</tbody></table>
<h2>Configuration</h2>
<table><tbody>
${rows(meta.config)}
</tbody></table>
</body></html>
`;
}
