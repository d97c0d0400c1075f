/** Error messages that named nothing or came too late, and the leftovers of killed writes. */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { encodeCommand } from "../../src/cli/commands/encode.js";
import { atomicWriteText, writeFolderAtomically } from "../../src/formats/atomic.js";
import { cleanStaleTemps } from "../../src/formats/stale-temps.js";
import { FIXTURES, storiesFolder } from "../helpers/stories.js";

const ROOT = path.resolve(FIXTURES, "../..");

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-leftovers-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A pid that surely belongs to no running process: a child that has already exited. */
const deadPid = () => spawnSync(process.execPath, ["-e", ""]).pid!;

test("a batch far larger than the stack allows (--batch-size 300000) encodes", () => {
  // Spreading a batch into Math.max overflowed the stack from ~127k rows. The child runs with a
  // 100 KB stack (Node's default is ~984 KB), where 20k rows overflow the same way, in a second.
  const mod = (p: string) => JSON.stringify(pathToFileURL(path.join(ROOT, "dist", p)).href);
  const script = `
    const { LLM2Vec } = await import(${mod("src/encoder/llm2vec.js")});
    const enc = await LLM2Vec.fromPretrained(${JSON.stringify(storiesFolder())});
    const rows = Array.from({ length: 20000 }, (_, i) => [1, 10 + (i % 400)]);
    const vecs = await enc.encodeIds(rows, { batchSize: 300000 });
    const [one] = await enc.encodeIds([rows[7]], {});
    console.log(vecs.length, Math.abs(vecs[7][0] - one[0]) < 1e-4);`;
  const r = spawnSync(process.execPath, ["--stack-size=100", "--input-type=module", "-e", script], { encoding: "utf8", timeout: 60_000 });
  assert.equal(r.stderr.includes("Maximum call stack size exceeded"), false, r.stderr.slice(0, 400));
  assert.equal(r.stdout.trim(), "20000 true", r.stderr.slice(0, 400));
});

test("--output that is a directory, or in a folder that cannot take files, fails before the model loads", async () => {
  const input = path.join(tmp, "in.txt");
  fs.writeFileSync(input, "a\n");
  const asDir = path.join(tmp, "out.npy");
  fs.mkdirSync(asDir);
  // The model path does not exist: the output error must come first.
  const o = { model: path.join(tmp, "no-model"), input, progress: false };
  await assert.rejects(encodeCommand({ ...o, output: asDir }), /cannot write .*out\.npy: it is a directory/);
  const notFolder = path.join(tmp, "plain-file");
  fs.writeFileSync(notFolder, "");
  await assert.rejects(encodeCommand({ ...o, output: path.join(notFolder, "x.npy") }), /cannot write .*x\.npy: .*plain-file is not a folder/);
});

test("--output in a read-only folder fails before the model loads", { skip: process.getuid?.() === 0 ? "root can write to any folder" : false }, async () => {
  const ro = path.join(tmp, "ro");
  fs.mkdirSync(ro, { mode: 0o555 });
  await assert.rejects(
    encodeCommand({ model: path.join(tmp, "no-model"), input: path.join(tmp, "in.txt"), output: path.join(ro, "x.npy"), progress: false }),
    /cannot write .*x\.npy: folder .*ro is not writable/,
  );
});

test("stale temp files of dead writers are removed by the next write; a live writer's are kept", () => {
  const target = path.join(tmp, "vecs.jsonl");
  const dead = path.join(tmp, `.vecs.jsonl.${deadPid()}.1700000000000.tmp`);
  const live = path.join(tmp, `.vecs.jsonl.${process.ppid}.1700000000001.tmp`);
  const other = path.join(tmp, `.other.jsonl.${deadPid()}.1.tmp`);
  for (const f of [dead, live, other]) fs.writeFileSync(f, "partial");
  atomicWriteText(target, "{}\n");
  assert.equal(fs.existsSync(dead), false, "the dead writer's temp is gone");
  assert.equal(fs.existsSync(live), true, "a running process's temp is not touched");
  assert.equal(fs.existsSync(other), true, "another target's temp is not touched");
  assert.equal(fs.readFileSync(target, "utf8"), "{}\n");
});

test("a folder swap killed between its renames is restored from .old; dead writers' temp folders are removed", () => {
  const out = path.join(tmp, "model");
  const old = path.join(tmp, `.model.tmp-${deadPid()}-AbC123.old`);
  const half = path.join(tmp, `.model.tmp-${deadPid()}-XyZ789`);
  fs.mkdirSync(old);
  fs.writeFileSync(path.join(old, "config.json"), "old");
  fs.mkdirSync(half);
  fs.writeFileSync(path.join(half, "model.safetensors"), "half-written");
  // The crash left no folder at the target, only the .old: the next start puts it back.
  assert.deepEqual(cleanStaleTemps(out), { restored: old, removed: [half] });
  assert.equal(fs.readFileSync(path.join(out, "config.json"), "utf8"), "old");
  // An ordinary overwrite then leaves nothing hidden behind.
  writeFolderAtomically(out, true, (d) => fs.writeFileSync(path.join(d, "config.json"), "new"));
  assert.equal(fs.readFileSync(path.join(out, "config.json"), "utf8"), "new");
  assert.deepEqual(fs.readdirSync(tmp).filter((n) => n.startsWith(".model.")), []);
  // And writeFolderAtomically itself restores before deciding whether the target exists.
  fs.renameSync(out, path.join(tmp, `.model.tmp-${deadPid()}-Q.old`));
  assert.throws(() => writeFolderAtomically(out, false, () => {}), /output folder already exists/);
  assert.equal(fs.readFileSync(path.join(out, "config.json"), "utf8"), "new");
});
