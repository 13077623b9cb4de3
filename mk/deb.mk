# make deb: the Debian package, built by dpkg-buildpackage from a copy of the
# sources in $(BUILD)/deb/ (so neither the tree nor its parent directory get
# build products); the .deb ends up in $(BUILD)/deb/.  Needs dpkg-dev and
# debhelper; slow, hence not part of `make check`.
DEB_SRC_FILES := Makefile mk examples common engine agent allocator-server allocator-client track hooks systemd etc man completion \
	docs debian LICENSE README.md
DEB_DIR := $(BUILD)/deb

deb:
	$(Q)rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/rtalloc
	$(Q)tar cf - --exclude='debian/build' --exclude='debian/rtalloc' $(DEB_SRC_FILES) | tar xf - -C $(DEB_DIR)/rtalloc
	cd $(DEB_DIR)/rtalloc && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL dpkg-buildpackage -b -us -uc
	@ls $(DEB_DIR)/*.deb

.PHONY: deb

# make check-package: lintian, then install, reinstall over itself, the
# upgrade from 0.1 and purge in a clean Debian 12 chroot (debootstrap from
# this machine's mirror, cached under $(BUILD)/check-package).  Root; CI runs
# it; not part of `make check`.
check-package:
	BUILD=$(BUILD) scripts/check-package

.PHONY: check-package
