/**
 * Generated ids → text as it comes, with stop strings. Each step decodes the prompt's last tokens
 * with the row's ids so far and cuts the prompt's text off, as Hugging Face's pipelines do: decoders
 * are not concatenative at the start (SentencePiece's strips the first space, so "▁a" alone decodes
 * as "a" while "Once upon" continues with " a"). It releases only text that is final: not a trailing replacement character (half of a
 * multi-byte character split over byte-fallback tokens) and not a possible start of a stop
 * string. When a stop string appears, the text ends just before it (OpenAI's semantics: the stop
 * string is not returned).
 */
import type { Tokenizer } from "../formats/tokenizer.js";

/** Prompt tokens decoded before the completion: a whole UTF-8 character even when split into byte tokens. */
const PROMPT_TAIL_TOKENS = 4;

export class TextStream {
  private text = "";
  private released = 0;
  /** Set once a stop string matched: the text is final. */
  stopped = false;

  private readonly tail: readonly number[];
  private readonly tailText: string;

  /** `prompt`: the row's prompt ids, whose last tokens give the completion's first characters their context. */
  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly stops: readonly string[],
    prompt: readonly number[] = [],
  ) {
    for (const s of stops) if (typeof s !== "string" || s.length === 0) throw new RangeError("generate: stop strings must be non-empty strings");
    this.tail = prompt.slice(-PROMPT_TAIL_TOKENS);
    this.tailText = this.tail.length === 0 ? "" : this.decode([]);
  }

  private decode(ids: readonly number[]): string {
    return this.tokenizer.decode([...this.tail, ...ids], { skipSpecialTokens: true });
  }

  /** The completion's text: the decoded tail + ids without the tail's own text. */
  private completion(ids: readonly number[]): string {
    const all = this.decode(ids);
    // A prompt ending inside a character: the character completed by the ids belongs to them.
    let at = 0;
    const n = Math.min(all.length, this.tailText.length);
    while (at < n && all.charCodeAt(at) === this.tailText.charCodeAt(at)) at++;
    return all.slice(at);
  }

  /** The whole text released so far. */
  get output(): string {
    return this.text.slice(0, this.released);
  }

  /** Takes the row's generated ids so far; returns the newly released text. */
  update(ids: readonly number[]): string {
    if (this.stopped) return "";
    const text = this.completion(ids);
    // Search from where a stop string could start that was not visible before.
    const longest = this.stops.reduce((m, s) => Math.max(m, s.length), 0);
    const from = Math.max(0, this.released - longest + 1);
    let cut = -1;
    for (const s of this.stops) {
      const i = text.indexOf(s, from);
      if (i >= 0 && (cut < 0 || i < cut)) cut = i;
    }
    if (cut >= 0) {
      this.stopped = true;
      this.text = text.slice(0, Math.max(cut, this.released));
      return this.release(this.text.length);
    }
    this.text = text;
    let safe = text.length;
    while (safe > this.released && text.charCodeAt(safe - 1) === 0xfffd) safe--;
    // Hold back the longest tail that could still grow into a stop string.
    let hold = 0;
    for (const s of this.stops)
      for (let k = Math.min(s.length - 1, safe - this.released); k > hold; k--)
        if (text.startsWith(s.slice(0, k), safe - k)) {
          hold = k;
          break;
        }
    safe -= hold;
    return this.release(safe);
  }

  /** The row ended (stop id, length, cancel): releases what was held back. */
  flush(): string {
    return this.release(this.text.length);
  }

  private release(to: number): string {
    if (to <= this.released) return "";
    const out = this.text.slice(this.released, to);
    this.released = to;
    return out;
  }
}
