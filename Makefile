# infra — build, test, run, bench and install.
#
#   make              build build/infrad, build/infractl and build/libinfra.a
#   make test         install what is missing (as root), build, run every test
#   make test SAN=1   the same under AddressSanitizer and UBSan (build-san/)
#   make valgrind     the unit tests and the integration suite under valgrind
#   make fuzz         the libFuzzer targets in tests/fuzz/, FUZZ_SECONDS each
#   make run          the whole local stack in the foreground (Ctrl-C stops it)
#   make bench        the benchmarks, each against its same-run reference
#   make install PREFIX=/usr/local

PREFIX  ?= /usr/local
SAN     ?= 0
CC      ?= cc

BUILD   := $(if $(filter 1,$(SAN)),build-san,build)
PKGS    := json-c libjwt libmemcached libcurl openssl

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
PG_INC     := $(shell pg_config --includedir 2>/dev/null)


,        := ,
OPT      := $(if $(filter 1,$(SAN)),-O1 -fno-omit-frame-pointer -fsanitize=address$(,)undefined -fno-sanitize-recover=undefined,-O2)
CFLAGS  ?= -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -pthread $(OPT) -I. -Ilib -Ihandlers -I$(PG_INC) $(PKG_CFLAGS) \
           -MMD -MP -DINFRA_VERSION='"$(VERSION)"' -DINFRA_BUILD='"$(BUILD_ID)"'
LDFLAGS += -pthread $(if $(filter 1,$(SAN)),-fsanitize=address$(,)undefined,)
LDLIBS  := -lfcgi -lpq $(PKG_LIBS) -lm

VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
BUILD_ID := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

LIB_SRC      := $(wildcard lib/*.c)
HANDLERS_SRC := $(wildcard handlers/*.c)
DAEMON_SRC   := $(wildcard fcgi/*.c)
CTL_SRC      := $(wildcard fcgi/ctl/*.c)
UNIT_SRC     := $(wildcard tests/unit/test_*.c)
UNIT_SUPPORT := $(filter-out tests/unit/test_%,$(wildcard tests/unit/*.c))

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))

LIBINFRA     := $(BUILD)/libinfra.a
LIBHANDLERS  := $(BUILD)/libhandlers.a
INFRAD       := $(BUILD)/infrad
INFRACTL     := $(BUILD)/infractl
UNIT_BINS    := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

.PHONY: all deps test check unit integration browser valgrind fuzz run bench install clean

all: $(INFRAD) $(INFRACTL)

# V=1 shows the full commands.
Q := $(if $(filter 1,$(V)),,@)
say = $(if $(filter 1,$(V)),,@printf '  %-6s %s\n' $(1) $(2);)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(CFLAGS) -c -o $@ $<

$(LIBINFRA): $(call obj,$(LIB_SRC))
	@rm -f $@
	$(call say,AR,$@)ar rcs $@ $^

$(LIBHANDLERS): $(call obj,$(HANDLERS_SRC))
	@rm -f $@
	$(call say,AR,$@)ar rcs $@ $^

$(INFRAD): $(call obj,$(DAEMON_SRC)) $(LIBHANDLERS) $(LIBINFRA)
	$(call say,LINK,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(INFRACTL): $(call obj,$(CTL_SRC)) $(LIBINFRA)
	$(call say,LINK,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(call obj,$(UNIT_SUPPORT)) $(LIBHANDLERS) $(LIBINFRA)
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcunit

# make test: install what is missing, then build and run everything in a
# fresh make (so pkg-config is asked again after the install).
test:
	@scripts/setup
	@$(MAKE) --no-print-directory check

check: all $(UNIT_BINS)
	@tests/run --build $(BUILD)

unit: all $(UNIT_BINS)
	@tests/run --build $(BUILD) --only unit

integration: all
	@tests/run --build $(BUILD) --only integration

browser: all
	@tests/run --build $(BUILD) --only browser

valgrind: all $(UNIT_BINS)
	@tests/run --build $(BUILD) --valgrind

# Each tests/fuzz/fuzz_*.c under libFuzzer for FUZZ_SECONDS (default 30).
fuzz:
	@tests/fuzz/run

run:
	@scripts/setup
	@$(MAKE) --no-print-directory all
	@exec scripts/stack run

bench:
	@scripts/setup --bench
	@$(MAKE) --no-print-directory all
	@scripts/bench/run

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/infra
	install -m 755 $(INFRAD) $(INFRACTL) $(DESTDIR)$(PREFIX)/bin/
	cp -R migrations nginx $(DESTDIR)$(PREFIX)/share/infra/

clean:
	rm -rf build build-san build-fuzz

# Keep the objects of the test programs (make would delete them as
# intermediate files and rebuild them every time).
.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
