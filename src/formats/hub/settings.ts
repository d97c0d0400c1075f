/**
 * Where the Hub client takes its settings from, with Python huggingface_hub's environment
 * variables and defaults, so that both tools share one cache, one token and one endpoint.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const DEFAULT_ENDPOINT = "https://huggingface.co";

function env(name: string): string | undefined {
  const v = process.env[name];
  return v === undefined || v === "" ? undefined : v;
}

/** `$HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`. */
export function hfHome(): string {
  return env("HF_HOME") ?? path.join(env("XDG_CACHE_HOME") ?? path.join(os.homedir(), ".cache"), "huggingface");
}

/** `$HF_HUB_CACHE`, else the legacy `$HUGGINGFACE_HUB_CACHE`, else `$HF_HOME/hub`. */
export function hubCacheDir(): string {
  return env("HF_HUB_CACHE") ?? env("HUGGINGFACE_HUB_CACHE") ?? path.join(hfHome(), "hub");
}

/** `$HF_ENDPOINT` (a mirror) without its trailing slashes, else huggingface.co. */
export function hubEndpoint(): string {
  return (env("HF_ENDPOINT") ?? DEFAULT_ENDPOINT).replace(/\/+$/, "");
}

/** Python's truthy spellings for boolean environment variables. */
function isTrue(v: string | undefined): boolean {
  return v !== undefined && ["1", "ON", "YES", "TRUE"].includes(v.toUpperCase());
}

/** `HF_HUB_OFFLINE` (or the older `TRANSFORMERS_OFFLINE`) set to 1/on/yes/true. */
export function hubOffline(): boolean {
  return isTrue(env("HF_HUB_OFFLINE") ?? env("TRANSFORMERS_OFFLINE"));
}

/**
 * The token: `$HF_TOKEN`, else the legacy `$HUGGING_FACE_HUB_TOKEN`, else the file
 * `$HF_TOKEN_PATH` (default `$HF_HOME/token`, where `huggingface-cli login` saves it).
 */
export function hubToken(): string | undefined {
  const fromEnv = env("HF_TOKEN") ?? env("HUGGING_FACE_HUB_TOKEN");
  if (fromEnv !== undefined) return fromEnv.trim() || undefined;
  const file = env("HF_TOKEN_PATH") ?? path.join(hfHome(), "token");
  try {
    return fs.readFileSync(file, "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}
