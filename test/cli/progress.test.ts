/** The progress helper off a terminal: a line every interval by a fake clock, and one at the end. */
import { it } from "node:test";
import assert from "node:assert/strict";
import { progressBar, progressIntervalMs } from "../../src/cli/progress.js";

it("writes a line when an interval has passed since the last, then a summary at stop", () => {
  let t = 1_000;
  const lines: string[] = [];
  const stream = { isTTY: false, write: (s: string) => (lines.push(s), true) } as unknown as NodeJS.WritableStream;
  const bar = progressBar(10, "train", "steps", { stream, now: () => t, intervalMs: 10_000 });
  const at = (s: number, done: number) => {
    t = 1_000 + s * 1000;
    bar.update(done, { loss: "0.5000" });
  };
  at(0, 0);
  at(5, 1);
  at(10, 2); // 10 s since the start: a line
  at(19, 3);
  at(20, 4); // 10 s since that line: a line
  at(25, 5);
  bar.stop();
  assert.deepEqual(lines, [
    "train: 2/10 steps (20%), 0.2 steps/s, 0.5000 loss\n",
    "train: 4/10 steps (40%), 0.2 steps/s, 0.5000 loss\n",
    "train: 5/10 steps in 25.0 s (0.2 steps/s)\n",
  ]);
});

it("LLM2VEC_PROGRESS_INTERVAL sets the interval in seconds (default 10); anything else is refused", () => {
  assert.equal(progressIntervalMs({}), 10_000);
  assert.equal(progressIntervalMs({ LLM2VEC_PROGRESS_INTERVAL: "2.5" }), 2_500);
  assert.equal(progressIntervalMs({ LLM2VEC_PROGRESS_INTERVAL: "0" }), 0);
  for (const bad of ["soon", "-1", " "]) assert.throws(() => progressIntervalMs({ LLM2VEC_PROGRESS_INTERVAL: bad }), /LLM2VEC_PROGRESS_INTERVAL must be a number of seconds ≥ 0/);
});
