/** Placeholder until the addon binding lands: reports the addon as missing. */
import type { Backend } from "./types.js";

export function loadNativeBackend(): { backend: Backend | null; error?: string } {
  return { backend: null, error: "native binding not written yet" };
}
