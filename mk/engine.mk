# The agent's modules (agent/ but main.c, build/libagent.a); the kernel
# seam's and the engine's libraries are the Makefile's (LOWER).
AGENT_SRC  := $(filter-out agent/main.c,$(wildcard agent/*.c))

$(BUILD)/libagent.a: $(call obj,$(AGENT_SRC))
	$(Q)rm -f $@ && ar rcs $@ $^
