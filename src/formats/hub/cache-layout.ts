/**
 * Python huggingface_hub's cache layout, which we read and write so that one cache serves both:
 *
 *   <cache>/models--{org}--{name}/
 *     blobs/<etag>                   file contents, named by the sha256 (LFS files) or git blob
 *                                    sha1 (small files); `<etag>.incomplete` while downloading
 *     snapshots/<commit>/<file>      relative symlinks to ../../blobs/<etag>
 *     refs/<revision>                the commit sha a branch or tag pointed to, no newline
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { atomicWriteText } from "../atomic.js";
import { HubError } from "./errors.js";

const COMMIT_SHA = /^[0-9a-f]{40}$/;
const ETAG = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

export function isCommitSha(revision: string): boolean {
  return COMMIT_SHA.test(revision);
}

/** `<cache>/models--org--name`. */
export function repoFolder(cacheDir: string, id: string): string {
  return path.join(cacheDir, `models--${id.split("/").join("--")}`);
}

/**
 * Refuse repository file names that would land outside the snapshot folder (absolute, drive or
 * `..` paths) and etags that are not hex digests, before either is joined into a path.
 */
export function checkRepoPath(id: string, file: string): void {
  const parts = file.split(/[\\/]/);
  if (file === "" || parts.includes("..") || parts.includes("") || /^[A-Za-z]:/.test(file)) {
    throw new HubError("invalid", `repository ${id} lists a file with an unsafe name: ${JSON.stringify(file)}`);
  }
}

export function blobPath(repoDir: string, id: string, file: string, etag: string): string {
  if (!ETAG.test(etag)) throw new HubError("invalid", `repository ${id} gives ${file} an etag that is not a hex digest: ${JSON.stringify(etag)}`);
  return path.join(repoDir, "blobs", etag);
}

export function snapshotFolder(repoDir: string, commit: string): string {
  return path.join(repoDir, "snapshots", commit);
}

/** The commit a cached ref names, or undefined when the ref is not cached. */
export function readRef(repoDir: string, revision: string): string | undefined {
  if (revision.split("/").includes("..")) return undefined;
  try {
    const sha = fs.readFileSync(path.join(repoDir, "refs", revision), "utf8").trim();
    return isCommitSha(sha) ? sha : undefined;
  } catch {
    return undefined;
  }
}

/** Record that `revision` (a branch or tag; a commit sha needs no ref) is `commit`. */
export function writeRef(repoDir: string, revision: string, commit: string): void {
  if (revision === commit || revision.split("/").includes("..")) return;
  const file = path.join(repoDir, "refs", revision);
  if (readRef(repoDir, revision) === commit) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  atomicWriteText(file, commit);
}

/**
 * Point `snapshots/<commit>/<file>` at the blob with a relative link, made under a temp name
 * and renamed over any old one, so a reader sees the old link or the new one, never none.
 */
export function linkSnapshotFile(pointer: string, blob: string): void {
  fs.mkdirSync(path.dirname(pointer), { recursive: true });
  const tmp = `${pointer}.${process.pid}.link-tmp`;
  fs.rmSync(tmp, { force: true });
  fs.symlinkSync(path.relative(path.dirname(pointer), blob), tmp);
  fs.renameSync(tmp, pointer);
}

/** Size of the file a snapshot entry leads to, or -1 when it is missing or a dangling link. */
export function cachedSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return -1;
  }
}

/** Repository-relative paths of the files in a snapshot folder (links followed). */
export function snapshotFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const st = fs.statSync(path.join(dir, r), { throwIfNoEntry: false });
      if (st?.isDirectory()) walk(r);
      else if (st?.isFile()) out.push(r);
    }
  };
  walk("");
  return out.sort();
}
