/**
 * A/B of server settings under the load of bench/serve-load.ts, for a shared machine whose speed
 * drifts by tens of percent within a minute: two servers (variant A and B, each its own process and
 * flags) stay up side by side, and every round measures, back to back, the encoder's own batch
 * throughput (LLM2Vec.encode, batchSize 32, the same texts) and a load of `--requests` requests on
 * each variant (order A B, then B A, alternating), so each ratio compares numbers taken within
 * seconds of each other. Prints one line per measurement and a summary per variant: median
 * server/encoder ratio, /health p50 and max, the server's event-loop lag (worst histogram bucket,
 * samples over 50 ms), mean batch, and the load average seen.
 *
 *   npm run build && node dist/bench/serve-ab.js --model h512 --concurrency 32 --requests 250 --rounds 4 \
 *     --a "--compute-nice 0" --b "--compute-nice 10"
 */
import * as os from "node:os";
import { LLM2Vec } from "../src/encoder/llm2vec.js";
import { stories260KCheckpoint } from "./checkpoints.js";
import { median } from "./common.js";
import { llama4RandomCheckpoint } from "./serve-checkpoint.js";
import { loadTexts, quantile, runLoad, startServer } from "./serve-load.js";

const arg = (n: string, d: string) => (process.argv.includes(n) ? process.argv[process.argv.indexOf(n) + 1]! : d);
const model = arg("--model", "h512");
const concurrency = Number(arg("--concurrency", "32"));
const requests = Number(arg("--requests", "250"));
const rounds = Number(arg("--rounds", "4"));
const variants = { A: arg("--a", ""), B: arg("--b", "") };

const dir = model === "stories" ? stories260KCheckpoint() : llama4RandomCheckpoint();
const texts = loadTexts(requests);
const enc = await LLM2Vec.fromPretrained(dir);
await enc.encode(texts.slice(0, 64), { batchSize: 32 });
const encoderRate = async () => {
  const t0 = performance.now();
  await enc.encode(texts, { batchSize: 32 });
  return texts.length / ((performance.now() - t0) / 1000);
};

const servers = {
  A: await startServer(dir, variants.A.split(" ").filter(Boolean)),
  B: await startServer(dir, variants.B.split(" ").filter(Boolean)),
};
type Row = { ratio: number; rps: number; healthP50: number; healthMax: number; lagMax: number; lagOver50: number; batch: number; p99: number; load: number };
const rows: Record<"A" | "B", Row[]> = { A: [], B: [] };
try {
  for (const v of ["A", "B"] as const) await runLoad(servers[v].port, texts, 8, 64); // warm-up
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? (["A", "B"] as const) : (["B", "A"] as const);
    const before = await encoderRate();
    const got: Partial<Record<"A" | "B", Awaited<ReturnType<typeof runLoad>>>> = {};
    for (const v of order) got[v] = await runLoad(servers[v].port, texts, concurrency, requests);
    const after = await encoderRate();
    const encoder = (before + after) / 2;
    const load = os.loadavg()[0]!;
    for (const v of order) {
      const x = got[v]!;
      const rps = requests / (x.wall / 1000);
      const row: Row = { ratio: rps / encoder, rps, healthP50: median(x.health), healthMax: Math.max(...x.health), lagMax: x.lag.maxMs, lagOver50: x.lag.over50, batch: x.meanBatch, p99: quantile(x.lat, 0.99), load };
      rows[v].push(row);
      console.log(
        `round ${r} ${v}: ${rps.toFixed(1)} req/s, encoder ${before.toFixed(1)}/${after.toFixed(1)} texts/s, ratio ${row.ratio.toFixed(2)}, failed ${x.failed}, mean batch ${x.meanBatch.toFixed(1)}, p99 ${row.p99.toFixed(0)} ms, ` +
          `/health p50 ${row.healthP50.toFixed(1)} max ${row.healthMax.toFixed(1)} ms, event-loop lag max ≤${row.lagMax} ms (${row.lagOver50} samples > 50 ms), client lag max ${x.clientLagMaxMs.toFixed(0)} ms, load ${load.toFixed(2)}`,
      );
    }
  }
} finally {
  for (const s of Object.values(servers)) {
    s.child.kill("SIGTERM");
    await new Promise((r) => s.child.once("exit", r));
  }
}
console.log(`\n${model}, concurrency ${concurrency}, ${requests} requests × ${rounds} rounds`);
console.log("| variant | flags | server/encoder (median) | req/s (median) | mean batch | /health p50 / max (ms) | event-loop lag max (ms) | load average |");
console.log("|---|---|---:|---:|---:|---:|---:|---|");
for (const v of ["A", "B"] as const) {
  const x = rows[v];
  console.log(
    `| ${v} | \`${variants[v] || "(defaults)"}\` | ${median(x.map((r) => r.ratio)).toFixed(2)} | ${median(x.map((r) => r.rps)).toFixed(1)} | ${median(x.map((r) => r.batch)).toFixed(1)} | ${median(x.map((r) => r.healthP50)).toFixed(1)} / ${Math.max(...x.map((r) => r.healthMax)).toFixed(1)} | ≤${Math.max(...x.map((r) => r.lagMax))} | ${Math.min(...x.map((r) => r.load)).toFixed(1)}–${Math.max(...x.map((r) => r.load)).toFixed(1)} |`,
  );
}
