# ngx_http_statsig_module
#
#   make deps      install missing system packages (apt-get), idempotent
#   make           build the module (.so), the core library, statsig-eval
#   make test      build everything and run unit + integration tests
#   make asan      build the module with AddressSanitizer + UBSan
#   make demo      run nginx in the foreground on 127.0.0.1:8080
#   make bench     run bench/*.sh in order
#   make oracle    copy ../shared/oracle to build/oracle and npm ci there
#   make clients   npm ci of t/clients (vendor client libraries) in build/clients
#   make clean
#
# NGINX_SRC=/path/to/nginx-x.y.z builds against another nginx source tree
# (default: Debian's nginx-dev in /usr/share/nginx/src); such a tree is
# configured with --with-compat --with-threads (NGINX_CONF_EXTRA adds more).
# SKIP_DEPS=1 skips the apt-get step (other distros, docker/Dockerfile).

SHELL := /bin/bash
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:

# Hooks for mk/*.mk fragments (e.g. mk/data.mk):
#   DATA_GEN_SRCS       generated C files compiled into the core and module
#   DEPS_EXTRA_TARGETS  extra targets "make deps" runs after the packages
DATA_GEN_SRCS :=
DEPS_EXTRA_TARGETS :=

-include $(sort $(wildcard mk/*.mk))

# a data-deps target in mk/*.mk is run by "make deps" even if unhooked
ifneq ($(shell grep -ls '^data-deps *:' mk/*.mk 2>/dev/null),)
DEPS_EXTRA_TARGETS += data-deps
endif
DEPS_EXTRA_TARGETS := $(sort $(DEPS_EXTRA_TARGETS))

B := build
NGINX_SRC ?= /usr/share/nginx/src
NGINX_BIN ?= /usr/sbin/nginx
NGINX_CONF_EXTRA ?=
PROVE_JOBS ?= 2
# integration suites run by "make test": release module, ASan module
TEST_BUILDS ?= release asan

MODULE := ngx_http_statsig_module
MODULE_SO := $(B)/nginx/$(MODULE).so
ASAN_SO := $(B)/nginx-asan/$(MODULE).so
LIBASAN := $(realpath $(shell $(CC) -print-file-name=libasan.so.8 2>/dev/null))

APT_PACKAGES := nginx nginx-dev libcurl4-openssl-dev libjansson-dev \
    libssl-dev libpcre2-dev zlib1g-dev perl wrk clang libclang-rt-14-dev \
    valgrind ca-certificates gcc make curl chromium
# t/38-events-kill-inside.t stops a worker at a function to kill it there
APT_PACKAGES += gdb
# statsig_api's zstd request bodies (the zstd tool: the tests' bodies)
APT_PACKAGES += libzstd-dev zstd
ifeq ($(shell command -v node),)
APT_PACKAGES += nodejs npm
endif

# ---------------------------------------------------------------- core ----

CORE_SRCS := $(wildcard src/core/*.c) $(DATA_GEN_SRCS)
CORE_HDRS := $(wildcard src/core/*.h)
CORE_CFLAGS := -std=c99 -D_DEFAULT_SOURCE -O2 -g -W -Wall -Wextra \
    -Wpointer-arith -Wno-unused-parameter -Werror -fPIC -Isrc/core \
    -I$(B)/gen
CORE_LIBS := -ljansson -lcrypto -lpcre2-8 -lz -lm
CORE_LIB := $(B)/libstatsigcore.a

core_obj = $(B)/core/$(subst /,__,$(basename $(1))).o
CORE_OBJS := $(foreach s,$(CORE_SRCS),$(call core_obj,$(s)))

CLI_SRCS := $(wildcard src/cli/*.c)
CLI_BIN := $(if $(CLI_SRCS),$(B)/statsig-eval)

UNIT_SRCS := $(wildcard t/unit/*.c)
UNIT_BINS := $(patsubst t/unit/%.c,$(B)/unit/%,$(UNIT_SRCS))

# ------------------------------------------------------------- targets ----

.PHONY: all deps deps-system module asan core cli unit test test-unit \
    test-integration style check-config oracle clients demo bench clean FORCE

all: deps module core cli

deps: deps-system $(DEPS_EXTRA_TARGETS)

$(DEPS_EXTRA_TARGETS): deps-system

# SKIP_DEPS=1: another distro or a container that brings its own packages
deps-system:
	@[ -z "$(SKIP_DEPS)" ] || exit 0; \
	missing=; \
	for p in $(APT_PACKAGES); do \
	    s=$$(dpkg-query -W -f='$${db:Status-Status}' $$p 2>/dev/null); \
	    [ "$$s" = installed ] || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "deps: installing$$missing"; \
	    sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    $$sudo apt-get update -qq && \
	    $$sudo apt-get install -y -qq --no-install-recommends $$missing \
	        >/dev/null || exit 1; \
	fi

# ------------------------------------------------------------ the .so ----
#
# nginx's configure fixes the list of sources, so it is re-run when that
# list (or NGINX_SRC, or config) changes: $(B)/<dir>/sources is the stamp.

MODULE_SOURCES = $(NGINX_SRC) $(sort $(wildcard src/ngx/*.[ch] \
    src/core/*.[ch] $(B)/gen/*.[ch]) $(DATA_GEN_SRCS))

DPKG_CFLAGS := $(shell dpkg-buildflags --get CFLAGS 2>/dev/null) \
    $(shell dpkg-buildflags --get CPPFLAGS 2>/dev/null)
DPKG_LDFLAGS := $(shell dpkg-buildflags --get LDFLAGS 2>/dev/null)

RELEASE_CC_OPT := $(or $(strip $(DPKG_CFLAGS)),-g -O2) -fPIC
RELEASE_LD_OPT := $(DPKG_LDFLAGS) -fPIC
ASAN_FLAGS := -fsanitize=address,undefined
ASAN_CC_OPT := -g -O1 $(ASAN_FLAGS) -fno-omit-frame-pointer -fPIC
ASAN_LD_OPT := $(ASAN_FLAGS) -fPIC

# $(1) build dir, $(2) cc-opt, $(3) ld-opt
define nginx_configure
	@echo "configure: $(NGINX_SRC) -> $(1)"
	@mkdir -p $(1)
	@cd $(NGINX_SRC) && \
	if [ -f conf_flags ]; then . ./conf_flags; \
	else NGX_CONF_FLAGS=(--with-compat --with-threads); fi; \
	./configure "$${NGX_CONF_FLAGS[@]}" $(NGINX_CONF_EXTRA) \
	    --with-cc-opt="$(2)" --with-ld-opt="$(3)" \
	    --add-dynamic-module=$(CURDIR) --builddir=$(CURDIR)/$(1) \
	    > $(CURDIR)/$(1)/configure.log 2>&1 \
	|| { tail -n 20 $(CURDIR)/$(1)/configure.log; \
	     rm -f $(CURDIR)/$(1)/Makefile; exit 1; }
endef

$(B)/nginx/sources $(B)/nginx-asan/sources: FORCE | deps check-config \
    $(DATA_GEN_SRCS)
	@mkdir -p $(@D)
	@echo '$(MODULE_SOURCES)' > $@.new
	@cmp -s $@.new $@ && rm -f $@.new || mv -f $@.new $@

$(B)/nginx/Makefile: config $(B)/nginx/sources
	$(call nginx_configure,$(B)/nginx,$(RELEASE_CC_OPT),$(RELEASE_LD_OPT))

$(B)/nginx-asan/Makefile: config $(B)/nginx-asan/sources
	$(call nginx_configure,$(B)/nginx-asan,$(ASAN_CC_OPT),$(ASAN_LD_OPT))

module: deps $(B)/nginx/Makefile
	@$(MAKE) --no-print-directory -C $(NGINX_SRC) \
	    -f $(CURDIR)/$(B)/nginx/Makefile modules
	@echo "built $(MODULE_SO)"

asan: deps $(B)/nginx-asan/Makefile
	@$(MAKE) --no-print-directory -C $(NGINX_SRC) \
	    -f $(CURDIR)/$(B)/nginx-asan/Makefile modules
	@echo "built $(ASAN_SO) (run with LD_PRELOAD=$(LIBASAN))"

# ------------------------------------------------- core, cli, unit tests ----

core: deps $(CORE_LIB)

define core_obj_rule
$(call core_obj,$(1)): $(1) | $(B)/core deps $(DATA_GEN_SRCS)
	$$(CC) $$(CORE_CFLAGS) -MMD -MP -c -o $$@ $$<
endef
$(foreach s,$(CORE_SRCS),$(eval $(call core_obj_rule,$(s))))

-include $(CORE_OBJS:.o=.d)

$(B)/core $(B)/unit:
	@mkdir -p $@

$(CORE_LIB): $(CORE_OBJS) | $(B)/core
	@rm -f $@
	$(AR) rcs $@ $(CORE_OBJS)

cli: deps $(CLI_BIN)

$(B)/statsig-eval: $(CLI_SRCS) $(CORE_LIB) $(wildcard src/cli/*.h) \
    $(CORE_HDRS)
	$(CC) $(CORE_CFLAGS) -Isrc/cli -o $@ $(CLI_SRCS) $(CORE_LIB) \
	    $(CORE_LIBS)

unit: deps $(UNIT_BINS)

$(B)/unit/%: t/unit/%.c $(wildcard t/unit/*.h) $(CORE_LIB) $(CORE_HDRS) | $(B)/unit
	$(CC) $(CORE_CFLAGS) -It/unit -o $@ $< $(CORE_LIB) $(CORE_LIBS)

# ---------------------------------------------------------------- tests ----

test: check-config all asan unit oracle clients style
	@$(MAKE) --no-print-directory test-unit test-integration

test-unit:
	@if [ -n "$(UNIT_BINS)" ]; then \
	    echo "== unit tests (src/core)"; \
	    prove --exec '' $(UNIT_BINS); \
	else echo "== unit tests: none yet"; fi

test-integration:
	@set -e; for b in $(TEST_BUILDS); do \
	    case $$b in \
	    release) echo "== integration tests: $(MODULE_SO)"; \
	        STATSIG_MODULE=$(CURDIR)/$(MODULE_SO) \
	            prove -j$(PROVE_JOBS) -r t ;; \
	    asan) echo "== integration tests (ASan): $(ASAN_SO)"; \
	        STATSIG_MODULE=$(CURDIR)/$(ASAN_SO) \
	        STATSIG_PRELOAD=$(LIBASAN) \
	            prove -j$(PROVE_JOBS) -r t ;; \
	    *) echo "unknown TEST_BUILDS entry $$b"; exit 1 ;; \
	    esac; \
	done

# config lists the module's .c files one a line (ngx_statsig_core_srcs,
# ngx_statsig_glue_srcs): each src/core/*.c and src/ngx/*.c must be there,
# and nothing else under src/; run before every configure of the .so
check-config:
	@listed=$$(sed -n 's|^ *\(src/[^ ]*\.c\) *$$|\1|p' config | sort); \
	present=$$(ls src/core/*.c src/ngx/*.c 2>/dev/null | sort); \
	missing=$$(comm -13 <(echo "$$listed" | uniq) <(echo "$$present")); \
	absent=$$(comm -23 <(echo "$$listed" | uniq) <(echo "$$present")); \
	dup=$$(echo "$$listed" | uniq -d); \
	[ -z "$$missing$$absent$$dup" ] && exit 0; \
	echo "check-config: config's source lists do not match src/:"; \
	for f in $$missing; do echo "  $$f: not in config (add a line:" \
	    "ngx_statsig_$$(case $$f in src/core/*) echo core;; \
	    *) echo glue;; esac)_srcs)"; done; \
	for f in $$absent; do echo "  $$f: in config, no such file"; done; \
	for f in $$dup; do echo "  $$f: listed twice in config"; done; \
	exit 1

# nginx style basics for the glue: 80 columns, no tabs, no trailing spaces
style:
	@bad=$$(grep -nE '.{81,}|	| +$$' src/ngx/*.[ch] /dev/null || true); \
	if [ -n "$$bad" ]; then echo "style errors:"; echo "$$bad"; exit 1; fi

# $(1) a directory of build/ holding a package.json and its lock file:
# "npm ci" there, again only when the lock file changed
define npm_ci
	if cmp -s $(B)/$(1)/package-lock.json $(B)/$(1)/.npm-done; then \
	    echo "$(1): $(B)/$(1) up to date"; \
	else \
	    echo "$(1): npm ci in $(B)/$(1)"; \
	    (cd $(B)/$(1) && npm ci --no-audit --no-fund --loglevel=error) \
	    && cp $(B)/$(1)/package-lock.json $(B)/$(1)/.npm-done; \
	fi
endef

oracle: deps
	@if [ ! -d ../shared/oracle ]; then \
	    echo "oracle: ../shared/oracle not found, skipping"; exit 0; fi; \
	mkdir -p $(B)/oracle && chmod -R u+w $(B)/oracle && \
	tar -C ../shared/oracle --exclude=./node_modules -cf - . \
	    | tar -C $(B)/oracle -xf - && chmod -R u+w $(B)/oracle && \
	$(call npm_ci,oracle)

# the vendors' client libraries the tests drive against the module
clients: deps
	@mkdir -p $(B)/clients && \
	cp t/clients/package.json t/clients/package-lock.json $(B)/clients/ && \
	$(call npm_ci,clients)

# ----------------------------------------------------------- demo, bench ----

demo: module
	@mkdir -p $(B)/demo/logs
	@echo "nginx on http://127.0.0.1:8080 (conf-examples/demo.conf), Ctrl-C stops it. Try:"
	@echo "  curl -i http://127.0.0.1:8080/"
	@echo "  curl -i -H 'X-User-Id: alice' -H 'X-Email: alice@example.com' http://127.0.0.1:8080/checkout"
	@echo "  curl -i -H 'X-Email: alice@example.com' http://127.0.0.1:8080/app   # beta backend"
	@echo "  curl -i -H 'X-Country: US' http://127.0.0.1:8080/app                # stable backend"
	@echo "  curl -i 'http://127.0.0.1:8080/statsig/status'"
	@echo "  curl -s 'http://127.0.0.1:8080/statsig/status?format=prometheus'"
	@echo "  curl -s -H 'statsig-api-key: demo-local-api-key' -d '{\"user\":{\"userID\":\"alice\",\"email\":\"alice@example.com\"},\"gateName\":\"beta_users\"}' http://127.0.0.1:8080/statsig/v1/check_gate"
	@echo "  curl -s -H 'Authorization: Bearer demo-local-api-key' -H 'Content-Type: application/json' -d '{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}' http://127.0.0.1:8080/statsig/mcp   # MCP"
	@echo "one file per job (routing, canary, A/B, headers, cache key, prefetch):"
	@echo "  conf-examples/*.conf, run one with CONF=conf-examples/canary.conf"
	@exec $(NGINX_BIN) -p $(CURDIR)/$(B)/demo/ \
	    -c $(CURDIR)/$(or $(CONF),conf-examples/demo.conf) -e stderr \
	    -g 'load_module $(CURDIR)/$(MODULE_SO); daemon off; pid $(CURDIR)/$(B)/demo/nginx.pid;'

# bench/lib.sh holds the scripts' shared helpers: sourced, not run
bench: all
	@set -e; for f in $(sort $(filter-out bench/lib.sh,$(wildcard bench/*.sh))); do \
	    echo "== $$f"; STATSIG_MODULE=$(CURDIR)/$(MODULE_SO) bash $$f; \
	done

clean:
	rm -rf $(B)

FORCE:
