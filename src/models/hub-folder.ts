/**
 * A Hub id given where a folder is expected: the repository's model files, fetched into (or found
 * in) the shared Hugging Face cache (formats/hub), as a local snapshot folder. Progress goes to
 * the caller's callback, else to stderr as a line per file and at most one every two seconds.
 */
import { modelFiles, resolveHubRepo, type HubProgress } from "../formats/hub/index.js";

export interface HubFetchOptions {
  /** Branch, tag or commit sha (default "main"). */
  revision?: string;
  onProgress?: (p: HubProgress) => void;
  signal?: AbortSignal;
}

const MB = 1024 * 1024;

/** The default progress report: stderr lines, rate-limited, whether or not stderr is a terminal. */
function stderrProgress(): (p: HubProgress) => void {
  let lastFile = "";
  let lastAt = 0;
  const started = Date.now();
  return (p) => {
    const now = Date.now();
    const done = p.bytes >= p.totalBytes;
    if (p.file === lastFile && now - lastAt < 2000 && !done) return;
    lastFile = p.file;
    lastAt = now;
    const secs = Math.max((now - started) / 1000, 1e-3);
    const pct = p.totalBytes > 0 ? Math.floor((100 * p.bytes) / p.totalBytes) : 100;
    process.stderr.write(`llm2vec: downloading ${p.id}: ${p.file} — ${(p.bytes / MB).toFixed(1)}/${(p.totalBytes / MB).toFixed(1)} MB (${pct}%, ${(p.bytes / MB / secs).toFixed(1)} MB/s)\n`);
  };
}

export async function hubFolder(id: string, o: HubFetchOptions = {}): Promise<string> {
  return resolveHubRepo(id, {
    revision: o.revision,
    allow: modelFiles,
    onProgress: o.onProgress ?? stderrProgress(),
    onWarning: (m) => process.stderr.write(`llm2vec: ${m}\n`),
    signal: o.signal,
  });
}
