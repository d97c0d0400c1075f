/**
 * The seam through which the formats layer maps weights files into memory. Mapping needs the
 * native addon, which lives above this layer (tensor/backend), so the backend registers a mapper
 * here when it is imported, and readers ask for a mapping without knowing where it comes from.
 * Without a mapper (no addon, LLM2VEC_BACKEND=reference, a formats-only import) readers read.
 */

/** Maps bytes [0, length) of the open file `fd`: an ArrayBuffer over them, or why not (a string). */
export type FileMapper = (fd: number, length: number) => ArrayBuffer | string;

let mapper: FileMapper | null = null;

/** Installs (or, with null, removes) the process's mapper. Returns the previous one. */
export function registerFileMapper(m: FileMapper | null): FileMapper | null {
  const prev = mapper;
  mapper = m;
  return prev;
}

/** The whole file mapped copy-on-write (see native/src/addon_map.cc), or null when it cannot be. */
export function mapWholeFile(fd: number, length: number): ArrayBuffer | null {
  if (!mapper || length <= 0) return null;
  const r = mapper(fd, length);
  return typeof r === "string" ? null : r;
}
