#!/bin/sh
# /init of the vsock test guest (busybox ash). Runs every /scenarios/NN-*.sh
# once, each in its own process group under its own timeout, and reports
# them as TAP on the console, then powers the VM off.
#
# Host protocol (run.sh parses only lines holding these markers, because the
# kernel may print on the same console):
#   HVRELAY-VM: <event> uptime=<s>     progress and timing
#   HVRELAY-TAP: <tap line>            plan and one result per scenario
#   HVRELAY-DIAG: <text>               output of a failed scenario
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
    say done
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
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up

modfail=
for m in $(cat /lib/vmtest-modules/order); do
    insmod "/lib/vmtest-modules/$m.ko" 2>/tmp/insmod.err || {
        modfail="$modfail $m"
        diag </tmp/insmod.err
    }
done

set -- $(ls /scenarios/ | grep '^[0-9].*\.sh$' | sort)
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

mkdir -p /tmp/vmtest
say scenarios
n=0
failed=0
for s in "$@"; do
    n=$((n + 1))
    name=${s%.sh}
    secs=$(scenario_timeout "/scenarios/$s")
    work=/tmp/vmtest/$name
    log=/tmp/vmtest/$name.log
    mkdir -p "$work"
    rm -f /tmp/vmtest/timed-out
    say "start $n $name"
    (
        cd "$work" &&
        SCENARIO=$name SCENARIO_DIR=/scenarios WORKDIR=$work &&
        export SCENARIO SCENARIO_DIR WORKDIR &&
        run_group "$secs" sh "/scenarios/$s" </dev/null >"$log" 2>&1
    )
    rc=$?
    say "end $n $name rc=$rc"
    if [ -e /tmp/vmtest/timed-out ]; then
        tap "not ok $n - $name # timed out after ${secs}s"
        failed=$((failed + 1))
        diag <"$log"
    elif [ "$rc" -eq 0 ]; then
        tap "ok $n - $name"
        [ "$verbose" = 1 ] && diag <"$log"
    elif [ "$rc" -eq 77 ]; then
        tap "ok $n - $name # SKIP $(tail -n 1 "$log")"
    else
        tap "not ok $n - $name # exit status $rc"
        failed=$((failed + 1))
        diag <"$log"
    fi
done

if [ "$failed" -gt 0 ]; then
    echo "--- kernel log (warnings and worse) ---" | diag
    dmesg -r 2>/dev/null | grep '^<[0-4]>' | tail -n 40 | diag
fi
finish
