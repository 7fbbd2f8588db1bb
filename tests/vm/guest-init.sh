#!/bin/sh
# /init of the vsock test guest (busybox ash). Runs every /scenarios/NN-*.sh
# once, each in its own process group under its own timeout, and reports
# them as TAP on the console, then powers the VM off.
#
# Host protocol (run.sh parses only lines holding these markers, because the
# kernel may print on the same console):
#   HVRELAY-VM: <event> uptime=<s>     progress and timing
#   HVRELAY-TAP: <tap line>            plan and one result per scenario
#   HVRELAY-DIAG: <text>               a failed scenario's output, leftovers,
#                                      kernel warnings
#
# No `set -e`: if /init exited the kernel would panic and every remaining
# scenario would be lost; a failing step is reported instead.
set -u

PATH=/usr/local/bin:/usr/local/sbin:/bin:/sbin:/usr/bin:/usr/sbin
HOME=/root
export PATH HOME

say()  { echo "HVRELAY-VM: $* uptime=$(cut -d' ' -f1 /proc/uptime)"; }
tap()  { echo "HVRELAY-TAP: $*"; }
diag() { sed 's/^/HVRELAY-DIAG: /'; }

finish() {
    say "done"
    sync
    poweroff -f
    # Not reached unless poweroff failed; panic=-1 and -no-reboot end QEMU.
    exit 1
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# The kernel gave us no stdout if the archive had no /dev/console node (it is
# built without root, so it may not): take the console explicitly.
exec </dev/console >/dev/console 2>&1
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=755 tmpfs /run
ln -sf /proc/self/fd /dev/fd 2>/dev/null

# Kernel chatter (warnings under emulation: clocksource, TSC) would otherwise
# split our marker lines; errors and worse still reach the console, and the
# full log is dumped below when a scenario fails.
echo 3 >/proc/sys/kernel/printk

say init

# This initramfs is only ever booted by run.sh, which sets the marker; without
# it we might be on a machine whose vsock leads somewhere real, so touch none.
case " $(cat /proc/cmdline) " in
    *" hvrelay.vmtest=1 "*) ;;
    *)  tap "Bail out! hvrelay.vmtest=1 missing from the kernel command line"
        finish ;;
esac

verbose=0
default_timeout=60
for arg in $(cat /proc/cmdline); do
    case $arg in
        hvrelay.verbose=*) verbose=${arg#*=} ;;
        hvrelay.timeout=*) default_timeout=${arg#*=} ;;
    esac
done

hostname vmtest
# The kernel's default of 1024/4096 descriptors makes hvrelay warn that its
# default max-connections (4096) cannot be reached; a real system's service
# manager gives more (systemd: 524288 hard).
# shellcheck disable=SC3045 # busybox ash has ulimit -n
ulimit -n 65536 2>/dev/null || true
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up

modfail=
for m in $(cat /lib/vmtest-modules/order); do
    insmod "/lib/vmtest-modules/$m.ko" 2>/tmp/insmod.err || {
        modfail="$modfail $m"
        diag </tmp/insmod.err
    }
done

set --
for f in /scenarios/[0-9]*.sh; do
    [ -e "$f" ] && set -- "$@" "${f##*/}"
done
total=$#
tap "1..$total"
if [ -n "$modfail" ]; then
    # Every scenario needs vsock; report them rather than run them into errors.
    n=0
    for s in "$@"; do
        n=$((n + 1))
        tap "not ok $n - ${s%.sh} # insmod failed:$modfail"
    done
    finish
fi

# Scenario header line "# vm-timeout: SECONDS" overrides the default; run.sh
# reads the same line to size its own overall timeout.
scenario_timeout() {
    t=$(sed -n 's/^# *vm-timeout: *\([0-9][0-9]*\).*/\1/p' "$1" | head -n 1)
    echo "${t:-$default_timeout}"
}

# Runs "$@" as the leader of a new process group so that a timeout, or the
# end of the scenario, can kill everything it started (servers left in the
# background included) with one kill of the group. busybox `timeout` alone
# would signal only the shell, and ash defers a trapped TERM until its
# foreground child exits, which a hung child never does.
run_group() {
    secs=$1
    shift
    setsid "$@" &
    pid=$!
    setsid sh -c "sleep $secs; echo timeout >/tmp/vmtest/timed-out; kill -TERM -$pid; sleep 3; kill -KILL -$pid" \
        >/dev/null 2>&1 &
    dog=$!
    wait "$pid"
    rc=$?
    kill -KILL -"$dog" 2>/dev/null
    kill -KILL -"$pid" 2>/dev/null
    wait "$dog" 2>/dev/null
    return "$rc"
}

# Anything that left the scenario's process group (setsid, a daemon that
# forked itself away) is still running now; the next scenario must start from
# a clean guest. This shell runs no child between scenarios, so every process
# other than /init is a leftover (kernel threads have no exe to follow).
# A process still exiting (the watchdog's sleep, just killed with its group)
# has an empty command line: it is killed again without a word.
sweep() {
    for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        [ "$pid" != 1 ] && [ -e "$p/exe" ] || continue
        cmd=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)
        if [ -n "$cmd" ]; then
            echo "scenario $1 left pid $pid running: $cmd(killed)" | diag
        fi
        kill -KILL "$pid" 2>/dev/null
    done
}

mkdir -p /tmp/vmtest
# Boot-time warnings under emulation (MTRR, clocksource) are noise; only what
# the kernel says while scenarios run is worth showing.
kmsg_boot=$(dmesg | wc -l)
say scenarios
n=0
for s in "$@"; do
    n=$((n + 1))
    name=${s%.sh}
    secs=$(scenario_timeout "/scenarios/$s")
    work=/tmp/vmtest/$name
    log=/tmp/vmtest/$name.log
    mkdir -p "$work"
    rm -f /tmp/vmtest/timed-out
    say "start $n $name"
    cd "$work" || continue
    run_group "$secs" env SCENARIO="$name" SCENARIO_DIR=/scenarios WORKDIR="$work" \
        sh "/scenarios/$s" </dev/null >"$log" 2>&1
    rc=$?
    cd /
    say "end $n $name rc=$rc"
    if [ -e /tmp/vmtest/timed-out ]; then
        tap "not ok $n - $name # timed out after ${secs}s"
        diag <"$log"
    elif [ "$rc" -eq 0 ]; then
        tap "ok $n - $name"
        [ "$verbose" = 1 ] && diag <"$log"
    elif [ "$rc" -eq 77 ]; then
        tap "ok $n - $name # SKIP $(tail -n 1 "$log")"
    else
        tap "not ok $n - $name # exit status $rc"
        diag <"$log"
    fi
    sweep "$name"
done

# A WARN or an oops in vsock is news even when every scenario passed.
# (dmesg -r prints "<facility*8+level>"; warning is level 4.)
# A stalled vCPU thread on a busy host makes the kernel note a slow timer
# interrupt: emulation, not vsock.
dmesg -r 2>/dev/null | tail -n +$((kmsg_boot + 1)) |
    awk -F'[<>]' '$2 % 8 <= 4' | grep -v 'hrtimer: interrupt took' | tail -n 60 >/tmp/kmsg
if [ -s /tmp/kmsg ]; then
    echo "--- kernel warnings and errors while scenarios ran ---" | diag
    diag </tmp/kmsg
fi
finish
