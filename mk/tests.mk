# Proof and speed: the JS-semantics driver, libFuzzer targets, benchmarks.
#
#   make unit        also builds build/tools/statsig-js (t/js-semantics.t)
#   make fuzz        runs every fuzz/fuzz_*.c for FUZZ_SECONDS (default 60)
#   make fuzz-smoke  the same for FUZZ_SMOKE_SECONDS (default 20) each
#   make fuzz-build  only builds them (clang, -fsanitize=fuzzer,address,
#                    undefined; the core is recompiled with the sanitizers)
#
# Included by the main Makefile (CORE_CFLAGS, CORE_LIBS, CORE_SRCS, the
# core library build/libstatsigcore.a).  "make test" runs fuzz-smoke when
# FUZZ_SMOKE=1 (off by default, see fuzz/README.md for why).

# ------------------------------------------------ t/js-semantics.t driver ----

TESTS_TOOLS := build/tools/statsig-js

build/tools/statsig-js: t/js_driver.c build/libstatsigcore.a \
    $(wildcard src/core/*.h)
	@mkdir -p $(@D)
	$(CC) $(CORE_CFLAGS) -o $@ $< build/libstatsigcore.a $(CORE_LIBS)

unit: $(TESTS_TOOLS)

# ------------------------------------------------------------------ fuzz ----

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := -std=c99 -D_DEFAULT_SOURCE -g -O1 -fno-omit-frame-pointer \
    -Isrc/core -Ibuild/gen -Ibuild/fuzz -Ifuzz
FUZZ_DIR := build/fuzz
FUZZ_SRCS := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_BINS := $(patsubst fuzz/%.c,$(FUZZ_DIR)/%,$(FUZZ_SRCS))
FUZZ_TARGETS := $(patsubst fuzz/%.c,%,$(FUZZ_SRCS))

# CORE_SRCS is not set yet when mk/*.mk are read: the same list, here
FUZZ_CORE_SRCS := $(wildcard src/core/*.c) $(DATA_GEN_SRCS)
fuzz_obj = $(FUZZ_DIR)/obj/$(subst /,__,$(basename $(1))).o
FUZZ_CORE_OBJS := $(foreach s,$(FUZZ_CORE_SRCS),$(call fuzz_obj,$(s)))

.PHONY: fuzz fuzz-build fuzz-smoke

# the generated data tables are big and branch-free: no coverage counters
define fuzz_obj_rule
$(call fuzz_obj,$(1)): $(1) $(wildcard src/core/*.h) | $(DATA_GEN_SRCS)
	@mkdir -p $$(@D)
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) $$(FUZZ_SANITIZE) \
	    $$(if $$(findstring build/gen/,$(1)),,-fsanitize=fuzzer-no-link) \
	    -c -o $$@ $$<
endef
$(foreach s,$(FUZZ_CORE_SRCS),$(eval $(call fuzz_obj_rule,$(s))))

$(FUZZ_DIR)/fuzz_user_eval_dcs.h: fuzz/user_eval_dcs.json
	@mkdir -p $(@D)
	perl -e 'local $$/; my $$d = <STDIN>; my @b = unpack("C*", $$d);' \
	    -e 'print "static const unsigned char fz_dcs[] = {\n";' \
	    -e 'for (my $$i = 0; $$i < @b; $$i += 16) {' \
	    -e '  print join(",", @b[$$i .. ($$i + 15 < $$#b ? $$i + 15 : $$#b)]), ",\n" }' \
	    -e 'print "0};\nstatic const size_t fz_dcs_len = ", scalar(@b), ";\n";' \
	    < $< > $@

$(FUZZ_DIR)/fuzz_user_eval $(FUZZ_DIR)/fuzz_mcp $(FUZZ_DIR)/fuzz_ofrep: \
    $(FUZZ_DIR)/fuzz_user_eval_dcs.h

# the fuzz targets share references and helpers with the unit tests
$(FUZZ_DIR)/%: fuzz/%.c fuzz/fuzz_common.h $(wildcard t/unit/*.h) \
    $(FUZZ_CORE_OBJS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SANITIZE) -fsanitize=fuzzer \
	    -o $@ $< $(FUZZ_CORE_OBJS) $(CORE_LIBS)

fuzz-build: deps $(FUZZ_BINS)

# $(1) seconds per target.  New inputs go to build/fuzz/work/<target> (the
# committed seeds in fuzz/corpus/<target>, if any, are read, never written);
# crashes to build/fuzz/artifacts/.
define fuzz_run
	@set -e; mkdir -p $(FUZZ_DIR)/artifacts; \
	for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_DIR)/work/$$t; \
	    echo "== fuzz $$t ($(1) s)"; \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    ASAN_OPTIONS=detect_leaks=1 \
	    $(FUZZ_DIR)/$$t -max_total_time=$(1) -timeout=10 -dict=fuzz/dcs.dict \
	        -rss_limit_mb=2048 -print_final_stats=1 \
	        -artifact_prefix=$(FUZZ_DIR)/artifacts/$$t- \
	        $(FUZZ_DIR)/work/$$t \
	        $$([ -d fuzz/corpus/$$t ] && echo fuzz/corpus/$$t) \
	        2> $(FUZZ_DIR)/$$t.log \
	    || { tail -n 60 $(FUZZ_DIR)/$$t.log; exit 1; }; \
	    grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^#[0-9]+.*DONE' \
	        $(FUZZ_DIR)/$$t.log | tr '\n' ' '; echo; \
	done
endef

fuzz: fuzz-build
	$(call fuzz_run,$(FUZZ_SECONDS))

fuzz-smoke: fuzz-build
	$(call fuzz_run,$(FUZZ_SMOKE_SECONDS))

ifeq ($(FUZZ_SMOKE),1)
test: fuzz-smoke
endif

# ----------------------------------------------------------------- bench ----
# bench/eval.sh is one of bench/*.sh, run by "make bench"; it needs the
# oracle (make oracle) for the statsig-node side and builds nothing itself.

bench: oracle
