# libFuzzer targets for every parser (fuzz/fuzz_*.c; fuzz/README.md).
#   make fuzz                 fuzz each target for FUZZ_SECONDS (default 60)
#   make fuzz FUZZ_TARGETS=fuzz_mark FUZZ_SECONDS=20
#   make fuzz-regress         run each target over its corpus only (fast)
# Targets are built with clang into $(BUILD)/fuzz/ straight from the parser
# sources, not from $(BUILD)/lib*.a: those may be gcc or uninstrumented, and
# libFuzzer needs every parser instrumented for coverage.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   ?=
FUZZ_CFLAGS  := -g -O1 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Wshadow \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer -Icommon -Iallocator-server -Iallocator-client \
	-Iallocator-client/packetmark -Iengine -Ikernel -Iagent $(PKG_CFLAGS)
ifeq ($(WERROR),1)
FUZZ_CFLAGS += -Werror
endif

FUZZ_ALL     := $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_PROGS   := $(addprefix $(BUILD)/fuzz/,$(FUZZ_TARGETS))

# Each target: the sources of the parsers it drives (plus their helpers).
fuzz_request_SRC := common/proto.c common/addr.c common/errbuf.c
fuzz_reply_SRC   := common/proto.c common/addr.c common/errbuf.c
fuzz_list_SRC    := common/proto.c common/addr.c common/errbuf.c
fuzz_config_SRC  := allocator-server/config.c common/jsonconf.c common/log.c common/errbuf.c
fuzz_addr_SRC    := common/addr.c
fuzz_mark_SRC    := common/mark.c
fuzz_cli_SRC     := allocator-client/cli.c common/cmdline.c common/routearg.c common/addr.c common/mark.c common/errbuf.c
fuzz_shebang_SRC := allocator-client/packetmark/shebang.c
fuzz_cgroup_SRC  := common/cgmark.c
fuzz_route_SRC   := common/routearg.c common/addr.c common/errbuf.c
fuzz_agentcfg_SRC := engine/agentcfg.c engine/bindings.c engine/mptcpcfg.c common/jsonconf.c common/addr.c common/mark.c common/errbuf.c


# One explicit rule per target (no .SECONDEXPANSION: it would change how
# every later fragment's prerequisites are read).
define fuzz_rule
$(BUILD)/fuzz/$(1): fuzz/$(1).c fuzz/fuzz.h $($(1)_SRC) $(FLAGS_STAMP)
	$(E) "  FUZZ-LD $$@"
	@mkdir -p $$(dir $$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $$@ $$< $($(1)_SRC) $(PKG_LIBS)
endef
$(foreach t,$(FUZZ_ALL),$(eval $(call fuzz_rule,$(t))))

fuzz-build: $(FUZZ_PROGS)

# New inputs go to a scratch directory (fuzz/corpus/ stays a small, curated
# seed set); crashes are written into $(BUILD)/fuzz/ as crash-<sha1>.
fuzz: $(FUZZ_PROGS)
	$(Q)for t in $(FUZZ_TARGETS); do \
		echo "== fuzz $$t ($(FUZZ_SECONDS) s)"; \
		mkdir -p $(BUILD)/fuzz/work/$$t; \
		$(BUILD)/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=$(BUILD)/fuzz/$$t- $(FUZZ_FLAGS) \
			$(BUILD)/fuzz/work/$$t fuzz/corpus/$$t >$(BUILD)/fuzz/$$t.log 2>&1; \
		rc=$$?; \
		grep -E 'number_of_executed_units|new_units_added' $(BUILD)/fuzz/$$t.log; \
		if [ $$rc != 0 ]; then tail -n 40 $(BUILD)/fuzz/$$t.log; exit 1; fi; \
	done

fuzz-regress: $(FUZZ_PROGS)
	$(Q)for t in $(FUZZ_TARGETS); do \
		printf '%-24s' "$$t"; \
		$(BUILD)/fuzz/$$t -runs=0 fuzz/corpus/$$t >$(BUILD)/fuzz/$$t.log 2>&1 || \
			{ echo FAIL; tail -n 40 $(BUILD)/fuzz/$$t.log; exit 1; }; \
		echo "ok ($$(ls fuzz/corpus/$$t | wc -l) inputs)"; \
	done

.PHONY: fuzz fuzz-build fuzz-regress
