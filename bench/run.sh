#!/bin/sh
# run.sh -- `make bench`: run each layer's benchmark script (bench/*.sh) in turn
# BENCH="batch serving" limits the run to those scripts.
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
export BUILD
rc=0
for s in bench/*.sh; do
    name=$(basename "$s" .sh)
    [ "$name" = run ] && continue
    if [ -n "${BENCH:-}" ]; then
        case " $BENCH " in *" $name "*) ;; *) continue ;; esac
    fi
    echo "=== bench $name"
    sh "$s" || { echo "bench $name failed"; rc=1; }
done
exit $rc
