/**
 * Where the framework integrations get vectors: an LLM2Vec in this process, or a running
 * `llm2vec serve` (its /v1/embeddings, with the `instruction` field for queries). Both give
 * L2-normalised rows, as the server does, and return [] for [] without a call.
 */
import type { LLM2Vec } from "../encoder/llm2vec.js";

export interface LLM2VecEmbeddingsOptions {
  /** An LLM2Vec in this process... */
  model?: LLM2Vec;
  /** ...or a running `llm2vec serve` ("http://host:port"), with the served model's name. */
  url?: string;
  modelName?: string;
  /** Sent as `Authorization: Bearer …` to a server started with an API key. */
  apiKey?: string;
  /** The queries' instruction; default the model's queryInstruction (in-process) or none (server). */
  queryInstruction?: string;
  /** Texts per forward pass (in-process) or per request (server). Default 32. */
  batchSize?: number;
}

export class EmbeddingBackend {
  private readonly batchSize: number;

  constructor(private readonly o: LLM2VecEmbeddingsOptions) {
    if ((o.model === undefined) === (o.url === undefined)) throw new Error("LLM2VecEmbeddings: pass exactly one of `model` (an LLM2Vec) or `url` (a running llm2vec serve)");
    if (o.url !== undefined && !o.modelName) throw new Error("LLM2VecEmbeddings: `modelName` (the served model's name) is needed with `url`");
    this.batchSize = o.batchSize ?? 32;
    if (!Number.isInteger(this.batchSize) || this.batchSize <= 0) throw new Error(`LLM2VecEmbeddings: batchSize must be a positive integer, got ${o.batchSize}`);
  }

  async documents(texts: readonly string[]): Promise<number[][]> {
    return this.embed(texts, undefined);
  }

  async queries(texts: readonly string[]): Promise<number[][]> {
    return this.embed(texts, this.o.queryInstruction ?? this.o.model?.options.queryInstruction ?? undefined);
  }

  private async embed(texts: readonly string[], instruction: string | undefined): Promise<number[][]> {
    if (!Array.isArray(texts)) throw new TypeError("LLM2VecEmbeddings: texts must be an array of strings");
    if (texts.length === 0) return [];
    if (this.o.model) {
      const m = this.o.model;
      const opts = { normalize: true, batchSize: this.batchSize };
      const vecs = instruction ? await m.encodeQueries(texts, { ...opts, instruction }) : await m.encodeDocuments(texts, opts);
      return vecs.map((v) => Array.from(v));
    }
    const out: number[][] = [];
    for (let i = 0; i < texts.length; i += this.batchSize) out.push(...(await this.request(texts.slice(i, i + this.batchSize), instruction)));
    return out;
  }

  private async request(input: readonly string[], instruction: string | undefined): Promise<number[][]> {
    const url = `${this.o.url!.replace(/\/+$/, "")}/v1/embeddings`;
    const body = { model: this.o.modelName, input, encoding_format: "float", ...(instruction ? { instruction } : {}) };
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...(this.o.apiKey ? { authorization: `Bearer ${this.o.apiKey}` } : {}) },
      body: JSON.stringify(body),
    });
    const json = (await res.json().catch(() => null)) as { data?: { index: number; embedding: number[] }[]; error?: { message?: string } } | null;
    if (!res.ok || !json?.data) throw new Error(`LLM2VecEmbeddings: ${url} answered ${res.status}: ${json?.error?.message ?? "no embeddings in the reply"}`);
    if (json.data.length !== input.length) throw new Error(`LLM2VecEmbeddings: ${url} returned ${json.data.length} embeddings for ${input.length} inputs`);
    return [...json.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
  }
}
