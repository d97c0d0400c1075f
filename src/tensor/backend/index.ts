/**
 * Chooses the kernel backend once: the native addon when it loads, else the TypeScript
 * reference (with one clear warning). LLM2VEC_BACKEND=reference forces the reference path;
 * LLM2VEC_PROFILE=1 wraps the chosen backend in the per-op timer of profile.ts.
 * Importing it also lends the addon's file mapping to the formats layer (formats/file-map.ts), so
 * safetensors weights load as views over the mapped file; LLM2VEC_BACKEND=reference reads them.
 */
import { registerFileMapper } from "../../formats/file-map.js";
import { referenceBackend } from "./reference.js";
import { loadNativeBackend, mapFile, releasePages } from "./native.js";
import { NATIVE_REMEDY } from "./native-resolve.js";
import { profiledBackend, profileReport, profileTable } from "./profile.js";
import type { Backend } from "./types.js";

let active: Backend | null = null;

registerFileMapper(process.env.LLM2VEC_BACKEND === "reference" ? null : mapFile, releasePages);

export function backend(): Backend {
  if (active) return active;
  active = chooseBackend();
  if (process.env.LLM2VEC_PROFILE === "1") {
    // Opt-in per-op timing (profile.ts); the table goes to stderr when the process ends.
    active = profiledBackend(active);
    process.on("exit", () => process.stderr.write(`llm2vec profile (LLM2VEC_PROFILE=1, ${active?.name} backend):\n${profileTable(profileReport())}\n`));
  }
  return active;
}

function chooseBackend(): Backend {
  if (process.env.LLM2VEC_BACKEND === "reference") return referenceBackend;
  const native = loadNativeBackend();
  if (native.backend) return native.backend;
  process.emitWarning(
    `llm2vec: native addon unavailable (${native.error}); using the TypeScript reference backend, which is far slower. To fix: ${NATIVE_REMEDY}.`,
    { code: "LLM2VEC_NO_NATIVE" },
  );
  return referenceBackend;
}

/** Swap the backend (tests run the same body on both). Returns the previous one. */
export function setBackend(b: Backend): Backend {
  const prev = backend();
  active = b;
  return prev;
}

export { referenceBackend };
export type { Backend };
