#!/bin/sh
# Installs, from Debian/Ubuntu packages, what building hvrelay needs, with
# --tests what its test suite needs too, and any PACKAGE named after them
# (the benchmarks' tools). Uses sudo when not root.
#   build-aux/install-deps.sh [--tests] [PACKAGE...]
set -eu

packages="build-essential autoconf automake pkg-config libevent-dev libinih-dev"
if [ "${1:-}" = "--tests" ]; then
	shift
	# The QEMU guest suite (tests/vm) needs a static busybox, dropbear and the
	# tools that unpack Debian's kernel package; its systemd guest boots this
	# machine's systemd (which need not be running here).
	packages="$packages python3 iproute2 systemd mandoc qemu-system-x86 \
	    busybox-static dropbear-bin xz-utils zstd"
fi
packages="$packages $*"

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	sudo=sudo
fi
# Skip apt entirely when everything is there already.
missing=""
for p in $packages; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
if [ -n "$missing" ]; then
	$sudo apt-get update -qq
	$sudo env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends $missing
fi
