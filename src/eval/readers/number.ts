/** Strict number parsing for data files: "", "abc" and "1.2.3" are errors, not NaN or partial values. */
export function parseNumber(s: string): number | undefined {
  const t = s.trim();
  if (t === "" || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return undefined;
  return Number(t);
}
