/**
 * Finds the native addon binary, in order: the local node-gyp build (build/Release), then the
 * prebuilt one from this platform's optional dependency (`@llm2vec/native-<platform>`,
 * npm/<platform>/ in the repository; needs no install script). An installed package has a local
 * build only when its install script found no loadable prebuilt binary, so there the prebuilt one
 * runs; in a checkout, a binary built from the edited native/ sources must win over a published one.
 * The first candidate that loads and passes `check` wins; otherwise the caller falls back to the
 * TypeScript reference backend with NATIVE_REMEDY as the advice.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export type NativeSource = "prebuilt" | "local build";

export interface NativeCandidate {
  source: NativeSource;
  file: string;
}

/** What the user can do when no binary loads: right for npm 11 (runs install scripts) and npm 12 (runs approved ones only). */
export const NATIVE_REMEDY =
  "install the prebuilt binary for this platform (do not omit optional dependencies), or build it from source with a C++ compiler present: " +
  "`npm rebuild llm2vec` (npm 12 runs install scripts only once approved: `npm install-scripts approve llm2vec` first)";

/** This process's platform package name, e.g. "@llm2vec/native-linux-x64-gnu"; the libc suffix tells glibc from musl. */
export function platformPackage(platform: string = process.platform, arch: string = process.arch, libc: string | null = linuxLibc()): string {
  const suffix = platform === "linux" ? `-${libc ?? "gnu"}` : platform === "win32" ? "-msvc" : "";
  return `@llm2vec/native-${platform}-${arch}${suffix}`;
}

/** "gnu" or "musl" on Linux (glibc reports its version in the process report's header), null elsewhere. */
function linuxLibc(): string | null {
  if (process.platform !== "linux") return null;
  const report = process.report as { excludeNetwork?: boolean; getReport(): object } | undefined;
  if (!report) return "gnu";
  // The report would otherwise resolve every open socket's peer name, which can stall.
  const prev = report.excludeNetwork;
  report.excludeNetwork = true;
  try {
    return (report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime ? "gnu" : "musl";
  } finally {
    report.excludeNetwork = prev;
  }
}

/** The package root: the nearest ancestor folder whose package.json is named "llm2vec". */
export function packageRoot(start: string = dirname(fileURLToPath(import.meta.url))): string | null {
  let dir = start;
  for (;;) {
    const pj = join(dir, "package.json");
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, "utf8")) as { name?: string }).name === "llm2vec") return dir;
      } catch {
        /* unreadable package.json: keep walking */
      }
    }
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** The binaries to try, best first, with a note for each place that had none. */
export function nativeCandidates(
  resolvePrebuilt: (pkg: string) => string = createRequire(import.meta.url).resolve,
  root: string | null = packageRoot(),
): { candidates: NativeCandidate[]; missing: string[] } {
  const candidates: NativeCandidate[] = [];
  const missing: string[] = [];
  const local = root ? join(root, "build", "Release", "llm2vec_native.node") : null;
  if (local && existsSync(local)) candidates.push({ source: "local build", file: local });
  else missing.push(local ? `${local} not found (not built)` : "no llm2vec package.json above the module");
  const pkg = platformPackage();
  try {
    candidates.push({ source: "prebuilt", file: resolvePrebuilt(pkg) });
  } catch {
    missing.push(`${pkg} is not installed`);
  }
  return { candidates, missing };
}

export type LoadedAddon<T> = { addon: T; source: NativeSource; file: string } | { error: string };

/**
 * Loads the first candidate that loads and that `check` accepts (`check` returns why it refuses,
 * e.g. a stale binary lacking a function). The error lists every place tried and why.
 */
export function loadNativeAddon<T>(check: (addon: T, file: string) => string | null, found = nativeCandidates()): LoadedAddon<T> {
  const why = [...found.missing];
  const load = createRequire(import.meta.url);
  for (const c of found.candidates) {
    try {
      const addon = load(c.file) as T;
      const refused = check(addon, c.file);
      if (refused === null) return { addon, source: c.source, file: c.file };
      why.push(refused);
    } catch (e) {
      why.push(`${c.file} (${c.source}) did not load: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`);
    }
  }
  return { error: why.join("; ") };
}
