# The uplink engine (engine/, build/libengine.a) and the agent's modules
# (agent/ but main.c, build/libagent.a; with packetmark's cgmark.c, which
# rtalloc exec's control socket uses): linked into rtalloc-agent and into
# every unit test and tool, like the other libraries.  Agent before engine
# before the rest: static libraries resolve left to right.
ENGINE_SRC := $(wildcard engine/*.c)
AGENT_SRC  := $(filter-out agent/main.c,$(wildcard agent/*.c)) allocator-client/packetmark/cgmark.c

$(BUILD)/libengine.a: $(call obj,$(ENGINE_SRC))
	$(Q)rm -f $@ && ar rcs $@ $^
$(BUILD)/libagent.a: $(call obj,$(AGENT_SRC))
	$(Q)rm -f $@ && ar rcs $@ $^

LIBS := $(BUILD)/libagent.a $(BUILD)/libengine.a $(LIBS)
XCFLAGS += -Iengine -Iagent -Iallocator-client -Iallocator-client/packetmark
# The test and tool rules were read before this fragment: name the new
# libraries as their prerequisites here.
$(UNIT_PROGS) $(TOOL_PROGS): $(BUILD)/libagent.a $(BUILD)/libengine.a
