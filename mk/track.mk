# rtalloc-track (track/): uplink health and the rules that send unbound
# traffic to a working uplink.  Its modules go into libtrack.a; the program
# links it with libclient.a (rule parsing) and libcommon.a.  Its unit test
# and the benchmark's simulator have rules of their own here, so the shared
# LIBS of the other tests stay as they are.
TRACK_SRC := $(filter-out track/track.c,$(wildcard track/*.c))
TRACK_OBJ := $(call obj,$(TRACK_SRC))
$(TRACK_OBJ) $(call obj,track/track.c): XCFLAGS += -Itrack -Iallocator-client

$(BUILD)/libtrack.a: $(TRACK_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/rtalloc-track: $(call obj,track/track.c) $(BUILD)/libtrack.a $(BUILD)/libclient.a $(BUILD)/libkernel.a $(BUILD)/libcommon.a
	$(E) "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(XCFLAGS) $(LDFLAGS) $(XLDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

all: $(BUILD)/rtalloc-track
tests: $(BUILD)/rtalloc-track

.PHONY: all tests

# Its unit test links libtrack.a before the shared libraries.
$(BUILD)/tests/test_track: tests/unit/test_track.c $(BUILD)/libtrack.a $(LIBS) $(FLAGS_STAMP)
	$(E) "  CC+LD   $@"
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(XCFLAGS) -Itrack -Iallocator-server -Iallocator-client \
		$(LDFLAGS) $(XLDFLAGS) -o $@ $< $(BUILD)/libtrack.a $(LIBS) $(PKG_LIBS) -lm -lcmocka

# make bench: bench/track.sh after bench/run.sh's figures; its simulator
# drives the real policy code with a fake clock and prober.
$(BUILD)/bench/track_sim: bench/track_sim.c $(BUILD)/libtrack.a $(BUILD)/libkernel.a $(BUILD)/libcommon.a $(FLAGS_STAMP)
	$(E) "  CC+LD   $@"
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(XCFLAGS) -Itrack $(LDFLAGS) $(XLDFLAGS) -o $@ $< $(BUILD)/libtrack.a \
		$(BUILD)/libclient.a $(BUILD)/libkernel.a $(BUILD)/libcommon.a $(PKG_LIBS) -lm

bench-track: $(BUILD)/rtalloc-track $(BUILD)/bench/track_sim
	BUILD=$(BUILD) bench/track.sh

bench: bench-track

.PHONY: bench-track
