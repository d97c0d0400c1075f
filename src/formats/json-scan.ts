/**
 * One linear pass over a JSON text before `JSON.parse` sees it, for headers whose shape is known:
 * it bounds the nesting depth (JSON.parse of a 100 MB header of nested arrays took 26 s and 5 GB
 * before the reader could reject it; the pass stops at the first bracket too deep) and rejects a
 * key repeated inside any one object (JSON.parse silently keeps the last, while serde, which the
 * reference readers use, refuses a duplicated field). The text is not validated otherwise:
 * JSON.parse does that afterwards, on a text now known to be shallow.
 */
export function scanJson(text: string, maxDepth: number, describe: string): void {
  // One key set per open container (null for arrays), and whether the next string is a key.
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      const keys = stack[stack.length - 1];
      if (expectKey && keys) {
        let key: string;
        try {
          key = JSON.parse(text.slice(i, j + 1)) as string;
        } catch {
          return; // malformed string: JSON.parse reports it with its position
        }
        if (keys.has(key)) throw new Error(`${describe}: duplicate key "${key}"${stack.length > 1 ? ` in a nested object (at character ${i})` : ""}`);
        keys.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= maxDepth) throw new Error(`${describe}: nested deeper than ${maxDepth} levels at character ${i}`);
      stack.push(c === 0x7b ? new Set() : null);
      expectKey = c === 0x7b;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] != null;
    }
  }
}
