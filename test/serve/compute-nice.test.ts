/**
 * The server's model worker lowers its compute threads' priority (setComputeNice): the worker
 * thread and every native pool thread get the nice value, the HTTP thread keeps its own. And the
 * addon stays loaded after a worker that alone loaded it stops (its pool threads outlive it).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { Worker } from "node:worker_threads";
import { createEmbeddingServer } from "../../src/serve/app.js";
import { storiesFolder } from "../helpers/stories.js";

/** Nice value of one thread of this process (Linux: field 19 of /proc/self/task/<tid>/stat). */
function threadNice(tid: string): number {
  const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
}

/** Nice value of each thread of this process. */
function threadNices(): number[] {
  return fs.readdirSync("/proc/self/task").flatMap((tid) => {
    try {
      return [threadNice(tid)];
    } catch {
      return []; // the thread exited meanwhile
    }
  });
}

const linux = process.platform === "linux";

describe("serve: compute threads' priority", () => {
  it("setComputeNice renices the calling thread and the pool's threads, not the others", { skip: !linux && "Linux only" }, async () => {
    const nativeUrl = new URL("../../src/tensor/backend/native.js", import.meta.url).href;
    // The main thread's own value (0 usually; whatever `nice` the suite was started under).
    const mainNice = threadNice(String(process.pid));
    const code = `
      const { parentPort } = require("node:worker_threads");
      parentPort.on("message", () => {}); // stay alive (and this thread listed) until terminated
      import(${JSON.stringify(nativeUrl)}).then((m) => {
        const info = m.nativeInfo();
        if (!info) return parentPort.postMessage({ skip: true });
        parentPort.postMessage({ changed: m.setComputeNice(7), threads: info.threads });
      }).catch((e) => parentPort.postMessage({ error: String(e) }));`;
    const w = new Worker(code, { eval: true });
    const r = await new Promise<{ skip?: boolean; error?: string; changed?: number; threads?: number }>((res) => w.once("message", res));
    try {
      assert.equal(r.error, undefined);
      if (r.skip) return;
      assert.equal(r.changed, r.threads, "the worker thread and each pool worker");
      assert.equal(threadNices().filter((n) => n === 7).length, r.threads);
      assert.equal(threadNice(String(process.pid)), mainNice, "the main thread keeps its priority");
    } finally {
      await w.terminate();
    }
    const native = (await import(nativeUrl)) as { setComputeNice(n: number): number };
    assert.throws(() => native.setComputeNice(1.5), /nice must be an integer/);
  });

  it("a server's model worker runs at the configured nice value and serves after its own worker stops", { skip: !linux && "Linux only" }, async () => {
    const before = threadNices().filter((n) => n === 12).length;
    const { app, engine } = createEmbeddingServer({ model: storiesFolder(), computeNice: 12 });
    try {
      await engine.ready;
      const r = await app.inject({ method: "POST", url: "/v1/embeddings", payload: { model: "stories260K", input: "the dog ran" } });
      assert.equal(r.statusCode, 200);
      assert.ok(threadNices().filter((n) => n === 12).length > before, "the model's threads are reniced");
    } finally {
      await app.close();
    }
    assert.throws(() => createEmbeddingServer({ model: storiesFolder(), computeNice: 25 }), /computeNice must be an integer in \[0, 19\]/);
  });
});
