/**
 * A LlamaIndex.TS embedding model from LLM2Vec (import from "llm2vec/llamaindex"; needs llamaindex):
 * nodes are encoded as documents, queries with the query instruction, in-process or via a server.
 *
 *   Settings.embedModel = new LLM2VecEmbedding({ model, queryInstruction: "Given a question, retrieve passages that answer it:" });
 */
import { BaseEmbedding, type MessageContentDetail } from "llamaindex";
import { EmbeddingBackend, type LLM2VecEmbeddingsOptions } from "./backend.js";

export type { LLM2VecEmbeddingsOptions } from "./backend.js";

export class LLM2VecEmbedding extends BaseEmbedding {
  private readonly backend: EmbeddingBackend;

  constructor(options: LLM2VecEmbeddingsOptions) {
    super();
    this.backend = new EmbeddingBackend(options);
    this.embedBatchSize = options.batchSize ?? 32;
    // A property in BaseEmbedding (not a method): one call per batch instead of one per text.
    this.getTextEmbeddings = (texts: string[]) => this.backend.documents(texts);
  }

  async getTextEmbedding(text: string): Promise<number[]> {
    return (await this.backend.documents([text]))[0]!;
  }

  override async getQueryEmbedding(query: MessageContentDetail): Promise<number[] | null> {
    const text = typeof query === "string" ? query : query.type === "text" ? query.text : null;
    if (text === null) return null;
    return (await this.backend.queries([text]))[0]!;
  }
}
