# rtalloc-agent: every uplink address gets its table, rules and routes
# (agent/, on the engine in engine/; mk/engine.mk builds the libraries).
AGENT := $(BUILD)/rtalloc-agent

$(AGENT): $(call obj,agent/main.c) $(BUILD)/libagent.a $(BUILD)/libengine.a $(BUILD)/libclient.a $(BUILD)/libengine.a $(BUILD)/libkernel.a $(BUILD)/libcommon.a
	$(E) "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(XCFLAGS) $(LDFLAGS) $(XLDFLAGS) -o $@ $^ $(PKG_LIBS)

all: $(AGENT)
tests: $(AGENT)


# rtalloc --status checks the agent's uplinks' routes (agent/agentstatus.c,
# over the engine): named after rtalloc's own libraries, so they link last.
$(BUILD)/rtalloc: $(BUILD)/libagent.a $(BUILD)/libengine.a
