/**
 * Reverse-mode autograd on a graph held by the tensors themselves (as PyTorch does), not by a
 * global tape. Each op output that needs a gradient carries a node (its inputs and a backward
 * closure that owns the tensors it saved). `backward(loss)` collects the nodes reachable from the
 * loss, runs them newest first (creation order is a topological order: an op's inputs exist
 * before its output), and frees each node's saved tensors as soon as its backward has run.
 *
 * Why a graph and not a tape: a forward whose output is dropped (an evaluation pass outside
 * `noGrad`, a loss that is never back-propagated) leaves nothing behind once the GC sees the
 * output go; a backward may run inside a backward (activation checkpointing re-runs a layer's
 * forward and back-propagates it while the outer backward is paused); independent graphs can be
 * built and differentiated in any order (gradient caching).
 *
 * Gradients go into `.grad` for leaves (parameters, inputs), and into a transient map for
 * intermediates (handed back to the buffer pool once consumed). Frozen weights (requiresGrad
 * false) never get one, and op backwards skip computing it.
 */
import { computeDtype, withComputeDtype } from "./compute.js";
import { backend } from "./backend/index.js";
import { giveF32 } from "./pool.js";
import { Tensor } from "./tensor.js";

export type BackwardFn = (gradOut: Float32Array) => (Float32Array | null)[];

/** What an op output remembers for the reverse pass. */
export interface GradNode {
  /** Creation order: a node's inputs always have smaller seq than the node. */
  readonly seq: number;
  readonly op: string;
  inputs: Tensor[];
  /** Null once run (its saved tensors are released then). */
  backward: BackwardFn | null;
}

let gradEnabled = true;
let nextSeq = 1;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn with recording off: inference costs no graph memory. */
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

/** Runs fn with recording on, also inside noGrad (a checkpointed layer's recomputation). */
export function withGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
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
 * Creates an op output and, when any input requires grad (or `force`, for ops whose gradient
 * also flows to parameters used inside them, like `checkpoint`), records how to differentiate
 * it. `backward` returns one gradient per input (null where none is needed).
 */
export function makeOutput(op: string, data: Float32Array, shape: readonly number[], inputs: Tensor[], backward: BackwardFn, force = false): Tensor {
  if (checkFinite) assertFinite(op, "output", data, shape, inputs);
  const record = gradEnabled && (force || inputs.some((t) => t.requiresGrad));
  const out = new Tensor(data, shape, { requiresGrad: record, isLeaf: !record });
  if (record) {
    const bw: BackwardFn = checkFinite
      ? (g) => {
          const gs = backward(g);
          gs.forEach((gi, i) => gi && assertFinite(op, `gradient of input ${i}`, gi, inputs[i]!.shape, inputs));
          return gs;
        }
      : backward;
    out.gradNode = { seq: nextSeq++, op, inputs, backward: bw };
  }
  return out;
}

/** Nodes reachable from `output` whose backward has not run yet, newest first. */
function reachableNodes(output: Tensor): Tensor[] {
  const seen = new Set<GradNode>();
  const order: Tensor[] = [];
  const stack: Tensor[] = [output];
  while (stack.length) {
    const t = stack.pop()!;
    const n = t.gradNode;
    if (!n || !n.backward || seen.has(n)) continue;
    seen.add(n);
    order.push(t);
    for (const i of n.inputs) if (i.gradNode) stack.push(i);
  }
  return order.sort((a, b) => b.gradNode!.seq - a.gradNode!.seq);
}

/**
 * Reverse pass from a scalar loss (or from `gradOut` for a non-scalar output). The graph behind
 * `output` is consumed: each node's saved tensors are released once its backward has run, so a
 * second backward through the same graph is an error (as PyTorch without retain_graph).
 */
export function backward(output: Tensor, gradOut?: Float32Array): void {
  if (!output.requiresGrad) throw new Error(`backward: ${output.label()} does not require grad (nothing recorded leads to it)`);
  if (!gradOut && output.size !== 1) throw new Error(`backward: ${output.label()} is not a scalar; pass gradOut`);
  if (gradOut && gradOut.length !== output.size) throw new Error(`backward: gradOut has ${gradOut.length} elements, ${output.label()} has ${output.size}`);
  if (output.gradNode && !output.gradNode.backward) throw new Error(`backward: the graph of ${output.label()} was already back-propagated`);
  const grads = new Map<Tensor, Float32Array>();
  // The caller's buffer is copied: gradients are accumulated in place later.
  const g0 = gradOut ? gradOut.slice() : new Float32Array([1]);
  if (output.isLeaf) {
    accumulateLeaf(output, g0);
    return;
  }
  grads.set(output, g0);
  const be = backend();
  for (const t of reachableNodes(output)) {
    const node = t.gradNode!;
    const g = grads.get(t);
    if (!g) continue;
    grads.delete(t);
    const fn = node.backward!;
    const inputs = node.inputs;
    // Release before running: a backward that throws must not leave a half-consumed graph
    // that a retry would silently double-count.
    node.backward = null;
    node.inputs = [];
    const inGrads = fn(g);
    // A backward may hand the same buffer to several inputs (add passes g to both, reshape
    // passes g through). Each buffer is owned by one input: the first takes it as is (no copy
    // on the hot path), later ones get a copy, since gradients are accumulated in place.
    const handedOut = new Set<Float32Array>();
    inputs.forEach((input, i) => {
      let gi = inGrads[i];
      if (!gi || !input.requiresGrad) return;
      if (handedOut.has(gi)) gi = gi.slice();
      handedOut.add(gi);
      if (input.isLeaf) accumulateLeaf(input, gi);
      else {
        const prev = grads.get(input);
        if (!prev) grads.set(input, gi);
        else be.axpy(1, gi, prev);
      }
    });
    // g was an intermediate gradient owned by this pass; once its node has consumed it, it can
    // be reused, unless a returned gradient shares its memory (pass-through or a view of it).
    if (!inGrads.some((gi) => gi && gi.buffer === g.buffer)) giveF32(g);
  }
}

function accumulateLeaf(leaf: Tensor, g: Float32Array): void {
  if (!leaf.grad) leaf.grad = new Tensor(g, leaf.shape);
  else backend().axpy(1, g, leaf.grad.f32);
}

/**
 * Activation checkpointing: runs `fn(...inputs)` without recording, keeps only its inputs, and
 * re-runs it with recording during the backward to back-propagate through it. Memory for a
 * layer's activations is then needed for one layer at a time. `params` names the trainable
 * tensors that `fn` reads besides its inputs (LoRA factors, weights), so the output is recorded
 * even when no input needs a gradient (the first layer's input under LoRA).
 *
 * `fn` must be deterministic: the same inputs give the same output (dropout here is a stateless
 * hash of a seed, so a re-run draws the same masks).
 */
export function checkpoint(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], params: readonly Tensor[] = []): Tensor {
  const trains = inputs.some((t) => t.requiresGrad) || params.some((p) => p.requiresGrad);
  if (!gradEnabled || !trains) return fn(...inputs);
  const out = noGrad(() => fn(...inputs));
  const compute = computeDtype(); // the recomputation runs in the forward's compute dtype
  return makeOutput(
    "checkpoint",
    out.f32,
    out.shape,
    inputs,
    (g) => {
      const detached = inputs.map((x) => new Tensor(x.data, x.shape, { dtype: x.dtype, requiresGrad: x.requiresGrad, name: x.name }));
      const again = withComputeDtype(compute, () => withGrad(() => fn(...detached)));
      if (again.requiresGrad) backward(again, g);
      return detached.map((d) => (d.grad ? d.grad.f32 : null));
    },
    true,
  );
}

/** Zeroes (drops) the gradients of the given parameters. */
export function zeroGrad(params: Iterable<Tensor>): void {
  for (const p of params) p.grad = null;
}
