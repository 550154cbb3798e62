#!/bin/sh
# deps.sh -- install the Debian packages lambdakit's build, tests, tutorial and benchmarks call
#
#   sh scripts/deps.sh          what `make`, `make test` and `make demo` need (they run it)
#   sh scripts/deps.sh bench    that and what `make bench` needs (it runs this)
#   sh scripts/deps.sh --list   the table below: group, command, package
#
# Prints what is missing, by name with its package, before installing anything;
# needs root or sudo to install. tests/integration/lab_deps_test.sh fails when a
# README block, a test, a bench or a script runs a program that is neither in
# this table nor on every Debian system (Essential and required packages).
set -eu

# group  command-or-check  package  (who calls it)
# A command is found with `command -v`; a path must be executable; pc:NAME is
# a pkg-config module; py:NAME a module of Debian's /usr/bin/python3; rt:NAME
# a runtime library of clang (libclang_rt.NAME).
TABLE='
build  cc               gcc              the Makefile
build  make             make             the Makefile
build  ar               binutils         the Makefile (libshared.a)
build  pkg-config       pkg-config       the Makefile
build  pc:rdkafka       librdkafka-dev   speed, the development broker, lambda-produce
build  pc:libcjson      libcjson-dev     events, pipelines
build  pc:libmicrohttpd libmicrohttpd-dev serving
build  pc:lmdb          liblmdb-dev      the store
build  pc:zlib          zlib1g-dev       .gz inputs
test   curl             curl             the tutorial, the demo, the tests
test   jq               jq               the tutorial, the demo, known totals
test   kcat             kcat             the tutorial: send and read records
test   /usr/bin/python3 python3          the lab tests, datasets/*/generate.py
test   python3          python3          batch_test (any python3 on PATH will do)
test   py:yaml          python3-yaml     lab_compose_test (docker-compose.yaml)
test   docker-compose   docker-compose   lab_compose_test (schema of the compose file)
test   chromium         chromium         lab_dashboard_test (a real browser)
test   man              man-db           lab_man_test
test   groff            groff-base       lab_man_test
test   objdump          binutils         lab_compose_test (libraries the binaries need)
test   nm               binutils         batch_test (the localeconv of lambda-batch)
test   mdb_stat         lmdb-utils       the tests (store files)
test   faketime         faketime         lab_calendar_test (the lab months ahead)
test   ps               procps           the tests (processes left running)
test   clang            clang            fuzz_test (libFuzzer targets)
test   rt:fuzzer        libclang-rt-14-dev fuzz_test (libFuzzer and sanitizer runtimes of clang 14)
bench  wrk              wrk              bench/serving.sh
bench  /usr/bin/time    time             bench/batch.sh (GNU time: RSS)
bench  node             nodejs           bench/batch.sh (DuckDB, the reference)
bench  npm              npm              bench/batch.sh (installs @duckdb/node-api)
'

has() {         # has CHECK: the command, path, pkg-config module or module exists
    case $1 in
    pc:*) pkg-config --exists "${1#pc:}" 2>/dev/null ;;
    py:*) /usr/bin/python3 -c "import ${1#py:}" >/dev/null 2>&1 ;;
    rt:*) [ -f "$(clang --print-runtime-dir 2>/dev/null)/libclang_rt.${1#rt:}-x86_64.a" ] ||
              ls "$(clang --print-runtime-dir 2>/dev/null)"/libclang_rt."${1#rt:}"*.a >/dev/null 2>&1 ;;
    /*)   [ -x "$1" ] ;;
    docker-compose)     # v1 from Debian, or Docker's compose v2 plugin
          command -v docker-compose >/dev/null 2>&1 ||
              docker compose version >/dev/null 2>&1 ;;
    *)    command -v "$1" >/dev/null 2>&1 ;;
    esac
}

groups="build test"
case ${1:-} in
--list) echo "$TABLE" | awk 'NF >= 3 { print $1, $2, $3 }'; exit 0 ;;
bench)  groups="build test bench" ;;
'')     ;;
*)      echo "usage: sh scripts/deps.sh [bench | --list]" >&2; exit 2 ;;
esac

need="" missing=""
while read -r group check pkg _; do
    [ -n "${group:-}" ] || continue
    case " $groups " in *" $group "*) ;; *) continue ;; esac
    # pkg-config is checked first: without it every pc: check fails
    case $check in pc:*) command -v pkg-config >/dev/null 2>&1 || continue ;; esac
    has "$check" && continue
    missing="$missing ${check#*:} ($pkg)"
    case " $need " in *" $pkg "*) ;; *) need="$need $pkg" ;; esac
done <<EOF
$TABLE
EOF
if ! command -v pkg-config >/dev/null 2>&1; then
    missing="$missing the build libraries (checked with pkg-config)"
    need="$need librdkafka-dev libcjson-dev libmicrohttpd-dev liblmdb-dev zlib1g-dev"
fi
[ -n "${LAMBDA_DEPS_EXTRA:-}" ] && need="$need $LAMBDA_DEPS_EXTRA"

[ -z "$need" ] && exit 0
echo "deps: missing:$missing"
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
