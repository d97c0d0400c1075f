/**
 * One signal for everything that ends a request early: its deadline (counted from its arrival) or
 * its client leaving before the reply. Queued work listens to it and is dropped.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { ApiError } from "./errors.js";
import type { ServeLimits } from "./limits.js";

export async function withDeadline<T>(req: FastifyRequest, reply: FastifyReply, limits: ServeLimits, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const left = limits.requestTimeoutMs - (performance.now() - req.startedAt);
  const timer = setTimeout(() => ac.abort(new ApiError(504, "timeout", `The request did not finish within ${limits.requestTimeoutMs} ms; its queued work was dropped.`)), Math.max(0, left));
  const onClose = () => {
    if (!reply.raw.writableFinished) ac.abort(new ApiError(499, "client_closed", "The client closed the connection before the reply."));
  };
  reply.raw.on("close", onClose);
  try {
    return await run(ac.signal);
  } finally {
    clearTimeout(timer);
    reply.raw.off("close", onClose);
  }
}
