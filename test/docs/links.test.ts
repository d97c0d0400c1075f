/** Every relative link in the README and the docs points at a file that exists, and at a heading that exists. */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, from the compiled test's place (dist/test/docs/). */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** GitHub's heading anchor: lower case, punctuation dropped (hyphens and underscores kept), spaces to hyphens. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The text outside fenced code blocks and inline code spans, where links are links. */
function prose(md: string): string {
  return md
    .replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "")
    .replace(/`[^`\n]*`/g, "");
}

function anchors(md: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of prose(md).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(m[1]!.replace(/`/g, ""));
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Broken relative links of one Markdown file, as "file: target (why)". */
export function brokenLinks(file: string, root: string): string[] {
  const md = fs.readFileSync(file, "utf8");
  const bad: string[] = [];
  const name = path.relative(root, file);
  for (const m of prose(md).matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const target = m[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
    const [rel, anchor] = target.split("#", 2) as [string, string | undefined];
    const dest = rel === "" ? file : path.resolve(path.dirname(file), decodeURIComponent(rel));
    if (!fs.existsSync(dest)) {
      bad.push(`${name}: ${target} (no such file)`);
      continue;
    }
    if (anchor !== undefined && dest.endsWith(".md") && !anchors(fs.readFileSync(dest, "utf8")).has(anchor))
      bad.push(`${name}: ${target} (no heading #${anchor} in ${path.relative(root, dest)})`);
  }
  return bad;
}

function markdownFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? markdownFiles(p) : e.name.endsWith(".md") ? [p] : [];
  });
}

test("every relative link in README.md, native/README.md and docs/**/*.md resolves, #anchors included", () => {
  const files = [path.join(ROOT, "README.md"), path.join(ROOT, "native/README.md"), ...markdownFiles(path.join(ROOT, "docs"))];
  assert.ok(files.length >= 3 && fs.existsSync(files[0]!), `README.md not found from ${ROOT}`);
  assert.deepEqual(files.flatMap((f) => brokenLinks(f, ROOT)), []);
});

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-links-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test("the checker reports a missing file and a missing heading, and ignores code and URLs", () => {
  fs.writeFileSync(path.join(tmp, "b.md"), "# Compute dtype: f32 (default) or bf16\n\n## Limits\n\n## Limits\n");
  fs.writeFileSync(
    path.join(tmp, "a.md"),
    [
      "[ok](b.md) [ok](b.md#compute-dtype-f32-default-or-bf16) [ok](b.md#limits-1) [ok](#here) ![img](b.md)",
      "[gone](missing.md) [bad anchor](b.md#nowhere) [self](#nowhere-here)",
      "[web](https://example.com/x.md) `[code](nope.md)`",
      "```",
      "[fenced](nope.md)",
      "```",
      "## Here",
    ].join("\n"),
  );
  assert.deepEqual(brokenLinks(path.join(tmp, "a.md"), tmp), [
    "a.md: missing.md (no such file)",
    "a.md: b.md#nowhere (no heading #nowhere in b.md)",
    "a.md: #nowhere-here (no heading #nowhere-here in a.md)",
  ]);
});
