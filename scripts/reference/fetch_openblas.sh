#!/bin/sh
# Unpack Debian's OpenBLAS (pthread build) into .bench-cache/openblas WITHOUT installing it.
#
# Why: Debian's PyTorch 1.13 is built with BLAS_INFO=generic and links libblas.so.3,
# whose system alternative here is netlib *reference* BLAS: every matmul runs ~10x
# slower than with an optimised BLAS, which would make the PyTorch competitors a
# strawman. Installing libopenblas0-pthread would switch the alternative for every
# process on the machine; unpacking it privately and pointing LD_LIBRARY_PATH at it
# (done automatically by bench/competitors/torch_common.py) changes nothing else.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEST="$ROOT/.bench-cache/openblas"
LIB="$DEST/usr/lib/x86_64-linux-gnu/openblas-pthread"
if [ -e "$LIB/libblas.so.3" ]; then echo "$LIB"; exit 0; fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && apt-get download libopenblas0-pthread >/dev/null 2>&1)
mkdir -p "$DEST"
dpkg-deb -x "$TMP"/libopenblas0-pthread_*.deb "$DEST"
echo "$LIB"
