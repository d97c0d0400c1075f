/**
 * `llm2vec search`: the passages of a store nearest a query. The model is the one the store
 * records (loaded as it was for `index`); the query gets the query instruction.
 */
import type { Command } from "commander";
import { LLM2Vec } from "../../encoder/llm2vec.js";
import { openVectorStore } from "../../store/open.js";
import { loadStoreModel, modelIdentity, searchText } from "../../store/text.js";
import type { MetadataFilter, SearchHit } from "../../store/types.js";

export interface SearchCommandOptions {
  db: string;
  query: string;
  topK?: string;
  json?: boolean;
  model?: string;
  instruction?: string;
  filter?: string;
}

function parseFilter(text: string | undefined): MetadataFilter | undefined {
  if (text === undefined) return undefined;
  let f: unknown;
  try {
    f = JSON.parse(text);
  } catch (e) {
    throw new Error(`--filter: not valid JSON (${(e as Error).message})`);
  }
  if (!f || typeof f !== "object" || Array.isArray(f)) throw new Error(`--filter: expected a JSON object of metadata keys and values, e.g. '{"lang":"en"}'`);
  return f as MetadataFilter;
}

export async function searchCommand(o: SearchCommandOptions): Promise<SearchHit[]> {
  const topK = o.topK === undefined ? 10 : Number(o.topK);
  if (!Number.isInteger(topK) || topK <= 0) throw new Error(`--top-k must be a positive integer, got ${o.topK}`);
  if (o.query.trim() === "") throw new Error("--query is empty");
  const filter = parseFilter(o.filter);
  const store = await openVectorStore(o.db, { readOnly: true });
  try {
    if ((await store.count()) === 0) throw new Error(`${store.location} holds no passages; add some with \`llm2vec index --db ${o.db}\``);
    const model = o.model === undefined ? await loadStoreModel(store.info) : await LLM2Vec.fromPretrained(o.model);
    const id = modelIdentity(model);
    if (id !== store.info.model || model.dimension !== store.info.dimension)
      throw new Error(`${store.location} was built with ${store.info.model} (dimension ${store.info.dimension}), not ${id} (dimension ${model.dimension}); leave out --model to use the store's`);
    return await searchText(model, store, o.query, { topK, filter, instruction: o.instruction });
  } finally {
    await store.close();
  }
}

export function registerSearch(program: Command): void {
  program
    .command("search")
    .description("the passages of a vector store (built by `llm2vec index`) nearest a query")
    .requiredOption("--db <dir|url>", "the store's folder, or its postgres:// URL")
    .requiredOption("--query <text>", "the query")
    .option("--top-k <k>", "how many passages", "10")
    .option("--json", "print a JSON array of {id, score, text, metadata}")
    .option("--instruction <text>", "the query's instruction (default: the model's query_instruction)")
    .option("--filter <json>", "only passages whose metadata has these values, e.g. '{\"lang\":\"en\"}'")
    .option("--model <dir|id>", "the model (default: the one the store was built with; another is refused)")
    .action(async (o: SearchCommandOptions) => {
      const hits = await searchCommand(o);
      if (o.json) process.stdout.write(JSON.stringify(hits) + "\n");
      else for (const h of hits) process.stdout.write(`${h.score.toFixed(4)}\t${h.id}\t${h.text.replace(/\s+/g, " ").slice(0, 120)}\n`);
    });
}
