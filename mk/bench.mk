# make bench: prints how rtalloc compares with its floor and its predecessor
# (bench/run.sh; root).  The helpers are built with the normal flags.
BENCH_SRC   := $(wildcard bench/*.c)
BENCH_PROGS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

$(BUILD)/bench/%: bench/%.c $(BUILD)/libcommon.a $(FLAGS_STAMP)
	$(E) "  CC+LD   $@"
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(XCFLAGS) $(LDFLAGS) $(XLDFLAGS) -o $@ $< $(BUILD)/libcommon.a $(PKG_LIBS)

bench-progs: $(PROGS) $(BENCH_PROGS) $(BUILD)/tools/loadgen $(BUILD)/tools/flood $(BUILD)/rtalloc-agent

bench: bench-progs
	BUILD=$(BUILD) bench/run.sh
	BUILD=$(BUILD) bench/agent.sh
	BUILD=$(BUILD) bench/daemons.sh
	BUILD=$(BUILD) bench/uplinks.sh

.PHONY: bench bench-progs
