# rtalloc-track (track/): uplink health and the rules that send unbound
# traffic to a working uplink.  Its modules go into libtrack.a; the program
# links it with the kernel seam (discovery, rules and routes through
# kernel/kernel.h's struct kernel, conntrack and sock_diag through
# kernel/conntrack.h and kernel/sockdiag.h) and libcommon.a (the rtallocd
# client).
TRACK_SRC := $(filter-out track/track.c,$(wildcard track/*.c))
TRACK_OBJ := $(call obj,$(TRACK_SRC))

$(BUILD)/libtrack.a: $(TRACK_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/rtalloc-track: $(call obj,track/track.c) $(BUILD)/libtrack.a $(BUILD)/libkernel.a $(BUILD)/libcommon.a
	$(E) "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(XCFLAGS) $(LDFLAGS) $(XLDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

all: $(BUILD)/rtalloc-track
tests: $(BUILD)/rtalloc-track

.PHONY: all tests

# make bench: bench/track.sh after bench/run.sh's figures; its simulator
# drives the real policy code with a fake clock and prober.
$(BUILD)/bench/track_sim: bench/track_sim.c $(BUILD)/libtrack.a $(BUILD)/libkernel.a $(BUILD)/libcommon.a $(FLAGS_STAMP)
	$(E) "  CC+LD   $@"
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(XCFLAGS) -Itrack $(LDFLAGS) $(XLDFLAGS) -o $@ $< $(BUILD)/libtrack.a \
		$(BUILD)/libkernel.a $(BUILD)/libcommon.a $(PKG_LIBS) -lm

bench-track: $(BUILD)/rtalloc-track $(BUILD)/bench/track_sim
	BUILD=$(BUILD) bench/track.sh

bench: bench-track

.PHONY: bench-track
