# rtalloc owns its table's routes through the uplink engine (hold.c in
# libclient.a): its link line needs libengine.a, after libclient.a and
# before libcommon.a and the system libraries it uses in turn.
$(BUILD)/rtalloc: $(BUILD)/libengine.a
$(BUILD)/rtalloc: PKG_LIBS := $(BUILD)/libengine.a $(BUILD)/libcommon.a $(PKG_LIBS)
