# make deb: the Debian package, built by dpkg-buildpackage from a copy of the
# sources in $(BUILD)/deb/ (so neither the tree nor its parent directory get
# build products); the .deb ends up in $(BUILD)/deb/.  Needs dpkg-dev and
# debhelper; slow, hence not part of `make check`.
DEB_SRC_FILES := Makefile mk common engine agent allocator-server allocator-client track hooks systemd etc man completion \
	docs debian LICENSE README.md
DEB_DIR := $(BUILD)/deb

deb:
	$(Q)rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/rtalloc
	$(Q)tar cf - --exclude='debian/build' --exclude='debian/rtalloc' $(DEB_SRC_FILES) | tar xf - -C $(DEB_DIR)/rtalloc
	cd $(DEB_DIR)/rtalloc && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL dpkg-buildpackage -b -us -uc
	@ls $(DEB_DIR)/*.deb

.PHONY: deb
