#!/usr/bin/env node
/**
 * NLI-style triplets for supervised contrastive training, from SICK *train* (never its trial or
 * test split, which evaluation uses), as supervised SimCSE builds them from NLI: for a premise,
 * a sentence SICK labels ENTAILMENT is the positive and one labelled CONTRADICTION is the hard
 * negative. Pairs are read in both directions (SICK's entailment labels are per ordered pair, so
 * only A→B is used for entailment; contradiction is symmetric and used both ways). Premises with
 * an entailed sentence but no contradicting one keep the positive and get no negative.
 *
 *   node scripts/make-sick-triplets.mjs ../shared/data/eval/sick/SICK_train.txt out.jsonl
 */
import * as fs from "node:fs";

const [src, out] = process.argv.slice(2);
if (!src || !out) {
  console.error("usage: make-sick-triplets.mjs SICK_train.txt out.jsonl");
  process.exit(2);
}
const lines = fs.readFileSync(src, "utf8").split(/\r?\n/).filter(Boolean);
const header = lines.shift().split("\t");
const col = (n) => {
  const i = header.indexOf(n);
  if (i < 0) throw new Error(`${src}: no column ${n}`);
  return i;
};
const [A, B, L] = [col("sentence_A"), col("sentence_B"), col("entailment_judgment")];
const pos = new Map();
const neg = new Map();
const add = (m, k, v) => (m.get(k) ?? m.set(k, []).get(k)).push(v);
for (const l of lines) {
  const f = l.split("\t");
  if (f[L] === "ENTAILMENT") add(pos, f[A], f[B]);
  if (f[L] === "CONTRADICTION") {
    add(neg, f[A], f[B]);
    add(neg, f[B], f[A]);
  }
}
const rows = [];
for (const [premise, ps] of pos) {
  const ns = neg.get(premise) ?? [];
  ps.forEach((p, i) => rows.push({ query: premise, positive: p, ...(ns.length ? { negative: ns[i % ns.length] } : {}), instruction: "Given a premise, retrieve a hypothesis that is entailed by the premise" }));
}
fs.writeFileSync(out, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
console.error(`${out}: ${rows.length} triplets (${rows.filter((r) => r.negative).length} with a hard negative) from ${lines.length} SICK train pairs`);
