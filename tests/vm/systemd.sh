#!/bin/bash
# systemd.sh: the systemd integration under a real systemd. Boots one QEMU
# guest (TCG, no network card) whose PID 1 is this machine's systemd, with
# hvrelay installed into it by `make install`, runs tests/vm/systemd-guest/test.sh
# there as a unit, and prints its checks as TAP on stdout (one line each).
#
# This machine has no systemd as PID 1, so the guest is the only place where
# `systemctl enable --now`, reload, stop, DynamicUser and the sandbox of the
# shipped units can really run. The guest image is the VM suite's busybox
# initramfs (build-initramfs.sh) with a second archive laid over it: systemd
# and the libraries ldd names for it, the few unit files it needs to reach
# multi-user.target, the tree `make install DESTDIR=...` produced (units
# included, exactly as installed), and the test unit. The kernel concatenates
# the two archives when it unpacks them.
#
# As in run.sh, AF_VSOCK is only ever used inside the guest, whose kernel
# command line carries hvrelay.vmtest=1.
#
# Exit status: 0 whenever a TAP plan was printed (a guest that hung or died
# turns into a "not ok" line); 1 with "Bail out!" if the harness failed.
#
# Environment:
#   HVTEST                 the traffic tool to put in the guest (default: the
#                          build tree's tests/tools/hvtest)
#   top_builddir           the build tree to `make install` from (default: .)
#   HVRELAY_VM_CACHE       kernel cache, shared with run.sh
#   HVRELAY_VM_TIMEOUT     overall limit in seconds (default 180)
#   HVRELAY_VM_VERBOSE=1   show every check's evidence, the test's log and the journal
#   HVRELAY_VM_LOG=FILE    keep the guest's whole console output in FILE
#   HVRELAY_VM_SKIP=1      print a skipped plan and boot nothing
#   HVRELAY_VM_REQUIRE=1   fail ("Bail out!") rather than skip when this
#                          machine cannot run the guest (for CI)
#   HVRELAY_VM_QEMU_ARGS   extra QEMU arguments (word-split)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cache=${HVRELAY_VM_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/hvrelay-vm}
builddir=${top_builddir:-.}

# shellcheck source=host-lib.sh
. "$here/host-lib.sh"

# What this machine lacks to run the guest: a skip, or with
# HVRELAY_VM_REQUIRE=1 a failure.
unavailable() {
    if [ "${HVRELAY_VM_REQUIRE:-0}" = 1 ]; then
        bail "$*"
    fi
    echo "1..0 # SKIP $*"
    exit 0
}

t_start=$(clock)

if [ "${HVRELAY_VM_SKIP:-0}" = 1 ]; then
    echo "1..0 # SKIP HVRELAY_VM_SKIP=1"
    exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hvrelay-vm-systemd.XXXXXX")
qpid=
cleanup() {
    if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
        kill -KILL "$qpid" 2>/dev/null || true
        wait "$qpid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- this machine's systemd ---------------------------------------------------

# Where Debian's systemd keeps its programs and units: /lib/systemd before
# the /usr merge of the package, /usr/lib/systemd after. pkg-config knows when
# systemd's .pc file is installed; otherwise look.
sd_var() { pkg-config --variable="$1" systemd 2>/dev/null || true; }
sd_util=$(sd_var systemdutildir)
sd_units=$(sd_var systemdsystemunitdir)
for d in /lib/systemd /usr/lib/systemd; do
    if [ -z "$sd_util" ] && [ -x "$d/systemd" ]; then
        sd_util=$d
    fi
    if [ -z "$sd_units" ] && [ -d "$d/system" ]; then
        sd_units=$d/system
    fi
done

missing_systemd() {
    [ -n "$sd_util" ] && [ -x "$sd_util/systemd" ] && [ -x "$sd_util/systemd-journald" ] &&
        [ -x "$sd_util/systemd-shutdown" ] && [ -d "$sd_units" ] &&
        command -v systemctl >/dev/null && command -v journalctl >/dev/null ||
        echo systemd
}
if [ -n "$(missing_systemd)" ]; then
    # Installing the package does not make it PID 1 here: it only provides
    # the files the guest boots.
    [ "$(id -u)" -eq 0 ] || unavailable "systemd is not installed (run as root: apt-get install -y systemd)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends systemd >&2 ||
        bail "apt-get install systemd failed"
    exec "$0" "$@"
fi

# --- kernel, qemu, busybox: shared with run.sh ----------------------------------

prc=0
"$here/prepare.sh" "$cache" >"$tmp/kdir" 2>"$tmp/prepare.err" || prc=$?
if [ "$prc" -eq 77 ]; then
    unavailable "$(tail -n 1 "$tmp/prepare.err" | sed 's/^prepare.sh: //')"
elif [ "$prc" -ne 0 ]; then
    sed 's/^/# /' "$tmp/prepare.err"
    bail "prepare.sh failed"
fi
kdir=$(cat "$tmp/kdir")
t_prepared=$(clock)

# --- hvrelay as `make install` puts it --------------------------------------------

[ -f "$builddir/Makefile" ] || bail "no Makefile in $builddir (set top_builddir to the build tree)"
stage=$tmp/stage
# This runs from inside `make check`: the parent's jobserver is not ours.
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
    make -C "$builddir" install DESTDIR="$stage" >"$tmp/install.log" 2>&1; then
    tail -n 20 "$tmp/install.log" | sed 's/^/# /'
    bail "make install DESTDIR=... failed"
fi
unit=$(cd "$stage" && find . -name hvrelay.service -path '*/system/*' | head -n 1)
[ -n "$unit" ] || unavailable "make install installed no systemd unit (configured with --with-systemdsystemunitdir=no?)"
unitdir=$(dirname "${unit#.}")
relay=$(sed -n 's|^ExecStart=\([^ ]*\) .*|\1|p' "$stage$unitdir/hvrelay.service")
[ -x "$stage$relay" ] || bail "the installed hvrelay.service runs $relay, which make install did not install"
# The unit's sandbox hides home directories (ProtectHome=yes) and the
# system's /tmp (PrivateTmp=yes) from the service, so a tree installed under
# one cannot run under it, by design. No deployment uses such a prefix, but
# `make distcheck` does, in a checkout under $HOME or /tmp.
case $relay in
    /home/* | /root/* | /run/user/* | /tmp/* | /var/tmp/*)
        echo "1..0 # SKIP installed under ${relay%/bin/*}, which the unit's sandbox hides (ProtectHome=yes, PrivateTmp=yes)"
        exit 0 ;;
esac

hvtest=${HVTEST:-$builddir/tests/tools/hvtest}
[ -f "$hvtest" ] || bail "no hvtest at $hvtest (set HVTEST)"
t_installed=$(clock)

# --- the image --------------------------------------------------------------------

# The VM suite's base: static busybox, the vsock modules, hvtest, ss, and
# /scenarios/lib.sh (its helpers serve the test too). No scenario.
ss=$(command -v ss || echo /usr/bin/ss)
SCENARIOS="" "$here/build-initramfs.sh" "$cache" "$tmp/base.cpio" "hvtest=$hvtest" "$ss" \
    2>"$tmp/build.err" || {
    sed 's/^/# /' "$tmp/build.err"
    bail "build-initramfs.sh failed"
}

root=$tmp/overlay
mkdir -p "$root"

# copy_with_path SRC: SRC at the same absolute path in the overlay, links
# followed (the loader opens the soname).
copy_with_path() {
    [ -e "$root$1" ] && return 0
    mkdir -p "$root$(dirname "$1")"
    cp -L "$1" "$root$1"
}

# copy_libs FILE: every library ldd resolves for FILE, where it found it.
copy_libs() {
    local line lib deps
    deps=$(ldd "$1" 2>/dev/null) || return 0
    while read -r line; do
        case $line in
            *"not found"*) bail "$1: ${line%%=>*} not found by ldd" ;;
            *"=> /"*) lib=${line#*=> }; lib=${lib%% (*} ;;
            /*) lib=${line%% (*} ;;
            *) continue ;;
        esac
        copy_with_path "$lib"
    done <<<"$deps"
}

# PID 1, the journal (so that the test can read the daemon's log as an
# operator would), the final stage of poweroff, and the tools. Newer systemd
# (255 on) spawns every service through systemd-executor. libnss_systemd resolves
# dynamic users' names; nothing dlopen()s it by a path ldd could see.
for f in "$sd_util/systemd" "$sd_util/systemd-executor" "$sd_util/systemd-journald" \
    "$sd_util/systemd-shutdown" "$(command -v systemctl)" "$(command -v journalctl)"; do
    [ -e "$f" ] || continue
    copy_with_path "$f"
    copy_libs "$f"
done
for f in /lib/x86_64-linux-gnu/libnss_systemd.so.2 /usr/lib/x86_64-linux-gnu/libnss_systemd.so.2; do
    if [ -e "$f" ]; then
        copy_with_path "$f"
        copy_libs "$f"
        break
    fi
done

# Only the units on the way to multi-user.target and to poweroff, and the
# journal's: Debian's full set would start udev, getty, logind... which this
# guest has neither the programs nor the time for.
mkdir -p "$root$sd_units" "$root/etc/systemd/system/sockets.target.wants" \
    "$root/etc/systemd/system/multi-user.target.wants"
for u in multi-user.target basic.target sysinit.target sockets.target timers.target \
    paths.target slices.target local-fs.target local-fs-pre.target swap.target \
    network.target network-pre.target shutdown.target poweroff.target final.target \
    umount.target emergency.target systemd-poweroff.service systemd-journald.service \
    systemd-journald.socket systemd-journald-dev-log.socket; do
    [ -e "$sd_units/$u" ] || bail "$sd_units/$u is missing"
    cp "$sd_units/$u" "$root$sd_units/$u"
done
ln -s "$sd_units/multi-user.target" "$root/etc/systemd/system/default.target"
for u in systemd-journald.socket systemd-journald-dev-log.socket; do
    ln -s "$sd_units/$u" "$root/etc/systemd/system/sockets.target.wants/$u"
done

# A machine-id: without one systemd takes this boot for the first and
# applies presets, which would enable hvrelay's units before the test does.
echo 8e1c43bd5a4f4d3c9b6ad2f7a0c5e911 >"$root/etc/machine-id"
echo vmtest >"$root/etc/hostname"
for f in /etc/os-release /usr/lib/os-release; do
    [ -e "$f" ] && { cp -L "$f" "$root/etc/os-release"; break; }
done
printf 'passwd: files systemd\ngroup: files systemd\nshadow: files\nhosts: files\n' \
    >"$root/etc/nsswitch.conf"

# The installed tree, unchanged, and what hvrelay needs to run from it.
cp -a "$stage/." "$root/"
copy_libs "$stage$relay"
# A sanitizer build (--enable-asan) is tested in the same sandbox, but
# LeakSanitizer cannot work there: at exit it stops the process's threads
# with ptrace, which SystemCallFilter=@system-service denies, and reports a
# fatal error instead. Only that check is turned off, by a drop-in of the
# kind an operator would write; AddressSanitizer itself stays on.
if ldd "$stage$relay" 2>/dev/null | grep -q 'libasan'; then
    for u in hvrelay.service hvrelay@.service; do
        mkdir -p "$root/etc/systemd/system/$u.d"
        printf '[Service]\nEnvironment=ASAN_OPTIONS=detect_leaks=0\n' \
            >"$root/etc/systemd/system/$u.d/sanitizer.conf"
    done
    echo "# sanitizer build: leak checks off inside the units' sandbox (LeakSanitizer needs ptrace)"
fi
# init.sh and test.sh read these: where PID 1 is, and where make install
# put the units (test.sh `systemctl link`s them when systemd does not look
# there, as an operator would with a prefix like make distcheck's).
printf 'SYSTEMD=%s\nUNITDIR=%s\n' "$sd_util/systemd" "$unitdir" >"$tmp/env"

# The guest's /init, and the test with its unit.
install -m 755 "$here/systemd-guest/init.sh" "$root/init"
mkdir -p "$root/vmtest"
install -m 755 "$here/systemd-guest/test.sh" "$root/vmtest/test.sh"
cp "$tmp/env" "$root/vmtest/env"
cp "$here/systemd-guest/hvrelay-vmtest.service" "$root/etc/systemd/system/"
ln -s ../hvrelay-vmtest.service "$root/etc/systemd/system/multi-user.target.wants/"

# Uncompressed: QEMU loads it as fast, and the guest need not inflate it.
(cd "$root" && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort |
    busybox cpio -o -H newc -R 0:0 2>/dev/null) >"$tmp/overlay.cpio" ||
    bail "cpio of the overlay failed"
cat "$tmp/base.cpio" "$tmp/overlay.cpio" >"$tmp/initramfs.cpio"
t_built=$(clock)

# --- boot ---------------------------------------------------------------------------

# The ELF vmlinux when prepare.sh could make one (see run.sh).
kernel=$kdir/vmlinux
[ -e "$kernel" ] || kernel=$kdir/vmlinuz

# The test unit powers the guest off when it ends, whatever the result, and
# has its own time limit. This one catches a guest that never got there.
# systemd.crash_reboot: a crashing PID 1 reboots, which -no-reboot turns into
# QEMU's exit, instead of freezing until this limit.
limit=${HVRELAY_VM_TIMEOUT:-180}
append="console=ttyS0 quiet panic=-1 cryptomgr.notests hvrelay.vmtest=1 systemd.crash_reboot=1"
[ "${HVRELAY_VM_VERBOSE:-0}" = 1 ] && append="$append hvrelay.verbose=1"

console=$tmp/console.log
: >"$console"
# -cpu max: RDRAND seeds the guest's RNG at once (see run.sh). 768 MiB: the
# image is unpacked into RAM, and transfers run beside it.
# shellcheck disable=SC2086 # HVRELAY_VM_QEMU_ARGS is meant to be split
boot_guest "$limit" '' \
    -accel tcg -cpu max -m 768 -smp 2 -nographic -no-reboot -nic none \
    -kernel "$kernel" -initrd "$tmp/initramfs.cpio" -append "$append" ${HVRELAY_VM_QEMU_ARGS:-}

# --- report -------------------------------------------------------------------------

tr -d '\r' <"$console" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g; s/\x1b[()][0-9A-Za-z]//g' \
    >"$tmp/console.txt"
if grep -aq 'HVRELAY-TAP: Bail out!' "$tmp/console.txt"; then
    bail "guest: $(sed -n 's/.*HVRELAY-TAP: Bail out! *//p' "$tmp/console.txt" | head -n 1)"
fi

# The guest numbers its checks; they are renumbered here so that a line
# lost on the console cannot shift the rest, and a guest that never
# finished becomes one more "not ok".
n=0
while IFS= read -r line; do
    case $line in
        *"HVRELAY-TAP: "*)
            tap=${line#*HVRELAY-TAP: }
            if [[ $tap =~ ^(ok|not\ ok)\ [0-9]+\ (.*)$ ]]; then
                n=$((n + 1))
                echo "${BASH_REMATCH[1]} $n ${BASH_REMATCH[2]}"
            fi
            ;;
        *"HVRELAY-DIAG: "*)
            echo "# ${line#*HVRELAY-DIAG: }"
            ;;
    esac
done <"$tmp/console.txt"

if ! grep -aq 'HVRELAY-VM: done' "$tmp/console.txt"; then
    if [ -n "$timed_out" ]; then
        why="guest killed after ${limit}s without finishing"
    else
        why="guest stopped before finishing (qemu exit status $qrc)"
    fi
    n=$((n + 1))
    echo "not ok $n - the guest ran the whole test # $why"
    echo "# --- last console lines ---"
    grep -av 'HVRELAY-' "$tmp/console.txt" | tail -n 60 | sed 's/^/# /'
elif [ -n "$timed_out" ]; then
    # Finished but never powered off: the poweroff path is part of the test.
    n=$((n + 1))
    echo "not ok $n - the guest powered itself off # killed after ${limit}s"
fi
echo "1..$n"

up=$(sed -n 's/.*HVRELAY-VM: test uptime=\([0-9.]*\).*/\1/p' "$tmp/console.txt" | head -n 1)
echo "# vm: kernel $(basename "$kdir"), prepare $(secs $(( t_prepared - t_start )))s," \
    "make install $(secs $(( t_installed - t_prepared )))s, image $(secs $(( t_built - t_installed )))s," \
    "systemd reached the test at guest uptime ${up:--}s, guest $(secs $(( t_end - t_boot )))s," \
    "total $(secs $(( t_end - t_start )))s"
exit 0
