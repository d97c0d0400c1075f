/** The native addon's resolver (prebuilt platform package, then the local build) and its fallback advice. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadNativeAddon, NATIVE_REMEDY, nativeCandidates, packageRoot, platformPackage } from "../../src/tensor/backend/native-resolve.js";
import { formatDoctor, doctorReport } from "../../src/cli/commands/doctor.js";

const root = packageRoot()!;
const local = path.join(root, "build", "Release", "llm2vec_native.node");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-resolve-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));
const hasInfo = (a: { info?: unknown }) => (typeof a.info === "function" ? null : "no info()");

describe("platformPackage", () => {
  it("names the package per platform, arch and libc", () => {
    assert.equal(platformPackage("linux", "x64", "gnu"), "@llm2vec/native-linux-x64-gnu");
    assert.equal(platformPackage("linux", "arm64", "musl"), "@llm2vec/native-linux-arm64-musl");
    assert.equal(platformPackage("darwin", "arm64", null), "@llm2vec/native-darwin-arm64");
    assert.equal(platformPackage("win32", "x64", null), "@llm2vec/native-win32-x64-msvc");
  });
});

describe("nativeCandidates", () => {
  it("puts a local build before the prebuilt binary, and takes the prebuilt one when nothing was built", { skip: !fs.existsSync(local) && "no local build" }, () => {
    const prebuilt = () => "/prebuilt/llm2vec_native.node";
    assert.deepEqual(nativeCandidates(prebuilt, root).candidates, [
      { source: "local build", file: local },
      { source: "prebuilt", file: "/prebuilt/llm2vec_native.node" },
    ]);
    assert.deepEqual(nativeCandidates(prebuilt, tmp).candidates, [{ source: "prebuilt", file: "/prebuilt/llm2vec_native.node" }]);
  });

  it("says which platform package is missing", () => {
    const r = nativeCandidates(() => {
      throw new Error("MODULE_NOT_FOUND");
    }, tmp);
    assert.deepEqual(r.candidates, []);
    assert.deepEqual(r.missing, [`${path.join(tmp, "build", "Release", "llm2vec_native.node")} not found (not built)`, `${platformPackage()} is not installed`]);
  });
});

describe("loadNativeAddon", () => {
  it("falls through a binary that does not load to the next one", { skip: !fs.existsSync(local) && "no local build" }, () => {
    const broken = path.join(tmp, "broken.node");
    fs.writeFileSync(broken, "not a shared object");
    const r = loadNativeAddon(hasInfo, { candidates: [{ source: "local build", file: broken }, { source: "prebuilt", file: local }], missing: [] });
    assert.ok(!("error" in r));
    assert.equal(r.source, "prebuilt");
    assert.equal(r.file, local);
  });

  it("refuses a binary the check rejects and names every place tried", () => {
    const broken = path.join(tmp, "broken2.node");
    fs.writeFileSync(broken, "not a shared object");
    const candidates = [{ source: "prebuilt" as const, file: broken }, ...(fs.existsSync(local) ? [{ source: "local build" as const, file: local }] : [])];
    const r = loadNativeAddon(() => "stale: it lacks gemm()", { candidates, missing: ["@llm2vec/native-x is not installed"] });
    assert.ok("error" in r);
    assert.match(r.error, /@llm2vec\/native-x is not installed/);
    assert.match(r.error, new RegExp(`broken2\\.node \\(prebuilt\\) did not load`));
    if (candidates.length > 1) assert.match(r.error, /stale: it lacks gemm\(\)/);
  });
});

describe("the fallback advice", () => {
  it("gives npm 12's approval command and npm 11's rebuild", () => {
    assert.match(NATIVE_REMEDY, /npm install-scripts approve llm2vec/);
    assert.match(NATIVE_REMEDY, /npm rebuild llm2vec/);
  });

  it("doctor prints the binary's source and path, or none with the remedy", () => {
    const r = doctorReport();
    if (r.binary.source !== "none") assert.match(formatDoctor(r), new RegExp(`native addon: ${r.binary.source} `));
    const none = formatDoctor({ ...r, backend: "reference", binary: { source: "none", error: "nothing found" }, kernels: null });
    assert.match(none, /native addon: none \(nothing found\)/);
    assert.ok(none.includes(NATIVE_REMEDY));
    // What --dtype auto picks on this CPU, from the addon's own bf16-vs-f32 timing.
    assert.match(r.autoDtype, /^(bf16 for 16-bit weights \(.+: .+\)|f32 \(.+\))$/);
    assert.ok(formatDoctor(r).includes(`--dtype auto: ${r.autoDtype}\n`));
  });
});
