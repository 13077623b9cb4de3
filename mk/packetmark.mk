# packetmark's modules beyond packetmark.c (the Makefile's WRAP_SRC): the #!
# reader.  The cgroup/BPF mechanism (common/cgmark.c, which the agent's
# control socket uses too) and mark.c come from libcommon.
PM_EXTRA_SRC := allocator-client/packetmark/shebang.c
$(BUILD)/packetmark: $(call obj,$(PM_EXTRA_SRC))

# A static sockmark for the packetmark tests: a program no LD_PRELOAD can
# reach.  Never sanitized (ASan cannot be linked statically).
$(BUILD)/tools/sockmark-static: tests/tools/sockmark.c $(FLAGS_STAMP)
	$(E) "  CC+LD   $@ (static)"
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -std=gnu11 -D_GNU_SOURCE -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) \
		-DSOCKMARK_STATIC -static $(LDFLAGS) -o $@ $<
tests: $(BUILD)/tools/sockmark-static
