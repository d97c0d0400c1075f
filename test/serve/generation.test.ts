/**
 * Generation beside embeddings from one server and one copy of the weights, through the official
 * `openai` client: chat completions (whole and streamed), completions, stop strings, usage, the
 * embeddings of the same server, fair sharing of the worker, and the bad-input cases of issue #12.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import OpenAI, { APIError } from "openai";
import { LLM2Vec } from "../../src/encoder/llm2vec.js";
import { writeLoraAdapter } from "../../src/formats/peft.js";
import { LINEAR_MODULES } from "../../src/models/spec.js";
import { randn } from "../helpers/rng.js";
import { FIXTURES, storiesFolder } from "../helpers/stories.js";
import { maxDiff, spawnServe, startServer, type TestServer } from "./helpers.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-serve-gen-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));
const TEMPLATE = fs.readFileSync(path.join(FIXTURES, "chat-templates/phi-3-mini.jinja"), "utf8");
const SHAPES: Record<string, [number, number]> = { q_proj: [64, 64], k_proj: [32, 64], v_proj: [32, 64], o_proj: [64, 64], gate_proj: [172, 64], up_proj: [172, 64], down_proj: [64, 172] };

function makeAdapter(dir: string): string {
  const layers: Parameters<typeof writeLoraAdapter>[1]["layers"] = {};
  let seed = 5;
  for (let l = 0; l < 5; l++)
    for (const m of LINEAR_MODULES) {
      const [out, inp] = SHAPES[m]!;
      layers[`layers.${l}.${["gate_proj", "up_proj", "down_proj"].includes(m) ? "mlp" : "self_attn"}.${m}`] = {
        a: { dtype: "f32", shape: [4, inp], data: randn(4 * inp, seed++, 0.1) },
        b: { dtype: "f32", shape: [out, 4], data: randn(out * 4, seed++, 0.1) },
      };
    }
  writeLoraAdapter(dir, { r: 4, loraAlpha: 8, targetModules: [...LINEAR_MODULES], layers });
  return dir;
}

const normalized = (v: Float32Array) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("serve: generation and embeddings from one model", () => {
  let server: TestServer;
  let client: OpenAI;
  let base: LLM2Vec;
  const adapter = makeAdapter(path.join(tmp, "adapter"));
  const CHAT = [{ role: "user" as const, content: "Tell me a story about a dog." }];

  before(async () => {
    server = await startServer({ load: { adapter, chatTemplateJinja: TEMPLATE }, generate: true, limits: { maxGenerations: 2 } });
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
    base = await LLM2Vec.fromPretrained(storiesFolder(), { chatTemplateJinja: TEMPLATE });
  });
  after(() => server.close());

  it("/v1/models lists both uses", async () => {
    const models = await client.models.list();
    assert.deepEqual(models.data.map((m) => [m.id, (m as unknown as { uses: string[] }).uses]), [["stories260K", ["embeddings", "chat.completions", "completions"]]]);
  });

  it("a chat completion equals the base model's generation (no adapter), with usage", async () => {
    const r = await client.chat.completions.create({ model: "stories260K", messages: CHAT, max_tokens: 24, temperature: 0 });
    const want = await base.generate(CHAT, { maxTokens: 24, greedy: true });
    assert.equal(r.object, "chat.completion");
    assert.equal(r.choices[0]!.message.role, "assistant");
    assert.equal(r.choices[0]!.message.content, want.text);
    assert.equal(r.choices[0]!.finish_reason, want.finishReason);
    assert.deepEqual(r.usage && [r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens], [want.promptTokens, want.ids.length, want.promptTokens + want.ids.length]);
  });

  it("streaming sends the same text in pieces, a finish reason, and usage when asked", async () => {
    const whole = await client.chat.completions.create({ model: "stories260K", messages: CHAT, max_tokens: 30, temperature: 0 });
    const stream = await client.chat.completions.create({ model: "stories260K", messages: CHAT, max_tokens: 30, temperature: 0, stream: true, stream_options: { include_usage: true } });
    let text = "";
    let pieces = 0;
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined = null;
    for await (const chunk of stream) {
      assert.equal(chunk.object, "chat.completion.chunk");
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) {
        if (c.delta.content) (text += c.delta.content), pieces++;
        if (c.finish_reason) finish = c.finish_reason;
      }
    }
    assert.equal(text, whole.choices[0]!.message.content);
    assert.ok(pieces > 3, `${pieces} pieces`);
    assert.equal(finish, whole.choices[0]!.finish_reason);
    assert.deepEqual(usage, whole.usage);
  });

  it("a completion keeps its leading space ('Once upon' → ' a time'), whole and streamed", async () => {
    const whole = await client.completions.create({ model: "stories260K", prompt: "Once upon", max_tokens: 8, temperature: 0 });
    assert.match(whole.choices[0]!.text, /^ a time/);
    let streamed = "";
    for await (const c of await client.completions.create({ model: "stories260K", prompt: "Once upon", max_tokens: 8, temperature: 0, stream: true })) streamed += c.choices[0]?.text ?? "";
    assert.equal(streamed, whole.choices[0]!.text);
  });

  it("stop strings end the text before them; a stop string that never occurs changes nothing", async () => {
    const plain = await client.completions.create({ model: "stories260K", prompt: "Once upon a time", max_tokens: 30, temperature: 0 });
    const text = plain.choices[0]!.text;
    const cut = text.indexOf("little");
    assert.ok(cut > 0, text);
    const stopped = await client.completions.create({ model: "stories260K", prompt: "Once upon a time", max_tokens: 30, temperature: 0, stop: ["little", "zzz"] });
    assert.equal(stopped.choices[0]!.text, text.slice(0, cut));
    assert.equal(stopped.choices[0]!.finish_reason, "stop");
    const never = await client.completions.create({ model: "stories260K", prompt: "Once upon a time", max_tokens: 30, temperature: 0, stop: "a purple zebra" });
    assert.equal(never.choices[0]!.text, text);
    assert.equal(never.choices[0]!.finish_reason, "length");
    // Streamed, the stop string is never sent either.
    let streamed = "";
    for await (const c of await client.completions.create({ model: "stories260K", prompt: "Once upon a time", max_tokens: 30, temperature: 0, stop: ["little"], stream: true })) streamed += c.choices[0]?.text ?? "";
    assert.equal(streamed, text.slice(0, cut));
  });

  it("a batch of prompts decodes together, each as it would alone; seeded sampling repeats", async () => {
    const prompts = ["Once upon a time", "Lily saw", "The dog"];
    const r = await client.completions.create({ model: "stories260K", prompt: prompts, max_tokens: 12, temperature: 0 });
    for (const [i, p] of prompts.entries()) {
      const one = await client.completions.create({ model: "stories260K", prompt: p, max_tokens: 12, temperature: 0 });
      assert.equal(r.choices[i]!.text, one.choices[0]!.text, `prompt ${i}`);
    }
    const a = await client.completions.create({ model: "stories260K", prompt: "Lily", max_tokens: 16, temperature: 0.9, top_p: 0.9, seed: 3 });
    const b = await client.completions.create({ model: "stories260K", prompt: "Lily", max_tokens: 16, temperature: 0.9, top_p: 0.9, seed: 3 });
    assert.equal(a.choices[0]!.text, b.choices[0]!.text);
  });

  it("sampling without a seed draws a fresh one per request and reports it (whole and streamed); the reported seed redraws the text", async () => {
    type Seeded = { seed?: number; choices: { text: string }[] };
    const req = { model: "stories260K", prompt: "Lily", max_tokens: 16, temperature: 1 };
    const runs: Seeded[] = [];
    for (let i = 0; i < 4; i++) runs.push((await client.completions.create(req)) as unknown as Seeded);
    const seeds = runs.map((r) => r.seed);
    assert.equal(new Set(seeds).size, 4, `seeds ${seeds}`);
    assert.ok(new Set(runs.map((r) => r.choices[0]!.text)).size > 1, "four unseeded requests drew the same text");
    const again = (await client.completions.create({ ...req, seed: seeds[0]! })) as unknown as Seeded;
    assert.equal(again.choices[0]!.text, runs[0]!.choices[0]!.text);
    assert.equal(again.seed, seeds[0]);
    const chat = (await client.chat.completions.create({ model: "stories260K", messages: CHAT, max_tokens: 8, seed: 77 })) as unknown as { seed: number };
    assert.equal(chat.seed, 77);
    const stream = await client.chat.completions.create({ model: "stories260K", messages: CHAT, max_tokens: 8, stream: true });
    const chunkSeeds = new Set<number | undefined>();
    for await (const c of stream) chunkSeeds.add((c as unknown as { seed?: number }).seed);
    assert.equal(chunkSeeds.size, 1);
    assert.ok(Number.isInteger([...chunkSeeds][0]), "streamed chunks carry the seed");
  });

  it("embeddings from the same server equal the merged LLM2Vec model's", async () => {
    const merged = await LLM2Vec.fromPretrained(storiesFolder(), { adapter });
    const texts = ["Lily and her dog played in the park.", "Tom ate an apple."];
    const r = await client.embeddings.create({ model: "stories260K", input: texts, encoding_format: "float" });
    const want = await merged.encode(texts);
    r.data.forEach((d, i) => assert.ok(maxDiff(d.embedding, normalized(want[i]!)) < 1e-5, `input ${i}: ${maxDiff(d.embedding, normalized(want[i]!))}`));
  });

  it("a long generation does not hold up embeddings", async () => {
    const long = client.completions.create({ model: "stories260K", prompt: "Once", max_tokens: 500, temperature: 0.8, seed: 1 });
    let genDone = false;
    void long.then(() => (genDone = true));
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    await client.embeddings.create({ model: "stories260K", input: ["Lily saw a big dog."] });
    const embedMs = performance.now() - t0;
    assert.equal(genDone, false, `the embedding (${embedMs.toFixed(0)} ms) should come back while the generation runs`);
    const g = await long;
    assert.ok(g.usage!.completion_tokens > 100);
  });

  it("bad input: max_tokens 0, a huge max_tokens, a prompt over the context, unknown parameters", async () => {
    await assert.rejects(client.completions.create({ model: "stories260K", prompt: "Once", max_tokens: 0 }), (e: APIError) => e.status === 400 && /max_tokens/.test(e.message));
    const huge = await client.completions.create({ model: "stories260K", prompt: "Once", max_tokens: 1_000_000_000, temperature: 0 });
    assert.equal(huge.choices[0]!.finish_reason === "length" || huge.choices[0]!.finish_reason === "stop", true);
    assert.ok(huge.usage!.total_tokens <= 513);
    const longPrompt = "Lily ".repeat(600);
    await assert.rejects(client.completions.create({ model: "stories260K", prompt: longPrompt }), (e: APIError) => e.status === 400 && e.code === "context_length_exceeded" && /context is 512 tokens/.test(e.message));
    await assert.rejects(client.chat.completions.create({ model: "stories260K", messages: CHAT, n: 2 }), (e: APIError) => e.status === 400);
    await assert.rejects(client.chat.completions.create({ model: "nope", messages: CHAT }), (e: APIError) => e.status === 404);
  });

  it("a client that disconnects mid-stream stops its generation and frees the slot; a full server answers 429", async () => {
    const ac = new AbortController();
    const stream = await client.completions.create({ model: "stories260K", prompt: "Once", max_tokens: 500, temperature: 0.8, stream: true }, { signal: ac.signal });
    const cancelledBefore = server.engine.cancelledGenerations;
    let got = 0;
    try {
      for await (const c of stream) {
        got += c.choices.length;
        if (got >= 3) ac.abort();
      }
    } catch {
      // the client's own abort
    }
    await until(() => server.engine.activeGenerations === 0);
    assert.equal(server.engine.cancelledGenerations, cancelledBefore + 1, "the server cancelled the generation");
    // Two slots: two long generations hold them, a third is refused.
    const a = client.completions.create({ model: "stories260K", prompt: "Once", max_tokens: 300, temperature: 0.8 });
    const b = client.completions.create({ model: "stories260K", prompt: "Lily", max_tokens: 300, temperature: 0.8 });
    await until(() => server.engine.activeGenerations === 2);
    await assert.rejects(client.completions.create({ model: "stories260K", prompt: "Tom", max_tokens: 5 }), (e: APIError) => e.status === 429 && e.code === "queue_full");
    await Promise.all([a, b]);
  });
});

describe("serve: generation requests that would stall the model", () => {
  let server: TestServer;
  let client: OpenAI;
  before(async () => {
    server = await startServer({ load: { chatTemplateJinja: TEMPLATE }, limits: { maxPrompts: 4, maxGenerationTokens: 200, maxBodyBytes: 8 * 1024 * 1024 } });
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
  });
  after(() => server.close());

  it("more prompts than --max-prompts: 400 naming the limit", async () => {
    await assert.rejects(client.completions.create({ model: "stories260K", prompt: ["a", "b", "c", "d", "e"], max_tokens: 1 }), (e: APIError) => e.status === 400 && e.code === "too_many_prompts" && /at most 4 per request \(--max-prompts\)/.test(e.message));
    const ok = await client.completions.create({ model: "stories260K", prompt: ["a", "b", "c", "d"], max_tokens: 2, temperature: 0 });
    assert.equal(ok.choices.length, 4);
  });

  it("rows × KV-cache room over --max-generation-tokens: 400 before anything is allocated", async () => {
    // 4 rows × (2-token prompts + 60) = 248 positions > 200.
    await assert.rejects(client.completions.create({ model: "stories260K", prompt: ["a", "b", "c", "d"], max_tokens: 60 }), (e: APIError) => e.status === 400 && e.code === "generation_too_large" && /--max-generation-tokens/.test(e.message));
    assert.equal(server.engine.activeGenerations, 0);
  });

  it("a 4 MB chat message is refused by its character count before it is tokenised", async () => {
    const content = "the dog ran. ".repeat(Math.ceil((4 * 1024 * 1024) / 13));
    const tok = (server.engine as unknown as { ctx: { tokenizer: { encode: (...a: unknown[]) => number[] } } }).ctx.tokenizer;
    const encode = tok.encode;
    let tokenised = 0;
    tok.encode = (...a: unknown[]) => (tokenised++, encode.apply(tok, a));
    try {
      await assert.rejects(client.chat.completions.create({ model: "stories260K", messages: [{ role: "user", content }], max_tokens: 1 }), (e: APIError) => e.status === 400 && e.code === "prompt_too_long" && /at most 65536 .*\(--max-prompt-chars\)/.test(e.message));
      await assert.rejects(client.completions.create({ model: "stories260K", prompt: content.slice(0, 70_000), max_tokens: 1 }), (e: APIError) => e.status === 400 && e.code === "prompt_too_long");
    } finally {
      tok.encode = encode;
    }
    assert.equal(tokenised, 0, "the text was tokenised before the refusal");
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
  });
});

describe("serve: chat template failures", () => {
  it("a template that fails to render is a 400 naming it; no template says so", async () => {
    const server = await startServer({ load: { chatTemplateJinja: "{% if messages[0]['role'] != 'system' %}{{ raise_exception('a system message must come first') }}{% endif %}x" } });
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
    try {
      await assert.rejects(client.chat.completions.create({ model: "stories260K", messages: [{ role: "user", content: "hi" }] }), (e: APIError) => e.status === 400 && e.code === "chat_template_error" && /chat template of the --generation-template file failed to render: a system message must come first/.test(e.message));
    } finally {
      await server.close();
    }
    const plain = await startServer();
    const c2 = new OpenAI({ baseURL: `${plain.url}/v1`, apiKey: "unused", maxRetries: 0 });
    try {
      await assert.rejects(c2.chat.completions.create({ model: "stories260K", messages: [{ role: "user", content: "hi" }] }), (e: APIError) => e.status === 400 && e.code === "no_chat_template");
      // Without adapters the base is intact: completions work without --generate.
      const r = await c2.completions.create({ model: "stories260K", prompt: "Once", max_tokens: 4, temperature: 0 });
      assert.equal(r.choices.length, 1);
    } finally {
      await plain.close();
    }
  });
});

describe("serve: SIGTERM during a stream", () => {
  it("stops the stream, closes its kept-alive connection and exits 0 within seconds", async () => {
    const { child, port, exited, stderr } = await spawnServe();
    // A keep-alive client, as SDKs are: it never closes the connection itself.
    const body = JSON.stringify({ model: "stories260K", prompt: "Once", max_tokens: 500, temperature: 0.8, stream: true });
    const sock = net.connect(port, "127.0.0.1");
    let text = "";
    const firstChunk = new Promise<void>((r) => sock.on("data", (c: Buffer) => ((text += c.toString()), text.includes("data: {") && r())));
    const closed = new Promise<void>((r) => sock.on("close", () => r()));
    sock.write(`POST /v1/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
    await firstChunk;
    const t0 = performance.now();
    child.kill("SIGTERM");
    // Before: the hijacked keep-alive connection held the drain for the keep-alive timeout (~75 s).
    const bound = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 20_000).unref());
    const code = await Promise.race([exited, bound]);
    if (code === "timeout") child.kill("SIGKILL");
    assert.equal(code, 0, `exit after SIGTERM (${Math.round(performance.now() - t0)} ms): ${stderr()}`);
    await closed;
    assert.match(text, /data: \[DONE\]/);
  });
});
