#!/bin/sh
# /init of the systemd guest (busybox ash): the part of a boot that an
# initramfs would do, then systemd as PID 1. It loads the vsock modules
# (this guest has no modprobe, and the socket unit needs AF_VSOCK before
# systemd opens it), and refuses to go on without the mark that this
# kernel runs under tests/vm/systemd.sh.
#
# No `set -e`: if /init exited the kernel would panic and the host would
# learn nothing; every failure is reported and powers the guest off.
set -u

PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# The archive is built without root, so it may hold no /dev/console node.
exec </dev/console >/dev/console 2>&1

say() { echo "HVRELAY-VM: $* uptime=$(cut -d' ' -f1 /proc/uptime)"; }
give_up() {
    echo "HVRELAY-TAP: Bail out! $*"
    poweroff -f
    exit 1
}

say init
case " $(cat /proc/cmdline) " in
    *" hvrelay.vmtest=1 "*) ;;
    *) give_up "hvrelay.vmtest=1 missing from the kernel command line" ;;
esac

for m in $(cat /lib/vmtest-modules/order); do
    insmod "/lib/vmtest-modules/$m.ko" 2>/tmp/insmod.err ||
        give_up "insmod $m: $(cat /tmp/insmod.err)"
done

# SYSTEMD: where this machine's systemd keeps PID 1.
. /vmtest/env
# systemd mounts the rest of the API file systems itself.
# shellcheck disable=SC2093 # reached only when the exec fails
exec "$SYSTEMD"
give_up "cannot exec $SYSTEMD"
