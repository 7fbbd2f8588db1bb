#!/usr/bin/env bash
# build-aux/mingw-deps.sh PREFIX
#
# Prepares a Debian 12 machine for the Windows (x86_64 mingw-w64) build of
# hvrelay and its smoke tests under Wine:
#   1. installs the cross toolchain, autotools, pkg-config, dpkg-dev and wine64;
#   2. fetches Debian's *source* packages of libevent (bookworm, with its
#      security updates, like the Linux build's libevent-dev) and inih
#      (trixie: bookworm's libinih orig tarball is gone from the archive);
#   3. cross-builds both as static libraries into PREFIX, with .pc files that
#      link statically as they are (no --static needed):
#        PREFIX/include/{event2/,ev*.h,ini.h}
#        PREFIX/lib/{libevent*.a,libinih.a}
#        PREFIX/lib/pkgconfig/{libevent,libevent_core,libevent_extra,inih}.pc
#        PREFIX/mingw-deps.stamp
#   4. is idempotent: when the stamp matches, it only checks that the packages
#      are installed and exits. The quick check does not ask apt whether
#      Debian has published a newer source revision since (that costs a few
#      seconds): delete PREFIX/mingw-deps.stamp to rebuild with the newest.
#
# Use:  PKG_CONFIG_LIBDIR=PREFIX/lib/pkgconfig pkg-config --cflags --libs libevent inih
#       with x86_64-w64-mingw32-gcc ... -static
#
# Only Debian's archive is reachable from the build machines, hence apt-get
# source rather than upstream tarballs. Runs as root, or uses sudo.
#
# Environment:
#   HVRELAY_DEBIAN_MIRROR           archive for the deb-src entries
#                                   (default http://deb.debian.org/debian)
#   HVRELAY_DEBIAN_SECURITY_MIRROR  same for security updates
#                                   (default http://deb.debian.org/debian-security)
set -euo pipefail

usage() {
	echo "usage: $0 PREFIX" >&2
	exit 2
}
if [ $# -ne 1 ] || [ -z "$1" ]; then
	usage
fi

# Bump when the build recipe changes, so that existing PREFIXes are rebuilt.
RECIPE=2
HOST=x86_64-w64-mingw32
# Source packages and the releases to take them from, first match wins:
# a security update, when there is one, before the release itself.
LIBEVENT_RELEASES=(bookworm-security bookworm)
INIH_RELEASES=(trixie-security trixie)
MIRROR=${HVRELAY_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${HVRELAY_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
SRC_LIST=/etc/apt/sources.list.d/hvrelay-mingw-src.sources

# Toolchain (the gcc metapackage brings both the win32 and posix thread
# variants; the default x86_64-w64-mingw32-gcc is the win32 one, which needs
# no libwinpthread), autotools to regenerate libevent's build files after
# Debian's patches, dpkg-dev for dpkg-source (apt-get source unpacks with it),
# and wine64 for running the .exe files.
PACKAGES=(
	gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64 mingw-w64-x86-64-dev
	make autoconf automake libtool pkg-config dpkg-dev wine64
)

log() { echo "mingw-deps: $*" >&2; }

mkdir -p "$1"
PREFIX=$(cd "$1" && pwd -P)
STAMP=$PREFIX/mingw-deps.stamp

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	sudo=(sudo)
fi
# Other sessions may be using apt at the same moment: wait for its lock
# instead of failing.
apt_opts=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)

# --- 1. packages ------------------------------------------------------------

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing+=("$p")
	fi
done

# --- quick exit -------------------------------------------------------------
# The stamp is written last, after the libraries linked a test program, so
# its presence with the current recipe means PREFIX is complete.

stamp_ok() {
	[ -f "$STAMP" ] && grep -qx "recipe=$RECIPE" "$STAMP" || return 1
	local f
	for f in lib/libevent.a lib/libinih.a include/event2/event.h include/ini.h \
		lib/pkgconfig/libevent.pc lib/pkgconfig/inih.pc; do
		[ -e "$PREFIX/$f" ] || return 1
	done
}

if [ ${#missing[@]} -eq 0 ] && stamp_ok; then
	log "$PREFIX is up to date ($(grep -E '^(libevent|libinih)=' "$STAMP" | tr '\n' ' '))"
	exit 0
fi

# --- 2. deb-src entry and package install -----------------------------------
# A deb-src entry only makes source packages visible: it never changes which
# binary packages apt installs or upgrades, so adding trixie here is safe on
# bookworm. Written as its own file so the system's sources stay untouched.

src_entry="# Written by hvrelay's build-aux/mingw-deps.sh: source packages only.
Types: deb-src
URIs: $MIRROR
Suites: bookworm trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: $SECURITY_MIRROR
Suites: bookworm-security trixie-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"
need_update=0
if [ "$(cat "$SRC_LIST" 2>/dev/null)" != "${src_entry%$'\n'}" ]; then
	log "writing $SRC_LIST"
	printf '%s' "$src_entry" | "${sudo[@]}" tee "$SRC_LIST" >/dev/null
	need_update=1
fi
# Sources indexes can be missing even when the file is there (lists cleaned).
if ! apt-get -qq --print-uris source "libevent/${LIBEVENT_RELEASES[-1]}" \
	"libinih/${INIH_RELEASES[-1]}" >/dev/null 2>&1; then
	need_update=1
fi
if [ ${#missing[@]} -gt 0 ]; then
	need_update=1
fi
if [ "$need_update" = 1 ]; then
	log "apt-get update"
	"${sudo[@]}" apt-get "${apt_opts[@]}" update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
	log "installing ${missing[*]}"
	# No recommends: wine64's pull in fonts, gstreamer and much else that a
	# console smoke test does not need.
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- 3. fetch the sources ---------------------------------------------------

work=$(mktemp -d "${TMPDIR:-/tmp}/mingw-deps.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

src_opts=()
if [ "$(id -u)" -eq 0 ]; then
	# apt would otherwise download as _apt, which cannot write into a
	# root-owned mktemp directory, and warn about it.
	src_opts=(-o APT::Sandbox::User=root)
fi
# pick_source NAME RELEASE...: prints NAME/RELEASE for the first RELEASE
# whose Sources index has NAME (asks the local indexes only).
pick_source() {
	local name=$1 rel
	shift
	for rel in "$@"; do
		if apt-get -qq --print-uris source "$name/$rel" >/dev/null 2>&1; then
			echo "$name/$rel"
			return 0
		fi
	done
	log "no source package $name in: $*"
	return 1
}
libevent_src=$(pick_source libevent "${LIBEVENT_RELEASES[@]}")
inih_src=$(pick_source libinih "${INIH_RELEASES[@]}")
log "fetching $libevent_src $inih_src"
# apt-get source unpacks with dpkg-source and applies Debian's patches
# (security fixes included), as Debian's own build does.
apt-get "${apt_opts[@]}" "${src_opts[@]}" -qq source "$libevent_src" "$inih_src" >/dev/null

dsc_version() { sed -n 's/^Version: //p' "$1"_*.dsc | head -n1; }
libevent_version=$(dsc_version libevent)
inih_version=$(dsc_version libinih)
libevent_dir=$(find . -maxdepth 1 -type d -name 'libevent-*' | head -n1)
inih_dir=$(find . -maxdepth 1 -type d -name 'libinih-*' | head -n1)
if [ -z "$libevent_version" ] || [ -z "$inih_version" ] ||
	[ ! -d "$libevent_dir" ] || [ ! -d "$inih_dir" ]; then
	log "apt-get source did not produce both source trees"
	exit 1
fi

# A stale stamp must not survive a half-finished rebuild.
rm -f "$STAMP"
jobs=$(nproc 2>/dev/null || echo 2)

# --- 4. libevent ------------------------------------------------------------

log "building libevent $libevent_version for $HOST"
(
	cd "$libevent_dir"
	# Debian's patches touch Makefile.am, which would make `make` rerun
	# automake behind our back; regenerate everything once, as dh_autoreconf
	# does in Debian's own build.
	autoreconf -fi >autoreconf.log 2>&1 || { cat autoreconf.log >&2; exit 1; }
	# OpenSSL, samples and the regression tests are not needed (and the
	# latter would need more cross libraries).
	./configure --host="$HOST" --prefix="$PREFIX" \
		--disable-shared --enable-static \
		--disable-openssl --disable-samples --disable-libevent-regress \
		--disable-dependency-tracking \
		CFLAGS="-O2" >configure.log 2>&1 || { tail -n 40 config.log >&2; exit 1; }
	make -j"$jobs" >make.log 2>&1 || { tail -n 40 make.log >&2; exit 1; }
	make install >install.log 2>&1 || { tail -n 40 install.log >&2; exit 1; }
)

# --- 5. inih: one source file, compiled by hand -----------------------------
# Its meson build would need a cross file and meson/ninja for one ini.c.
# Debian's library is built with -DINI_HANDLER_LINENO=1 while its ini.h
# defaults to 0; here the library follows the header, so handlers are called
# exactly as the header declares them.

log "building inih $inih_version for $HOST"
(
	cd "$inih_dir"
	"$HOST-gcc" -O2 -Wall -c ini.c -o ini.o
	rm -f libinih.a
	"$HOST-ar" rcs libinih.a ini.o
	install -d "$PREFIX/include" "$PREFIX/lib/pkgconfig"
	install -m 644 ini.h "$PREFIX/include/ini.h"
	install -m 644 libinih.a "$PREFIX/lib/libinih.a"
)

# --- 6. pkg-config files ----------------------------------------------------
# Made relocatable (prefix from ${pcfiledir}), so PREFIX can be cached or
# moved. libevent's Libs.private lists only -lws2_32; evutil.c also needs
# iphlpapi (GetAdaptersAddresses, if_nametoindex). The system libraries go
# into Libs itself, so a plain `pkg-config --libs` links a static build.

win_libs="-lws2_32 -liphlpapi -ladvapi32"
# shellcheck disable=SC2016  # ${...} are pkg-config variables, not shell ones
for pc in "$PREFIX"/lib/pkgconfig/libevent*.pc; do
	sed -i \
		-e 's|^prefix=.*|prefix=${pcfiledir}/../..|' \
		-e 's|^exec_prefix=.*|exec_prefix=${prefix}|' \
		-e 's|^libdir=.*|libdir=${exec_prefix}/lib|' \
		-e 's|^includedir=.*|includedir=${prefix}/include|' \
		-e "s|^Libs: \\(.*\\)|Libs: \\1 $win_libs|" \
		-e 's|^Libs.private:.*|Libs.private:|' \
		"$pc"
done
cat >"$PREFIX/lib/pkgconfig/inih.pc" <<EOF
prefix=\${pcfiledir}/../..
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: inih
Description: simple .INI file parser (static, $HOST)
Version: ${inih_version%%-*}
Libs: -L\${libdir} -linih
Cflags: -I\${includedir}
EOF
# libtool archives carry absolute paths and are of no use to static linking
# through pkg-config.
rm -f "$PREFIX"/lib/*.la

# --- 7. check that a program links statically -------------------------------

log "link check"
cat >"$work/check.c" <<'EOF'
#include <event2/event.h>
#include <ini.h>
static int h(void *u, const char *s, const char *n, const char *v)
{ (void)u; (void)s; (void)n; (void)v; return 1; }
int main(void)
{
	struct event_base *b = event_base_new();
	int r = ini_parse_string("a=1\n", h, 0);
	if (b) event_base_free(b);
	return r;
}
EOF
# shellcheck disable=SC2046  # pkg-config output is meant to be word-split
"$HOST-gcc" -o "$work/check.exe" "$work/check.c" \
	$(PKG_CONFIG_LIBDIR="$PREFIX/lib/pkgconfig" pkg-config --cflags --libs libevent inih) -static

cat >"$STAMP" <<EOF
recipe=$RECIPE
host=$HOST
libevent=$libevent_version
libinih=$inih_version
EOF
log "done: libevent $libevent_version, inih $inih_version in $PREFIX"
