/**
 * Cutting a text to `docMaxLength` tokens before templating.
 *
 * "words" is the reference's rule (llm2vec.py `_convert_to_str`): while the text's token count
 * q = min(tokens, maxLength) exceeds docMaxLength, keep the first int(words · (docMaxLength / q))
 * whitespace words (Python's split(), joined by single spaces). A long text without spaces (CJK,
 * URLs, code) is one "word" and is cut to nothing: the rule is kept, with a warning, and
 * "tokens" keeps the first docMaxLength tokens instead (decoded back to text, so the instruction
 * and template wrap it as they do a word-cut text).
 *
 * Bounded work. The reference tokenises the whole text on every round, and a long text needs
 * many rounds (each keeps about docMaxLength/maxLength of the words while q is capped at
 * maxLength): a 10 MB line took 276 s and 2.75 GB, 100 MB ran out of heap. But q only needs
 * min(tokens, maxLength), and the first maxLength tokens of a text lie inside its first
 * CHARS_PER_TOKEN·maxLength characters unless its tokens average more than CHARS_PER_TOKEN
 * characters. So a text longer than that is counted on that prefix (cut between words, where
 * tokenisation is local, so the prefix's tokens are the text's first tokens): at least maxLength
 * tokens there means q = maxLength exactly as on the whole text; fewer (tokens that long) falls
 * back to counting the whole text, so the result never changes, only the work. The word count
 * and the word-ratio arithmetic need no tokeniser and stay on the whole text.
 */
import type { Tokenizer } from "../formats/tokenizer.js";
import { lastWordBoundary, pyJoinFirstWords, pyWordCount } from "./py-str.js";

export const TRUNCATION_MODES = ["words", "tokens"] as const;
export type TruncationMode = (typeof TRUNCATION_MODES)[number];

/** Characters per token above which a prefix is no longer trusted (real vocabularies: 3–6). */
export const CHARS_PER_TOKEN = 64;

const count = (tok: Tokenizer, s: string) => tok.encode(s, { addSpecialTokens: false }).length;

/** The part of a long string that is tokenised instead of all of it; `cut` says where it ended. */
function head(s: string, limit: number): { text: string; betweenWords: boolean } {
  const b = lastWordBoundary(s, limit);
  // No whitespace in the second half of the window: cut inside a word, and ask for twice the
  // tokens below, so that the few tokens of the cut word cannot decide the answer.
  return b >= limit / 2 ? { text: s.slice(0, b), betweenWords: true } : { text: s.slice(0, limit), betweenWords: false };
}

/** min(token count of s, maxLength), tokenising a bounded prefix when that decides it. */
export function cappedTokenCount(tok: Tokenizer, s: string, maxLength: number): number {
  const limit = CHARS_PER_TOKEN * maxLength + 1024;
  if (s.length > limit) {
    const h = head(s, limit);
    if (count(tok, h.text) >= (h.betweenWords ? maxLength : 2 * maxLength)) return maxLength;
  }
  return Math.min(count(tok, s), maxLength);
}

let warnedEmpty = false;

/** For tests: warn again on the next text cut to nothing. */
export function resetTruncationWarning(): void {
  warnedEmpty = false;
}

export interface Truncated {
  text: string;
  /** min(tokens of `text`, maxLength). */
  tokens: number;
}

export function truncateWords(tok: Tokenizer, text: string, docMaxLength: number, maxLength: number): Truncated {
  let tokens = cappedTokenCount(tok, text, maxLength);
  if (tokens <= docMaxLength) return { text, tokens };
  const total = pyWordCount(text);
  let n = total;
  const limit = CHARS_PER_TOKEN * maxLength + 1024;
  // While many words remain, every round's bounded prefix is the same string: count it once.
  // null, not "": a first round that already keeps no word must count its empty prefix.
  let lastPrefix: string | null = null,
    lastTokens = 0;
  while (tokens > docMaxLength) {
    // int(len(words) * (doc_max_length / q)) in float64, as Python computes it: not
    // floor(words·doc/q), which differs by one for e.g. 290 words / 464 tokens.
    n = Math.trunc(n * (docMaxLength / tokens));
    const prefix = pyJoinFirstWords(text, n, limit);
    if (prefix === lastPrefix) tokens = lastTokens;
    else tokens = prefix.length > limit ? cappedTokenCount(tok, prefix, maxLength) : Math.min(count(tok, prefix), maxLength);
    lastPrefix = prefix;
    lastTokens = tokens;
    // cappedTokenCount on the prefix decided it (q = maxLength), or it fell back: then count the whole.
    if (prefix.length > limit && tokens < maxLength) tokens = Math.min(count(tok, pyJoinFirstWords(text, n)), maxLength);
  }
  if (n === 0 && total > 0 && !warnedEmpty) {
    warnedEmpty = true;
    process.emitWarning(
      `a text of ${total} word(s) over docMaxLength ${docMaxLength} tokens was cut to nothing by the reference's word-ratio rule ` +
        `(a long text without spaces?); truncation "tokens" keeps its first ${docMaxLength} tokens instead. Shown once.`,
      { code: "LLM2VEC_TEXT_CUT_TO_NOTHING" },
    );
  }
  return { text: pyJoinFirstWords(text, n), tokens };
}

/** The first docMaxLength tokens of the text, as text (re-tokenised to check the round trip). */
export function truncateTokens(tok: Tokenizer, text: string, docMaxLength: number, maxLength: number): Truncated {
  const limit = CHARS_PER_TOKEN * Math.max(docMaxLength, maxLength) + 1024;
  let ids: number[] | null = null;
  if (text.length > limit) {
    const h = head(text, limit);
    const got = tok.encode(h.text, { addSpecialTokens: false });
    // Far more tokens than kept: the ones kept do not depend on where the prefix ends.
    if (got.length >= 2 * docMaxLength + 16) ids = got;
  }
  ids ??= tok.encode(text, { addSpecialTokens: false });
  if (ids.length <= docMaxLength) return { text, tokens: Math.min(ids.length, maxLength) };
  // Decoding and re-encoding may merge differently at the cut; drop tokens until it fits.
  for (let k = docMaxLength; k > 0; k--) {
    const cut = tok.decode(ids.slice(0, k), { skipSpecialTokens: false });
    const n = count(tok, cut);
    if (n <= docMaxLength) return { text: cut, tokens: Math.min(n, maxLength) };
  }
  return { text: "", tokens: 0 };
}

/**
 * A text still longer than the bounded window after truncation (docMaxLength ≥ maxLength keeps
 * it whole) is cut to that window when the window alone holds maxLength tokens: the row is cut
 * at maxLength tokens anyway, so the row and its text-token count are unchanged.
 */
export function boundForRow(tok: Tokenizer, text: string, maxLength: number): string {
  const limit = CHARS_PER_TOKEN * maxLength + 1024;
  if (text.length <= limit) return text;
  const h = head(text, limit);
  return count(tok, h.text) >= (h.betweenWords ? maxLength : 2 * maxLength) ? h.text : text;
}

export function truncateText(tok: Tokenizer, text: string, mode: TruncationMode, docMaxLength: number, maxLength: number): Truncated {
  return mode === "tokens" ? truncateTokens(tok, text, docMaxLength, maxLength) : truncateWords(tok, text, docMaxLength, maxLength);
}
