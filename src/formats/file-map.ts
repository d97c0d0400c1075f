/**
 * The seam through which the formats layer maps weights files into memory. Mapping needs the
 * native addon, which lives above this layer (tensor/backend), so the backend registers a mapper
 * here when it is imported, and readers ask for a mapping without knowing where it comes from.
 * Without a mapper (no addon, LLM2VEC_BACKEND=reference, a formats-only import) readers read.
 */

/** Maps bytes [0, length) of the open file `fd`: an ArrayBuffer over them, or why not (a string). */
export type FileMapper = (fd: number, length: number) => ArrayBuffer | string;

/** Drops the whole pages inside bytes [byteOffset, byteOffset + byteLength) of a mapping; bytes dropped. */
export type PageReleaser = (buffer: ArrayBuffer, byteOffset: number, byteLength: number) => number;

let mapper: FileMapper | null = null;
let releaser: PageReleaser | null = null;
/** The buffers this process mapped: only their pages may be released. */
const mapped = new WeakSet<ArrayBuffer>();

/**
 * Installs (or, with null, removes) the process's mapper, and with it the releaser of mapped pages
 * (kept when not given: it only ever acts on buffers a mapper made). Returns the previous mapper.
 */
export function registerFileMapper(m: FileMapper | null, release?: PageReleaser): FileMapper | null {
  const prev = mapper;
  mapper = m;
  if (release) releaser = release;
  return prev;
}

/** The whole file mapped copy-on-write (see native/src/addon_map.cc), or null when it cannot be. */
export function mapWholeFile(fd: number, length: number): ArrayBuffer | null {
  if (!mapper || length <= 0) return null;
  const r = mapper(fd, length);
  if (typeof r === "string") return null;
  mapped.add(r);
  return r;
}

/**
 * Hands back the resident pages of a weight that is a view over a mapped file and will not be read
 * again (a projection once it is quantized): without this, the pages its quantization read stay in
 * the resident set for as long as any other tensor keeps the file's mapping alive. A dropped page
 * reads back from the file, so the view stays valid but shows the file's bytes, not any write made
 * into it. Returns the bytes dropped (0 for a view over an ordinary buffer).
 */
export function releaseMappedPages(view: ArrayBufferView): number {
  const buf = view.buffer;
  if (!releaser || !(buf instanceof ArrayBuffer) || !mapped.has(buf)) return 0;
  return releaser(buf, view.byteOffset, view.byteLength);
}
