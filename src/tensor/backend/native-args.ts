/**
 * Argument checks shared by the native bindings: every buffer is checked against the shape it
 * must hold before the addon sees it, so a bad call throws an Error naming the kernel and the
 * shapes instead of reading or writing out of bounds in C++.
 */
import type { DType, Storage } from "../dtype.js";

export const DTYPE_CODE: Record<DType, number> = { f32: 0, bf16: 1, f16: 2 };

export class KernelArgError extends Error {
  constructor(kernel: string, detail: string) {
    super(`native ${kernel}: ${detail}`);
    this.name = "KernelArgError";
  }
}

export function isCount(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= Number.MAX_SAFE_INTEGER;
}

export function counts(kernel: string, shape: Record<string, number>): void {
  for (const [k, v] of Object.entries(shape)) if (!isCount(v)) throw new KernelArgError(kernel, `${k} must be a non-negative integer, got ${v} (${fmt(shape)})`);
}

export function fmt(shape: Record<string, number | boolean>): string {
  return Object.entries(shape)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
}

export function f32(kernel: string, name: string, a: unknown, need: number, shape: Record<string, number | boolean>): Float32Array {
  if (!(a instanceof Float32Array)) throw new KernelArgError(kernel, `${name} must be a Float32Array (${fmt(shape)})`);
  if (a.length < need) throw new KernelArgError(kernel, `${name} has ${a.length} elements, needs ${need} (${fmt(shape)})`);
  return a;
}

export function i32(kernel: string, name: string, a: unknown, need: number, shape: Record<string, number | boolean>): Int32Array {
  if (!(a instanceof Int32Array)) throw new KernelArgError(kernel, `${name} must be an Int32Array (${fmt(shape)})`);
  if (a.length < need) throw new KernelArgError(kernel, `${name} has ${a.length} elements, needs ${need} (${fmt(shape)})`);
  return a;
}

export function storage(kernel: string, name: string, a: unknown, dtype: DType, need: number, shape: Record<string, number | boolean>): Storage {
  if (!(dtype in DTYPE_CODE)) throw new KernelArgError(kernel, `${name}: unknown dtype ${String(dtype)}`);
  if (dtype === "f32" ? !(a instanceof Float32Array) : !(a instanceof Uint16Array))
    throw new KernelArgError(kernel, `${name} must be a ${dtype === "f32" ? "Float32Array" : "Uint16Array"} for dtype ${dtype} (${fmt(shape)})`);
  const s = a as Storage;
  if (s.length < need) throw new KernelArgError(kernel, `${name} has ${s.length} elements, needs ${need} (${fmt(shape)})`);
  return s;
}

/** Elements a strided batch of rows×cols matrices spans (0 when empty). */
export function span(batch: number, stride: number, rows: number, ld: number, cols: number): number {
  if (batch === 0 || rows === 0 || cols === 0) return 0;
  return (batch - 1) * stride + (rows - 1) * ld + cols;
}
