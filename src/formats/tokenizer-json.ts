/**
 * Structural checks of a tokenizer.json before it reaches `@huggingface/tokenizers`, which
 * accepts a corrupt model silently (`"vocab": [1, 2]` loads, and every word becomes `<unk>`) or
 * fails later with a message about its internals (no `merges`). The rules follow what the Rust
 * `tokenizers` crate refuses when it deserialises a model: vocabularies of token → id (or, for
 * Unigram, [token, score] pairs), ids that are non-negative integers used once, BPE merges of
 * two tokens that are in the vocabulary, added tokens with an id and a content string.
 * Every error names the file and the field.
 */
type Json = Record<string, unknown>;

const isObject = (x: unknown): x is Json => typeof x === "object" && x !== null && !Array.isArray(x);
const isId = (x: unknown): x is number => typeof x === "number" && Number.isSafeInteger(x) && x >= 0 && x < 2 ** 32;

/** Which model the library builds, with its inference for a missing `type`. */
function modelKind(model: Json): string {
  if (typeof model.type === "string") return model.type;
  if (Array.isArray(model.vocab)) return "Unigram";
  if ("merges" in model) return "BPE";
  return "WordPiece";
}

function checkTokenVocab(vocab: unknown, file: string, kind: string): Map<string, number> {
  if (!isObject(vocab)) throw new Error(`${file}: model.vocab of a ${kind} model must be an object of token → id, got ${Array.isArray(vocab) ? "an array" : typeof vocab}`);
  const byId = new Map<number, string>();
  const tokens = new Map<string, number>();
  for (const [token, id] of Object.entries(vocab)) {
    if (!isId(id)) throw new Error(`${file}: model.vocab["${token}"] must be a non-negative integer id, got ${JSON.stringify(id)}`);
    const other = byId.get(id);
    if (other !== undefined) throw new Error(`${file}: model.vocab gives id ${id} to both "${other}" and "${token}"`);
    byId.set(id, token);
    tokens.set(token, id);
  }
  if (tokens.size === 0) throw new Error(`${file}: model.vocab is empty`);
  return tokens;
}

function checkMerges(merges: unknown, vocab: Map<string, number>, file: string): void {
  if (merges === undefined) throw new Error(`${file}: model.merges is missing (a BPE model needs its merge list)`);
  if (!Array.isArray(merges)) throw new Error(`${file}: model.merges must be a list, got ${typeof merges}`);
  merges.forEach((m, i) => {
    let pair: unknown[];
    if (typeof m === "string") pair = m.split(" ");
    else if (Array.isArray(m)) pair = m;
    else throw new Error(`${file}: model.merges[${i}] must be "a b" or ["a", "b"], got ${JSON.stringify(m)}`);
    if (pair.length !== 2 || !pair.every((t) => typeof t === "string")) throw new Error(`${file}: model.merges[${i}] must be two tokens, got ${JSON.stringify(m)}`);
    for (const t of pair as string[]) if (!vocab.has(t)) throw new Error(`${file}: model.merges[${i}] (${JSON.stringify(m)}) uses "${t}", which is not in model.vocab`);
  });
}

function checkUnigramVocab(vocab: unknown, model: Json, file: string): void {
  if (!Array.isArray(vocab)) throw new Error(`${file}: model.vocab of a Unigram model must be a list of [token, score] pairs, got ${typeof vocab}`);
  if (vocab.length === 0) throw new Error(`${file}: model.vocab is empty`);
  vocab.forEach((e, i) => {
    if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== "string" || typeof e[1] !== "number" || !Number.isFinite(e[1]))
      throw new Error(`${file}: model.vocab[${i}] must be a [token, score] pair, got ${JSON.stringify(e)}`);
  });
  const unk = model.unk_id;
  if (unk !== undefined && unk !== null && (!isId(unk) || unk >= vocab.length)) throw new Error(`${file}: model.unk_id ${JSON.stringify(unk)} is not an index into model.vocab (${vocab.length} entries)`);
}

export function validateTokenizerJson(tj: Json, file: string): void {
  const model = tj.model;
  if (!isObject(model)) throw new Error(`${file}: "model" must be an object, got ${model === undefined ? "nothing" : JSON.stringify(model)}`);
  const kind = modelKind(model);
  if (kind === "BPE" || kind === "WordPiece" || kind === "WordLevel") {
    const vocab = checkTokenVocab(model.vocab, file, kind);
    if (kind === "BPE") checkMerges(model.merges, vocab, file);
  } else if (kind === "Unigram") {
    checkUnigramVocab(model.vocab, model, file);
  } else {
    throw new Error(`${file}: model.type "${kind}" is not a tokenizer model this library knows (BPE, WordPiece, WordLevel, Unigram)`);
  }
  const added = tj.added_tokens;
  if (added === undefined || added === null) return;
  if (!Array.isArray(added)) throw new Error(`${file}: added_tokens must be a list, got ${typeof added}`);
  added.forEach((t, i) => {
    if (!isObject(t) || !isId(t.id) || typeof t.content !== "string")
      throw new Error(`${file}: added_tokens[${i}] must have a non-negative integer "id" and a string "content", got ${JSON.stringify(t)}`);
  });
}
