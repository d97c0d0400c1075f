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
 * So the worker collects on a schedule, between batches: a minor collection (scavenge) every
 * interval frees what died young, nearly all of a batch's garbage, in 0.4–2.6 ms (V8's trace); a
 * major collection every `majorEvery`-th time frees what lived long enough to be promoted (likely
 * the pool's buffers of a size class that fell idle). A major collection is not free: its pause on
 * the worker thread was 10–39 ms ("async" only posts it as a task), and after each the tensor code
 * was optimised again (weightedPool, rope, ...: 118 recompilations in 4,000 requests against 68
 * without forced major ones). Against a major one every second, this schedule served stories260K
 * 1.05–1.33× faster (A/B, 6 rounds of 2,000 requests at concurrency 32, every round faster,
 * median 1.13×); on h512, whose batches are long, no difference showed (median server/encoder
 * 0.92 both). With a major one every fifth second the RSS stayed bounded (measured with the same
 * schedule timed by the clock): stories260K 137–168 MB over 16,000 requests (every second:
 * 138–147), h512 456–476 MB over 6,000; with minor collections only it climbed 139 → 190 MB.
 * `gc` is exposed through V8's --expose-gc flag, set at run time and read into a fresh context, the
 * way test runners measure leaks; where that fails the collector does nothing and V8's own timing
 * stays.
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
  private minorsSinceMajor = 0;
  collections = 0;
  majorCollections = 0;

  /** A collection every `intervalMs` (0: none), every `majorEvery`-th of them major. */
  constructor(
    private readonly intervalMs: number,
    private readonly majorEvery = 5,
  ) {
    if (!Number.isInteger(majorEvery) || majorEvery < 1) throw new Error(`PeriodicCollector: majorEvery must be a positive integer, got ${majorEvery}`);
    this.gc = intervalMs > 0 ? exposeGc() : null;
  }

  /** Whether collections can be started here. */
  get available(): boolean {
    return this.gc !== null;
  }

  /** Collects if the last collection is `intervalMs` old; call between batches. Returns the kind run, or null. */
  tick(now = performance.now()): "minor" | "major" | null {
    if (!this.gc || now - this.last < this.intervalMs) return null;
    this.last = now;
    const type = ++this.minorsSinceMajor >= this.majorEvery ? "major" : "minor";
    if (type === "major") {
      this.minorsSinceMajor = 0;
      this.majorCollections++;
    }
    this.gc({ type, execution: "async" });
    this.collections++;
    return type;
  }
}
