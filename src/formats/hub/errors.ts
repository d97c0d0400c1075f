/**
 * Hub failures as messages a user can act on. Every request the client library makes goes
 * through `hubFetch`, which turns an HTTP error status (read with the Hub's `X-Error-Code`
 * header, which the library's own error drops) or an unreachable endpoint into a `HubError`
 * naming the repository, the revision and what to do.
 */

export type HubErrorKind = "not-found" | "auth" | "network" | "offline" | "http" | "corrupt" | "invalid" | "busy";

export class HubError extends Error {
  constructor(
    readonly kind: HubErrorKind,
    message: string,
  ) {
    super(message);
    this.name = "HubError";
  }
}

/** What the messages need to know about the call. */
export interface HubContext {
  id: string;
  revision: string;
  endpoint: string;
  hasToken: boolean;
}

/** The HubError for a response with an error status. */
export function httpError(ctx: HubContext, res: Response, url: string): HubError {
  const code = res.headers.get("x-error-code") ?? "";
  const status = res.status;
  const where = `${ctx.endpoint}`;
  if (code === "RepoNotFound" || (status === 404 && code === "" && /\/api\/models\//.test(url))) {
    const hint = ctx.hasToken ? "or it is private and HF_TOKEN has no access to it" : "or it is private: set HF_TOKEN";
    return new HubError("not-found", `repository ${ctx.id} not found on ${where} (${hint})`);
  }
  if (code === "RevisionNotFound") {
    return new HubError("not-found", `revision "${ctx.revision}" not found in repository ${ctx.id} on ${where}`);
  }
  if (code === "EntryNotFound") {
    return new HubError("not-found", `file not found in repository ${ctx.id} at revision "${ctx.revision}" on ${where}: ${url}`);
  }
  if (status === 401 || status === 403) {
    const gated = code === "GatedRepo" ? "gated" : "gated or private";
    return new HubError(
      "auth",
      ctx.hasToken
        ? `HTTP ${status}: the token in HF_TOKEN was refused for ${ctx.id} on ${where} (${gated}): accept the model's terms on its page with the account the token belongs to, or use another token`
        : `HTTP ${status}: ${ctx.id} on ${where} is ${gated} and needs a token: set HF_TOKEN to an access token of an account that has accepted its terms (or log in with huggingface-cli, which saves $HF_HOME/token)`,
    );
  }
  return new HubError("http", `${where} answered HTTP ${status} for ${url} (repository ${ctx.id}, revision "${ctx.revision}")`);
}

/** The HubError for a request that got no answer at all. */
export function networkError(ctx: HubContext, err: unknown): HubError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ?? cause?.message ?? (err as Error).message ?? String(err);
  return new HubError(
    "network",
    `cannot reach ${ctx.endpoint} to fetch ${ctx.id} (${detail}): check the network (or HF_ENDPOINT), ` +
      `set HF_HUB_OFFLINE=1 to use only models already in the cache, or pass a local folder`,
  );
}

/**
 * A `fetch` for the client library: adds the abort signal and turns failures into HubErrors.
 * `lastError` keeps the last one, because the library's streaming blob reports a failed
 * request to its reader as the bare message string.
 */
export function hubFetch(ctx: HubContext, signal?: AbortSignal): typeof fetch & { lastError?: HubError } {
  const f = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = input instanceof Request ? input.url : String(input);
    let res: Response;
    try {
      res = await fetch(input, { ...init, signal: signal ?? init?.signal });
    } catch (e) {
      if (signal?.aborted) throw signal.reason ?? e;
      throw (f.lastError = networkError(ctx, e));
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw (f.lastError = httpError(ctx, res, url));
    }
    return res;
  };
  f.lastError = undefined as HubError | undefined;
  return f as typeof fetch & { lastError?: HubError };
}
