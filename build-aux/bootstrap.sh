#!/bin/sh
# Installs the build dependencies and builds hvrelay in ./build.
set -eu
cd "$(dirname "$0")/.."
build-aux/install-deps.sh
autoreconf -fi
mkdir -p build
cd build
../configure --enable-strict
make -j"$(nproc)"
