# make install / make uninstall: the programs, the hooks in the directories
# their tools read, the systemd units, the man pages, the docs and example
# configuration.  DESTDIR stages (packages); PREFIX, SBINDIR, BINDIR, LIBDIR,
# MANDIR and SYSCONFDIR (Makefile) place things.
#
# Paths written into installed files (hooks, units, udev rule, man pages)
# are rewritten from the Debian defaults to these variables, so a
# PREFIX=/usr/local install points at itself.  With the defaults the files
# are installed byte for byte.
#
# Configuration (SYSCONFDIR/default/rtalloc, SYSCONFDIR/rtalloc/rtallocd.json)
# is never overwritten: an existing file is kept.  `make uninstall` removes a
# config file only when it is still the unmodified example; an edited one is
# left in place with a message (the admin's work is not ours to delete).
#
# COMPAT_NAMES=1 (the default) also installs the 2017 table_allocator's
# program names as symlinks, SBINDIR/table_allocator_client -> rtalloc and
# SBINDIR/table_allocator_server -> rtallocd, so its scripts run unchanged
# (README, "Migrating from table_allocator"); COMPAT_NAMES=0 leaves them out
# (e.g. while the original package still owns them).
UNITDIR    ?= $(PREFIX)/lib/systemd/system
COMPAT_NAMES ?= 1
DOCDIR     ?= $(PREFIX)/share/doc/rtalloc
DATADIR    ?= $(PREFIX)/share/rtalloc
# udev reads /lib/udev/rules.d (bookworm ships there, not under /usr) and
# /usr/local/lib/udev/rules.d; /etc/udev is the admin's.
UDEVRULESDIR ?= $(if $(filter /usr,$(PREFIX)),,$(PREFIX))/lib/udev/rules.d
# dhcpcd-run-hooks(8) sources every file of its hook directory (Debian's
# dhcpcd-base: /usr/lib/dhcpcd/dhcpcd-hooks); a hook is sourced, not run.
DHCPCDHOOKDIR ?= $(PREFIX)/lib/dhcpcd/dhcpcd-hooks
# bash-completion loads a command's completion from a file named after it.
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
BASHCOMP_NAMES := rtalloc rtallocd rtalloc-agent rtalloc-track packetmark \
	$(if $(filter 1,$(COMPAT_NAMES)),table_allocator_client table_allocator_server)
INSTALL    ?= install

# One sed for every file that names an installed path.
INST_SED := sed -e 's|/usr/lib/rtalloc|$(LIBDIR)|g' \
	-e 's|/usr/sbin/rtalloc|$(SBINDIR)/rtalloc|g' \
	-e 's|/usr/bin/packetmark|$(BINDIR)/packetmark|g' \
	-e 's|/usr/share/doc/rtalloc|$(DOCDIR)|g' \
	-e 's|/usr/share/rtalloc/|$(DATADIR)/|g' \
	-e 's|/usr/share/man|$(MANDIR)|g' \
	-e 's|/etc/default/rtalloc|$(SYSCONFDIR)/default/rtalloc|g' \
	-e 's|/etc/rtalloc/|$(SYSCONFDIR)/rtalloc/|g'

D := $(DESTDIR)
# source : mode : destination, for every file except the configs.
INST_FILES := \
	$(BUILD)/rtallocd:0755:$(SBINDIR)/rtallocd \
	$(BUILD)/rtalloc:0755:$(SBINDIR)/rtalloc \
	$(BUILD)/rtalloc-agent:0755:$(SBINDIR)/rtalloc-agent \
	systemd/rtalloc-agent.service:0644:$(UNITDIR)/rtalloc-agent.service \
	man/rtalloc-agent.8:0644:$(MANDIR)/man8/rtalloc-agent.8 \
	$(BUILD)/rtalloc-track:0755:$(SBINDIR)/rtalloc-track \
	systemd/rtalloc-track.service:0644:$(UNITDIR)/rtalloc-track.service \
	man/rtalloc-track.8:0644:$(MANDIR)/man8/rtalloc-track.8 \
	$(BUILD)/packetmark:0755:$(BINDIR)/packetmark \
	$(BUILD)/libpacketmark.so:0644:$(LIBDIR)/libpacketmark.so \
	hooks/wan-dnsmasq/rtalloc-wan-dnsmasq:0755:$(SBINDIR)/rtalloc-wan-dnsmasq \
	hooks/lib/rtalloc-hook.sh:0644:$(LIBDIR)/rtalloc-hook.sh \
	hooks/udev/rtalloc-udev-remove:0755:$(LIBDIR)/rtalloc-udev-remove \
	hooks/udev/90-rtalloc.rules:0644:$(UDEVRULESDIR)/90-rtalloc.rules \
	hooks/dnsmasq/rtalloc.conf:0644:$(DATADIR)/dnsmasq.conf \
	hooks/dhclient/rtalloc:0644:$(SYSCONFDIR)/dhcp/dhclient-enter-hooks.d/rtalloc \
	hooks/ifupdown/rtalloc:0755:$(SYSCONFDIR)/network/if-up.d/rtalloc \
	hooks/ifupdown/rtalloc:0755:$(SYSCONFDIR)/network/if-post-down.d/rtalloc \
	hooks/NetworkManager/90-rtalloc:0755:$(SYSCONFDIR)/NetworkManager/dispatcher.d/90-rtalloc \
	hooks/dhcpcd/rtalloc:0644:$(DHCPCDHOOKDIR)/90-rtalloc \
	systemd/rtallocd.service:0644:$(UNITDIR)/rtallocd.service \
	hooks/wan-dnsmasq/rtalloc-wan-dnsmasq.service:0644:$(UNITDIR)/rtalloc-wan-dnsmasq.service \
	systemd/rtalloc.sysusers:0644:$(PREFIX)/lib/sysusers.d/rtalloc.conf \
	man/rtallocd.8:0644:$(MANDIR)/man8/rtallocd.8 \
	man/rtalloc.8:0644:$(MANDIR)/man8/rtalloc.8 \
	man/rtalloc-hooks.8:0644:$(MANDIR)/man8/rtalloc-hooks.8 \
	man/packetmark.1:0644:$(MANDIR)/man1/packetmark.1 \
	README.md:0644:$(DOCDIR)/README.md \
	$(foreach f,$(wildcard docs/*.md),$(f):0644:$(DOCDIR)/$(notdir $(f))) \
	$(foreach f,$(wildcard examples/*/*),$(f):0644:$(DOCDIR)/$(f)) \
	$(foreach n,$(BASHCOMP_NAMES),completion/rtalloc:0644:$(BASHCOMPDIR)/$(n))
# Programs are copied as they are; text files go through INST_SED.
INST_BINARIES := $(BUILD)/rtallocd $(BUILD)/rtalloc $(BUILD)/rtalloc-agent $(BUILD)/packetmark $(BUILD)/libpacketmark.so \
	$(BUILD)/rtalloc-track
INST_CONFIGS := hooks/default/rtalloc:$(SYSCONFDIR)/default/rtalloc \
	etc/rtallocd.json:$(SYSCONFDIR)/rtalloc/rtallocd.json \
	etc/agent.json:$(SYSCONFDIR)/rtalloc/agent.json \
	etc/track.json:$(SYSCONFDIR)/rtalloc/track.json
# link : target (relative to the link's directory).
# rtalloc-hooks(8) is also rtalloc-wan-dnsmasq's page (NAME names both).
INST_LINKS := $(MANDIR)/man8/rtalloc-wan-dnsmasq.8:rtalloc-hooks.8 \
	$(if $(filter 1,$(COMPAT_NAMES)),\
	$(SBINDIR)/table_allocator_client:rtalloc \
	$(SBINDIR)/table_allocator_server:rtallocd \
	$(MANDIR)/man8/table_allocator_client.8:rtalloc.8 \
	$(MANDIR)/man8/table_allocator_server.8:rtallocd.8)
# Directories that are ours alone: uninstall removes them once empty
# (deepest first).  track.d: rtalloc-track's hook_dir, empty until the admin
# puts hooks there.
INST_OWN_DIRS := $(SYSCONFDIR)/rtalloc/track.d $(LIBDIR) $(DATADIR) \
	$(foreach d,$(sort $(dir $(wildcard examples/*/*))),$(DOCDIR)/$(d)) $(DOCDIR)/examples $(DOCDIR) \
	$(SYSCONFDIR)/rtalloc

install: all
	$(Q)set -e; for f in $(INST_FILES); do \
		src=$${f%%:*}; rest=$${f#*:}; mode=$${rest%%:*}; dst="$(D)$${rest#*:}"; \
		$(INSTALL) -d "$${dst%/*}"; \
		case " $(INST_BINARIES) " in \
		*" $$src "*) $(INSTALL) -m "$$mode" "$$src" "$$dst" ;; \
		*) $(INST_SED) "$$src" > "$$dst.tmp" && chmod "$$mode" "$$dst.tmp" && mv -f "$$dst.tmp" "$$dst" ;; \
		esac; \
		echo "  INSTALL $$dst"; \
	done
	$(Q)$(INSTALL) -d "$(D)$(SYSCONFDIR)/rtalloc/track.d"
	$(Q)set -e; for f in $(INST_LINKS); do \
		dst="$(D)$${f%%:*}"; ln -sfn "$${f#*:}" "$$dst"; echo "  LINK    $$dst -> $${f#*:}"; \
	done
	$(Q)set -e; for f in $(INST_CONFIGS); do \
		src=$${f%%:*}; dst="$(D)$${f#*:}"; \
		$(INSTALL) -d "$${dst%/*}"; \
		if [ -e "$$dst" ]; then echo "  KEEP    $$dst (exists; the example is not installed over it)"; \
		else $(INST_SED) "$$src" > "$$dst.tmp" && chmod 0644 "$$dst.tmp" && mv -f "$$dst.tmp" "$$dst"; \
			echo "  INSTALL $$dst"; fi; \
	done
	@[ -n "$(DESTDIR)" ] || echo "  NOTE    create the user first: systemd-sysusers, or adduser --system --group rtalloc"

uninstall:
	$(Q)for f in $(INST_FILES); do rest=$${f#*:}; rm -f "$(D)$${rest#*:}"; done
	$(Q)for f in $(MANDIR)/man8/rtalloc-wan-dnsmasq.8:rtalloc-hooks.8 $(SBINDIR)/table_allocator_client:rtalloc $(SBINDIR)/table_allocator_server:rtallocd \
		$(MANDIR)/man8/table_allocator_client.8:rtalloc.8 $(MANDIR)/man8/table_allocator_server.8:rtallocd.8; do \
		l="$(D)$${f%%:*}"; \
		[ "$$(readlink "$$l" 2>/dev/null)" != "$${f#*:}" ] || rm -f "$$l"; \
	done
	$(Q)for f in $(INST_CONFIGS); do \
		src=$${f%%:*}; dst="$(D)$${f#*:}"; \
		[ -e "$$dst" ] || continue; \
		if $(INST_SED) "$$src" | cmp -s - "$$dst"; then rm -f "$$dst"; \
		else echo "  KEEP    $$dst (modified; remove it by hand)"; fi; \
	done
	$(Q)for d in $(INST_OWN_DIRS); do [ ! -d "$(D)$$d" ] || rmdir "$(D)$$d" 2>/dev/null || true; done

.PHONY: install uninstall
