#!/usr/bin/env bash
# The package as a user gets it: pack llm2vec from this checkout (prepack builds dist/src and the
# demo model) and the linux-x64 glibc prebuilt addon package, install both tarballs into an empty
# folder with npm 11 and with npm 12, and check there that the prebuilt addon is the one that runs
# (doctor says "prebuilt", no fallback warning, no node-gyp build), that a TypeScript consumer
# importing every subpath type-checks, and that `encode` (CLI and library) on the shipped demo model
# is bit-equal to this checkout's. Needs a built checkout (npm ci). Fails loudly on any mismatch.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$(pwd)"
fail() { echo "package-check: FAIL: $*" >&2; exit 1; }
work="$(mktemp -d)"
trap '[ -n "${KEEP_PACKAGE_CHECK:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT

bash scripts/build-prebuilt.sh --reuse-build
npm pack --silent --pack-destination "$work" >/dev/null
npm pack --silent --pack-destination "$work" ./npm/linux-x64-gnu >/dev/null
main_tgz="$work/llm2vec-$(node -p 'require("./package.json").version').tgz"
native_tgz="$(ls "$work"/llm2vec-native-linux-x64-gnu-*.tgz)"
[ -f "$main_tgz" ] || fail "npm pack made no $main_tgz"
echo "tarballs: $(wc -c <"$main_tgz") bytes $(basename "$main_tgz"), $(wc -c <"$native_tgz") bytes $(basename "$native_tgz")"
tar tzf "$main_tgz" >"$work/contents.txt"
grep -E '\.map$|^package/dist/(test|bench|examples)/|^package/test/' "$work/contents.txt" && fail "the tarball ships source maps, tests or benches"
grep -qx 'package/models/stories260K/model.safetensors' "$work/contents.txt" || fail "the tarball lacks the demo model"

# The checkout's embeddings, from the same demo model folder the package ships.
printf '%s\n' "Lily took her dog to the park." "The bird ate seeds." "Once upon a time there was a little girl named Lily who loved to play outside." >"$work/texts.txt"
node dist/src/cli/main.js encode --model models/stories260K --input "$work/texts.txt" --output "$work/checkout.npy" --no-progress 2>/dev/null

cat >"$work/consumer.ts" <<'TS'
import { writeFileSync } from "node:fs";
import { LLM2Vec, demoModelPath, nativeBinary, nativeInfo, type EncodeOptions, type NativeInfo } from "llm2vec";
import { convert, merge, trainMntp, trainSimcse, trainSupervised, type MntpOptions } from "llm2vec/train";
import { createEmbeddingServer, DEFAULT_LIMITS, Engine, type ServeOptions } from "llm2vec/serve";
import { runEvaluation } from "llm2vec/eval";

const texts: string[] = process.argv.slice(3);
const model = await LLM2Vec.fromPretrained(demoModelPath());
const opts: EncodeOptions = { batchSize: 32 }; // the CLI's default, so the batches match
const vecs: Float32Array[] = await model.encode(texts, opts);
writeFileSync(process.argv[2]!, Buffer.concat(vecs.map((v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength))));
const info: NativeInfo | null = nativeInfo();
const serve: Partial<ServeOptions> = {};
const mntp: Partial<MntpOptions> = {};
console.log(JSON.stringify({ binary: nativeBinary().source, gemm: info?.gemm, api: [convert, merge, trainMntp, trainSimcse, trainSupervised, createEmbeddingServer, Engine, runEvaluation].map((f) => typeof f), limits: typeof DEFAULT_LIMITS, serve, mntp }));
TS
cat >"$work/tsconfig.json" <<JSON
{ "compilerOptions": { "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext", "strict": true,
  "outDir": "out", "types": ["node"], "typeRoots": ["$repo/node_modules/@types"] }, "files": ["consumer.ts"] }
JSON

check_install() { # $1: label, rest: the npm command
  local label="$1" dir="$work/$1"; shift
  mkdir -p "$dir" && cp "$work/consumer.ts" "$work/tsconfig.json" "$dir/"
  echo '{ "name": "consumer", "private": true, "type": "module" }' >"$dir/package.json"
  (cd "$dir" && "$@" install --prefer-offline --no-audit --no-fund "$native_tgz" "$main_tgz" >install.log 2>&1) || { cat "$dir/install.log"; fail "$label: install failed"; }
  local version; version="$(cd "$dir" && "$@" --version 2>/dev/null)"
  [ "${version%%.*}" = "${label#npm}" ] || fail "$label: this is npm $version"
  echo "== $label (npm $version): $(tail -1 "$dir/install.log")"
  [ -d "$dir/node_modules/llm2vec/build" ] && fail "$label: node-gyp built the addon although the prebuilt package matched"
  (cd "$dir" && node_modules/.bin/llm2vec doctor --json >doctor.json 2>doctor.err) || fail "$label: doctor failed: $(cat "$dir/doctor.err")"
  [ -s "$dir/doctor.err" ] && fail "$label: doctor warned: $(cat "$dir/doctor.err")"
  node -e '
    const r = require(process.argv[1]);
    if (r.binary.source !== "prebuilt" || !r.binary.file.includes("node_modules/@llm2vec/native-linux-x64-gnu/")) { console.error(JSON.stringify(r.binary)); process.exit(1); }
    console.log(`doctor: ${r.binary.source} ${r.binary.file}; gemm ${r.kernels.gemm}; threads ${r.kernels.threads}`);
  ' "$dir/doctor.json" || fail "$label: the prebuilt addon is not the one that loaded"
  (cd "$dir" && node "$repo/node_modules/typescript/bin/tsc" -p tsconfig.json) || fail "$label: the TypeScript consumer does not type-check"
  (cd "$dir" && node out/consumer.js lib.f32 "Lily took her dog to the park." "The bird ate seeds." "Once upon a time there was a little girl named Lily who loved to play outside." >consumer.json 2>consumer.err) || fail "$label: the consumer failed: $(cat "$dir/consumer.err")"
  [ -s "$dir/consumer.err" ] && fail "$label: the consumer warned: $(cat "$dir/consumer.err")"
  grep -q '"binary":"prebuilt"' "$dir/consumer.json" || fail "$label: the library did not load the prebuilt addon: $(cat "$dir/consumer.json")"
  (cd "$dir" && node_modules/.bin/llm2vec encode --model node_modules/llm2vec/models/stories260K --input "$work/texts.txt" --output installed.npy --no-progress 2>/dev/null)
  cmp "$work/checkout.npy" "$dir/installed.npy" || fail "$label: encode from the installed package differs from the checkout's"
  tail -c "$(wc -c <"$dir/lib.f32")" "$work/checkout.npy" | cmp - "$dir/lib.f32" || fail "$label: LLM2Vec.encode from the installed package differs from the checkout's"
  echo "$label: prebuilt addon ran, consumer type-checks, encode bit-equal (CLI and library)"
}

check_install npm11 npm
check_install npm12 npx -y npm@12

# A newcomer in the npm 12 folder: the README's import-llama2c line on the published stories260K
# files, then the README's first TypeScript example pasted as it stands, must print what the README
# says it prints.
dir="$work/npm12"
cp test/fixtures/models/stories260K/stories260K.bin test/fixtures/models/stories260K/tok512.bin "$dir/"
import_line="$(grep -m1 '^npx llm2vec import-llama2c ' README.md)" || fail "README: no 'npx llm2vec import-llama2c' line"
(cd "$dir" && eval "$import_line" >import.log 2>&1) || { cat "$dir/import.log"; fail "README's import line failed: $import_line"; }
node -e '
  const md = require("fs").readFileSync(process.argv[1], "utf8");
  const block = /^```ts\n([\s\S]*?)^```/m.exec(md.slice(md.indexOf("\n## Encode")));
  const prints = /It prints `([^`]+)`/.exec(md);
  if (!block || !prints) { console.error("README: no ts example or no \"It prints\" line under ## Encode"); process.exit(1); }
  require("fs").writeFileSync(process.argv[2], block[1]);
  require("fs").writeFileSync(process.argv[3], prints[1] + "\n");
' README.md "$dir/readme-example.ts" "$dir/readme-expected.txt" || fail "README: the example could not be extracted"
sed 's/"consumer.ts"/"readme-example.ts"/' "$dir/tsconfig.json" >"$dir/tsconfig.readme.json"
(cd "$dir" && node "$repo/node_modules/typescript/bin/tsc" -p tsconfig.readme.json) || fail "README's example does not type-check against the installed package"
(cd "$dir" && node out/readme-example.js >readme-actual.txt 2>readme.err) || fail "README's example failed: $(cat "$dir/readme.err")"
cmp -s "$dir/readme-expected.txt" "$dir/readme-actual.txt" || fail "README's example printed $(cat "$dir/readme-actual.txt"), the README says $(cat "$dir/readme-expected.txt")"
echo "README example: the import line and the first example ran from the installed package and printed what the README says"

# No prebuilt package (optional dependencies omitted) under npm 12, which blocks the build script:
# the runtime falls back with one warning, and the remedy it prints builds the addon.
npm12() { npx -y npm@12 "$@"; }
dir="$work/npm12-fallback" && mkdir -p "$dir"
echo '{ "name": "consumer", "private": true, "type": "module" }' >"$dir/package.json"
cd "$dir"
npm12 install --prefer-offline --no-audit --no-fund --omit=optional "$main_tgz" >install.log 2>&1 || { cat install.log; fail "fallback: install failed"; }
node_modules/.bin/llm2vec doctor >doctor.txt 2>doctor.err || fail "fallback: doctor failed: $(cat doctor.err)"
grep -q '^native addon: none' doctor.txt || fail "fallback: expected no native addon: $(cat doctor.txt)"
[ "$(grep -c 'native addon unavailable' doctor.err)" = 1 ] || fail "fallback: expected one warning: $(cat doctor.err)"
grep -q 'npm install-scripts approve llm2vec' doctor.err || fail "fallback: the warning lacks npm 12's remedy: $(cat doctor.err)"
npm12 install-scripts approve llm2vec >approve.log 2>&1 || { cat approve.log; fail "fallback: npm install-scripts approve llm2vec failed"; }
npm12 rebuild llm2vec >rebuild.log 2>&1 || { cat rebuild.log; fail "fallback: npm rebuild llm2vec failed"; }
node_modules/.bin/llm2vec doctor >doctor.txt 2>doctor.err || fail "fallback: doctor failed after the rebuild: $(cat doctor.err)"
grep -q '^native addon: local build' doctor.txt || fail "fallback: the remedy did not build the addon: $(cat doctor.txt) $(cat doctor.err)"
echo "npm12 without the prebuilt package: one warning naming the remedy; following it built the addon ($(grep '^native addon' doctor.txt))"
cd "$repo"
echo "package-check: OK"
