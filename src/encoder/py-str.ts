/**
 * Python's `str.split()` and `str.strip()` (no arguments), which the reference applies to texts
 * and instructions. Their whitespace is `str.isspace()`: JavaScript's `\s` / `trim()` set plus
 * U+001C–U+001F and U+0085, minus U+FEFF (a BOM is not whitespace to Python). With JavaScript's
 * set a text holding U+001F or U+0085 kept a different number of words than the reference.
 */
function isPySpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
  if (c < 0x85) return false;
  return (
    c === 0x85 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000
  );
}

/** `s.split()`: the runs of non-whitespace, in order (none for an all-whitespace string). */
export function pySplit(s: string): string[] {
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i < s.length; i++) {
    if (isPySpace(s.charCodeAt(i))) {
      if (start >= 0) out.push(s.slice(start, i));
      start = -1;
    } else if (start < 0) start = i;
  }
  if (start >= 0) out.push(s.slice(start));
  return out;
}

/** `s.strip()`. A loop, not a `\s+$` regex, which backtracks quadratically on long inner runs. */
export function pyStrip(s: string): string {
  let a = 0,
    b = s.length;
  while (a < b && isPySpace(s.charCodeAt(a))) a++;
  while (b > a && isPySpace(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** Index just past the last whitespace at or before `end` (0 if none): a cut between words. */
export function lastWordBoundary(s: string, end: number): number {
  for (let i = Math.min(end, s.length) - 1; i >= 0; i--) if (isPySpace(s.charCodeAt(i))) return i + 1;
  return 0;
}

/** `len(s.split())` without building the list (a 100 MB text has ~20M words). */
export function pyWordCount(s: string): number {
  let n = 0,
    inWord = false;
  for (let i = 0; i < s.length; i++) {
    const sp = isPySpace(s.charCodeAt(i));
    if (!sp && !inWord) n++;
    inWord = !sp;
  }
  return n;
}

/**
 * `" ".join(s.split()[:n])`, stopping once the result is longer than `limit` characters (it is
 * then cut to limit + 1, enough to tell that it is longer): the cost is bounded by what is kept.
 */
export function pyJoinFirstWords(s: string, n: number, limit = Infinity): string {
  const parts: string[] = [];
  let len = 0,
    start = -1,
    taken = 0;
  for (let i = 0; i <= s.length && taken < n && len <= limit; i++) {
    const sp = i === s.length || isPySpace(s.charCodeAt(i));
    if (!sp && start < 0) start = i;
    else if (sp && start >= 0) {
      const w = (taken ? " " : "") + s.slice(start, Math.min(i, start + limit + 1));
      parts.push(w);
      len += w.length;
      taken++;
      start = -1;
    }
  }
  const out = parts.join("");
  return out.length > limit + 1 ? out.slice(0, limit + 1) : out;
}
