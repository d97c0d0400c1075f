/**
 * Generated ids → text as it comes, with stop strings. Each step decodes the row's ids so far
 * and releases only text that is final: not a trailing replacement character (half of a
 * multi-byte character split over byte-fallback tokens) and not a possible start of a stop
 * string. When a stop string appears, the text ends just before it (OpenAI's semantics: the stop
 * string is not returned).
 */
import type { Tokenizer } from "../formats/tokenizer.js";

export class TextStream {
  private text = "";
  private released = 0;
  /** Set once a stop string matched: the text is final. */
  stopped = false;

  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly stops: readonly string[],
  ) {
    for (const s of stops) if (typeof s !== "string" || s.length === 0) throw new RangeError("generate: stop strings must be non-empty strings");
  }

  /** The whole text released so far. */
  get output(): string {
    return this.text.slice(0, this.released);
  }

  /** Takes the row's generated ids so far; returns the newly released text. */
  update(ids: readonly number[]): string {
    if (this.stopped) return "";
    const text = this.tokenizer.decode(ids, { skipSpecialTokens: true });
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
