/**
 * Chooses the kernel backend once: the native addon when it loads, else the TypeScript
 * reference (with one clear warning). LLM2VEC_BACKEND=reference forces the reference path.
 */
import { referenceBackend } from "./reference.js";
import { loadNativeBackend } from "./native.js";
import type { Backend } from "./types.js";

let active: Backend | null = null;

export function backend(): Backend {
  if (active) return active;
  if (process.env.LLM2VEC_BACKEND === "reference") return (active = referenceBackend);
  const native = loadNativeBackend();
  if (native.backend) return (active = native.backend);
  process.emitWarning(
    `llm2vec: native addon unavailable (${native.error}); using the TypeScript reference backend, which is far slower. Reinstall with a C++ compiler present (npm rebuild llm2vec).`,
    { code: "LLM2VEC_NO_NATIVE" },
  );
  return (active = referenceBackend);
}

/** Swap the backend (tests run the same body on both). Returns the previous one. */
export function setBackend(b: Backend): Backend {
  const prev = backend();
  active = b;
  return prev;
}

export { referenceBackend };
export type { Backend };
