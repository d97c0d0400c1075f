/**
 * Side-by-side comparison of several evaluation runs (e.g. causal vs bidirectional, before vs
 * after training): one Markdown table (tasks × runs, with per-run averages) and one
 * self-contained HTML page with a grouped bar chart. Reads the per-task JSON files `eval` wrote.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { esc, scoreGrid } from "./html.js";
import { mainScore, type TaskResult } from "./result.js";

export interface Run {
  label: string;
  results: TaskResult[];
}

/** Every result JSON in a folder written by runEvaluation (other JSON files are an error). */
export function readResultsDir(dir: string): TaskResult[] {
  if (!fs.existsSync(dir)) throw new Error(`${dir}: results folder does not exist`);
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
  if (files.length === 0) throw new Error(`${dir}: no result JSON files (run llm2vec eval first)`);
  return files.map((f) => {
    const file = path.join(dir, f);
    let r: unknown;
    try {
      r = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
      throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
    }
    const t = r as Partial<TaskResult>;
    if (typeof t.task_name !== "string" || typeof t.task_type !== "string" || !t.scores) throw new Error(`${file}: not an evaluation result (needs task_name, task_type, scores)`);
    return t as TaskResult;
  });
}

/** Task names in first-seen order across runs, with their type. */
function taskRows(runs: Run[]): { name: string; type: string }[] {
  const seen = new Map<string, string>();
  for (const run of runs) for (const r of run.results) if (!seen.has(r.task_name)) seen.set(r.task_name, r.task_type);
  return [...seen].map(([name, type]) => ({ name, type }));
}

function scoreOf(run: Run, task: string): number {
  const r = run.results.find((x) => x.task_name === task);
  return r ? mainScore(r) : NaN;
}

/** Mean over the tasks every run has, so averages compare like with like. */
function averages(runs: Run[], tasks: { name: string }[]): { value: number; count: number }[] {
  const shared = tasks.filter((t) => runs.every((run) => Number.isFinite(scoreOf(run, t.name))));
  return runs.map((run) => ({ value: shared.reduce((s, t) => s + scoreOf(run, t.name), 0) / Math.max(shared.length, 1), count: shared.length }));
}

const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "—");

export function renderComparisonMarkdown(runs: Run[]): string {
  const tasks = taskRows(runs);
  const avg = averages(runs, tasks);
  const lines = [
    `| task | type | ${runs.map((r) => r.label).join(" | ")} |`,
    `|---|---|${runs.map(() => "---:").join("|")}|`,
    ...tasks.map((t) => `| ${t.name} | ${t.type} | ${runs.map((r) => fmt(scoreOf(r, t.name))).join(" | ")} |`),
    `| **average** (${avg[0]?.count ?? 0} shared tasks) | | ${avg.map((a) => `**${fmt(a.value)}**`).join(" | ")} |`,
  ];
  return `# Comparison\n\nMain scores on a 0–100 scale.\n\n${lines.join("\n")}\n`;
}

const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7"];

export function renderComparisonHtml(runs: Run[]): string {
  const tasks = taskRows(runs);
  const barH = 12;
  const groupH = runs.length * barH + 10;
  const labelW = 260;
  const barW = 420;
  const h = tasks.length * groupH + 30;
  const svg = [`<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + barW + 60}" height="${h}" role="img" aria-label="main scores by run">`];
  svg.push(scoreGrid(labelW, barW, h));
  tasks.forEach((t, i) => {
    const y0 = i * groupH + 4;
    svg.push(`<text x="${labelW - 6}" y="${y0 + (runs.length * barH) / 2 + 4}" font-size="12" text-anchor="end">${esc(t.name)}</text>`);
    runs.forEach((run, j) => {
      const s = scoreOf(run, t.name);
      const v = Number.isFinite(s) ? Math.max(0, Math.min(100, s)) : 0;
      const y = y0 + j * barH;
      svg.push(`<rect x="${labelW}" y="${y}" width="${(v / 100) * barW}" height="${barH - 2}" fill="${PALETTE[j % PALETTE.length]}"><title>${esc(run.label)} · ${esc(t.name)}: ${fmt(s)}</title></rect>`);
      svg.push(`<text x="${labelW + (v / 100) * barW + 3}" y="${y + barH - 3}" font-size="9">${fmt(s)}</text>`);
    });
  });
  svg.push("</svg>");
  const legend = runs.map((r, j) => `<span><i style="background:${PALETTE[j % PALETTE.length]}"></i>${esc(r.label)}</span>`).join(" ");
  const avg = averages(runs, tasks);
  const rows = tasks.map((t) => `<tr><td>${esc(t.name)}</td><td>${t.type}</td>${runs.map((r) => `<td class="n">${fmt(scoreOf(r, t.name))}</td>`).join("")}</tr>`).join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Comparison</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin-top:1em}td,th{border:1px solid #ccc;padding:4px 8px}td.n{text-align:right}
.legend span{margin-right:1em;font-size:13px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
</style></head><body>
<h1>Comparison</h1>
<p>Main scores on a 0–100 scale.</p>
<div class="legend">${legend}</div>
${svg.join("\n")}
<table><tr><th>task</th><th>type</th>${runs.map((r) => `<th>${esc(r.label)}</th>`).join("")}</tr>
${rows}
<tr><th>average (${avg[0]?.count ?? 0} shared tasks)</th><td></td>${avg.map((a) => `<th class="n">${fmt(a.value)}</th>`).join("")}</tr></table>
</body></html>
`;
}
