/**
 * Hugging Face Hub repository ids ("org/name"), validated by the rules of Python
 * huggingface_hub's `validate_repo_id`: each part starts and ends with a letter, digit or `_`,
 * holds only letters, digits, `_`, `-` and `.`, the name is at most 96 characters, and `--`,
 * `..` and a `.git` ending are refused (they would collide with the cache's `models--org--name`
 * folder names or with git paths). We require the namespace, so a bare word stays a local path.
 */
import * as fs from "node:fs";

const PART = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;
const MAX_NAME = 96;

/** Why `id` is not a valid "org/name" Hub id, or null when it is one. */
export function repoIdProblem(id: string): string | null {
  const parts = id.split("/");
  if (parts.length !== 2) return `"${id}" is not a Hub id: expected "org/name" with exactly one "/"`;
  const [org, name] = parts as [string, string];
  if (!PART.test(org) || !PART.test(name)) {
    return `"${id}" is not a Hub id: each part must start and end with a letter, digit or "_" and hold only letters, digits, "_", "-" and "."`;
  }
  if (name.length > MAX_NAME) return `"${id}" is not a Hub id: the name is over ${MAX_NAME} characters`;
  if (id.includes("--") || id.includes("..")) return `"${id}" is not a Hub id: "--" and ".." are not allowed`;
  if (id.endsWith(".git")) return `"${id}" is not a Hub id: it must not end with ".git"`;
  return null;
}

/** True when `ref` reads as an "org/name" Hub id and is not an existing local path. */
export function isHubId(ref: string): boolean {
  return repoIdProblem(ref) === null && !fs.existsSync(ref);
}
