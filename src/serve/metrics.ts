/**
 * The server's metrics in Prometheus' text exposition format (version 0.0.4), for GET /metrics.
 * Counters, values read at scrape time and cumulative histograms: the few kinds needed, written
 * here rather than pulling in a client library. The process_* and nodejs_* series carry
 * prom-client's default names and types, so dashboards built for Node services read them.
 */
import * as fs from "node:fs";

type Labels = Record<string, string>;

const labelText = (l: Labels) => {
  const e = Object.entries(l);
  return e.length ? `{${e.map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`).join(",")}}` : "";
};

interface Metric {
  render(): string[];
}

class Counter implements Metric {
  private values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string) {}
  inc(labels: Labels = {}, by = 1): void {
    const k = labelText(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels)) ?? 0;
  }
  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (this.values.size === 0) lines.push(`${this.name} 0`);
    for (const [k, v] of this.values) lines.push(`${this.name}${k} ${v}`);
    return lines;
  }
}

/** A value read at scrape time: a gauge, or a counter kept elsewhere (CPU time). null: not available here. */
class Gauge implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    private read: () => number | null,
    private type: "gauge" | "counter" = "gauge",
    private labels: Labels = {},
  ) {}
  render(): string[] {
    const v = this.read();
    return v === null ? [] : [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`, `${this.name}${labelText(this.labels)} ${v}`];
  }
}

/** A number from a /proc file (Linux), or null elsewhere or when it cannot be read. */
function procNumber(file: string, pattern: RegExp): number | null {
  try {
    const m = pattern.exec(fs.readFileSync(file, "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function openFds(): number | null {
  try {
    return fs.readdirSync("/proc/self/fd").length;
  } catch {
    return null;
  }
}

/** prom-client's default process and Node metrics (the threads, the model worker's included, share one process). */
function processMetrics(lastLag: () => number): Metric[] {
  const cpu = (k: "user" | "system" | "both") => () => {
    const u = process.cpuUsage();
    return (k === "user" ? u.user : k === "system" ? u.system : u.user + u.system) / 1e6;
  };
  const startTime = Math.floor(Date.now() / 1000 - process.uptime()) // floor: never after the real start (round could pass "now" in a young process);
  const [major, minor, patch] = process.versions.node.split(".");
  return [
    new Gauge("process_cpu_user_seconds_total", "User CPU time spent in seconds.", cpu("user"), "counter"),
    new Gauge("process_cpu_system_seconds_total", "System CPU time spent in seconds.", cpu("system"), "counter"),
    new Gauge("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", cpu("both"), "counter"),
    new Gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", () => startTime),
    new Gauge("process_resident_memory_bytes", "Resident memory size in bytes (the model worker included).", () => process.memoryUsage.rss()),
    new Gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", () => mul(procNumber("/proc/self/status", /^VmSize:\s+(\d+) kB/m), 1024)),
    new Gauge("process_open_fds", "Number of open file descriptors.", openFds),
    new Gauge("process_max_fds", "Maximum number of open file descriptors.", () => procNumber("/proc/self/limits", /^Max open files\s+(\d+)/m)),
    new Gauge("nodejs_eventloop_lag_seconds", "Lag of event loop in seconds (the latest sample).", lastLag),
    new Gauge("nodejs_heap_size_total_bytes", "Process heap size from Node.js in bytes.", () => process.memoryUsage().heapTotal),
    new Gauge("nodejs_heap_size_used_bytes", "Process heap size used from Node.js in bytes.", () => process.memoryUsage().heapUsed),
    new Gauge("nodejs_external_memory_bytes", "Node.js external memory size in bytes.", () => process.memoryUsage().external),
    new Gauge("nodejs_version_info", "Node.js version info.", () => 1, "gauge", { version: process.version, major: major!, minor: minor!, patch: patch! }),
  ];
}

const mul = (v: number | null, k: number) => (v === null ? null : v * k);

class Histogram implements Metric {
  private counts: number[];
  private total = 0;
  private n = 0;
  constructor(readonly name: string, readonly help: string, readonly buckets: number[]) {
    this.counts = new Array(buckets.length).fill(0);
  }
  observe(v: number): void {
    this.total += v;
    this.n++;
    const i = this.buckets.findIndex((b) => v <= b);
    if (i >= 0) this.counts[i]!++;
  }
  get count(): number {
    return this.n;
  }
  get sum(): number {
    return this.total;
  }
  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    let acc = 0;
    this.buckets.forEach((b, i) => {
      acc += this.counts[i]!;
      lines.push(`${this.name}_bucket{le="${b}"} ${acc}`);
    });
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.n}`, `${this.name}_sum ${this.total}`, `${this.name}_count ${this.n}`);
    return lines;
  }
}

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const LAG_SAMPLE_MS = 20;
const POWERS_OF_TWO = (max: number) => Array.from({ length: Math.log2(max) + 1 }, (_, i) => 2 ** i);

/** Tokens computed in the last `windowMs`, for a tokens/s gauge that reflects now, not the average since start. */
class RateWindow {
  private events: [t: number, n: number][] = [];
  constructor(private windowMs: number) {}
  add(n: number): void {
    this.events.push([performance.now(), n]);
  }
  perSecond(): number {
    const cut = performance.now() - this.windowMs;
    while (this.events.length && this.events[0]![0] < cut) this.events.shift();
    return this.events.reduce((s, [, n]) => s + n, 0) / (this.windowMs / 1000);
  }
}

export class ServerMetrics {
  readonly requests = new Counter("llm2vec_requests_total", "HTTP requests answered, by route and status code.");
  readonly errors = new Counter("llm2vec_errors_total", "Refused or failed requests, by error type (the OpenAI error code).");
  readonly inputs = new Counter("llm2vec_inputs_total", "Inputs embedded.");
  readonly tokens = new Counter("llm2vec_tokens_total", "Tokens run through the model (real tokens, not padding).");
  readonly batches = new Counter("llm2vec_batches_total", "Batches run on the model worker.");
  readonly dropped = new Counter("llm2vec_dropped_inputs_total", "Queued inputs dropped before computing, by reason (client closed, timeout).");
  readonly batchSize = new Histogram("llm2vec_batch_size", "Inputs per batch.", POWERS_OF_TWO(512));
  readonly batchTokens = new Histogram("llm2vec_batch_tokens", "Tokens per batch (batches run packed: real tokens, no padding).", POWERS_OF_TWO(65536));
  readonly batchSeconds = new Histogram("llm2vec_batch_duration_seconds", "Model time per batch, on the worker.", SECONDS);
  readonly requestSeconds = new Histogram("llm2vec_request_duration_seconds", "Embeddings request latency, from arrival to reply.", SECONDS);
  readonly queueSeconds = new Histogram("llm2vec_queue_wait_seconds", "Time an input waits in the queue before its batch starts.", SECONDS);
  // Not nodejs_eventloop_lag_seconds: that name is prom-client's gauge (below), and one name has one type.
  readonly eventLoopLag = new Histogram("llm2vec_eventloop_lag_seconds", `How late a ${LAG_SAMPLE_MS} ms timer on the HTTP thread fires: time that thread could not answer anything.`, SECONDS);
  private lastLag = 0;
  private rate = new RateWindow(10_000);
  private lagTimer: NodeJS.Timeout | null = null;
  private all: Metric[];

  constructor(read: { queueDepth: () => number; queueTokens: () => number; ready: () => boolean }) {
    this.all = [
      this.requests,
      this.errors,
      this.inputs,
      this.tokens,
      this.batches,
      this.dropped,
      new Gauge("llm2vec_queue_depth", "Inputs waiting for a batch.", read.queueDepth),
      new Gauge("llm2vec_queue_tokens", "Tokens of the inputs waiting for a batch.", read.queueTokens),
      new Gauge("llm2vec_tokens_per_second", "Tokens computed per second over the last 10 s.", () => this.rate.perSecond()),
      new Gauge("llm2vec_ready", "1 once the model is loaded and the server takes requests.", () => (read.ready() ? 1 : 0)),
      this.batchSize,
      this.batchTokens,
      this.batchSeconds,
      this.requestSeconds,
      this.queueSeconds,
      this.eventLoopLag,
      ...processMetrics(() => this.lastLag),
    ];
  }

  /**
   * Samples the HTTP thread's event-loop lag until stop(): a timer due every LAG_SAMPLE_MS that fires
   * late measures how long that thread was busy or not scheduled (what a /health probe would wait).
   */
  startLagSampler(): void {
    if (this.lagTimer) return;
    let due = performance.now() + LAG_SAMPLE_MS;
    this.lagTimer = setInterval(() => {
      const now = performance.now();
      this.lastLag = Math.max(0, now - due) / 1000;
      this.eventLoopLag.observe(this.lastLag);
      due = now + LAG_SAMPLE_MS;
    }, LAG_SAMPLE_MS);
    this.lagTimer.unref();
  }

  stop(): void {
    if (this.lagTimer) clearInterval(this.lagTimer);
    this.lagTimer = null;
  }

  /** Records one batch computed on the worker. */
  batch(rows: number, tokens: number, seconds: number): void {
    this.batches.inc();
    this.inputs.inc({}, rows);
    this.tokens.inc({}, tokens);
    this.rate.add(tokens);
    this.batchSize.observe(rows);
    this.batchTokens.observe(tokens);
    this.batchSeconds.observe(seconds);
  }

  render(): string {
    return this.all.flatMap((m) => m.render()).join("\n") + "\n";
  }
}
