/**
 * A small free list of float32 buffers, keyed by exact length. The training step allocates the
 * same few sizes over and over (activations, their gradients), and an inference forward hands each
 * intermediate back right after its last use (models/decoder.ts); a fresh `new Float32Array` costs a
 * zero fill plus, for large buffers, page faults on first touch inside the kernel, and GC work.
 *
 * Contract: `takeF32` returns a buffer with ARBITRARY contents: only callers whose kernel writes
 * every element (beta = 0 GEMMs) may use it. `giveF32` may only be called by the owner of a buffer
 * that nothing else references (autograd gives back intermediate gradients it has consumed).
 */
const free = new Map<number, Float32Array[]>();
let pooledBytes = 0;
/**
 * Upper bound on the bytes kept idle in the pool (beyond it, given-back buffers are dropped). An
 * inference layer of the h512 encode bench (4096 tokens) cycles about 165 MB of intermediates; at
 * 64 MB a third of them were still allocated fresh per layer (zero fill, page faults, GC: 6% of
 * the encode's time against 2.5% at 256 MB, and no higher peak RSS).
 */
const MAX_POOLED_BYTES = 256 * 1024 * 1024;
/** Below this many elements a fresh allocation is cheap: not pooled. */
const MIN_POOLED = 4096;

let enabled = process.env.LLM2VEC_NO_POOL !== "1";

/** Turns pooling on or off (off: takeF32 allocates, giveF32 drops); returns the previous state. */
export function setF32Pooling(on: boolean): boolean {
  const prev = enabled;
  enabled = on;
  if (!on) clearF32Pool();
  return prev;
}

/** A float32 buffer of `n` elements with unspecified contents. */
export function takeF32(n: number): Float32Array {
  if (enabled && n >= MIN_POOLED) {
    const list = free.get(n);
    const buf = list?.pop();
    if (buf) {
      pooledBytes -= buf.byteLength;
      return buf;
    }
  }
  return new Float32Array(n);
}

/** Returns a buffer to the pool. Views into larger buffers are ignored. */
export function giveF32(buf: Float32Array): void {
  const n = buf.length;
  if (!enabled || n < MIN_POOLED || buf.byteOffset !== 0 || buf.byteLength !== buf.buffer.byteLength) return;
  if (pooledBytes + buf.byteLength > MAX_POOLED_BYTES) return;
  let list = free.get(n);
  if (!list) free.set(n, (list = []));
  if (list.includes(buf)) return;
  list.push(buf);
  pooledBytes += buf.byteLength;
}

/** Drops every pooled buffer (for tests and memory-sensitive callers). */
export function clearF32Pool(): void {
  free.clear();
  pooledBytes = 0;
}
