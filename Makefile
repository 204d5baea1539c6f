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

.PHONY: all module unit test integration run deps certs clean

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
