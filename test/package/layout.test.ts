/** The published package's shape: the exports map, the root's public surface, and the prebuilt platform packages under npm/. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { packageRoot, platformPackage } from "../../src/tensor/backend/native-resolve.js";

const root = packageRoot()!;
const readJson = (f: string) => JSON.parse(fs.readFileSync(f, "utf8"));
const pkg = readJson(path.join(root, "package.json"));

describe("exports map", () => {
  it("maps every subpath to built JavaScript and its declarations", () => {
    assert.deepEqual(Object.keys(pkg.exports), [".", "./train", "./serve", "./eval", "./store", "./langchain", "./llamaindex", "./package.json"]);
    for (const [sub, entry] of Object.entries(pkg.exports as Record<string, string | { types: string; default: string }>)) {
      if (typeof entry === "string") continue;
      for (const f of [entry.types, entry.default]) assert.ok(fs.existsSync(path.join(root, f)), `${sub}: ${f} is missing`);
      assert.equal(entry.types.replace(/\.d\.ts$/, ""), entry.default.replace(/\.js$/, ""), `${sub}: types beside the code`);
    }
  });

  it("the root exports the user-facing API, not the internals", async () => {
    const api = await import("../../src/index.js");
    for (const name of ["LLM2Vec", "demoModelPath", "nativeInfo", "nativeBinary", "readLoraAdapter", "importLlama2c"]) assert.ok(name in api, `${name} is exported`);
    for (const name of ["tensor", "models", "formats", "evaluation", "padLeft", "hiddenStates"]) assert.ok(!(name in api), `${name} is internal`);
  });

  it("llm2vec/train offers the recipe's stages and merge", async () => {
    const train = await import("../../src/train/index.js");
    for (const name of ["trainMntp", "trainSimcse", "trainSupervised", "convert", "merge"]) assert.equal(typeof (train as Record<string, unknown>)[name], "function", name);
  });
});

describe("prebuilt platform packages", () => {
  const dirs = fs.readdirSync(path.join(root, "npm")).filter((d) => fs.existsSync(path.join(root, "npm", d, "package.json")));

  it("each one is named for its os, cpu and libc, at the main package's version, and listed as optional", () => {
    const listed: Record<string, string> = {};
    for (const d of dirs) {
      const p = readJson(path.join(root, "npm", d, "package.json"));
      const libc = p.libc ? ({ glibc: "gnu", musl: "musl" } as Record<string, string>)[p.libc[0]]! : null;
      assert.equal(p.name, `@llm2vec/native-${d}`);
      assert.equal(platformPackage(p.os[0], p.cpu[0], libc), p.name, `${d}: os/cpu/libc match the name the resolver asks for`);
      assert.equal(p.version, pkg.version, `${d}: version`);
      assert.equal(p.main, "llm2vec_native.node");
      listed[p.name] = p.version;
    }
    assert.deepEqual(pkg.optionalDependencies, listed);
  });

  it("package-lock.json holds an entry for each, so `npm ci` accepts the lock while they are unpublished", () => {
    // npm install drops entries it cannot resolve; npm ci then refuses the lock ("Missing … from lock file").
    const lock = readJson(path.join(root, "package-lock.json"));
    for (const name of Object.keys(pkg.optionalDependencies)) {
      const e = lock.packages[`node_modules/${name}`];
      assert.ok(e, `package-lock.json has no node_modules/${name}`);
      assert.equal(e.optional, true, name);
      assert.equal(e.version, pkg.optionalDependencies[name], name);
    }
  });

  it("linux x64 glibc, the platform built here, has a package", () => {
    assert.ok(dirs.includes("linux-x64-gnu"));
  });
});
