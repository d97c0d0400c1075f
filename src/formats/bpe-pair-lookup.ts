/**
 * A faster pair lookup for @huggingface/tokenizers' BPE model (0.2.x). Its merge loop looks every
 * candidate pair up as `bpe_ranks.get(JSON.stringify([left, right]))`: a fresh array and string
 * per lookup, several per character of every word. For SentencePiece-style tokenizers (Llama,
 * Mistral: no pre-tokenizer) the "word" is the whole text and its BPE result is cached by the whole
 * text, which real traffic never repeats, so this is the bulk of tokenising (measured: about a
 * third of `llm2vec serve`'s main-thread time on stories260K) and of its garbage.
 *
 * The replacement keeps the library's algorithm and answers the same ranks from a two-level map
 * (left token → right token → rank) built from the same `merges` array, with the same rule for a
 * pair listed twice (the later rank wins, as `new Map(entries)` keeps the last). It is installed
 * only where the model looks exactly like what it replaces (an own `bpe_ranks` Map, a `merges`
 * array, the `add_node` method); any other shape is left alone, so a library update can only
 * lose the speed, never change a token. Tests compare both lookups token for token.
 */
type Pair = readonly unknown[];

interface BpeNode {
  token: string;
  bias: number;
  score?: number;
  next: BpeNode | null;
}

interface BpeModelLike {
  bpe_ranks: Map<string, number>;
  merges: Pair[];
  add_node: (queue: { push(n: BpeNode): void }, node: BpeNode) => void;
}

function looksLikeBpe(m: unknown): m is BpeModelLike {
  // The library's models are callable objects (functions carrying the model's prototype).
  if ((typeof m !== "object" && typeof m !== "function") || m === null) return false;
  const o = m as Partial<BpeModelLike>;
  return o.bpe_ranks instanceof Map && Array.isArray(o.merges) && typeof o.add_node === "function" && o.bpe_ranks.size <= o.merges.length;
}

/** Installs the two-level lookup on the library tokenizer's BPE model; returns whether it did. */
export function speedUpBpePairLookup(hfTokenizer: unknown): boolean {
  const model = (hfTokenizer as { model?: unknown }).model;
  if (!looksLikeBpe(model)) return false;
  const ranks = new Map<string, Map<string, number>>();
  let n = 0;
  model.merges.forEach((pair, rank) => {
    // The library's key is JSON.stringify(pair): only a pair of two strings can match a lookup.
    if (pair.length !== 2 || typeof pair[0] !== "string" || typeof pair[1] !== "string") return;
    let right = ranks.get(pair[0]);
    if (!right) ranks.set(pair[0], (right = new Map()));
    if (!right.has(pair[1])) n++;
    right.set(pair[1], rank);
  });
  // Every key of the library's map must be one of these pairs, else keep the library's lookup.
  if (n !== model.bpe_ranks.size) return false;
  model.add_node = function addNode(queue, node) {
    const rank = ranks.get(node.token)?.get(node.next!.token);
    if (rank !== undefined) {
      node.score = rank + node.bias;
      queue.push(node);
    }
  };
  return true;
}
