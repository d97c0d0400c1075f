// npm's install hook. When this platform's prebuilt binary (an optional dependency) loads, there is
// nothing to build; otherwise build the addon from native/ with node-gyp. A failed build must not
// fail the install: the package still runs on the TypeScript reference backend (the runtime warns
// once, with the remedy). In a checkout dist/ does not exist yet, so the addon is always built.
import { spawnSync } from "node:child_process";

const resolver = await import("../dist/src/tensor/backend/native-resolve.js").catch(() => null);
if (resolver) {
  const { candidates } = resolver.nativeCandidates();
  const prebuilt = candidates.filter((c) => c.source === "prebuilt");
  const r = resolver.loadNativeAddon((addon) => (typeof addon.info === "function" ? null : "no info()"), { candidates: prebuilt, missing: [] });
  if (!("error" in r)) process.exit(0);
}
const build = spawnSync("node-gyp", ["rebuild"], { stdio: "inherit", shell: process.platform === "win32" });
if (build.status !== 0) {
  console.warn("[llm2vec] no prebuilt binary for this platform and the native addon build failed; falling back to the (much slower) TypeScript reference backend.");
}
