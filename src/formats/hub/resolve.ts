/**
 * `resolveHubRepo`: a Hub id and revision to a local snapshot folder in Python's cache layout.
 * Online, the revision is resolved to its commit (`modelInfo`), the commit's files listed
 * (`listFiles`), and the selected files that are not yet in the snapshot are downloaded into
 * blobs and linked; files already cached (by us or by Python) are not fetched again. Offline
 * (`HF_HUB_OFFLINE=1`), or when the endpoint cannot be reached and the revision is cached, the
 * snapshot comes from the cache without a request.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { listFiles, modelInfo } from "@huggingface/hub";
import { HubError, hubFetch, type HubContext } from "./errors.js";
import { hubCacheDir, hubEndpoint, hubOffline, hubToken } from "./settings.js";
import { repoIdProblem } from "./repo-id.js";
import { selectFiles, type HubFileFilter } from "./select.js";
import {
  blobPath,
  cachedSize,
  checkRepoPath,
  isCommitSha,
  linkSnapshotFile,
  readRef,
  repoFolder,
  snapshotFiles,
  snapshotFolder,
  writeRef,
} from "./cache-layout.js";
import { downloadBlob, type Digest } from "./download.js";

/** Download progress, for a progress bar; cached files are not counted. */
export interface HubProgress {
  id: string;
  /** The file being downloaded. */
  file: string;
  /** Bytes of that file on disk, a resumed part included. */
  fileBytes: number;
  fileSize: number;
  /** Bytes on disk of all the files this call downloads, and their total. */
  bytes: number;
  totalBytes: number;
}

export interface ResolveHubOptions {
  /** Branch, tag or commit sha; default "main". */
  revision?: string;
  /** Which files to fetch: glob patterns, or a predicate that also sees the whole listing. */
  allow: HubFileFilter;
  /** Default: `HF_TOKEN`, else `HF_TOKEN_PATH` / `$HF_HOME/token`. */
  token?: string;
  /** Default: `HF_ENDPOINT`, else https://huggingface.co. */
  endpoint?: string;
  /** Default: `HF_HUB_OFFLINE`. */
  offline?: boolean;
  /** Default: `HF_HUB_CACHE`, else `$HF_HOME/hub`, else ~/.cache/huggingface/hub. */
  cacheDir?: string;
  onProgress?: (p: HubProgress) => void;
  /** Told when the endpoint is unreachable and the cached snapshot is used instead. */
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
}

interface Wanted {
  file: string;
  size: number;
  etag: string;
  digest: Digest;
}

/** The cached snapshot of `revision`, or undefined. */
function cachedSnapshot(repoDir: string, revision: string): string | undefined {
  const commit = isCommitSha(revision) ? revision : readRef(repoDir, revision);
  if (commit === undefined) return undefined;
  const dir = snapshotFolder(repoDir, commit);
  return fs.existsSync(dir) ? dir : undefined;
}

/** A cached snapshot with at least one file the filter selects, or undefined. */
function fromCache(repoDir: string, revision: string, allow: HubFileFilter): string | undefined {
  const dir = cachedSnapshot(repoDir, revision);
  return dir !== undefined && selectFiles(snapshotFiles(dir), allow).length > 0 ? dir : undefined;
}

function offlineMiss(id: string, revision: string, cacheDir: string): HubError {
  return new HubError(
    "offline",
    `${id} at revision "${revision}" is not in the Hub cache ${cacheDir}, and HF_HUB_OFFLINE is set (offline mode), ` +
      `so it cannot be downloaded: unset HF_HUB_OFFLINE to download it, or pass a local folder`,
  );
}

async function listWanted(id: string, commit: string, allow: HubFileFilter, client: ClientParams): Promise<Wanted[]> {
  const entries = [];
  for await (const e of listFiles({ ...client, repo: { type: "model", name: id }, revision: commit, recursive: true })) {
    if (e.type === "file") entries.push(e);
  }
  const chosen = new Set(selectFiles(entries.map((e) => e.path), allow));
  if (chosen.size === 0) {
    throw new HubError(
      "not-found",
      `repository ${id} at ${commit} has none of the files needed; it holds: ${entries.map((e) => e.path).join(", ") || "nothing"}`,
    );
  }
  return entries
    .filter((e) => chosen.has(e.path))
    .map((e) => {
      checkRepoPath(id, e.path);
      if (e.lfs) return { file: e.path, size: e.lfs.size, etag: e.lfs.oid, digest: "sha256" as const };
      if (e.xetHash) return { file: e.path, size: e.size, etag: e.xetHash, digest: "size-only" as const };
      if (!e.oid) throw new HubError("invalid", `repository ${id} lists ${e.path} without an id`);
      return { file: e.path, size: e.size, etag: e.oid, digest: "git-sha1" as const };
    });
}

interface ClientParams {
  hubUrl: string;
  accessToken?: string;
  fetch: ReturnType<typeof hubFetch>;
}

/**
 * Resolve Hub repository `id` at `opts.revision` to a local snapshot folder holding the files
 * `opts.allow` selects, downloading the missing ones into the shared cache.
 */
export async function resolveHubRepo(id: string, opts: ResolveHubOptions): Promise<string> {
  const problem = repoIdProblem(id);
  if (problem !== null) throw new HubError("invalid", problem);
  const revision = opts.revision ?? "main";
  const cacheDir = path.resolve(opts.cacheDir ?? hubCacheDir());
  const repoDir = repoFolder(cacheDir, id);
  if (opts.offline ?? hubOffline()) {
    const dir = fromCache(repoDir, revision, opts.allow);
    if (dir === undefined) throw offlineMiss(id, revision, cacheDir);
    return dir;
  }
  const endpoint = (opts.endpoint ?? hubEndpoint()).replace(/\/+$/, "");
  const token = opts.token ?? hubToken();
  if (token !== undefined && !token.startsWith("hf_")) {
    throw new HubError("invalid", `HF_TOKEN does not look like a Hugging Face access token (they start with "hf_")`);
  }
  const ctx: HubContext = { id, revision, endpoint, hasToken: token !== undefined };
  const client: ClientParams = { hubUrl: endpoint, accessToken: token, fetch: hubFetch(ctx, opts.signal) };

  let commit: string;
  let wanted: Wanted[];
  try {
    const info = await modelInfo({ ...client, name: id, revision, additionalFields: ["sha"] });
    if (typeof info.sha !== "string" || !isCommitSha(info.sha)) {
      throw new HubError("invalid", `${endpoint} gave no commit sha for ${id} at revision "${revision}"`);
    }
    commit = info.sha;
    wanted = await listWanted(id, commit, opts.allow, client);
  } catch (e) {
    // Python's snapshot_download also falls back to the cached snapshot when the Hub is unreachable.
    const dir = e instanceof HubError && e.kind === "network" ? fromCache(repoDir, revision, opts.allow) : undefined;
    if (dir === undefined) throw e;
    opts.onWarning?.(`${(e as Error).message}; using the cached snapshot ${dir}`);
    return dir;
  }
  writeRef(repoDir, revision, commit);
  const snapshot = snapshotFolder(repoDir, commit);

  // Files whose snapshot entry already leads to a blob of the listed size need nothing.
  const missing = wanted.filter((w) => cachedSize(path.join(snapshot, w.file)) !== w.size);
  const totalBytes = missing.reduce((n, w) => n + w.size, 0);
  let doneBefore = 0;
  for (const w of missing) {
    opts.signal?.throwIfAborted();
    const blob = blobPath(repoDir, id, w.file, w.etag);
    if (cachedSize(blob) !== w.size) {
      fs.mkdirSync(path.dirname(blob), { recursive: true });
      await downloadBlob({
        ...client,
        id,
        commit,
        ...w,
        blob,
        signal: opts.signal,
        onBytes: (fileBytes) =>
          opts.onProgress?.({ id, file: w.file, fileBytes, fileSize: w.size, bytes: doneBefore + fileBytes, totalBytes }),
      });
    }
    linkSnapshotFile(path.join(snapshot, w.file), blob);
    doneBefore += w.size;
  }
  return snapshot;
}
