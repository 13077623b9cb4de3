# Static analysis of the project's C code: `make analyze` runs cppcheck and
# clang-tidy (checks chosen and justified in .clang-tidy); either one's
# finding fails the target.  Unit tests are left out: cmocka's macros are all
# the checkers would talk about.
CPPCHECK   ?= cppcheck
CLANG_TIDY ?= clang-tidy
ANALYZE_SRC := $(COMMON_SRC) $(wildcard allocator-server/*.c) $(wildcard allocator-client/*.c) \
	$(wildcard allocator-client/packetmark/*.c) $(wildcard tests/tools/*.c) $(wildcard fuzz/*.c) \
	$(wildcard engine/*.c) $(wildcard kernel/*.c) $(wildcard agent/*.c) $(wildcard track/*.c)
ANALYZE_INC := -Icommon -Iallocator-server -Iallocator-client -Iallocator-client/packetmark \
	-Iengine -Ikernel -Iagent -Itrack
ANALYZE_DEFS := -D_GNU_SOURCE -DSHIMDIR='"$(LIBDIR)"'

# variableScope: the house style declares locals at the top of a function,
# before its `goto cleanup`s (a jump must not skip an initialization), so
# "the scope can be reduced" is the style, not a finding.
# missingIncludeSystem: cppcheck is not given the system include paths (it
# would then analyze glibc); it knows the standard functions anyway.
CPPCHECK_FLAGS := --enable=warning,style,performance,portability --error-exitcode=1 \
	--inline-suppr --std=c11 -q --suppress=variableScope --suppress=missingIncludeSystem \
	$(ANALYZE_DEFS) $(ANALYZE_INC)

analyze: analyze-layout analyze-cppcheck analyze-tidy

# The include arrows (scripts/layout): programs -> engine -> kernel -> common.
analyze-layout:
	$(E) "  LAYOUT"
	$(Q)scripts/layout

analyze-cppcheck:
	$(E) "  CPPCHECK"
	$(Q)$(CPPCHECK) $(CPPCHECK_FLAGS) $(ANALYZE_SRC)

# One clang-tidy per file, so `make -j analyze` spreads them over the cores.
TIDY_STAMPS := $(patsubst %.c,$(BUILD)/analyze/%.tidy,$(ANALYZE_SRC))
analyze-tidy: $(TIDY_STAMPS)
$(BUILD)/analyze/%.tidy: %.c .clang-tidy FORCE
	$(E) "  TIDY    $<"
	@mkdir -p $(dir $@)
	$(Q)$(CLANG_TIDY) --quiet $< -- -std=gnu11 $(ANALYZE_DEFS) $(ANALYZE_INC) $(PKG_CFLAGS) \
		>$@.log 2>&1 || { cat $@.log; exit 1; }
	@touch $@

FORCE:
.PHONY: analyze analyze-layout analyze-cppcheck analyze-tidy FORCE
