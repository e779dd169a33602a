# Beatbook — one entry point for building, testing and running the demo.
#
#   make            build every program into build/bin/
#   make deps       install the Debian packages the build and tests need
#   make check      deps + build + unit tests (cmocka) + end-to-end tests (pytest)
#   make asan       the same tests under AddressSanitizer + UBSan (build-asan/)
#   make demo       field laptops recording a day offline, then HQ's review UI
#   make demo-stop  end a demo that is still serving
#   make bench      benchmarks: print figures, assert nothing
#
# Quiet by default; V=1 shows the commands.  CI=true adds -Werror.

BUILD   ?= build
CC      ?= cc
OPT     ?= -O2 -g
PYTHON  ?= /usr/bin/python3

# Debian packages: build libraries, test tools.  `make deps` installs the missing.
DEB_PKGS = pkg-config gcc make libsqlite3-dev libmbedtls-dev libcjson-dev \
           libcurl4-openssl-dev libmicrohttpd-dev libzstd-dev libargon2-dev \
           libcmocka-dev python3 python3-pytest libjs-chart.js sqlite3 \
           chromium chromium-driver python3-selenium fonts-noto-cjk \
           libexif-dev libvips-dev libzip-dev python3-pil libheif-examples
PC_PKGS  = sqlite3 libcjson libcurl libmicrohttpd libzstd libargon2 libexif libzip
# libvips (HQ's thumbnails) brings glib's headers: only hq/ compiles against it.
VIPS_CFLAGS = $(shell pkg-config --cflags vips 2>/dev/null)
VIPS_LIBS   = $(shell pkg-config --libs vips 2>/dev/null)

WARN    = -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 \
          -Wstrict-prototypes -Wmissing-prototypes -Wvla
HARDEN  = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
ifeq ($(CI),true)
WARN   += -Werror
endif
CPPFLAGS += -D_GNU_SOURCE -Ishared -I$(BUILD)/gen -MMD -MP
CFLAGS  += $(WARN) $(HARDEN) $(OPT) $(shell pkg-config --cflags $(PC_PKGS) 2>/dev/null)
LDFLAGS += -pie -Wl,-z,relro,-z,now -Wl,--as-needed $(SANFLAGS)
LDLIBS  += $(shell pkg-config --libs $(PC_PKGS) 2>/dev/null) \
           -lmbedtls -lmbedx509 -lmbedcrypto -lm

ifneq ($(V),1)
Q = @
say = @printf '  %-6s %s\n' $(1) $(2);
endif

SHARED_SRC    = $(wildcard shared/*.c)
SHARED_OBJ    = $(SHARED_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/bb_embedded.o
COLLECTOR_OBJ = $(patsubst %.c,$(BUILD)/%.o,$(wildcard collector/*.c))
SYNCD_OBJ     = $(patsubst %.c,$(BUILD)/%.o,$(wildcard syncd/*.c))
HQ_OBJ        = $(patsubst %.c,$(BUILD)/%.o,$(wildcard hq/*.c))
EMBED_FILES   = $(sort $(wildcard schema/records/*.json schema/reference/*.json \
                  schema/plans/*.json schema/migrations/*/*.sql))
# The review UI (hq/web/*) and Debian's Chart.js, compiled into beatbook-hq.
WEB_FILES     = $(sort $(wildcard hq/web/*))
CHARTJS      ?= /usr/share/javascript/chart.js/chart.min.js
ifneq ($(HQ_OBJ),)
HQ_OBJ       += $(BUILD)/gen/hq_web_files.o
endif
# The collector's forms page (`beatbook ui`, collector/web/*), compiled into beatbook.
COL_WEB_FILES = $(sort $(wildcard collector/web/*))
ifneq ($(COL_WEB_FILES),)
COLLECTOR_OBJ += $(BUILD)/gen/col_web_files.o
endif
UNIT_SRC      = $(wildcard tests/unit/test_*.c)
UNIT_BIN      = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRC      = $(wildcard tests/tools/*.c)
TOOL_BIN      = $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/%)

PROGRAMS = $(BUILD)/bin/beatbook
ifneq ($(SYNCD_OBJ),)
PROGRAMS += $(BUILD)/bin/beatbook-syncd
endif
ifneq ($(HQ_OBJ),)
PROGRAMS += $(BUILD)/bin/beatbook-hq
endif

.PHONY: all deps check test unit e2e asan demo demo-stop bench bench-kpi bench-ui fuzz fuzz-replay clean
all: $(PROGRAMS) $(UNIT_BIN) $(TOOL_BIN)

$(BUILD)/libbb.a: $(SHARED_OBJ)
	$(call say,AR,$@)$(AR) rcs $@ $^

$(BUILD)/bin/beatbook: $(COLLECTOR_OBJ) $(BUILD)/libbb.a
	@mkdir -p $(@D)
	$(call say,LINK,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/bin/beatbook-syncd: $(SYNCD_OBJ) $(BUILD)/libbb.a
	@mkdir -p $(@D)
	$(call say,LINK,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/bin/beatbook-hq: $(HQ_OBJ) $(BUILD)/libbb.a
	@mkdir -p $(@D)
	$(call say,LINK,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(VIPS_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libbb.a
	@mkdir -p $(@D)
	$(call say,LINK,$@)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka
$(BUILD)/tests/%: tests/tools/%.c $(BUILD)/libbb.a
	@mkdir -p $(@D)
	$(call say,LINK,$@)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<
# glib's headers are not -Wpedantic clean: included as system headers.
$(BUILD)/hq/%.o: hq/%.c
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(CPPFLAGS) $(CFLAGS) $(subst -I,-isystem ,$(VIPS_CFLAGS)) -c -o $@ $<

# Schema files compiled in: the generator is a build tool, built without sanitizers.
$(BUILD)/gen/embedgen: tools/embedgen.c
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) -O1 -o $@ $<
$(BUILD)/gen/bb_embedded.c: $(BUILD)/gen/embedgen $(EMBED_FILES)
	$(call say,GEN,$@)$(BUILD)/gen/embedgen $@ schema $(EMBED_FILES)
$(BUILD)/gen/bb_embedded.o: $(BUILD)/gen/bb_embedded.c
	$(call say,CC,$<)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<
$(BUILD)/gen/hq_web_files.c: tools/embed-web $(WEB_FILES) $(CHARTJS)
	@mkdir -p $(@D)
	$(call say,GEN,$@)sh tools/embed-web $@ $(foreach f,$(WEB_FILES),$(notdir $(f))=$(f)) \
	  chart.min.js=$(CHARTJS)
$(BUILD)/gen/hq_web_files.o: $(BUILD)/gen/hq_web_files.c
	$(call say,CC,$<)$(CC) $(CPPFLAGS) -Ihq $(CFLAGS) -c -o $@ $<
$(BUILD)/gen/col_web_files.c: tools/embed-web $(COL_WEB_FILES)
	@mkdir -p $(@D)
	$(call say,GEN,$@)sh tools/embed-web --prefix col_web --header col_ui.h $@ \
	  $(foreach f,$(COL_WEB_FILES),$(notdir $(f))=$(f))
$(BUILD)/gen/col_web_files.o: $(BUILD)/gen/col_web_files.c
	$(call say,CC,$<)$(CC) $(CPPFLAGS) -Icollector $(CFLAGS) -c -o $@ $<

deps:
	@missing=$$(for p in $(DEB_PKGS); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	  done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "make deps: missing Debian packages: $$missing" >&2; \
	    echo "make deps: run as root (or: sudo apt-get install $$missing)" >&2; exit 1; \
	  fi; \
	  echo "make deps: installing $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	fi

# `check` re-invokes make so that pkg-config runs after deps has installed things.
check: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory test

test: unit fuzz-replay e2e

# Every cmocka binary, then the HPKE known-answer vectors (RFC 9180).
unit: $(UNIT_BIN) $(TOOL_BIN)
	@failed=0; for t in $(UNIT_BIN); do $$t || failed=1; done; \
	for v in tests/vectors/hpke-*.json; do \
	  echo "hpke_check $$v"; $(BUILD)/tests/hpke_check $$v || failed=1; \
	done; \
	if [ $$failed != 0 ]; then echo "unit tests FAILED" >&2; fi; exit $$failed

e2e: $(PROGRAMS)
	$(Q)BEATBOOK_BIN=$(CURDIR)/$(BUILD)/bin $(PYTHON) -m pytest -q -p no:cacheprovider tests/e2e

asan: deps
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan \
	  OPT="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	  SANFLAGS="-fsanitize=address,undefined" all
	$(Q)ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  $(MAKE) --no-print-directory BUILD=build-asan \
	  OPT="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	  SANFLAGS="-fsanitize=address,undefined" test

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) sh tools/demo.sh

# Ends a `make demo` that is still serving (from another terminal).
demo-stop:
	@if [ -f $(BUILD)/demo/demo.pid ] && kill -TERM "$$(cat $(BUILD)/demo/demo.pid)" 2>/dev/null; \
	then echo "demo: stopping"; else echo "demo: not running"; fi

bench: deps
	$(Q)$(MAKE) --no-print-directory $(PROGRAMS) $(BUILD)/libbb.a
	$(Q)BUILD=$(BUILD) sh bench/collector.sh
	$(Q)BUILD=$(BUILD) sh bench/collector_ui.sh
	$(Q)BUILD=$(BUILD) sh bench/sync.sh
	$(Q)BUILD=$(BUILD) sh bench/attach.sh

# The KPI benchmark builds a 10M-record HQ store (~10 min, ~11 GB of scratch).
bench-kpi: deps
	$(Q)$(MAKE) --no-print-directory $(PROGRAMS) $(BUILD)/libbb.a
	$(Q)BUILD=$(BUILD) sh bench/kpi.sh

# The review API under load: scorecard and drill-down pages on 10M records (~15 min).
bench-ui: deps
	$(Q)$(MAKE) --no-print-directory $(PROGRAMS)
	$(Q)BUILD=$(BUILD) sh bench/ui.sh

# libFuzzer targets for the parsers of untrusted input (tests/fuzz/fuzz_*.c).
# `make fuzz` builds each with clang and runs it FUZZ_SECONDS on a copy of its
# seeds (tests/fuzz/run.sh prints execs and crashes per target); `fuzz-replay`
# (part of `test`) runs every seed once with the build's own compiler and flags.
FUZZ_SECONDS ?= 30
FUZZ_NAMES    = $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REPLAY   = $(FUZZ_NAMES:%=$(BUILD)/tests/fuzz/%)
FUZZ_HQ_SRC   = hq/hq_conf.c hq/hq_files.c

$(BUILD)/tests/fuzz/%: tests/fuzz/%.c $(BUILD)/tests/fuzz/replay_main.o $(BUILD)/libbb.a
	$(call say,LINK,$@)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/tests/fuzz/fuzz_conf: $(FUZZ_HQ_SRC:%.c=$(BUILD)/%.o)   # it reads hq.conf too

# kept: make would delete it as an intermediate after every link
.SECONDARY: $(BUILD)/tests/fuzz/replay_main.o
fuzz-replay: $(FUZZ_REPLAY)
	@t0=$$(date +%s%N); failed=0; for t in $(FUZZ_NAMES); do \
	  $(BUILD)/tests/fuzz/$$t tests/fuzz/corpus/$$t || { echo "fuzz replay: $$t FAILED" >&2; failed=1; }; \
	done; ms=$$(( ($$(date +%s%N) - t0) / 1000000 )); \
	printf 'fuzz replay: %d.%03d s in total\n' $$((ms / 1000)) $$((ms % 1000)); exit $$failed

fuzz: deps
	@command -v clang >/dev/null || { apt-get install -y -qq clang >/dev/null; }
	$(Q)$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang \
	  OPT="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" \
	  SANFLAGS="-fsanitize=address,undefined" build-fuzz/libbb.a
	$(Q)for t in $(FUZZ_NAMES); do \
	  clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Ishared \
	    tests/fuzz/$$t.c $$(test $$t != fuzz_conf || echo $(FUZZ_HQ_SRC)) \
	    build-fuzz/libbb.a $(LDLIBS) -o build-fuzz/$$t || exit 1; \
	done
	$(Q)sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_NAMES)

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
