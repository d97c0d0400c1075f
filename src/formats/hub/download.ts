/**
 * One file's download into the blob store. The bytes come through the client library's
 * `downloadFile` blob (which resolves redirects, the Hub's CDN and Xet storage); we write them to
 * `blobs/<etag>.incomplete`, as Python does, and rename it to `blobs/<etag>` only once its size
 * and digest match the listing: the sha256 of LFS files (their etag) or the git blob sha1 of
 * small ones. A broken connection is resumed from the bytes already on disk with an HTTP Range
 * request (the blob's `slice`), a few times within a call and again on the next run; a digest
 * mismatch deletes the part. So a snapshot link never points at a truncated or wrong blob.
 * `<part>.lock` names the pid writing the part, so two processes never append to the same one.
 */
import * as fs from "node:fs";
import { createHash, type Hash } from "node:crypto";
import { downloadFile } from "@huggingface/hub";
import { writeAll } from "../atomic.js";
import { HubError, type hubFetch } from "./errors.js";
import { cachedSize } from "./cache-layout.js";
import { pidAlive } from "../stale-temps.js";

/** Attempts per file within one call when the connection breaks (Python's http_get makes 5). */
export const MAX_ATTEMPTS = 5;

export type Digest = "sha256" | "git-sha1" | "size-only";

export interface BlobJob {
  id: string;
  commit: string;
  file: string;
  size: number;
  etag: string;
  digest: Digest;
  blob: string;
  hubUrl: string;
  accessToken?: string;
  fetch: ReturnType<typeof hubFetch>;
  signal?: AbortSignal;
  /** Bytes of this file on disk so far. */
  onBytes: (bytes: number) => void;
}

function newHash(job: BlobJob): Hash | undefined {
  if (job.digest === "sha256") return createHash("sha256");
  if (job.digest === "git-sha1") return createHash("sha1").update(`blob ${job.size}\0`);
  return undefined;
}

/** Feed the part already on disk (a previous run's) to the hash. */
async function hashPrefix(file: string, hash: Hash | undefined): Promise<void> {
  if (!hash) return;
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
}

/** The reader of the library's blob stream rejects with a bare string when the request failed. */
function streamError(job: BlobJob, e: unknown): Error {
  if (job.fetch.lastError) return job.fetch.lastError;
  if (e instanceof Error && !(e instanceof TypeError)) return e;
  const detail = e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e);
  return new HubError("network", `connection broke off (${detail})`);
}

/** Append the rest of the file to the `.incomplete` part; returns its new size. */
async function appendRest(job: BlobJob, remote: Blob, part: string, have: number, hash: Hash | undefined): Promise<number> {
  const reader = (have > 0 ? remote.slice(have) : remote).stream().getReader();
  const fd = fs.openSync(part, "a");
  let got = have;
  try {
    for (;;) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (e) {
        throw streamError(job, e);
      }
      if (r.done) break;
      if (got + r.value.length > job.size) {
        throw new HubError("corrupt", `${job.hubUrl} sent more than the ${job.size} bytes listed for ${job.file} of ${job.id}`);
      }
      writeAll(fd, r.value);
      hash?.update(r.value);
      got += r.value.length;
      job.onBytes(got);
    }
  } finally {
    fs.closeSync(fd);
    reader.cancel().catch(() => {});
  }
  return got;
}

/**
 * Claim the part for this process with an exclusively created `<part>.lock` holding our pid;
 * a claim whose process is gone (killed mid-download) is taken over. Returns the release.
 */
function claimPart(job: BlobJob, part: string): () => void {
  const lock = `${part}.lock`;
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: "wx" });
      return () => fs.rmSync(lock, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    let text: string;
    try {
      text = fs.readFileSync(lock, "utf8");
    } catch {
      continue; // released meanwhile
    }
    const owner = Number(text);
    // An empty lock is one being written right now, unless it is old.
    const fresh = text === "" && Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? 0) < 10_000;
    if (fresh || pidAlive(owner)) {
      throw new HubError(
        "busy",
        `another process (pid ${owner}) is downloading ${job.file} of ${job.id} into ${part}; let it finish, then run again`,
      );
    }
    fs.rmSync(lock, { force: true });
  }
}

/** Download `job.file` into `job.blob`, resuming a `.incomplete` part left by a previous run. */
export async function downloadBlob(job: BlobJob): Promise<void> {
  const part = `${job.blob}.incomplete`;
  const release = claimPart(job, part);
  try {
    await fillPart(job, part);
  } finally {
    release();
  }
}

async function fillPart(job: BlobJob, part: string): Promise<void> {
  let have = Math.max(0, cachedSize(part));
  if (have > job.size) {
    fs.rmSync(part, { force: true });
    have = 0;
  }
  const hash = newHash(job);
  await hashPrefix(part, have > 0 ? hash : undefined);
  if (have === 0) fs.writeFileSync(part, new Uint8Array(0));
  job.onBytes(have);
  let remote: Blob | null = null;
  for (let attempt = 1; have < job.size; attempt++) {
    job.fetch.lastError = undefined;
    try {
      remote ??= await downloadFile({
        repo: { type: "model", name: job.id },
        path: job.file,
        revision: job.commit,
        hubUrl: job.hubUrl,
        accessToken: job.accessToken,
        fetch: job.fetch,
      });
      if (!remote) throw new HubError("not-found", `${job.file} is listed in ${job.id} at ${job.commit} but ${job.hubUrl} does not serve it`);
      if (remote.size !== job.size) {
        throw new HubError("corrupt", `${job.hubUrl} gives ${job.file} of ${job.id} as ${remote.size} bytes, its listing as ${job.size}`);
      }
      have = await appendRest(job, remote, part, have, hash);
      if (have < job.size) throw new HubError("network", `connection ended at ${have} of ${job.size} bytes`);
    } catch (e) {
      if (e instanceof HubError && e.kind === "corrupt") fs.rmSync(part, { force: true });
      have = Math.max(0, cachedSize(part));
      const retry = e instanceof HubError && e.kind === "network" && !job.signal?.aborted;
      if (!retry) throw e;
      if (attempt >= MAX_ATTEMPTS) {
        throw new HubError(
          "network",
          `downloading ${job.file} of ${job.id} broke off ${attempt} times, at ${have} of ${job.size} bytes (${e.message}); ` +
            `the part is kept as ${part} and the next run resumes it`,
        );
      }
    }
  }
  const digest = hash?.digest("hex");
  if (digest !== undefined && digest !== job.etag) {
    fs.rmSync(part, { force: true });
    throw new HubError(
      "corrupt",
      `${job.file} of ${job.id} downloaded with ${job.digest} ${digest}, but the Hub lists ${job.etag}; the download was deleted, run again`,
    );
  }
  fs.renameSync(part, job.blob);
}
