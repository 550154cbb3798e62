#!/bin/sh
# deps.sh -- install lambdakit's Debian build and test dependencies when missing
# Called by `make test`, `make demo`, `make bench` and .ci/run. Prints what it does.
set -eu

# package that provides each need: checked by pkg-config name or command
need=""
for pc in rdkafka:librdkafka-dev libcjson:libcjson-dev libmicrohttpd:libmicrohttpd-dev \
          lmdb:liblmdb-dev zlib:zlib1g-dev; do
    mod=${pc%%:*}; pkg=${pc#*:}
    pkg-config --exists "$mod" 2>/dev/null || need="$need $pkg"
done
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
command -v cc >/dev/null 2>&1 || need="$need gcc"
command -v make >/dev/null 2>&1 || need="$need make"
command -v curl >/dev/null 2>&1 || need="$need curl"
command -v python3 >/dev/null 2>&1 || need="$need python3"
command -v mdb_stat >/dev/null 2>&1 || need="$need lmdb-utils"
# the lab's tests: known totals (jq), the compose file (PyYAML for Debian's
# /usr/bin/python3, and a compose implementation to validate its schema),
# the dashboard in a real headless browser, the man pages
command -v jq >/dev/null 2>&1 || need="$need jq"
/usr/bin/python3 -c 'import yaml' >/dev/null 2>&1 || need="$need python3-yaml"
if ! command -v docker-compose >/dev/null 2>&1 &&
   ! docker compose version >/dev/null 2>&1; then
    need="$need docker-compose"
fi
command -v chromium >/dev/null 2>&1 || need="$need chromium"
command -v man >/dev/null 2>&1 || need="$need man-db"
command -v groff >/dev/null 2>&1 || need="$need groff-base"
command -v objdump >/dev/null 2>&1 || need="$need binutils"
[ -n "${LAMBDA_DEPS_EXTRA:-}" ] && need="$need $LAMBDA_DEPS_EXTRA"

[ -z "$need" ] && exit 0
echo "deps: installing:$need"
if [ "$(id -u)" != 0 ]; then
    SUDO=sudo
    command -v sudo >/dev/null 2>&1 || {
        echo "deps: need root to install:$need (run: apt-get install$need)" >&2
        exit 1
    }
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $need
