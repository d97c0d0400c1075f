/** report.html: a self-contained page (inline CSS + inline SVG bar chart, no external assets). */
import { mainScore, type TaskResult } from "./result.js";
import type { FailedTask } from "./markdown.js";

export const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const COLORS: Record<string, string> = {
  STS: "#4e79a7",
  Retrieval: "#f28e2b",
  Classification: "#59a14f",
  Clustering: "#e15759",
  PairClassification: "#b07aa1",
  WordProbe: "#76b7b2",
};

/** Vertical grid lines and labels at 0, 25, 50, 75, 100 for a 0–100 score axis. */
export function scoreGrid(labelW: number, barW: number, h: number): string {
  const parts: string[] = [];
  for (let g = 0; g <= 100; g += 25) {
    const x = labelW + (g / 100) * barW;
    parts.push(`<line x1="${x}" y1="0" x2="${x}" y2="${h - 20}" stroke="#ddd"/>`);
    parts.push(`<text x="${x}" y="${h - 6}" font-size="10" text-anchor="middle">${g}</text>`);
  }
  return parts.join("\n");
}

export function renderBarChart(results: TaskResult[]): string {
  const rowH = 22;
  const labelW = 260;
  const barW = 400;
  const h = results.length * rowH + 30;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + barW + 70}" height="${h}" role="img" aria-label="main scores">`];
  parts.push(scoreGrid(labelW, barW, h));
  results.forEach((r, i) => {
    const s = mainScore(r);
    const v = Number.isFinite(s) ? Math.max(0, Math.min(100, s)) : 0;
    const y = i * rowH + 4;
    parts.push(`<text x="${labelW - 6}" y="${y + 13}" font-size="12" text-anchor="end">${esc(r.task_name)}</text>`);
    parts.push(`<rect x="${labelW}" y="${y}" width="${(v / 100) * barW}" height="${rowH - 6}" fill="${COLORS[r.task_type] ?? "#888"}"><title>${esc(r.task_name)}: ${Number.isFinite(s) ? s.toFixed(2) : "n/a"}</title></rect>`);
    parts.push(`<text x="${labelW + (v / 100) * barW + 4}" y="${y + 13}" font-size="11">${Number.isFinite(s) ? s.toFixed(1) : "n/a"}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n");
}

export function renderHtml(results: TaskResult[], failed: FailedTask[], meta: { model?: string; dataRoot: string }): string {
  const rows = results
    .map((r) => {
      const split = Object.keys(r.scores)[0] ?? "";
      const s = mainScore(r);
      const caps = Object.entries(r.caps).map(([k, v]) => `${k}=${v}`).join(", ") || "none";
      return `<tr><td>${esc(r.task_name)}</td><td>${r.task_type}</td><td>${esc(split)}</td><td class="n">${Number.isFinite(s) ? s.toFixed(2) : "n/a"}</td><td>${esc(caps)}</td><td class="n">${r.evaluation_time.toFixed(1)}</td></tr>`;
    })
    .join("\n");
  const fails = failed.length
    ? `<h2>Failed or skipped tasks</h2><ul>${failed.map((f) => `<li><b>${esc(f.task_name)}</b> (${f.task_type}): ${esc(f.error)}</li>`).join("")}</ul>`
    : "";
  const legend = Object.entries(COLORS)
    .map(([t, c]) => `<span><i style="background:${c}"></i>${t}</span>`)
    .join(" ");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Evaluation report</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}td.n{text-align:right}
.legend span{margin-right:1em;font-size:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
</style></head><body>
<h1>Evaluation report</h1>
<p>Model: ${esc(meta.model ?? "(unnamed)")} · data root: <code>${esc(meta.dataRoot)}</code> · main scores on a 0–100 scale</p>
<div class="legend">${legend}</div>
${renderBarChart(results)}
<table><thead><tr><th>task</th><th>type</th><th>split</th><th>main score</th><th>caps</th><th>time (s)</th></tr></thead>
<tbody>
${rows}
</tbody></table>
${fails}
</body></html>
`;
}
