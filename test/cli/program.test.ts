/** The command tree as a user meets it: --version, flag errors, progress flags, variables in --help. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { buildProgram } from "../../src/cli/program.js";
import { storiesFolder } from "../helpers/stories.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MAIN = path.resolve(HERE, "../../src/cli/main.js");
const VERSION = (JSON.parse(fs.readFileSync(path.resolve(HERE, "../../../package.json"), "utf8")) as { version: string }).version;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-program-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));

/** `llm2vec ARGS` in a child process with stderr a pipe (not a terminal). */
function cli(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: "utf8", timeout: 60_000, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The program with `name`'s action replaced by one that records its options, errors thrown instead of exiting. */
function capture(name: string[]): { program: Command; seen: () => Record<string, unknown> } {
  const program = buildProgram();
  let cmd = program;
  for (const n of name) cmd = cmd.commands.find((c) => c.name() === n)!;
  let opts: Record<string, unknown> = {};
  cmd.exitOverride().action((o: Record<string, unknown>) => {
    opts = o;
  });
  return { program, seen: () => opts };
}

/** The help text of a command, its "after" text included. */
function helpOf(name: string[]): string {
  let cmd = buildProgram();
  for (const n of name) cmd = cmd.commands.find((c) => c.name() === n)!;
  let out = "";
  cmd.configureOutput({ writeOut: (s) => (out += s) });
  cmd.outputHelp();
  return out;
}

describe("llm2vec --version", () => {
  it("--version and -V print package.json's version and exit 0", () => {
    for (const flag of ["--version", "-V"]) {
      const r = cli([flag]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, `${VERSION}\n`);
    }
  });

  it("--version with a command, before or after it, prints the version and does not run the command", () => {
    const input = path.join(tmp, "v.txt");
    fs.writeFileSync(input, "a\n");
    const out = path.join(tmp, "v.npy");
    for (const args of [["--version", "encode"], ["encode", "--version"]]) {
      const r = cli([...args, "--model", storiesFolder(), "--input", input, "--output", out]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, `${VERSION}\n`);
      assert.equal(r.stderr, "");
      assert.equal(fs.existsSync(out), false, "encode did not run");
    }
  });
});

describe("flag errors", () => {
  it("print the error and a one-line hint naming the command's --help, not the whole help", () => {
    const cases: [string[], RegExp, string][] = [
      [["encode", "--model", "m", "--input", "a.txt", "--output", "b.npy", "--bogus"], /^error: unknown option '--bogus'$/, "llm2vec encode"],
      [["train", "mntp", "--model", "m", "--data", "d.txt", "--output", "o", "--max-steps"], /^error: option '--max-steps <n>' argument missing$/, "llm2vec train mntp"],
      [["eval", "--model", "m", "--output", "o", "--pooling", "bogus"], /^error: option '--pooling <mode>' argument 'bogus' is invalid/, "llm2vec eval"],
    ];
    for (const [args, error, name] of cases) {
      const r = cli(args);
      assert.equal(r.status, 1);
      const lines = r.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 2, r.stderr);
      assert.match(lines[0]!, error);
      assert.equal(lines[1], `run '${name} --help' for usage`);
    }
  });
});

describe("--no-progress", () => {
  const commands = [["encode"], ["eval"], ["train", "mntp"], ["train", "simcse"], ["train", "supervised"], ["convert"]];
  const required: Record<string, string[]> = {
    encode: ["--model", "m", "--input", "a.txt", "--output", "b.npy"],
    eval: ["--model", "m", "--output", "o"],
    train: ["--model", "m", "--data", "d.txt", "--output", "o"],
    convert: ["--model", "m", "--data", "d.txt", "--output", "o"],
  };

  it("is the one spelling in every long command's help; --quiet is hidden", () => {
    for (const name of commands) {
      const help = helpOf(name);
      assert.match(help, /--no-progress/, name.join(" "));
      assert.doesNotMatch(help, /--quiet/, name.join(" "));
    }
  });

  it("--no-progress and the deprecated --quiet both turn progress off, --quiet with a warning", async () => {
    const write = process.stderr.write;
    for (const name of commands) {
      for (const flag of [[], ["--no-progress"], ["--quiet"]]) {
        const { program, seen } = capture(name);
        let warned = "";
        process.stderr.write = ((s: string) => ((warned += s), true)) as typeof process.stderr.write;
        try {
          await program.parseAsync([...name, ...required[name[0]!]!, ...flag], { from: "user" });
        } finally {
          process.stderr.write = write;
        }
        assert.equal(seen().progress, flag.length === 0, `${name.join(" ")} ${flag.join(" ")}`);
        assert.equal(warned, flag[0] === "--quiet" ? "llm2vec: --quiet is deprecated; use --no-progress\n" : "");
      }
    }
  });
});

describe("environment variables in --help", () => {
  it("beside the flag they stand for", () => {
    assert.match(helpOf(["serve"]), /--api-key <key>[^]*?\(env: LLM2VEC_API_KEY\)\n/);
    assert.match(helpOf(["eval"]), /--data <dir>[^]*?\(env: LLM2VEC_DATA\)\n/);
  });

  it("the global ones in the top-level help", () => {
    const help = helpOf([]);
    for (const v of ["LLM2VEC_THREADS", "LLM2VEC_NATIVE_ISA", "LLM2VEC_PROGRESS_INTERVAL", "LLM2VEC_DEBUG", "HF_HOME", "HF_TOKEN", "HF_ENDPOINT", "HF_HUB_OFFLINE"]) assert.match(help, new RegExp(`\\n  ${v}`), v);
    assert.doesNotMatch(helpOf(["encode"]), /LLM2VEC_THREADS/, "only in the top-level help");
  });

  it("eval's --data comes from LLM2VEC_DATA when the flag is absent; the flag wins", async () => {
    const saved = process.env.LLM2VEC_DATA;
    process.env.LLM2VEC_DATA = "/from/env";
    try {
      let c = capture(["eval"]);
      await c.program.parseAsync(["eval", "--model", "m", "--output", "o"], { from: "user" });
      assert.equal(c.seen().data, "/from/env");
      c = capture(["eval"]);
      await c.program.parseAsync(["eval", "--model", "m", "--output", "o", "--data", "/flag"], { from: "user" });
      assert.equal(c.seen().data, "/flag");
    } finally {
      if (saved === undefined) delete process.env.LLM2VEC_DATA;
      else process.env.LLM2VEC_DATA = saved;
    }
  });
});

describe("progress off a terminal", () => {
  it("encode prints progress lines to a pipe while it runs, not only at the end", () => {
    const input = path.join(tmp, "p.txt");
    fs.writeFileSync(input, "Lily saw a dog.\nTom ran.\nThe sun was hot.\n");
    const r = cli(["encode", "--model", storiesFolder(), "--input", input, "--output", path.join(tmp, "p.npy"), "--batch-size", "1"], { LLM2VEC_PROGRESS_INTERVAL: "0" });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stderr.split("\n").filter((l) => l.startsWith("encode: "));
    assert.deepEqual(
      lines.slice(0, 3).map((l) => l.replace(/, .*/, "")),
      ["encode: 1/3 texts (33%)", "encode: 2/3 texts (67%)", "encode: 3/3 texts (100%)"],
    );
    assert.match(lines[3]!, /^encode: 3\/3 texts in \d+\.\d s/);
  });

  it("a bad LLM2VEC_PROGRESS_INTERVAL is refused, naming it", () => {
    const input = path.join(tmp, "q.txt");
    fs.writeFileSync(input, "a\n");
    const r = cli(["encode", "--model", storiesFolder(), "--input", input, "--output", path.join(tmp, "q.npy")], { LLM2VEC_PROGRESS_INTERVAL: "soon" });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /LLM2VEC_PROGRESS_INTERVAL must be a number of seconds ≥ 0, got "soon"/);
  });
});
