/**
 * GET /health every 100 ms on its own keep-alive connection, from its own process (as a load
 * balancer's probe would), until stdin closes; then prints the latencies (ms) and failures as one
 * JSON line. bench/serve-load.ts runs it beside the load clients so that their event loop, busy
 * reading replies, does not count as the server's answer time.
 *
 *   node dist/bench/health-probe.js PORT
 */
import * as http from "node:http";

const port = Number(process.argv[2]);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const lat: number[] = [];
let failed = 0;
let running = true;
process.stdin.on("end", () => (running = false)).resume();

const get = () =>
  new Promise<number>((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/health", agent }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", () => resolve(0));
  });

while (running) {
  const t0 = performance.now();
  const status = await get();
  lat.push(performance.now() - t0);
  if (status !== 200) failed++;
  await new Promise((r) => setTimeout(r, 100));
}
agent.destroy();
process.stdout.write(JSON.stringify({ lat, failed }) + "\n");
