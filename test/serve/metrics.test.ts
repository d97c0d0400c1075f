/**
 * /metrics' families: each name declared once with one type, the process_* and nodejs_* series
 * with prom-client's default names and types (so a scrape config or dashboard made for Node
 * services reads them), and the server's own event-loop histogram under its own name.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ServerMetrics } from "../../src/serve/metrics.js";

const PROM_CLIENT: Record<string, string> = {
  process_cpu_user_seconds_total: "counter",
  process_cpu_system_seconds_total: "counter",
  process_cpu_seconds_total: "counter",
  process_start_time_seconds: "gauge",
  process_resident_memory_bytes: "gauge",
  nodejs_eventloop_lag_seconds: "gauge",
  nodejs_heap_size_total_bytes: "gauge",
  nodejs_heap_size_used_bytes: "gauge",
  nodejs_external_memory_bytes: "gauge",
  nodejs_version_info: "gauge",
  ...(process.platform === "linux" ? { process_open_fds: "gauge", process_max_fds: "gauge", process_virtual_memory_bytes: "gauge" } : {}),
};

function parse(text: string): { types: Map<string, string>; samples: Map<string, number> } {
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  for (const line of text.trim().split("\n")) {
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t) {
      assert.ok(!types.has(t[1]!), `${t[1]} declared twice`);
      types.set(t[1]!, t[2]!);
    } else if (!line.startsWith("#")) {
      const [name, value] = [line.slice(0, line.lastIndexOf(" ")), Number(line.slice(line.lastIndexOf(" ") + 1))];
      const family = name.replace(/\{.*$/, "");
      const base = types.has(family) ? family : family.replace(/_(bucket|sum|count)$/, "");
      assert.ok(types.has(base), `${name} has no TYPE line`);
      samples.set(name, value);
    }
  }
  return { types, samples };
}

describe("serve: metrics", () => {
  it("prom-client's process and Node series, with its types; no name twice", () => {
    const m = new ServerMetrics({ queueDepth: () => 0, queueTokens: () => 0, ready: () => true });
    const { types, samples } = parse(m.render());
    for (const [name, type] of Object.entries(PROM_CLIENT)) assert.equal(types.get(name), type, `${name}: ${types.get(name)}, prom-client's is a ${type}`);
    assert.equal(types.get("llm2vec_eventloop_lag_seconds"), "histogram");
    const now = Date.now() / 1000;
    const start = samples.get("process_start_time_seconds")!;
    assert.ok(start <= now && start >= now - process.uptime() - 2, `start time ${start}`);
    assert.ok(samples.get("process_cpu_seconds_total")! > 0);
    assert.ok(samples.get("nodejs_heap_size_used_bytes")! > 0);
    assert.ok(samples.has(`nodejs_version_info{version="${process.version}",major="${process.versions.node.split(".")[0]}",minor="${process.versions.node.split(".")[1]}",patch="${process.versions.node.split(".")[2]}"}`));
    if (process.platform === "linux") assert.ok(samples.get("process_open_fds")! > 0 && samples.get("process_max_fds")! >= samples.get("process_open_fds")!);
    m.stop();
  });

  it("the lag gauge is the latest sample of the event-loop histogram", async () => {
    const m = new ServerMetrics({ queueDepth: () => 0, queueTokens: () => 0, ready: () => true });
    m.startLagSampler();
    await new Promise((r) => setTimeout(r, 100));
    m.stop();
    const { samples } = parse(m.render());
    assert.ok(samples.get("llm2vec_eventloop_lag_seconds_count")! >= 1);
    assert.ok(samples.get("llm2vec_eventloop_lag_seconds_sum")! >= samples.get("nodejs_eventloop_lag_seconds")!);
  });
});
