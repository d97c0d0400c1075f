/**
 * The model worker's periodic garbage collection (src/serve/collector.ts): it can start
 * collections here (Node 20), at most one per interval, and an interval of 0 turns it off.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { PeriodicCollector } from "../../src/serve/collector.js";

test("collects at most once per interval, and not at all when the interval is 0", () => {
  const c = new PeriodicCollector(1000);
  assert.equal(c.available, true, "gc can be exposed at run time on this Node");
  const t0 = performance.now();
  assert.equal(c.tick(t0 + 10), false, "too soon after construction");
  assert.equal(c.tick(t0 + 1500), true);
  assert.equal(c.tick(t0 + 2000), false, "within the interval of the last one");
  assert.equal(c.tick(t0 + 2600), true);
  assert.equal(c.collections, 2);
  const off = new PeriodicCollector(0);
  assert.equal(off.available, false);
  assert.equal(off.tick(t0 + 1e9), false);
});
