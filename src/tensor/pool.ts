/**
 * A small free list of float32 buffers, in size classes. The training step allocates the same few
 * sizes over and over (activations, their gradients), and an inference forward hands each
 * intermediate back right after its last use (models/decoder.ts); a fresh `new Float32Array` costs a
 * zero fill plus, for large buffers, page faults on first touch inside the kernel, and GC work.
 *
 * Why size classes and not exact lengths: a server's packed batches have a different token count
 * each, so a buffer kept by exact length is rarely asked for again: kept, such buffers fill the cap
 * with memory nothing reuses; dropped after each batch, every batch allocates afresh and leaves dead
 * buffers for the collector. With four classes per octave (a buffer is
 * at most 25% larger than asked for, 12% on average; a request may also take a buffer up to two
 * classes larger), batches of similar size share buffers and the pool settles at the working set
 * of the largest recent batch.
 *
 * Contract: `takeF32(n)` returns a view of exactly `n` elements, with ARBITRARY contents, over a
 * buffer that may be larger (so `.buffer` is not the data: use byteOffset/byteLength, as every
 * typed-array consumer should). Only callers whose kernel writes every element (beta = 0 GEMMs) may
 * use it. `giveF32` may only be called by the owner of a buffer that nothing else references
 * (autograd gives back intermediate gradients it has consumed).
 */
const free = new Map<number, ArrayBuffer[]>();
/** The length each pooled buffer was last handed out with: only that exact view may come back. */
const issued = new WeakMap<ArrayBuffer, number>();
let pooledBytes = 0;
/** Units of work (a server's batches) counted by `releaseIdleF32`, and when each class was last asked for. */
let epoch = 0;
const lastAsked = new Map<number, number>();
/**
 * Upper bound on the bytes kept idle in the pool (beyond it, given-back buffers are dropped). It
 * holds the intermediates one inference layer cycles (about 165 MB for a 4096-token layer of the
 * h512 encode bench), so a forward does not allocate them fresh (zero fill, page faults, GC).
 */
const MAX_POOLED_BYTES = 256 * 1024 * 1024;
/** Below this many elements (4 KB) a fresh allocation is cheap: not pooled. */
const MIN_POOLED = 1024;

/** How many classes above its own a request may be served from. */
const SEARCH_UP = 2;

let enabled = process.env.LLM2VEC_NO_POOL !== "1";

/** Open recycling scopes (f32Scope), innermost last: each maps a buffer handed out in it to its view. */
const scopes: Map<ArrayBuffer, Float32Array>[] = [];

/** A quarter of n's octave: classes are the multiples of it (n ≥ 4). */
const quarterOctave = (n: number) => 2 ** (31 - Math.clz32(n) - 2);

/** The class a request of `n` elements is served from: `n` rounded up to a quarter of its octave. */
export function f32SizeClass(n: number): number {
  return n <= 4 ? n : Math.ceil(n / quarterOctave(n)) * quarterOctave(n);
}

/** The largest class a buffer of `n` elements can serve (n rounded down to a quarter of its octave). */
function floorClass(n: number): number {
  return n <= 4 ? n : Math.floor(n / quarterOctave(n)) * quarterOctave(n);
}

/** Turns pooling on or off (off: takeF32 allocates, giveF32 drops); returns the previous state. */
export function setF32Pooling(on: boolean): boolean {
  const prev = enabled;
  enabled = on;
  if (!on) clearF32Pool();
  return prev;
}

/** A float32 view of `n` elements with unspecified contents. */
export function takeF32(n: number): Float32Array {
  if (!enabled || n < MIN_POOLED) return new Float32Array(n);
  const cls = f32SizeClass(n);
  lastAsked.set(cls, epoch);
  // Its own class first, then up to two classes up: a batch a little shorter than the last one
  // reuses the last one's buffers instead of filling classes of its own (at most ~1.6x the bytes).
  let ab: ArrayBuffer | undefined;
  for (let c = cls, up = 0; up <= SEARCH_UP && !ab; up++, c = f32SizeClass(c + 1)) {
    ab = free.get(c)?.pop();
    if (ab) lastAsked.set(c, epoch);
  }
  if (ab) pooledBytes -= ab.byteLength;
  else ab = new ArrayBuffer(cls * 4);
  issued.set(ab, n);
  const view = new Float32Array(ab, 0, n);
  scopes[scopes.length - 1]?.set(ab, view);
  return view;
}

/**
 * Returns a buffer to the pool: a view takeF32 handed out (exactly as handed out, not a sub-view
 * of it), or a whole plain Float32Array. Other views are ignored: their buffer may still be in use.
 */
export function giveF32(buf: Float32Array): void {
  const n = buf.length;
  if (!enabled || n < MIN_POOLED || buf.byteOffset !== 0) return;
  const ab = buf.buffer as ArrayBuffer;
  const handedOut = issued.get(ab);
  if (handedOut === undefined ? buf.byteLength !== ab.byteLength : handedOut !== n) return;
  for (const s of scopes) s.delete(ab);
  if (pooledBytes + ab.byteLength > MAX_POOLED_BYTES) return;
  const cls = floorClass(ab.byteLength / 4);
  let list = free.get(cls);
  if (!list) free.set(cls, (list = []));
  if (list.includes(ab)) return;
  list.push(ab);
  pooledBytes += ab.byteLength;
}

/**
 * Runs `fn` as a recycling scope: every pooled buffer handed out while it runs goes back to the
 * pool when it returns, except those backing `kept(result)`, which pass to the enclosing scope
 * (and are released when that one ends). An inference block thus frees its intermediates after
 * their last use without naming them; only for code whose intermediates no graph or caller keeps
 * (no autograd tape, no caches of pooled views). On a throw nothing is given back (the garbage
 * collector takes the buffers).
 */
export function f32Scope<T>(fn: () => T, kept: (result: T) => readonly Float32Array[]): T {
  const frame = new Map<ArrayBuffer, Float32Array>();
  scopes.push(frame);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  const keep = new Set(kept(result).map((b) => b.buffer));
  const parent = scopes[scopes.length - 1];
  for (const [ab, view] of frame) {
    if (keep.has(ab)) parent?.set(ab, view);
    else giveF32(view);
  }
  return result;
}

/**
 * Ends a unit of work (a server calls it after each batch) and drops the buffers of every class no
 * one has asked for during the last `idleEpochs` units: after one long batch, its large buffers
 * would otherwise stay in the pool until a batch as long comes again.
 */
export function releaseIdleF32(idleEpochs: number): void {
  epoch++;
  for (const [cls, list] of free) {
    if (epoch - (lastAsked.get(cls) ?? -Infinity) <= idleEpochs) continue;
    for (const ab of list) pooledBytes -= ab.byteLength;
    free.delete(cls);
    lastAsked.delete(cls);
  }
}

/** Bytes held idle in the pool (for metrics and tests). */
export function pooledF32Bytes(): number {
  return pooledBytes;
}

/** Drops every pooled buffer (for tests and memory-sensitive callers). */
export function clearF32Pool(): void {
  free.clear();
  lastAsked.clear();
  pooledBytes = 0;
}
