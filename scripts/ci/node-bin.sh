#!/usr/bin/env bash
# Prints the bin folder of a Node.js release line (22, 24, ...) for this platform, fetching the
# official binary from the npm registry's node-<os>-<arch> package into .cache/node/ when it is
# not there yet (CI machines reach the npm registry but not nodejs.org).
set -euo pipefail
major="${1:?usage: node-bin.sh MAJOR}"
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "node-bin.sh: no Node package for $(uname -m)" >&2; exit 1 ;;
esac
root="$(cd "$(dirname "$0")/../.." && pwd)/.cache/node/$major"
if [ ! -x "$root/package/bin/node" ]; then
  rm -rf "$root.tmp" && mkdir -p "$root.tmp"
  (cd "$root.tmp" && npm pack --silent "node-linux-$arch@$major" >/dev/null && tar xzf node-linux-*.tgz && rm node-linux-*.tgz)
  rm -rf "$root" && mv "$root.tmp" "$root"
fi
echo "$root/package/bin"
