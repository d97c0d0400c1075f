/**
 * The model worker's periodic garbage collection (src/runtime/collector.ts): it can start
 * collections here (Node 20), at most one per interval, every majorEvery-th one major, and an
 * interval of 0 turns it off.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { PeriodicCollector } from "../../src/runtime/collector.js";

test("collects at most once per interval, every majorEvery-th collection major, and not at all when the interval is 0", () => {
  const c = new PeriodicCollector(1000, 2);
  assert.equal(c.available, true, "gc can be exposed at run time on this Node");
  const t0 = performance.now();
  assert.equal(c.tick(t0 + 10), null, "too soon after construction");
  assert.equal(c.tick(t0 + 1500), "minor");
  assert.equal(c.tick(t0 + 2000), null, "within the interval of the last one");
  assert.equal(c.tick(t0 + 2600), "major");
  assert.equal(c.tick(t0 + 3700), "minor");
  assert.equal(c.collections, 3);
  assert.equal(c.majorCollections, 1);
  const off = new PeriodicCollector(0);
  assert.equal(off.available, false);
  assert.equal(off.tick(t0 + 1e9), null);
  assert.throws(() => new PeriodicCollector(1000, 0), /majorEvery/);
});
