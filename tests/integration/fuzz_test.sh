#!/bin/bash
# fuzz_test.sh -- `make test`'s share of fuzzing: build the libFuzzer targets (clang, ASan+UBSan,
# build/fuzz) and run each over its seeds and regression inputs plus 20 s of new inputs, so a
# parser regression is caught by CI. `make fuzz FUZZ_SECONDS=600` fuzzes longer.
set -u
cd "${LAMBDA_TOP:-$(dirname "$0")/../..}" || exit 1
if ! make -s fuzz-build >/tmp/fuzz_build.$$ 2>&1; then
    tail -n 30 /tmp/fuzz_build.$$
    rm -f /tmp/fuzz_build.$$
    echo "FAIL the fuzz targets build (clang: scripts/deps.sh installs it)"
    echo "0 passed, 1 failed"
    exit 1
fi
rm -f /tmp/fuzz_build.$$
BUILD=build/fuzz FUZZ_SECONDS=${LAMBDA_FUZZ_SECONDS:-20} sh tests/fuzz/run.sh
