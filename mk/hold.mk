# rtalloc owns its table's routes through the uplink engine (hold.c in
# libclient.a): its link line needs libengine.a, after libclient.a and
# before libcommon.a and the system libraries it uses in turn.
$(BUILD)/rtalloc: $(BUILD)/libengine.a
$(BUILD)/rtalloc: PKG_LIBS := $(BUILD)/libengine.a $(BUILD)/libkernel.a $(BUILD)/libcommon.a $(PKG_LIBS)
# Unit tests and tools link libengine.a before libclient.a (mk/engine.mk);
# hold.o and tables.o in libclient.a use it too.
LIBS += $(BUILD)/libengine.a $(BUILD)/libkernel.a $(BUILD)/libcommon.a
# hold.c and tables.c include the engine's headers.
ANALYZE_INC += -Iengine
