# Makefile -- one non-recursive build for lambdakit: libshared.a, a library per program, programs, tools, tests
.SUFFIXES:

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
BUILD   ?= build

STD      = -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE
WARN     = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wpointer-arith -Wundef -Wvla
OPT     ?= -O2 -g
SANITIZE = -fsanitize=address,undefined -fno-sanitize-recover=all \
           -fno-omit-frame-pointer
ifeq ($(WERROR),1)
WARN    += -Werror
endif

PKGS     = rdkafka libcjson libmicrohttpd lmdb zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || \
                echo -lrdkafka -lcjson -lmicrohttpd -llmdb -lz)

FINAL_CFLAGS  = $(STD) $(WARN) $(OPT) -I. $(PKG_CFLAGS) -MMD -MP $(EXTRA_CFLAGS) $(CFLAGS)
# -u localeconv: every program takes shared/clocale.c's localeconv(), not glibc's
FINAL_LDFLAGS = -Wl,-u,localeconv $(EXTRA_LDFLAGS) $(LDFLAGS)
FINAL_LIBS    = $(PKG_LIBS) -lpthread -lm

SHARED_SRC  = $(wildcard shared/*.c)
BATCH_SRC   = $(wildcard batch/*.c)
SPEED_SRC   = $(wildcard speed/*.c)
SERVING_SRC = $(wildcard serving/*.c)
TOOLS_SRC   = $(wildcard tools/*.c)
BENCH_SRC   = $(wildcard bench/*.c)
UNIT_SRC    = $(wildcard tests/unit/*_test.c)
INTEG_SRC   = $(filter-out %_shim.c,$(wildcard tests/integration/*.c))
SHIM_SRC    = $(wildcard tests/integration/*_shim.c)

LIB      = $(BUILD)/libshared.a
BATCH_LIB   = $(BUILD)/libbatch.a
SPEED_LIB   = $(BUILD)/libspeed.a
SERVING_LIB = $(BUILD)/libserving.a
PROGS    = $(BUILD)/lambda-batch $(BUILD)/lambda-speed $(BUILD)/lambda-serving
TOOLS    = $(patsubst tools/%.c,$(BUILD)/%,$(TOOLS_SRC))
BENCHES  = $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
UNITS    = $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
INTEGS   = $(patsubst tests/integration/%.c,$(BUILD)/tests/integration/%,$(INTEG_SRC))
SHIMS    = $(patsubst tests/integration/%.c,$(BUILD)/tests/integration/%.so,$(SHIM_SRC))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
LINK = $(CC) $(FINAL_CFLAGS) $(FINAL_LDFLAGS) -o $@ $^ $(FINAL_LIBS)

all: $(PROGS) $(TOOLS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(FINAL_CFLAGS) -c -o $@ $<

# A program is its main.o over its layer's archive (every other module of its
# folder) over libshared.a; unit tests of a layer link the same archive.
$(LIB): $(call obj,$(SHARED_SRC))
$(BATCH_LIB): $(call obj,$(filter-out batch/main.c,$(BATCH_SRC)))
$(SPEED_LIB): $(call obj,$(filter-out speed/main.c,$(SPEED_SRC)))
$(SERVING_LIB): $(call obj,$(filter-out serving/main.c,$(SERVING_SRC)))
$(LIB) $(BATCH_LIB) $(SPEED_LIB) $(SERVING_LIB):
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/lambda-batch: $(BUILD)/obj/batch/main.o $(BATCH_LIB) $(LIB)
	$(LINK)
$(BUILD)/lambda-speed: $(BUILD)/obj/speed/main.o $(SPEED_LIB) $(LIB)
	$(LINK)
$(BUILD)/lambda-serving: $(BUILD)/obj/serving/main.o $(SERVING_LIB) $(LIB)
	$(LINK)

# tools/NAME.c and bench/NAME.c are single-file programs over libshared.a
$(BUILD)/%: $(BUILD)/obj/tools/%.o $(LIB)
	$(LINK)
$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(LINK)
$(BUILD)/tests/integration/%: $(BUILD)/obj/tests/integration/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(LINK)
# tests/integration/NAME_shim.c is an LD_PRELOAD library (fault injection),
# built without the sanitizers: it is loaded before their runtime
$(BUILD)/tests/integration/%_shim.so: tests/integration/%_shim.c
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(WARN) $(OPT) -fPIC -shared -o $@ $< -ldl

# tests/unit/MODULE_test.c tests shared/MODULE.c; tests/unit/LAYER_MODULE_test.c
# (LAYER: batch, speed, serving) tests LAYER/MODULE.c and links lib$(LAYER).a
unit_of = $(filter $(BUILD)/tests/unit/$(1)_%,$(UNITS))
$(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(LINK)
$(call unit_of,batch): $(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(BATCH_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(LINK)
$(call unit_of,speed): $(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(SPEED_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(LINK)
$(call unit_of,serving): $(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(SERVING_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(LINK)

tests: all $(UNITS) $(INTEGS) $(SHIMS) $(BENCHES)

# libFuzzer targets, tests/fuzz/NAME_fuzz.c, built by clang in build/fuzz with
# ASan+UBSan: `make fuzz` runs each for FUZZ_SECONDS; `make test` runs each over
# its corpus plus 20 s (tests/integration/fuzz_test.sh).
FUZZ_SRC     = $(wildcard tests/fuzz/*_fuzz.c)
FUZZERS      = $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
FUZZ_FLAGS   = -fsanitize=fuzzer-no-link,address,undefined \
               -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SECONDS ?= 60
$(BUILD)/fuzz/%: $(BUILD)/obj/tests/fuzz/%.o $(BATCH_LIB) $(SERVING_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(FINAL_CFLAGS) $(FINAL_LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(FINAL_LIBS)
fuzzers: $(FUZZERS)
fuzz-build:
	@$(MAKE) --no-print-directory BUILD=build/fuzz CC=clang OPT="-O1 -g" \
	    EXTRA_CFLAGS="$(FUZZ_FLAGS)" EXTRA_LDFLAGS="-fsanitize=address,undefined" fuzzers
fuzz: deps fuzz-build
	@BUILD=build/fuzz FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh

# the dashboard page is assembled into the binary (.incbin), not seen by -MMD
$(BUILD)/obj/serving/dashboard.o: serving/dashboard.html

deps:
	@sh scripts/deps.sh

# The tests run against $(BUILD); `make check` runs the same suite under ASan+UBSan.
test: deps
	@$(MAKE) --no-print-directory tests
	@BUILD=$(BUILD) sh tests/run.sh

check: deps
	@$(MAKE) --no-print-directory BUILD=build/check OPT="-O1 -g" \
	    EXTRA_CFLAGS="$(SANITIZE)" EXTRA_LDFLAGS="$(SANITIZE)" tests
	@BUILD=build/check LAMBDA_SANITIZED=1 \
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 sh tests/run.sh

bench:
	@sh scripts/deps.sh bench
	@$(MAKE) --no-print-directory all $(BENCHES)
	@BUILD=$(BUILD) sh bench/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) sh scripts/demo.sh

install: all
	mkdir -p $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man5
	cp $(PROGS) $(TOOLS) $(DESTDIR)$(PREFIX)/bin/
	for f in man/*.1; do [ -f "$$f" ] && cp "$$f" $(DESTDIR)$(PREFIX)/share/man/man1/; done; true
	for f in man/*.5; do [ -f "$$f" ] && cp "$$f" $(DESTDIR)$(PREFIX)/share/man/man5/; done; true

uninstall:
	rm -f $(patsubst $(BUILD)/%,$(DESTDIR)$(PREFIX)/bin/%,$(PROGS) $(TOOLS))
	rm -f $(DESTDIR)$(PREFIX)/share/man/man1/lambda-*.1 \
	    $(DESTDIR)$(PREFIX)/share/man/man5/lambdakit-pipeline.5

clean:
	rm -rf build

.PHONY: all tests deps test check bench demo install uninstall clean fuzz fuzzers fuzz-build
.PRECIOUS: $(BUILD)/obj/%.o

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
