/**
 * The tensor: a flat row-major buffer, a shape, and autograd bookkeeping. Compute buffers are
 * float32; a tensor may keep bf16/f16 storage (frozen weights), which only the ops that read
 * weights (matmul's right operand, embedding, rmsnorm's weight) accept. A frozen projection weight
 * may instead hold a block-quantized storage (`quant`, made by `Tensor.quantized`): then `data` is
 * empty and only the Linear products read the weight (through `Backend.gemmQ`; their backward
 * through `toF32()`, the dequantized values).
 */
import type { GradNode } from "./autograd.js";
import type { QuantWeight } from "./backend/types.js";
import { toFloat32, type DType, type Storage } from "./dtype.js";
import { dequantizeWeight } from "./quant.js";

export type Shape = readonly number[];

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeStr(shape: Shape): string {
  return `[${shape.join(",")}]`;
}

export class ShapeError extends Error {
  constructor(op: string, detail: string) {
    super(`${op}: ${detail}`);
    this.name = "ShapeError";
  }
}

let nextId = 1;

export class Tensor {
  readonly id = nextId++;
  readonly shape: Shape;
  readonly dtype: DType;
  data: Storage;
  /** Leaves with requiresGrad receive `.grad`; op outputs carry it only to mark the tape path. */
  requiresGrad: boolean;
  /** True for tensors that no op produced (inputs, parameters). */
  readonly isLeaf: boolean;
  grad: Tensor | null = null;
  /** Set on op outputs that need a gradient: how to differentiate them (autograd.ts). */
  gradNode: GradNode | null = null;
  /** Optional label used in error messages (parameter names). */
  name: string | undefined;
  /** Block-quantized storage of a frozen weight [N, K] (then `data` is empty), else null. */
  readonly quant: QuantWeight | null = null;

  constructor(data: Storage, shape: Shape, opts: { dtype?: DType; requiresGrad?: boolean; isLeaf?: boolean; name?: string } = {}) {
    this.dtype = opts.dtype ?? "f32";
    if ((this.dtype === "f32") !== data instanceof Float32Array)
      throw new TypeError(`Tensor: ${this.dtype} storage needs ${this.dtype === "f32" ? "a Float32Array" : "a Uint16Array"}`);
    for (const d of shape)
      if (!Number.isInteger(d) || d < 0) throw new ShapeError("Tensor", `invalid shape ${shapeStr(shape)}`);
    if (numel(shape) !== data.length)
      throw new ShapeError("Tensor", `shape ${shapeStr(shape)} needs ${numel(shape)} elements, buffer has ${data.length}`);
    this.data = data;
    this.shape = Object.freeze([...shape]);
    this.requiresGrad = opts.requiresGrad ?? false;
    this.isLeaf = opts.isLeaf ?? true;
    this.name = opts.name;
  }

  /** A frozen weight [N, K] held as quantized blocks. */
  static quantized(q: QuantWeight, name?: string): Tensor {
    const t = new Tensor(new Float32Array(0), [0], { name });
    Object.assign(t, { shape: Object.freeze([q.N, q.K]), quant: q });
    return t;
  }

  static zeros(shape: Shape, opts: { requiresGrad?: boolean; name?: string } = {}): Tensor {
    return new Tensor(new Float32Array(numel(shape)), shape, opts);
  }

  static from(values: ArrayLike<number>, shape: Shape, opts: { requiresGrad?: boolean; name?: string } = {}): Tensor {
    return new Tensor(Float32Array.from(values), shape, opts);
  }

  get size(): number {
    return this.quant ? this.quant.N * this.quant.K : this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** The float32 buffer; throws for 16-bit storage so no op silently reads raw bits. */
  get f32(): Float32Array {
    if (this.quant) throw new TypeError(`${this.label()}: is quantized (${this.quant.kind}); only Linear products read it (use toF32())`);
    if (this.dtype !== "f32") throw new TypeError(`${this.label()}: expected float32 data, tensor is ${this.dtype} (use toF32())`);
    return this.data as Float32Array;
  }

  /** A float32 copy (or this tensor when it already is f32). */
  toF32(): Tensor {
    if (this.quant) return new Tensor(dequantizeWeight(this.quant), this.shape, { name: this.name });
    if (this.dtype === "f32") return this;
    return new Tensor(toFloat32(this.data, this.dtype), this.shape, { name: this.name });
  }

  label(): string {
    return `${this.name ?? "tensor"}${shapeStr(this.shape)}`;
  }

  /** Drops the buffer so long runs can release memory before the GC notices the tensor is gone. */
  dispose(): void {
    this.data = this.dtype === "f32" ? new Float32Array(0) : new Uint16Array(0);
    this.grad = null;
    this.gradNode = null;
  }

  toArray(): number[] {
    if (this.quant) return Array.from(dequantizeWeight(this.quant));
    return Array.from(toFloat32(this.data, this.dtype));
  }
}
