/**
 * A Hugging Face model folder: `config.json` plus weights in `model.safetensors` or sharded
 * through `model.safetensors.index.json`. Shards are opened lazily on first use, so listing
 * names or reading the config never touches (possibly missing) weight files.
 *
 * This layer only reads files: config.json comes back as the parsed JSON object. What its
 * fields mean (per model family) is decided above, by models/ (`specFromConfig`).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { SafetensorsFile, type LoadedTensor, type TensorInfo } from "./safetensors.js";
import { TorchBinFile } from "./torch-bin.js";
import { isLfsPointer, lfsPointerError } from "./lfs.js";
import { requireRegularFile } from "./regular-file.js";

/** Read access to named tensors, whatever files they live in. */
export interface WeightSource {
  names(): string[];
  has(name: string): boolean;
  info(name: string): TensorInfo;
  read(name: string): LoadedTensor;
  /** Raw little-endian bytes of a tensor of any dtype (integer tensors of saved quantized weights). */
  readBytes(name: string): Uint8Array;
  close(): void;
}

/** One weights file of a known format (safetensors, torch .bin), as a shard or alone. */
export interface WeightFile extends WeightSource {
  readonly path: string;
}

/** Opens one weights file; `listedBy` names the index entry that pointed at it, for errors. */
export type WeightFileOpener = (file: string, listedBy?: string) => WeightFile;

/** Weights of one file (safetensors unless `openFile` says otherwise), opened on first access. */
export class SingleFileWeights implements WeightSource {
  private file: WeightFile | null = null;
  constructor(
    readonly path: string,
    private readonly openFile: WeightFileOpener = openShard,
  ) {}
  private open(): WeightFile {
    return (this.file ??= this.openFile(this.path));
  }
  names(): string[] {
    return this.open().names();
  }
  has(name: string): boolean {
    return this.open().has(name);
  }
  info(name: string): TensorInfo {
    return this.open().info(name);
  }
  read(name: string): LoadedTensor {
    return this.open().read(name);
  }
  readBytes(name: string): Uint8Array {
    return this.open().readBytes(name);
  }
  close(): void {
    this.file?.close();
    this.file = null;
  }
}

/** Weights spread over shards listed in a `model.safetensors.index.json` (or `pytorch_model.bin.index.json`). */
export class ShardedWeights implements WeightSource {
  private readonly weightMap: Map<string, string>;
  private readonly shards = new Map<string, WeightFile>();
  readonly dir: string;

  constructor(
    readonly indexPath: string,
    private readonly openFile: WeightFileOpener = openShard,
  ) {
    this.dir = path.dirname(indexPath);
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(indexPath, "utf8"));
    } catch (e) {
      throw new Error(`${indexPath}: cannot read shard index: ${(e as Error).message}`);
    }
    const wm = (raw as { weight_map?: unknown } | null)?.weight_map;
    if (typeof wm !== "object" || wm === null || Array.isArray(wm)) {
      throw new Error(`${indexPath}: field "weight_map" is missing or not an object`);
    }
    this.weightMap = new Map();
    for (const [name, shard] of Object.entries(wm)) {
      // A shard name must stay inside the folder: no absolute paths, no "..".
      if (typeof shard !== "string" || shard === "" || path.isAbsolute(shard) || shard.split(/[\\/]/).includes("..")) {
        throw new Error(`${indexPath}: weight_map entry for "${name}" is not a file name in the folder: ${JSON.stringify(shard)}`);
      }
      this.weightMap.set(name, shard);
    }
  }

  /** The shard file names, in first-seen order. */
  shardFiles(): string[] {
    return [...new Set(this.weightMap.values())];
  }

  names(): string[] {
    return [...this.weightMap.keys()];
  }
  has(name: string): boolean {
    return this.weightMap.has(name);
  }
  info(name: string): TensorInfo {
    return this.shardFor(name).info(name);
  }
  read(name: string): LoadedTensor {
    return this.shardFor(name).read(name);
  }
  readBytes(name: string): Uint8Array {
    return this.shardFor(name).readBytes(name);
  }
  close(): void {
    for (const f of this.shards.values()) f.close();
    this.shards.clear();
  }

  private shardFor(name: string): WeightFile {
    const shard = this.weightMap.get(name);
    if (shard === undefined) throw new Error(`${this.indexPath}: no tensor named "${name}" in weight_map`);
    let f = this.shards.get(shard);
    if (!f) {
      f = this.openFile(path.join(this.dir, shard), `${this.indexPath}: weight_map entry for "${name}" ("${shard}")`);
      this.shards.set(shard, f);
    }
    if (!f.has(name)) throw new Error(`${f.path}: tensor "${name}" is listed in ${path.basename(this.indexPath)} but not in the shard`);
    return f;
  }
}

function openShard(file: string, listedBy?: string, open: (file: string) => WeightFile = SafetensorsFile.open): WeightFile {
  if (!fs.existsSync(file)) throw new Error(`weights file missing: ${file}${listedBy ? ` (${listedBy})` : ""}`);
  // Before the LFS probe, which opens the file (a FIFO would block there).
  requireRegularFile(file, listedBy ?? `weights file ${file}`);
  if (isLfsPointer(file)) throw lfsPointerError(file);
  return open(file);
}

const openTorchBin: WeightFileOpener = (file, listedBy) => openShard(file, listedBy, TorchBinFile.open);

/**
 * A folder's PyTorch weights: `pytorch_model.bin`, else `pytorch_model.bin.index.json`; null
 * when it has neither.
 */
export function openTorchBinWeights(dir: string): WeightSource | null {
  const single = path.join(dir, "pytorch_model.bin");
  const index = path.join(dir, "pytorch_model.bin.index.json");
  if (fs.existsSync(single)) return new SingleFileWeights(single, openTorchBin);
  if (fs.existsSync(index)) return new ShardedWeights(index, openTorchBin);
  return null;
}

export interface HfFolder {
  dir: string;
  /** config.json as parsed JSON, uninterpreted. */
  config: Record<string, unknown>;
  weights: WeightSource;
}

/** The path of a folder's config.json. */
export function hfConfigPath(dir: string): string {
  return path.join(dir, "config.json");
}

/**
 * Read a model folder's config.json as a JSON object (no field is interpreted). Errors name the
 * folder or the file: folder missing, config.json missing / unreadable, invalid JSON, not an object.
 */
export function readHfConfig(dir: string): Record<string, unknown> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`${dir}: model folder does not exist`);
  const file = hfConfigPath(dir);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === "ENOENT" ? "no such file (is this a Hugging Face model folder?)" : err.message;
    throw new Error(`${file}: cannot read model config: ${why}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: invalid JSON: ${(e as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new Error(`${file}: not a JSON object`);
  return raw as Record<string, unknown>;
}

/** Weight files a model folder may hold (safetensors single or sharded, PyTorch single or sharded). */
export const WEIGHT_FILES = ["model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json"] as const;

/** Whether a folder holds model weights in any of WEIGHT_FILES (readable or not: openWeights says). */
export function folderHasWeights(dir: string): boolean {
  return WEIGHT_FILES.some((f) => fs.existsSync(path.join(dir, f)));
}

/** Whether a folder is (or holds) a PEFT adapter: it has an `adapter_config.json`. */
export function isPeftAdapterFolder(dir: string): boolean {
  return fs.existsSync(path.join(dir, "adapter_config.json"));
}

/**
 * Open the weights of a folder: `model.safetensors`, else its shard index, else PyTorch's
 * `pytorch_model.bin` or its shard index (read without executing the pickle, torch-bin.ts).
 */
export function openWeights(dir: string): WeightSource {
  const single = path.join(dir, "model.safetensors");
  const index = path.join(dir, "model.safetensors.index.json");
  if (fs.existsSync(single)) return new SingleFileWeights(single);
  if (fs.existsSync(index)) return new ShardedWeights(index);
  const bin = openTorchBinWeights(dir);
  if (bin) return bin;
  throw new Error(`${dir}: no model.safetensors, model.safetensors.index.json, pytorch_model.bin or pytorch_model.bin.index.json`);
}

/** Open a Hugging Face model folder (config.json read now, weight files opened lazily). */
export function openHfFolder(dir: string): HfFolder {
  const config = readHfConfig(dir);
  return { dir, config, weights: openWeights(dir) };
}
