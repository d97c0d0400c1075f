/** `llm2vec compare`: several eval result folders side by side (Markdown table + HTML bar chart). */
import { Command } from "commander";
import * as path from "node:path";
import { atomicWriteText } from "../../formats/atomic.js";
import { readResultsDir, renderComparisonHtml, renderComparisonMarkdown, type Run } from "../../eval/report/compare.js";

export interface CompareOptions {
  results: string[];
  label?: string[];
  output?: string;
}

export function compareCommand(o: CompareOptions): { markdown: string; files: string[] } {
  if (o.label && o.label.length !== o.results.length) throw new Error(`--label: ${o.label.length} labels for ${o.results.length} result folders`);
  const runs: Run[] = o.results.map((dir, i) => ({ label: o.label?.[i] ?? path.basename(path.resolve(dir)), results: readResultsDir(dir) }));
  const markdown = renderComparisonMarkdown(runs);
  const files: string[] = [];
  if (o.output) {
    const md = path.join(o.output, "comparison.md");
    const html = path.join(o.output, "comparison.html");
    atomicWriteText(md, markdown);
    atomicWriteText(html, renderComparisonHtml(runs));
    files.push(md, html);
  }
  return { markdown, files };
}

export function registerCompare(program: Command): void {
  program
    .command("compare")
    .description("compare eval result folders side by side (prints Markdown; --output also writes comparison.md and comparison.html)")
    .requiredOption("--results <dirs...>", "result folders written by llm2vec eval")
    .option("--label <names...>", "a label per folder (default: folder names)")
    .option("--output <dir>", "existing folder for comparison.md and comparison.html")
    .action((o: CompareOptions) => {
      const r = compareCommand(o);
      process.stdout.write(r.markdown);
      for (const f of r.files) process.stderr.write(`wrote ${f}\n`);
    });
}
