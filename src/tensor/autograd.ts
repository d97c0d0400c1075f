/**
 * Tape-based reverse-mode autograd. Each op that sees an input requiring grad appends an entry
 * (inputs, output, backward closure) to one global tape; `backward(loss)` walks the tape in
 * reverse, hands each entry its output gradient, and accumulates the input gradients: into
 * `.grad` for leaves (parameters), into a transient map for intermediates (freed as soon as
 * they are consumed). Frozen weights (requiresGrad false) are never given a gradient, and op
 * backwards skip computing one for them.
 */
import { backend } from "./backend/index.js";
import { giveF32 } from "./pool.js";
import { Tensor } from "./tensor.js";

export type BackwardFn = (gradOut: Float32Array) => (Float32Array | null)[];

interface TapeEntry {
  inputs: Tensor[];
  output: Tensor;
  backward: BackwardFn;
}

const tape: TapeEntry[] = [];
let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn with recording off: inference costs no tape memory. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

export async function noGradAsync<T>(fn: () => Promise<T>): Promise<T> {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return await fn();
  } finally {
    gradEnabled = prev;
  }
}

/** True when an op on these inputs must be recorded. */
export function needsGrad(...inputs: Tensor[]): boolean {
  return gradEnabled && inputs.some((t) => t.requiresGrad);
}

let checkFinite = process.env.LLM2VEC_CHECK_FINITE === "1";

/**
 * Debug mode: every op output and every gradient is scanned for NaN/Inf, and the first one found
 * is an error naming the op and the shapes. Off by default (a full pass over each buffer);
 * LLM2VEC_CHECK_FINITE=1 turns it on.
 */
export function setCheckFinite(on: boolean): boolean {
  const prev = checkFinite;
  checkFinite = on;
  return prev;
}

function assertFinite(op: string, what: string, data: Float32Array, shape: readonly number[], inputs: Tensor[]): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v - v !== 0) {
      const ins = inputs.map((t) => t.label()).join(", ");
      throw new Error(`${op}: ${what} holds ${v} at element ${i} of [${shape.join(",")}] (inputs: ${ins || "none"})`);
    }
  }
}

/**
 * Creates an op output and, when any input requires grad, records how to differentiate it.
 * `backward` returns one gradient per input (null where none is needed).
 */
export function makeOutput(op: string, data: Float32Array, shape: readonly number[], inputs: Tensor[], backward: BackwardFn): Tensor {
  if (checkFinite) assertFinite(op, "output", data, shape, inputs);
  const record = needsGrad(...inputs);
  const out = new Tensor(data, shape, { requiresGrad: record, isLeaf: !record });
  if (record) {
    const bw: BackwardFn = checkFinite
      ? (g) => {
          const gs = backward(g);
          gs.forEach((gi, i) => gi && assertFinite(op, `gradient of input ${i}`, gi, inputs[i]!.shape, inputs));
          return gs;
        }
      : backward;
    tape.push({ inputs, output: out, backward: bw });
  }
  return out;
}

export function tapeLength(): number {
  return tape.length;
}

/** Forgets everything recorded (e.g. after a forward whose loss is not needed). */
export function clearTape(): void {
  tape.length = 0;
}

/** Reverse pass from a scalar loss (or from `gradOut` for a non-scalar output). Clears the tape. */
export function backward(output: Tensor, gradOut?: Float32Array): void {
  if (!output.requiresGrad) throw new Error(`backward: ${output.label()} does not require grad (nothing on the tape leads to it)`);
  if (!gradOut && output.size !== 1) throw new Error(`backward: ${output.label()} is not a scalar; pass gradOut`);
  const grads = new Map<Tensor, Float32Array>();
  // The caller's buffer is copied: gradients are accumulated in place later.
  grads.set(output, gradOut ? gradOut.slice() : new Float32Array([1]));
  const be = backend();
  try {
    for (let e = tape.length - 1; e >= 0; e--) {
      const entry = tape[e]!;
      const g = grads.get(entry.output);
      if (!g) continue;
      grads.delete(entry.output);
      const inGrads = entry.backward(g);
      // A backward may hand the same buffer to several inputs (add passes g to both, reshape
      // passes g through). Each buffer is owned by one input: the first takes it as is (no copy
      // on the hot path), later ones get a copy, since gradients are accumulated in place.
      const handedOut = new Set<Float32Array>();
      entry.inputs.forEach((input, i) => {
        let gi = inGrads[i];
        if (!gi || !input.requiresGrad) return;
        if (handedOut.has(gi)) gi = gi.slice();
        handedOut.add(gi);
        if (input.isLeaf) {
          if (!input.grad) input.grad = new Tensor(gi, input.shape);
          else be.axpy(1, gi, input.grad.f32);
        } else {
          const prev = grads.get(input);
          if (!prev) grads.set(input, gi);
          else be.axpy(1, gi, prev);
        }
      });
      // g was an intermediate gradient owned by this pass; once its entry has consumed it, it can
      // be reused, unless a returned gradient shares its memory (pass-through or a view of it).
      if (!inGrads.some((gi) => gi && gi.buffer === g.buffer)) giveF32(g);
    }
  } finally {
    tape.length = 0;
  }
}

/** Zeroes (drops) the gradients of the given parameters. */
export function zeroGrad(params: Iterable<Tensor>): void {
  for (const p of params) p.grad = null;
}
