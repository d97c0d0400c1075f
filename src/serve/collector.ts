/**
 * Periodic garbage collection for the model worker. Every batch leaves dead ArrayBuffers behind
 * (the rows' ids sent over from the main thread, pooling weights, the pool's misses). V8 frees a
 * backing store only when the object that owns it is collected, and collects external memory
 * lazily: it lets about 64 MB of it build up past what the last full collection left. The worker's
 * JS heap is small and mostly idle, so that point comes only after thousands of batches, and the
 * RSS climbed for the first ~10,000 requests of a load before it levelled off (measured with
 * bench/serve-load.ts on stories260K: 143 → 204 MB over 12,000 requests; with a collection a
 * second it stayed at 138–158 MB).
 *
 * A major collection started asynchronously (V8 marks concurrently; the call returns at once)
 * at most once per interval keeps the dead memory to what one interval leaves. `gc` is exposed
 * through V8's --expose-gc flag, set at run time and read into a fresh context, the way test
 * runners measure leaks; where that fails the collector does nothing and V8's own timing stays.
 */
import * as v8 from "node:v8";
import * as vm from "node:vm";

type GcFn = (options?: { type?: "major" | "minor"; execution?: "sync" | "async" }) => unknown;

function exposeGc(): GcFn | null {
  try {
    const existing = (globalThis as { gc?: unknown }).gc;
    if (typeof existing === "function") return existing as GcFn;
    v8.setFlagsFromString("--expose-gc");
    const fn: unknown = vm.runInNewContext("gc");
    return typeof fn === "function" ? (fn as GcFn) : null;
  } catch {
    return null;
  }
}

export class PeriodicCollector {
  private readonly gc: GcFn | null;
  private last = performance.now();
  collections = 0;

  constructor(private readonly intervalMs: number) {
    this.gc = intervalMs > 0 ? exposeGc() : null;
  }

  /** Whether collections can be started here. */
  get available(): boolean {
    return this.gc !== null;
  }

  /** Starts a major collection (asynchronous) if the last one is `intervalMs` old; call between batches. */
  tick(now = performance.now()): boolean {
    if (!this.gc || now - this.last < this.intervalMs) return false;
    this.last = now;
    this.gc({ type: "major", execution: "async" });
    this.collections++;
    return true;
  }
}
