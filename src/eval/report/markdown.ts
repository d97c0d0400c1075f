/** summary.md: one table row per task (main score, split, size caps), then failures and notes. */
import { mainScore, type TaskResult } from "./result.js";

export interface FailedTask {
  task_name: string;
  task_type: string;
  error: string;
}

const esc = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "n/a");

const MAIN_METRIC: Record<string, string> = {
  STS: "cosine Spearman",
  Retrieval: "nDCG@10",
  Classification: "accuracy",
  Clustering: "V-measure",
  PairClassification: "cosine AP",
  WordProbe: "token accuracy",
};

export function renderMarkdown(results: TaskResult[], failed: FailedTask[], meta: { model?: string; dataRoot: string }): string {
  const lines = [
    "# Evaluation summary",
    "",
    `Model: ${meta.model ?? "(unnamed)"} · data root: \`${meta.dataRoot}\` · scores on a 0–100 scale`,
    "",
    "| task | type | split | main metric | main score | caps | time (s) |",
    "|---|---|---|---|---:|---|---:|",
  ];
  for (const r of results) {
    const split = Object.keys(r.scores)[0] ?? "";
    const caps = Object.entries(r.caps).map(([k, v]) => `${k}=${v}`).join(", ") || "none";
    lines.push(
      `| ${esc(r.task_name)} | ${r.task_type} | ${esc(split)} | ${MAIN_METRIC[r.task_type] ?? "main"} | ${fmt(mainScore(r))} | ${esc(caps)} | ${r.evaluation_time.toFixed(1)} |`,
    );
  }
  const byType = new Map<string, number[]>();
  for (const r of results) byType.set(r.task_type, [...(byType.get(r.task_type) ?? []), mainScore(r)]);
  if (results.length) {
    lines.push("", "| type | tasks | mean main score |", "|---|---:|---:|");
    for (const [t, xs] of byType) lines.push(`| ${t} | ${xs.length} | ${fmt(xs.reduce((a, b) => a + b, 0) / xs.length)} |`);
  }
  if (failed.length) {
    lines.push("", "## Failed or skipped tasks", "");
    for (const f of failed) lines.push(`- **${esc(f.task_name)}** (${f.task_type}): ${esc(f.error)}`);
  }
  const withNotes = results.filter((r) => r.notes.length);
  if (withNotes.length) {
    lines.push("", "## Notes (selection, caps, data conventions)", "");
    for (const r of withNotes) for (const n of r.notes) lines.push(`- ${esc(r.task_name)}: ${esc(n)}`);
  }
  return `${lines.join("\n")}\n`;
}
