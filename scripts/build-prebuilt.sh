#!/usr/bin/env bash
# Builds the native addon with node-gyp and places it in this platform's prebuilt package,
# npm/<platform>/ (e.g. npm/linux-x64-gnu for @llm2vec/native-linux-x64-gnu), checking that it
# loads from there. Each platform's builder runs it; `npm pack npm/<platform>` then makes the
# tarball that the main package lists under optionalDependencies. --reuse-build takes the addon
# already in build/Release (CI has just built it) instead of rebuilding.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${1:-}" = "--reuse-build" ] || npm run --silent build:native
npx tsc -p tsconfig.build.json
pkg="$(node --input-type=module -e 'import { platformPackage } from "./dist/src/tensor/backend/native-resolve.js"; console.log(platformPackage())')"
dir="npm/${pkg#@llm2vec/native-}"
[ -f "$dir/package.json" ] || { echo "build-prebuilt: no $dir/package.json for $pkg (add the platform's package folder)" >&2; exit 1; }
want="$(node -p 'require("./package.json").version')"
have="$(node -p "require('./$dir/package.json').version")"
[ "$want" = "$have" ] || { echo "build-prebuilt: $dir is version $have, llm2vec is $want" >&2; exit 1; }
cp build/Release/llm2vec_native.node "$dir/llm2vec_native.node"
node -e "const a = require('./$dir'); if (typeof a.info !== 'function') process.exit(1); console.log('$dir/llm2vec_native.node:', a.info().isa)"
if command -v objdump >/dev/null; then
  # The newest symbol versions it links: the oldest glibc / libstdc++ it runs on.
  objdump -T "$dir/llm2vec_native.node" | grep -oE '(GLIBC|GLIBCXX)_[0-9.]+' | sort -uV | awk -F_ '{v[$1]=$2} END {print "needs glibc >= " v["GLIBC"] ", libstdc++ GLIBCXX >= " v["GLIBCXX"]}'
fi
