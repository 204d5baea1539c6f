# oic_auth: nginx dynamic module with a C++ core.
#   make            build ngx_http_oic_auth_module.so against Debian's nginx-dev
#   make NGINX_SRC=/path/to/nginx-x.y.z   build against an upstream nginx tree
#   make test       install missing Debian packages, build, run unit + integration tests
#   make run        install, build, start nginx + mock IAM + mock OIC, show the flow
#   make unit       cmocka unit tests of the core only

SHELL       := /bin/bash
TOP         := $(CURDIR)
BUILD       := $(TOP)/build
MODULE      := $(BUILD)/ngx_http_oic_auth_module.so
NGINX_BIN   ?= /usr/sbin/nginx
DEB_NGX_SRC := /usr/share/nginx/src
NGINX_SRC   ?=

CXX         ?= g++
CC          ?= gcc
CXXFLAGS    ?= -O2 -g
CFLAGS      ?= -O2 -g
WARN        := -Wall -Wextra
CORE_SRCS   := $(filter-out src/ngx_%,$(wildcard src/*.cpp))
CORE_OBJS   := $(patsubst src/%.cpp,$(BUILD)/core/%.o,$(CORE_SRCS))
UNIT_SRCS   := $(wildcard t/unit/test_*.c)
UNIT_BINS   := $(patsubst t/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))
LIBS        := -lcrypto -ljansson -lstdc++

.PHONY: all module unit test integration run stop deps certs clean asan

all: module

# ---- the core and its unit tests ----

$(BUILD)/core/%.o: src/%.cpp $(wildcard src/*.hpp) $(wildcard include/*.h)
	@mkdir -p $(dir $@)
	$(CXX) -std=c++17 $(CXXFLAGS) $(WARN) -fPIC -Iinclude -c $< -o $@

$(BUILD)/unit/%: t/unit/%.c $(CORE_OBJS) $(wildcard t/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -Iinclude -It/unit $< $(CORE_OBJS) -o $@ -lcmocka $(LIBS)

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

clean:
	rm -rf $(BUILD) t/servroot

# ---- the nginx module ----

MODULE_SRCS := config ngx_http_oic_auth_module.c $(wildcard src/*.c src/*.h src/*.cpp src/*.hpp include/*.h)

ifeq ($(NGINX_SRC),)
# Debian's nginx-dev: the exact configure flags of /usr/sbin/nginx
NGX_BUILD := $(BUILD)/nginx
$(NGX_BUILD)/.configured: config src
	@test -d $(DEB_NGX_SRC) || { echo "nginx-dev is not installed: apt-get install nginx-dev (or: make deps)"; exit 1; }
	rm -rf $(NGX_BUILD) && mkdir -p $(BUILD) && cp -r $(DEB_NGX_SRC) $(NGX_BUILD)
	cd $(NGX_BUILD) && . ./conf_flags && ./configure "$${NGX_CONF_FLAGS[@]}" --add-dynamic-module=$(TOP) > configure.log
	touch $@
else
# an upstream nginx source tree, the standard way
NGX_BUILD := $(BUILD)/nginx-upstream
$(NGX_BUILD)/.configured: config src
	mkdir -p $(NGX_BUILD)
	cd $(NGINX_SRC) && ./configure --with-compat --builddir=$(NGX_BUILD) --add-dynamic-module=$(TOP) > $(NGX_BUILD)/configure.log
	touch $@
endif

$(MODULE): $(NGX_BUILD)/.configured $(MODULE_SRCS)
ifeq ($(NGINX_SRC),)
	$(MAKE) -C $(NGX_BUILD) -f objs/Makefile modules
	cp $(NGX_BUILD)/objs/ngx_http_oic_auth_module.so $@.tmp && mv -f $@.tmp $@
else
	$(MAKE) -C $(NGINX_SRC) -f $(NGX_BUILD)/Makefile modules
	cp $(NGX_BUILD)/ngx_http_oic_auth_module.so $@.tmp && mv -f $@.tmp $@
endif

module: $(MODULE)

# ---- dependencies (Debian 12 packages) ----

DEB_PKGS := build-essential nginx nginx-dev libcurl4-openssl-dev libjansson-dev \
            libcmocka-dev libssl-dev openssl nodejs curl perl \
            libtest-base-perl libtext-diff-perl libtest-longstring-perl \
            liblist-moreutils-perl libhttp-message-perl nghttp2-client \
            debhelper dpkg-dev libhiredis-dev redis-server

deps:
	@missing=$$(for p in $(DEB_PKGS); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	  done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# ---- tests ----

CERTS := $(BUILD)/certs

certs: $(CERTS)/ca.pem
$(CERTS)/ca.pem: t/mock/gen-certs.sh
	bash t/mock/gen-certs.sh $(CERTS)

# Our Test::Nginx-compatible runner (t/lib) unless the real Test::Nginx is installed.
PROVE_INC := $(shell perl -MTest::Nginx::Socket -e 1 2>/dev/null || echo "-I t/lib")

# $(call run_integration,nginx binary,module): the scripts, then the .t files;
# all of them run, the status says whether one failed
run_integration = export NGINX_BIN=$(1) TEST_NGINX_BINARY=$(1) TEST_NGINX_MODULE=$(2); rc=0; \
	for s in conf-examples reload http2 limit-reload worker-death fleet-reload; do bash t/$$s.sh || rc=1; done; \
	prove $(PROVE_INC) -r t/*.t t/selftest/*.t || rc=1; exit $$rc

integration: $(MODULE) certs
	rc=0; bash t/deb.sh || rc=1; \
	( $(call run_integration,$(NGINX_BIN),$(MODULE)) ) || rc=1; exit $$rc

test: deps
	$(MAKE) unit
	$(MAKE) integration

# ---- Debian package: libnginx-mod-http-oic-auth (debian/, dh-sequence-nginx) ----
#   make deb    build/deb/libnginx-mod-http-oic-auth_<version>_<arch>.deb
# The tree (without build/ and .git) is copied to build/deb/ and built there
# with dpkg-buildpackage, so the repo stays clean; build/deb/build.log keeps
# the build's output.
DEB_DIR  := $(BUILD)/deb
DEB_TREE := $(DEB_DIR)/libnginx-mod-http-oic-auth
DEB_SRCS := $(MODULE_SRCS) README.md $(wildcard conf/*.conf debian/* debian/*/*)

.PHONY: deb
deb: $(DEB_DIR)/.built
$(DEB_DIR)/.built: $(DEB_SRCS)
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_TREE)
	tar -C $(TOP) --exclude=./build --exclude=./.git --exclude=./t/servroot -cf - . | tar -C $(DEB_TREE) -xf -
	cd $(DEB_TREE) && dpkg-buildpackage -us -uc -b >$(DEB_DIR)/build.log 2>&1 || \
	  { tail -n 60 $(DEB_DIR)/build.log; echo "dpkg-buildpackage failed: see $(DEB_DIR)/build.log"; exit 1; }
	@ls $(DEB_DIR)/*.deb
	touch $@

# ---- demo ----

run: deps
	$(MAKE) module certs
	bash t/demo.sh

stop:
	bash t/demo-stop.sh

.SECONDARY:

# ---- sanitizers: ASan + UBSan (clang), for the unit tests and for an nginx ----
# ---- built from the upstream tree, with every report collected ----
#   make unit-san      the unit tests under ASan + UBSan, leak detection on
#   make asan          unit-san, then the integration suite (t/*.sh, t/*.t)
#                      against build/san/nginx + its module; fails on any report
#   make asan NGINX_SRC=/path/to/nginx-x.y.z   use that tree instead of Debian's
# clang, not gcc: gcc 12's UBSan ignores log_path and writes to nginx's stderr
# (the error.log of whichever test runs); clang's runtime writes every ASan and
# UBSan report of every process (master, workers, nginx -t, the t/*.sh nginxes)
# to build/san/reports/san.<pid>; t/san-check.pl fails the run on any report
# but those t/sanitizer.supp lists as nginx's own. nginx keeps going after a
# UBSan report (so that one run shows them all). The unit tests stop at the
# first report (-fno-sanitize-recover=all).
SAN_CC      ?= clang-14
# Debian 12: clang 14, its libFuzzer and sanitizer runtimes (libclang-rt-14-dev),
# llvm-symbolizer for the reports' stacks (llvm-14), valgrind (make valgrind)
SAN_DEB_PKGS := clang-14 libclang-rt-14-dev llvm-14 valgrind
DEB_PKGS    += $(SAN_DEB_PKGS)
export ASAN_SYMBOLIZER_PATH ?= /usr/lib/llvm-14/bin/llvm-symbolizer
SAN_DIR     := $(BUILD)/san
SAN_REPORTS := $(SAN_DIR)/reports
SAN_NGX_FLAGS := -fsanitize=address,undefined -fsanitize-address-use-odr-indicator \
                 -fno-omit-frame-pointer -O1 -g
SAN_FLAGS   := $(SAN_NGX_FLAGS) -fno-sanitize-recover=all
# linking with the C driver: bring UBSan's C++ handlers (function, vptr) in too
SAN_LDFLAGS := $(filter -fsanitize=%,$(SAN_NGX_FLAGS)) -fsanitize-link-c++-runtime -lstdc++
# symbolize=0: a worker that runs llvm-symbolizer itself can hang on its pipe;
# t/san-check.pl symbolizes the reports afterwards
SAN_OPTS    := ASAN_OPTIONS=detect_leaks=0:detect_odr_violation=0:symbolize=0:log_path=$(SAN_REPORTS)/san \
               UBSAN_OPTIONS=print_stacktrace=1:symbolize=0:log_path=$(SAN_REPORTS)/san
# the built-in modules of Debian's /usr/sbin/nginx (its conf_flags), so that
# every test's configuration loads
SAN_NGX_WITH := --with-pcre-jit --with-http_ssl_module --with-http_stub_status_module \
               --with-http_realip_module --with-http_auth_request_module \
               --with-http_v2_module --with-http_dav_module --with-http_slice_module \
               --with-threads
SAN_NGINX   := $(SAN_DIR)/nginx/objs/nginx
SAN_MODULE  := $(SAN_DIR)/nginx/objs/ngx_http_oic_auth_module.so
SAN_UNIT_BINS := $(patsubst t/unit/%.c,$(SAN_DIR)/unit/%,$(UNIT_SRCS))
SAN_CORE_OBJS := $(patsubst src/%.cpp,$(SAN_DIR)/core/%.o,$(CORE_SRCS))
# the upstream nginx release Debian's nginx is built from: its source package
# (a deb-src entry of its own under /etc/apt/sources.list.d/ when there is none)
UPSTREAM_SRC  := $(BUILD)/src/nginx
DEB_SRC_LIST  := /etc/apt/sources.list.d/oic-auth-deb-src.sources

.PHONY: unit-san unit-san-build asan nginx-src san-nginx

$(SAN_DIR)/core/%.o: src/%.cpp $(wildcard src/*.hpp) $(wildcard include/*.h)
	@mkdir -p $(dir $@)
	$(SAN_CC) -std=c++17 $(SAN_FLAGS) $(WARN) -Iinclude -c $< -o $@

$(SAN_DIR)/unit/%: t/unit/%.c $(SAN_CORE_OBJS) $(wildcard t/unit/*.h)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(SAN_FLAGS) $(WARN) -Iinclude -It/unit -c $< -o $@.o
	$(SAN_CC) $(SAN_LDFLAGS) -fno-sanitize-recover=all $@.o $(SAN_CORE_OBJS) -o $@ -lcmocka $(LIBS)

unit-san-build: $(SAN_UNIT_BINS)

unit-san: $(SAN_UNIT_BINS)
	@set -e; for t in $(SAN_UNIT_BINS); do echo "== $$t"; \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 $$t; \
	done

$(UPSTREAM_SRC)/configure:
	@SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	if [ -z "$$(apt-cache showsrc nginx 2>/dev/null)" ]; then \
	  echo "adding a deb-src entry: $(DEB_SRC_LIST)"; \
	  printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
	    | $$SUDO tee $(DEB_SRC_LIST) >/dev/null && $$SUDO apt-get update -qq; \
	fi
	rm -rf $(BUILD)/src && mkdir -p $(BUILD)/src
	cd $(BUILD)/src && apt-get source --download-only -qq nginx 2>&1 | grep -v unsandboxed || true
	cd $(BUILD)/src && tar xzf nginx_*.orig.tar.gz && mv nginx-[0-9]* nginx
	@test -x $@

nginx-src: $(UPSTREAM_SRC)/configure

SAN_NGX_SRC := $(if $(NGINX_SRC),$(NGINX_SRC),$(UPSTREAM_SRC))

# nginx compiles the module's .cpp files with $(CC) $(CFLAGS): clang 14 needs
# -std=c++17 for those (gcc 12 has it by default), and C files refuse it, so
# CC is a two-line wrapper.
$(SAN_DIR)/nginx/.configured: config src $(if $(NGINX_SRC),,$(UPSTREAM_SRC)/configure)
	rm -rf $(SAN_DIR)/nginx && mkdir -p $(SAN_DIR) && cp -r $(SAN_NGX_SRC) $(SAN_DIR)/nginx
	printf '#!/bin/sh\ncase " $$* " in *.cpp\ *) exec $(SAN_CC) -std=c++17 "$$@";; esac\nexec $(SAN_CC) "$$@"\n' >$(SAN_DIR)/cc
	chmod +x $(SAN_DIR)/cc
	cd $(SAN_DIR)/nginx && ./configure --with-cc=$(SAN_DIR)/cc --with-compat --with-debug \
	  $(SAN_NGX_WITH) \
	  --add-dynamic-module=$(TOP) \
	  --with-cc-opt='$(SAN_NGX_FLAGS)' --with-ld-opt='$(SAN_LDFLAGS)' > configure.log
	touch $@

$(SAN_NGINX) $(SAN_MODULE): $(SAN_DIR)/nginx/.configured $(MODULE_SRCS)
	$(MAKE) -C $(SAN_DIR)/nginx -f objs/Makefile binary modules

san-nginx: $(SAN_NGINX) $(SAN_MODULE)

asan: unit-san san-nginx certs
	rm -rf $(SAN_REPORTS) && mkdir -p $(SAN_REPORTS)
	@# workers of the t/*.sh nginxes run as nobody: a report they cannot
	@# write is lost and the worker just exits
	chmod 1777 $(SAN_REPORTS)
	export $(SAN_OPTS); \
	  ( $(call run_integration,$(SAN_NGINX),$(SAN_MODULE)) ); rc=$$?; \
	  perl t/san-check.pl $(SAN_REPORTS) t/sanitizer.supp || rc=1; exit $$rc

# ---- fuzzing: libFuzzer targets of the core's C API (clang, ASan + UBSan) ----
#   make fuzz                  each target for FUZZ_SECONDS, fails on any finding
#   make fuzz FUZZ_TARGETS=jwt FUZZ_SECONDS=600
#   make fuzz-seeds            regenerate fuzz/fuzz_keys.h and the signed seeds
# New inputs go to build/fuzz/corpus/<target> (the seeds in fuzz/corpus stay
# as they are); a finding is saved in build/fuzz/artifacts/<target>/.
FUZZ_CC      ?= clang-14
FUZZ_CXX     ?= clang++-14
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= basic bearer jwt jwks token
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_FLAGS   := -g -O1 -fno-omit-frame-pointer \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_OBJS    := $(patsubst src/%.cpp,$(FUZZ_DIR)/core/%.o,$(CORE_SRCS))
FUZZ_BINS    := $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_TARGETS))
# longest input tried: past each parser's own size limit, not much further
FUZZ_MAXLEN_basic  := 6000
FUZZ_MAXLEN_bearer := 512
FUZZ_MAXLEN_jwt    := 17000
FUZZ_MAXLEN_jwks   := 16384
FUZZ_MAXLEN_token  := 8192
FUZZ_PLAN    := $(foreach t,$(FUZZ_TARGETS),$(t):$(or $(FUZZ_MAXLEN_$(t)),4096))

.PHONY: fuzz fuzz-build fuzz-seeds

$(FUZZ_DIR)/core/%.o: src/%.cpp $(wildcard src/*.hpp) $(wildcard include/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CXX) -std=c++17 $(FUZZ_FLAGS) $(WARN) -Iinclude -c $< -o $@

$(FUZZ_DIR)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h fuzz/fuzz_keys.h $(FUZZ_OBJS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(WARN) -Werror=implicit-function-declaration -Iinclude -Ifuzz -c $< -o $@.o
	$(FUZZ_CXX) $(FUZZ_FLAGS) $@.o $(FUZZ_OBJS) -o $@ -lcrypto -ljansson

fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	@set -e; for p in $(FUZZ_PLAN); do t=$${p%%:*}; \
	  mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/artifacts/$$t; \
	  dict=; [ -f fuzz/dict/$$t.dict ] && dict=-dict=fuzz/dict/$$t.dict; \
	  echo "== fuzz_$$t: $(FUZZ_SECONDS) s (log: $(FUZZ_DIR)/fuzz_$$t.log)"; \
	  if ! $(FUZZ_DIR)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	      -rss_limit_mb=2048 -max_len=$${p#*:} \
	      -print_final_stats=1 $$dict \
	      -artifact_prefix=$(FUZZ_DIR)/artifacts/$$t/ \
	      $(FUZZ_DIR)/corpus/$$t fuzz/corpus/$$t >$(FUZZ_DIR)/fuzz_$$t.log 2>&1; then \
	    tail -n 60 $(FUZZ_DIR)/fuzz_$$t.log; \
	    echo "fuzz_$$t: FINDING, input saved in $(FUZZ_DIR)/artifacts/$$t/"; exit 1; \
	  fi; \
	  grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' $(FUZZ_DIR)/fuzz_$$t.log | tr '\n' ' '; \
	  echo "corpus: $$(ls $(FUZZ_DIR)/corpus/$$t | wc -l) new + $$(ls fuzz/corpus/$$t | wc -l) seeds"; \
	done; echo "fuzz: no findings"

fuzz-seeds: fuzz/gen_seeds.c t/unit/jwt_fixture.h
	@mkdir -p $(FUZZ_DIR)
	$(CC) $(CFLAGS) -It/unit fuzz/gen_seeds.c -o $(FUZZ_DIR)/gen_seeds -lcrypto -ljansson
	rm -rf fuzz/corpus && $(FUZZ_DIR)/gen_seeds fuzz

# ---- valgrind: nginx + the module under memcheck across reloads ----
#   make valgrind   t/valgrind.sh: master + 2 workers, the three modes, three
#                   reloads; fails on invalid accesses and definite leaks
#                   (valgrind.suppress: nginx's own, see the comments there)
# The .t files can run under valgrind too (slow): TEST_NGINX_USE_VALGRIND=1
#   prove -I t/lib t/basic.t   (as with OpenResty's Test::Nginx)
.PHONY: valgrind
valgrind: $(MODULE) certs
	NGINX_BIN=$(NGINX_BIN) TEST_NGINX_MODULE=$(MODULE) bash t/valgrind.sh
