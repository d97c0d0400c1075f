/**
 * PyTorch `.bin` checkpoints (`pytorch_model.bin`), read without executing anything.
 *
 * Since torch 1.6, `torch.save` writes a zip archive: `<archive>/data.pkl` is a pickle of the
 * state dict in which every tensor is a `torch._utils._rebuild_tensor_v2(storage, offset, size,
 * stride, ...)` call and every storage a persistent id `("storage", torch.FloatStorage, key,
 * location, numel)` whose bytes are the stored zip entry `<archive>/data/<key>` (raw,
 * little-endian). The pickle is decoded by pickle.ts with an allow-list of exactly those globals;
 * the tensor bytes are then read in place from the archive on demand, like safetensors.
 * Tensors sharing a storage (tied embeddings) each read their own view; views with an offset are
 * read from their offset, and non-contiguous views are gathered into row-major order.
 */
import * as fs from "node:fs";
import type { Storage } from "../tensor/dtype.js";
import { PickleDict, PickleGlobal, PickleTuple, describePickleValue, unpickle } from "./pickle.js";
import { ZipIndex, type ZipEntry } from "./zip.js";
import { readLfsPointerPrefix, lfsPointerError } from "./lfs.js";
import { requireRegularFile } from "./regular-file.js";
import { allocStorage, dtypeBytes, fromLittleEndian, loadableDtype, numel, readFully, type LoadedTensor, type SafetensorsDType, type TensorInfo } from "./safetensors.js";

/** torch storage classes → safetensors dtype strings. */
const STORAGE_DTYPES: Readonly<Record<string, SafetensorsDType>> = {
  DoubleStorage: "F64",
  FloatStorage: "F32",
  HalfStorage: "F16",
  BFloat16Storage: "BF16",
  LongStorage: "I64",
  IntStorage: "I32",
  ShortStorage: "I16",
  CharStorage: "I8",
  ByteStorage: "U8",
  BoolStorage: "BOOL",
};

const REBUILD_TENSOR = "torch._utils._rebuild_tensor_v2";
const REBUILD_PARAMETER = "torch._utils._rebuild_parameter";
const ORDERED_DICT = "collections.OrderedDict";

/** Every global a torch state dict's pickle may name; anything else is refused. */
const ALLOWED_GLOBALS = new Set([REBUILD_TENSOR, REBUILD_PARAMETER, ORDERED_DICT, ...Object.keys(STORAGE_DTYPES).map((s) => `torch.${s}`)]);

/** `torch.save(obj, f, _use_new_zipfile_serialization=False)` starts with a pickled magic number. */
const LEGACY_MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

/** data.pkl of a state dict is a few hundred bytes a tensor; this bounds the allocation. */
const MAX_PICKLE_BYTES = 1 << 30;

class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: SafetensorsDType,
    readonly numel: number,
    readonly entry: ZipEntry,
  ) {}
}

class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

function startsWith(b: Uint8Array, magic: readonly number[]): boolean {
  return b.length >= magic.length && magic.every((m, i) => b[i] === m);
}

function isIndex(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function intTuple(v: unknown, what: string, where: string): number[] {
  if (!(v instanceof PickleTuple) || !v.items.every(isIndex)) throw new Error(`${where}: ${what} is ${describePickleValue(v)}, not a tuple of non-negative ints`);
  return v.items as number[];
}

/** True when `stride` is the row-major stride of `shape` (dims of size 1 may have any stride). */
function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expect = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i]! !== 1 && stride[i]! !== expect) return false;
    expect *= shape[i]!;
  }
  return true;
}

export class TorchBinFile {
  private fd: number | null;

  private constructor(
    readonly path: string,
    fd: number,
    private readonly zip: ZipIndex,
    private readonly tensors: Map<string, TensorRef>,
  ) {
    this.fd = fd;
  }

  /** Open a torch zip checkpoint and decode its pickle. The descriptor stays open until `close()`. */
  static open(file: string): TorchBinFile {
    requireRegularFile(file, "cannot open PyTorch checkpoint");
    let fd: number;
    try {
      fd = fs.openSync(file, "r");
    } catch (e) {
      throw new Error(`${file}: cannot open PyTorch checkpoint: ${(e as Error).message}`);
    }
    try {
      const { zip, tensors } = readCheckpoint(fd, file);
      return new TorchBinFile(file, fd, zip, tensors);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  /** Tensor names, in the state dict's order. */
  names(): string[] {
    return [...this.tensors.keys()];
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): TensorInfo {
    const t = this.tensor(name);
    return { dtype: t.storage.dtype, shape: [...t.shape] };
  }

  /** Read one tensor into a fresh, aligned typed array (F32/BF16/F16 only). */
  read(name: string): LoadedTensor {
    const t = this.tensor(name);
    const dtype = loadableDtype(t.storage.dtype, this.path, name);
    const data: Storage = allocStorage(dtype, numel(t.shape));
    this.fill(name, t, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    fromLittleEndian(data);
    return { dtype, shape: [...t.shape], data };
  }

  /** Raw little-endian bytes of a tensor of any dtype, in row-major order. */
  readBytes(name: string): Uint8Array {
    const t = this.tensor(name);
    const out = new Uint8Array(numel(t.shape) * dtypeBytes(t.storage.dtype));
    this.fill(name, t, out);
    return out;
  }

  close(): void {
    if (this.fd !== null) {
      fs.closeSync(this.fd);
      this.fd = null;
    }
  }

  private tensor(name: string): TensorRef {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`${this.path}: no tensor named "${name}"`);
    return t;
  }

  /** Copy the tensor's elements, row-major, into `out`. */
  private fill(name: string, t: TensorRef, out: Uint8Array): void {
    if (this.fd === null) throw new Error(`${this.path}: file is closed (reading "${name}")`);
    if (out.length === 0) return;
    const el = dtypeBytes(t.storage.dtype);
    const entry = t.storage.entry;
    if (isContiguous(t.shape, t.stride)) {
      if (entry.method === 0) readFully(this.fd, out, entry.dataOffset + t.offset * el, `${this.path} (tensor "${name}")`);
      else out.set(this.zip.readEntry(this.fd, entry, t.offset * el, out.length));
      return;
    }
    // A strided view: read the storage span it covers, then gather element by element.
    let last = t.offset;
    for (let d = 0; d < t.shape.length; d++) last += (t.shape[d]! - 1) * t.stride[d]!;
    const span = this.zip.readEntry(this.fd, entry, t.offset * el, (last - t.offset + 1) * el);
    const rank = t.shape.length;
    const idx = new Array<number>(rank).fill(0);
    let src = 0;
    for (let o = 0; o < out.length; o += el) {
      out.set(span.subarray(src * el, src * el + el), o);
      for (let d = rank - 1; d >= 0; d--) {
        if (++idx[d]! < t.shape[d]!) {
          src += t.stride[d]!;
          break;
        }
        src -= (t.shape[d]! - 1) * t.stride[d]!;
        idx[d] = 0;
      }
    }
  }
}

function readCheckpoint(fd: number, file: string): { zip: ZipIndex; tensors: Map<string, TensorRef> } {
  const size = fs.fstatSync(fd).size;
  if (readLfsPointerPrefix(fd)) throw lfsPointerError(file);
  const head = new Uint8Array(Math.min(size, LEGACY_MAGIC.length));
  readFully(fd, head, 0, file);
  if (startsWith(head, LEGACY_MAGIC)) {
    throw new Error(
      `${file}: this is PyTorch's legacy (pre-1.6, non-zip) serialization format, which is not read here; ` +
        `re-save it in the zip format with Python: torch.save(torch.load(path, weights_only=True), path), or convert it to safetensors`,
    );
  }
  if (!startsWith(head, ZIP_MAGIC)) throw new Error(`${file}: not a PyTorch checkpoint (a torch.save zip archive starts with "PK"; this file does not)`);
  const zip = ZipIndex.read(fd, size, file);

  const pkls = [...zip.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkls.length !== 1) throw new Error(`${file}: ${pkls.length === 0 ? "no <archive>/data.pkl entry" : `${pkls.length} data.pkl entries`}; not a torch.save checkpoint`);
  const prefix = pkls[0]!.slice(0, -"data.pkl".length);
  const byteorder = zip.entries.get(`${prefix}byteorder`);
  if (byteorder) {
    const order = new TextDecoder().decode(zip.readEntry(fd, byteorder)).trim();
    if (order !== "little") throw new Error(`${file}: storages are ${order}-endian; only little-endian checkpoints are read`);
  }
  const pklEntry = zip.entries.get(pkls[0]!)!;
  if (pklEntry.size > MAX_PICKLE_BYTES) throw new Error(`${file}: ${pkls[0]} is ${pklEntry.size} bytes, more than a state dict's pickle can be`);
  const where = `${file}: ${pkls[0]}`;

  const storages = new Map<string, StorageRef>();
  const persistentLoad = (pid: unknown): StorageRef => {
    const items = pid instanceof PickleTuple ? pid.items : [];
    const [tag, type, key, , count] = items;
    if (items.length !== 5 || tag !== "storage" || !(type instanceof PickleGlobal) || typeof key !== "string" || !isIndex(count)) {
      throw new Error(`${where}: persistent id ${describePickleValue(pid)} is not a torch storage reference`);
    }
    const dtype = STORAGE_DTYPES[type.name]!;
    const known = storages.get(key);
    if (known) {
      if (known.dtype !== dtype) throw new Error(`${where}: storage ${key} is used both as ${known.dtype} and as ${dtype}`);
      return known;
    }
    const entry = zip.entries.get(`${prefix}data/${key}`);
    if (!entry) throw new Error(`${file}: storage ${key} has no zip entry ${prefix}data/${key}`);
    const want = count * dtypeBytes(dtype);
    if (entry.size !== want) throw new Error(`${file}: zip entry ${entry.name} has ${entry.size} bytes, but its ${type.qualified} of ${count} elements needs ${want}`);
    const ref = new StorageRef(key, dtype, count, entry);
    storages.set(key, ref);
    return ref;
  };
  const reduce = (fn: PickleGlobal, args: PickleTuple): unknown => {
    const a = args.items;
    switch (fn.qualified) {
      case ORDERED_DICT:
        if (a.length !== 0) throw new Error(`${where}: ${ORDERED_DICT} called with arguments; only an empty one is supported`);
        return new PickleDict();
      case REBUILD_PARAMETER:
        if (!(a[0] instanceof TensorRef)) throw new Error(`${where}: ${REBUILD_PARAMETER} of ${describePickleValue(a[0])}, not a tensor`);
        return a[0];
      case REBUILD_TENSOR:
        return rebuildTensor(a, where);
      default:
        throw new Error(`${where}: refusing to call the global ${fn.qualified}`);
    }
  };
  const root = unpickle(
    zip.readEntry(fd, pklEntry),
    { allowGlobal: (m, n) => ALLOWED_GLOBALS.has(`${m}.${n}`), reduce, persistentLoad },
    where,
  );

  if (!(root instanceof PickleDict)) throw new Error(`${file}: holds ${describePickleValue(root)}, not a state dict (a dict of tensor names to tensors)`);
  const tensors = new Map<string, TensorRef>();
  for (const [k, v] of root.map) {
    if (typeof k !== "string") throw new Error(`${file}: state dict key ${String(k)} is ${describePickleValue(k)}, not a tensor name`);
    if (!(v instanceof TensorRef)) {
      throw new Error(`${file}: entry "${k}" is ${describePickleValue(v)}, not a tensor (only a flat state dict of tensors is read, e.g. what model.state_dict() returns)`);
    }
    tensors.set(k, v);
  }
  return { zip, tensors };
}

/** `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`. */
function rebuildTensor(a: readonly unknown[], where: string): TensorRef {
  const [storage, offset] = a;
  if (a.length < 6 || a.length > 7 || !(storage instanceof StorageRef) || !isIndex(offset)) {
    throw new Error(`${where}: ${REBUILD_TENSOR} called with unexpected arguments`);
  }
  const shape = intTuple(a[2], "a tensor's size", where);
  const stride = intTuple(a[3], "a tensor's stride", where);
  if (shape.length !== stride.length) throw new Error(`${where}: a tensor has size ${shape.length}-d but stride ${stride.length}-d`);
  if (shape.every((d) => d > 0)) {
    let last = offset;
    for (let d = 0; d < shape.length; d++) last += (shape[d]! - 1) * stride[d]!;
    if (last >= storage.numel) {
      throw new Error(`${where}: a tensor of size [${shape}] at offset ${offset} with stride [${stride}] reaches element ${last} of storage ${storage.key}, which has ${storage.numel}`);
    }
  }
  return new TensorRef(storage, offset, shape, stride);
}
