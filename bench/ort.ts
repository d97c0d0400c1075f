/**
 * The onnxruntime-node competitor's setup, made on demand in the bench cache (never a dependency of
 * the package):
 *   - ort/: `npm install onnxruntime-node@1` into a bench-local folder, with
 *     ONNXRUNTIME_NODE_INSTALL=skip (its postinstall would fetch CUDA libraries; the CPU build
 *     ships inside the npm package);
 *   - <checkpoint>/onnx/encoder.onnx: the checkpoint exported through PyTorch's ONNX exporter by
 *     bench/competitors/onnx_export.py (hf_model.py's bidirectional forward + mean pooling, dynamic
 *     batch and sequence axes), under /usr/bin/python3 (Debian's python3-torch; the exporter needs
 *     no onnx package).
 * Either step failing throws with the command's output: the caller decides whether to skip.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { benchCacheDir } from "./checkpoints.js";
import { ROOT } from "./common.js";

const ORT_SPEC = "onnxruntime-node@1";

function log(msg: string): void {
  process.stderr.write(`[bench-cache] ${msg}\n`);
}

/** The folder whose node_modules holds onnxruntime-node (installed on first use). */
export function ensureOnnxRuntime(): string {
  const dir = path.join(benchCacheDir(), "ort");
  const pkg = path.join(dir, "node_modules/onnxruntime-node/package.json");
  if (fs.existsSync(pkg)) return dir;
  fs.mkdirSync(dir, { recursive: true });
  if (!fs.existsSync(path.join(dir, "package.json"))) fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "llm2vec-bench-ort", private: true }) + "\n");
  log(`installing ${ORT_SPEC} into ${dir} (ONNXRUNTIME_NODE_INSTALL=skip: CPU only, no CUDA download)`);
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const r = spawnSync(npm, ["install", ORT_SPEC, "--no-audit", "--no-fund"], {
    cwd: dir,
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: "skip" },
    encoding: "utf8",
  });
  if (r.status !== 0 || !fs.existsSync(pkg)) throw new Error(`npm install ${ORT_SPEC} in ${dir} failed (status ${r.status}): ${(r.stderr ?? "").slice(-2000)}`);
  return dir;
}

/**
 * `<checkpoint dir>/onnx/encoder.onnx`, exported on first use. Its own folder: past 2 GB of weights
 * the exporter writes every initializer as a separate file beside the graph (ONNX's external data).
 */
export function ensureOnnxEncoder(checkpointDir: string): string {
  const file = path.join(checkpointDir, "onnx", "encoder.onnx");
  if (fs.existsSync(file)) return file;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  log(`exporting ${checkpointDir} to ONNX with torch.onnx.export (bench/competitors/onnx_export.py)`);
  const r = spawnSync("/usr/bin/python3", [path.join(ROOT, "bench/competitors/onnx_export.py"), "--model", checkpointDir, "--output", file], {
    encoding: "utf8",
    maxBuffer: 16 << 20,
  });
  if (r.status !== 0 || !fs.existsSync(file)) throw new Error(`onnx_export.py failed (status ${r.status}, signal ${r.signal}): ${(r.stderr ?? "").slice(-2000)}`);
  log(`  ${r.stdout.trim().split("\n").pop()}`);
  return file;
}
