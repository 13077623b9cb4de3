#!/bin/bash
# make, make deb, make demo and make clean work in any order, any number of
# times: `make deb` stages the package under BUILD/deb, whose
# dhclient-enter-hooks.d and if-up.d directories once matched the Makefile's
# include of every *.d under BUILD ("Is a directory.  Stop.", make clean
# included).  dpkg-buildpackage is a stand-in that stages the package as
# debian/rules does (debian/build, `make install` with
# DESTDIR=debian/rtalloc) and writes an empty .deb: the real one compiles
# for a minute per `make deb` (RTALLOC_TEST_DEB=1 with debhelper installed
# runs it, as ops_deb does).  `make -n demo` reads the Makefile as `make demo` does
# without running the demo (it needs root and takes a minute).  To stay
# quick, the build starts from a copy of the suite's own BUILD and the
# stand-in installs that one.
. "$(dirname "$0")/../lib.sh"
command -v make >/dev/null || t_skip "no make"
B=$T_DIR/b
[ -x "$BUILD/rtallocd" ] || t_skip "build first (make tests)"
cp -a "$BUILD" "$B"
# The copy's flags, so nothing is rebuilt (BUILD/.flags: make's last ones).
flags=()
grep -q -- -Werror "$B/.flags" && flags+=(WERROR=1)
grep -q -- -fsanitize "$B/.flags" && flags+=(SANITIZE=1)
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$TOP" -s BUILD="$B" "${flags[@]}" "$@" >>"$T_DIR/make.log" 2>&1; }
t_check "make (nothing to rebuild)" mk all
if [ "${RTALLOC_TEST_DEB:-}" != 1 ] || ! command -v dh >/dev/null; then
	mkdir -p "$T_DIR/bin"
	cat >"$T_DIR/bin/dpkg-buildpackage" <<'SH'
#!/bin/sh
# stand-in for dpkg-buildpackage -b: debian/rules' build and install steps.
set -e
mkdir -p debian/build/obj && echo 'x.o: x.c' >debian/build/obj/x.d
make -s -C "$RTALLOC_TOP" BUILD="$RTALLOC_PRE" $RTALLOC_FLAGS PREFIX=/usr DESTDIR="$PWD/debian/rtalloc" \
	UNITDIR=/lib/systemd/system install >/dev/null
: >../rtalloc_0_all.deb
SH
	chmod +x "$T_DIR/bin/dpkg-buildpackage"
	PATH=$T_DIR/bin:$PATH
	export RTALLOC_TOP=$TOP RTALLOC_PRE=$BUILD RTALLOC_FLAGS="${flags[*]}"
fi

t_check "make deb" mk deb
t_check "make deb staged dhclient-enter-hooks.d" \
	test -d "$B/deb/rtalloc/debian/rtalloc/etc/dhcp/dhclient-enter-hooks.d"
t_check "make after make deb" mk all
t_check "make -n demo after make deb" mk -n demo
t_check "make deb again" mk deb
t_check "make clean after make deb" mk clean
t_check "make clean removed the build" test ! -e "$B/deb"
t_check "make clean twice" mk clean
t_check "make deb from clean" mk deb
t_check "make (dry run) after it" mk -n all
t_check "make clean" mk clean
t_eq "no make error anywhere" "" "$(grep -E 'Is a directory|\*\*\*' "$T_DIR/make.log")"
t_done
