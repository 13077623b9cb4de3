# rtalloc: plain Makefile. `make` builds everything into build/.
#   make check             unit + integration tests (integration needs root)
#   make check SANITIZE=1  the same under ASan+UBSan
#   make WERROR=1          warnings are errors (CI)
#   make V=1               show the commands
PREFIX     ?= /usr
SBINDIR    ?= $(PREFIX)/sbin
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib/rtalloc
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
DESTDIR    ?=
BUILD      ?= build

CC      ?= cc
CFLAGS  ?= -O2 -g
PKGS    := json-c libmnl sqlite3
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
JSON_LIBS  := $(shell pkg-config --libs json-c 2>/dev/null || echo -ljson-c)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -ljson-c -lmnl -lsqlite3)

# Only the layers below the programs are on the include path (a program's
# own headers are found next to its sources): a program folder that
# includes another program's header does not build.
XCFLAGS := -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wformat=2 -MMD -MP \
	-Icommon -Ikernel -Iengine $(PKG_CFLAGS) -DSHIMDIR='"$(LIBDIR)"'
# `PROGRAM --version`: the package's version (debian/changelog's first line).
VERSION := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog 2>/dev/null)
XCFLAGS += -DRTALLOC_VERSION='"$(or $(VERSION),unknown)"'
XLDFLAGS :=
ifeq ($(WERROR),1)
XCFLAGS += -Werror
endif
ifeq ($(SANITIZE),1)
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
XCFLAGS  += $(SANFLAGS)
XLDFLAGS += $(SANFLAGS)
endif

ifneq ($(V),1)
Q := @
E := @echo
else
Q :=
E := @true
endif

# One static library per folder.  Arrows run one way: programs
# (allocator-server, allocator-client, agent, track) -> engine -> kernel ->
# common, and every link line names them in that order.
COMMON_SRC := $(wildcard common/*.c)
KERNEL_SRC := $(wildcard kernel/*.c)
ENGINE_SRC := $(wildcard engine/*.c)
SERVER_SRC := $(filter-out allocator-server/main.c,$(wildcard allocator-server/*.c))
# common/mark.c: rtalloc --fwmark and the agent's config parse marks exactly
# as the shim does (the shim is built from it with -fPIC).
CLIENT_SRC := $(filter-out allocator-client/main.c,$(wildcard allocator-client/*.c))
SHIM_SRC   := $(wildcard allocator-client/packetmark/shim*.c) common/mark.c
WRAP_SRC   := $(wildcard allocator-client/packetmark/packetmark.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
COMMON_OBJ := $(call obj,$(COMMON_SRC))
SERVER_OBJ := $(call obj,$(SERVER_SRC))
CLIENT_OBJ := $(call obj,$(CLIENT_SRC))

PROGS := $(BUILD)/rtallocd $(BUILD)/rtalloc $(BUILD)/libpacketmark.so $(BUILD)/packetmark

UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_PROGS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TOOL_SRC   := $(wildcard tests/tools/*.c)
TOOL_PROGS := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRC))

all: $(PROGS)

# Rebuild everything when the flags change (plain <-> SANITIZE=1).
FLAGS_STAMP := $(BUILD)/.flags
$(shell mkdir -p $(BUILD) && echo '$(CC) $(CFLAGS) $(XCFLAGS) $(LDFLAGS)' | cmp -s - $(FLAGS_STAMP) || echo '$(CC) $(CFLAGS) $(XCFLAGS) $(LDFLAGS)' > $(FLAGS_STAMP))

$(BUILD)/obj/%.o: %.c $(FLAGS_STAMP)
	$(E) "  CC      $<"
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(XCFLAGS) -c -o $@ $<

# The preload shim is never built with ASan: an ASan library preloaded into an
# uninstrumented program aborts at start.  UBSan alone is fine.
SHIM_CFLAGS := -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -fPIC -fvisibility=hidden -Icommon -MMD -MP
ifeq ($(WERROR),1)
SHIM_CFLAGS += -Werror
endif
$(BUILD)/pic/%.o: %.c $(FLAGS_STAMP)
	$(E) "  CC(pic) $<"
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(SHIM_CFLAGS) -c -o $@ $<

$(BUILD)/libcommon.a: $(COMMON_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^
$(BUILD)/libkernel.a: $(call obj,$(KERNEL_SRC))
	$(Q)rm -f $@ && ar rcs $@ $^
$(BUILD)/libengine.a: $(call obj,$(ENGINE_SRC))
	$(Q)rm -f $@ && ar rcs $@ $^
$(BUILD)/libserver.a: $(SERVER_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^
$(BUILD)/libclient.a: $(CLIENT_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

# Below the programs, in link order.
LOWER := $(BUILD)/libengine.a $(BUILD)/libkernel.a $(BUILD)/libcommon.a
# Unit tests and tools: every program's library above the lower ones (each
# test pulls only the objects it uses; libagent.a and libtrack.a are built
# by mk/agent.mk and mk/track.mk).
LIBS := $(BUILD)/libagent.a $(BUILD)/libtrack.a $(BUILD)/libserver.a $(BUILD)/libclient.a $(LOWER)
# Tests may reach any folder's headers.
TEST_INC := -Iallocator-server -Iallocator-client -Iallocator-client/packetmark -Iagent -Itrack

$(BUILD)/rtallocd: $(call obj,allocator-server/main.c) $(BUILD)/libserver.a $(BUILD)/libkernel.a $(BUILD)/libcommon.a
	$(E) "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(XCFLAGS) $(LDFLAGS) $(XLDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/rtalloc: $(call obj,allocator-client/main.c) $(BUILD)/libclient.a $(LOWER)
	$(E) "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(XCFLAGS) $(LDFLAGS) $(XLDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/libpacketmark.so: $(patsubst %.c,$(BUILD)/pic/%.o,$(SHIM_SRC))
	$(E) "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -shared -fPIC -fvisibility=hidden $(LDFLAGS) -o $@ $^ -ldl

$(BUILD)/packetmark: $(call obj,$(WRAP_SRC)) $(BUILD)/libcommon.a
	$(E) "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(XCFLAGS) $(LDFLAGS) $(XLDFLAGS) -o $@ $^ $(JSON_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIBS) $(FLAGS_STAMP)
	$(E) "  CC+LD   $@"
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(XCFLAGS) $(TEST_INC) \
		$(LDFLAGS) $(XLDFLAGS) -o $@ $< $(LIBS) $(PKG_LIBS) -lm -lcmocka

$(BUILD)/tools/%: tests/tools/%.c $(LIBS) $(FLAGS_STAMP)
	$(E) "  CC+LD   $@"
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(XCFLAGS) $(TEST_INC) \
		$(LDFLAGS) $(XLDFLAGS) -o $@ $< $(LIBS) $(PKG_LIBS) -lm -lpthread

tests: $(PROGS) $(UNIT_PROGS) $(TOOL_PROGS)

# The README's test command.  deps first, so a fresh machine gets its packages.
check: deps
	$(MAKE) tests
	BUILD=$(BUILD) tests/run

# Unit tests only (no root needed).
check-unit: $(UNIT_PROGS) $(PROGS)
	BUILD=$(BUILD) tests/run unit

deps:
	@scripts/deps

# Only what the demo needs (scripts/deps demo), not the test tools.
demo:
	@scripts/deps demo
	$(MAKE) all
	BUILD=$(BUILD) tests/demo

clean:
	rm -rf $(BUILD)

.PHONY: all tests check check-unit deps demo clean
.SECONDARY:

# The compilers' dependency files: regular files only, and none from the
# package build's copy of the tree ($(BUILD)/deb), whose staged
# dhclient-enter-hooks.d and if-up.d are directories named like them.
-include $(shell find $(BUILD) -path '$(BUILD)/deb' -prune -o -type f -name '*.d' -print 2>/dev/null)

# Larger targets (bench, fuzz, install, package) live in their own fragments.
include $(wildcard mk/*.mk)
