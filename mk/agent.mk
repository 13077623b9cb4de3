# rtalloc-agent: every uplink address gets its table, rules and routes
# (agent/, on the engine in engine/; mk/engine.mk builds its library).
AGENT := $(BUILD)/rtalloc-agent

$(AGENT): $(call obj,agent/main.c) $(BUILD)/libagent.a $(LOWER)
	$(E) "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(XCFLAGS) $(LDFLAGS) $(XLDFLAGS) -o $@ $^ $(PKG_LIBS)

all: $(AGENT)
tests: $(AGENT)
