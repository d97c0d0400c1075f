/**
 * The model's thread. The kernels run synchronously (a batch of 128 texts on stories260K holds its
 * thread for about a second, a 1.3B model for tens of seconds), so the model lives here, in a
 * worker_threads worker, and the main thread stays free: for HTTP in the server (health checks,
 * metrics, new connections, timeouts), for the app's own work in the library's worker mode. It loads the encoder once, says "ready", then serves two kinds of work
 * from one copy of the weights: embedding batches (bidirectional, with the adapters) and
 * generation sessions (causal, the base model), which advance one decode step at a time.
 *
 * Fair sharing: work alternates between one embedding batch and one decode step of every live
 * session, and the event loop turns between the two (setImmediate), so new messages and cancels
 * land in between. A long generation delays an embedding batch by at most one round of steps; a
 * flood of embeddings delays each generation by at most one batch per token. Messages are in
 * protocol.ts.
 */
import { parentPort, workerData } from "node:worker_threads";
import { encodePreparedBatch } from "../encoder/encode-batch.js";
import { LLM2Vec } from "../encoder/llm2vec.js";
import { nativeInfo, setComputeNice, setMmapThreshold } from "../tensor/backend/native.js";
import { releaseIdleF32 } from "../tensor/pool.js";
import type { PreparedRow } from "../encoder/prepare.js";
import { TextDecodeSession } from "../generation/text-session.js";
import { contextLength, GenerationInterrupted } from "../models/generate.js";
import { PeriodicCollector } from "./collector.js";
import { embeddingFault } from "../encoder/embedding-check.js";
import type { BatchRequest, EmbeddingFault, GenerateRequest, ToMain, ToWorker, WorkerInit } from "./protocol.js";

const port = parentPort;
if (!port) throw new Error("src/runtime/worker.js is a worker thread; start it through ModelWorker (src/runtime/compute.ts)");
const init = workerData as WorkerInit;
const send = (m: ToMain, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

let enc: LLM2Vec;
try {
  enc = await LLM2Vec.fromPretrained(init.model, init.load);
  // The kernels' threads at a lower priority than the HTTP thread: it sleeps most of the time and,
  // when it wakes for a probe or a reply, should get a core at once instead of a time slice later.
  // The addon is loaded here already (fromPretrained), so its pool exists in this process.
  if (init.computeNice !== 0 && process.platform === "linux" && nativeInfo() !== null) {
    try {
      setComputeNice(init.computeNice);
    } catch (e) {
      process.stderr.write(`llm2vec serve: compute threads keep their priority: ${(e as Error).message}\n`);
    }
  }
  // Blocks of 256 KB and more in mappings of their own (native.ts says why): what a batch frees
  // goes back to the OS instead of fragmenting the allocator's arenas, so the RSS follows the load.
  setMmapThreshold(256 * 1024);
} catch (e) {
  send({ type: "load_error", message: (e as Error).message });
  process.exit(1);
}
send({
  type: "ready",
  info: {
    options: enc.options,
    dimension: enc.dimension,
    vocabSize: enc.model.spec.vocabSize,
    family: enc.model.spec.family,
    numLayers: enc.model.spec.numLayers,
    weightDtype: enc.model.embedTokens.dtype,
    contextLength: contextLength(enc.model),
    canGenerate: enc.mergedAdapters.length === 0,
    tokenizerDir: enc.tokenizerDir,
    prompts: enc.prompts,
  },
});

const batches: BatchRequest[] = [];
const sessions = new Map<number, TextDecodeSession>();
let scheduled = false;
let embedTurn = true;

port.on("message", (m: ToWorker) => {
  if ("type" in m && m.type === "generate") startSession(m);
  else if ("type" in m && m.type === "gen_cancel") sessions.delete(m.id);
  else if ("type" in m && m.type === "gen_stop") stopSession(m.id);
  else batches.push(m as BatchRequest);
  schedule();
});

function schedule(): void {
  if (scheduled || (batches.length === 0 && sessions.size === 0)) return;
  scheduled = true;
  setImmediate(pump);
}

function pump(): void {
  scheduled = false;
  if (batches.length > 0 && (embedTurn || sessions.size === 0)) {
    runBatch(batches.shift()!);
    embedTurn = false;
  } else if (sessions.size > 0) {
    for (const [id, s] of sessions) stepSession(id, s);
    embedTurn = true;
  }
  schedule();
}

function startSession(m: GenerateRequest): void {
  const { type: _type, id, prompts, interrupt, ...options } = m;
  try {
    const s = new TextDecodeSession(enc.model, enc.tokenizer, prompts, {
      ...options,
      adapters: enc.generationAdapters(undefined),
      interrupted: () => Atomics.load(interrupt, 0) === 1,
    });
    sessions.set(id, s);
  } catch (e) {
    send({ type: "gen_error", id, message: (e as Error).message });
  }
}

/** Ends every row of a session; its next turn reports it done with the text so far. */
function stopSession(id: number): void {
  const s = sessions.get(id);
  s?.prompts.forEach((_, b) => s.cancel(b));
}

function stepSession(id: number, s: TextDecodeSession): void {
  try {
    const deltas = s.step();
    if (deltas.length > 0) send({ type: "gen_delta", id, deltas });
    if (s.done) {
      sessions.delete(id);
      send({ type: "gen_done", id, rows: s.results().map((r) => ({ text: r.text, ids: r.ids, completionTokens: r.ids.length, finishReason: r.finishReason, seed: r.seed })) });
    }
  } catch (e) {
    sessions.delete(id);
    // Cancelled mid-forward: the main thread has already answered for it.
    if (!(e instanceof GenerationInterrupted)) send({ type: "gen_error", id, message: (e as Error).message });
  }
}

/** Batches after which a buffer size no batch has asked for leaves the pool. */
const IDLE_BATCHES = 16;
/** A garbage collection between batches at most every this many ms, every fifth major (collector.ts says why). */
const COLLECT_EVERY_MS = 1000;
const MAJOR_EVERY = 5;
const collector = new PeriodicCollector(COLLECT_EVERY_MS, MAJOR_EVERY);

function runBatch(m: BatchRequest): void {
  const t0 = performance.now();
  try {
    const rows: PreparedRow[] = [];
    let at = 0;
    for (let b = 0; b < m.lengths.length; b++) {
      const len = m.lengths[b]!;
      rows.push({ ids: m.ids.subarray(at, at + len), textTokens: m.textTokens[b]! });
      at += len;
    }
    // One forward over the rows' real tokens, packed without padding: a batch of mixed lengths
    // (what concurrent clients send) costs what its tokens cost, not rows × its longest row.
    const C = enc.dimension;
    const vectors = encodePreparedBatch(enc, rows, "packed");
    // Buffers carry over to the next batches of similar size; those of sizes no recent batch asked
    // for are dropped, so the pool holds what the current traffic uses, not the longest batch seen.
    releaseIdleF32(IDLE_BATCHES);
    // A NaN means the weights blew up: the main thread fails the requests that own these rows.
    const faults: EmbeddingFault[] = [];
    for (let b = 0; b < rows.length; b++) {
      const v = vectors.subarray(b * C, (b + 1) * C);
      const reason = embeddingFault(v);
      if (reason) faults.push({ row: b, code: v.every(Number.isFinite) ? "zero_embedding" : "non_finite_embedding", reason });
    }
    send({ type: "result", id: m.id, vectors, faults, computeMs: performance.now() - t0 }, [vectors.buffer as ArrayBuffer]);
    collector.tick(); // after the answer is on its way
  } catch (e) {
    send({ type: "batch_error", id: m.id, message: (e as Error).message });
  }
}
