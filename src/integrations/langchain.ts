/**
 * LangChain.js embeddings from LLM2Vec (import from "llm2vec/langchain"; needs @langchain/core):
 * documents are encoded plain, queries with the query instruction, in-process or via a server.
 *
 *   const embeddings = new LLM2VecEmbeddings({ model, queryInstruction: "Given a question, retrieve passages that answer it:" });
 *   const store = await MemoryVectorStore.fromTexts(texts, metadatas, embeddings);
 */
import { Embeddings, type EmbeddingsParams } from "@langchain/core/embeddings";
import { EmbeddingBackend, type LLM2VecEmbeddingsOptions } from "./backend.js";

export type { LLM2VecEmbeddingsOptions } from "./backend.js";

export class LLM2VecEmbeddings extends Embeddings {
  private readonly backend: EmbeddingBackend;

  constructor(options: LLM2VecEmbeddingsOptions & EmbeddingsParams) {
    const { model, url, modelName, apiKey, queryInstruction, batchSize, ...params } = options;
    super(params);
    this.backend = new EmbeddingBackend({ model, url, modelName, apiKey, queryInstruction, batchSize });
  }

  async embedDocuments(documents: string[]): Promise<number[][]> {
    return this.caller.call(() => this.backend.documents(documents));
  }

  async embedQuery(query: string): Promise<number[]> {
    const [v] = await this.caller.call(() => this.backend.queries([query]));
    return v!;
  }
}
