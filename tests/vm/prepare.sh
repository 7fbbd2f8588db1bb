#!/bin/bash
# prepare.sh CACHE_DIR
#
# Gets everything the vsock guest needs onto this machine, idempotently:
#   - host tools (qemu, static busybox, dropbear, ss), installed with apt-get
#     when we are root;
#   - Debian's current kernel image, fetched with `apt-get download` (never
#     installed: this machine's own kernel is none of our business), unpacked
#     into CACHE_DIR/kernel/<version>/ together with the vsock modules.
# Prints the kernel directory on stdout; everything else goes to stderr.
# Exit status 77 when this machine cannot provide them (packages missing and
# not root, no kernel package reachable and none cached); 1 for real errors.
#
# The kernel version is whatever linux-image-amd64 depends on right now in the
# local package lists, so a kernel update in Debian is picked up automatically
# and a cached one is reused until then.
set -eu

die() { echo "prepare.sh: $*" >&2; exit 1; }
# This machine cannot get what the guest needs (not root, offline): exit 77,
# which run.sh reports as a skip unless told that the suite is required.
unavailable() { echo "prepare.sh: $*" >&2; exit 77; }
log() { echo "prepare.sh: $*" >&2; }

[ $# -eq 1 ] || die "usage: prepare.sh CACHE_DIR"
cache=$1
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# Two `make check` runs (or a -j build with two suites) may prepare the same
# cache at once; the second waits and then finds everything done.
exec 9>"$cache/.lock"
flock 9

# vsock_loopback gives CID 1 (and, with no other transport, CID 2) inside the
# guest; vsock_diag lets `ss --vsock` see listeners, which is how scenarios
# wait for a server instead of sleeping. Order matters for insmod.
MODULES="vsock vmw_vsock_virtio_transport_common vsock_loopback vsock_diag"

# --- host packages ----------------------------------------------------------

static_busybox() {
    # Debian's dynamic `busybox` package ships the same path; only the static
    # one runs in a guest that has no libc of its own at /bin.
    [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1
}

missing_packages() {
    command -v qemu-system-x86_64 >/dev/null || echo qemu-system-x86
    static_busybox || echo busybox-static
    command -v dropbear >/dev/null || [ -x /usr/sbin/dropbear ] || echo dropbear-bin
    command -v dbclient >/dev/null || echo dropbear-bin
    command -v ss >/dev/null || [ -x /usr/bin/ss ] || [ -x /sbin/ss ] || echo iproute2
    command -v xz >/dev/null || echo xz-utils
    command -v zstd >/dev/null || echo zstd
    command -v dpkg-deb >/dev/null || echo dpkg
}

need=$(missing_packages | sort -u | tr '\n' ' ')
if [ -n "${need% }" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        unavailable "missing packages: $need(run as root: apt-get install -y $need)"
    fi
    log "installing $need"
    export DEBIAN_FRONTEND=noninteractive
    # The lists on a fresh machine can be stale enough that an install 404s;
    # only then is an update worth its time.
    # shellcheck disable=SC2086
    if ! apt-get install -y --no-install-recommends $need >&2; then
        apt-get update >&2
        apt-get install -y --no-install-recommends $need >&2
    fi
    need=$(missing_packages | sort -u | tr '\n' ' ')
    [ -z "${need% }" ] || die "still missing after install: $need"
fi

# --- kernel -------------------------------------------------------------------

# build-initramfs.sh and run.sh find the kernel through this link.
set_current() { ln -sfn "kernel/$(basename "$1")" "$cache/current"; echo "$1"; }

current_kernel_package() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        sed -n 's/^ *Depends: <\{0,1\}\(linux-image-[0-9][^ >]*\)>\{0,1\}$/\1/p' | head -n 1
}

kpkg=$(current_kernel_package)
if [ -z "$kpkg" ] && [ "$(id -u)" -eq 0 ]; then
    apt-get update >&2
    kpkg=$(current_kernel_package)
fi
if [ -z "$kpkg" ]; then
    # Offline or non-root with empty lists: any complete cached kernel will do.
    kdir=$(ls -d "$cache"/kernel/*/ 2>/dev/null | sort -V | tail -n 1)
    [ -n "$kdir" ] && [ -e "$kdir/.complete" ] ||
        unavailable "cannot resolve linux-image-amd64's dependency and nothing is cached"
    log "linux-image-amd64 unresolvable; using cached ${kdir%/}"
    set_current "${kdir%/}"
    exit 0
fi
kver=${kpkg#linux-image-}
kdir=$cache/kernel/$kver

if [ -e "$kdir/.complete" ]; then
    set_current "$kdir"
    exit 0
fi

log "fetching $kpkg"
work=$(mktemp -d "$cache/.prepare.XXXXXX")
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download "$kpkg" >&2 2>&1) ||
    { [ "$(id -u)" -eq 0 ] && apt-get update >&2 &&
        (cd "$work" && apt-get download "$kpkg" >&2 2>&1); } ||
    unavailable "apt-get download $kpkg failed"
deb=$(ls "$work"/*.deb)

# Only the image, its config and the vsock modules: the whole package unpacks
# to several hundred MB we would never read. (tar after dpkg-deb is what
# `dpkg-deb -x` does, with a member filter.)
mkdir "$work/x"
dpkg-deb --fsys-tarfile "$deb" |
    tar -x -C "$work/x" --wildcards --no-wildcards-match-slash \
        './boot/vmlinuz-*' './boot/config-*' \
        './lib/modules/*/kernel/net/vmw_vsock/*' \
        './usr/lib/modules/*/kernel/net/vmw_vsock/*' 2>/dev/null || true

stage=$work/out
mkdir -p "$stage/modules"
vmlinuz=$(ls "$work"/x/boot/vmlinuz-* 2>/dev/null | head -n 1)
[ -n "$vmlinuz" ] || die "no /boot/vmlinuz-* in $kpkg"
cp "$vmlinuz" "$stage/vmlinuz"
cp "$work"/x/boot/config-* "$stage/config" 2>/dev/null || true

moddir=$(ls -d "$work"/x/lib/modules/*/kernel/net/vmw_vsock "$work"/x/usr/lib/modules/*/kernel/net/vmw_vsock 2>/dev/null | head -n 1)
[ -n "$moddir" ] || die "no net/vmw_vsock modules in $kpkg (vsock built in? check config)"
for m in $MODULES; do
    # busybox insmod reads raw ELF only; Debian compresses modules since trixie.
    if [ -e "$moddir/$m.ko" ]; then
        cp "$moddir/$m.ko" "$stage/modules/$m.ko"
    elif [ -e "$moddir/$m.ko.xz" ]; then
        xz -dc "$moddir/$m.ko.xz" >"$stage/modules/$m.ko"
    elif [ -e "$moddir/$m.ko.zst" ]; then
        zstd -q -dc "$moddir/$m.ko.zst" >"$stage/modules/$m.ko"
    elif [ -e "$moddir/$m.ko.gz" ]; then
        gzip -dc "$moddir/$m.ko.gz" >"$stage/modules/$m.ko"
    else
        die "module $m not found in $moddir: $(ls "$moddir" | tr '\n' ' ')"
    fi
done
echo "$MODULES" >"$stage/modules/order"

# An ELF vmlinux boots through QEMU's PVH entry and skips the in-guest
# decompression, which under TCG costs seconds. The bzImage setup header says
# where the compressed payload is (boot protocol 2.08+: payload_offset at
# 0x248, payload_length at 0x24c, relative to the protected-mode code that
# starts after (setup_sects+1) sectors). Only worth it with a PVH ELF note
# (Xen note type 18, CONFIG_PVH); otherwise run.sh boots vmlinuz.
extract_vmlinux() {
    local img=$1 out=$2 sects poff plen start magic
    rd() { od -An -t "u$2" -j "$1" -N "$2" "$img" | tr -d ' '; }
    sects=$(rd $((0x1f1)) 1)
    [ "$sects" -ne 0 ] || sects=4
    poff=$(rd $((0x248)) 4)
    plen=$(rd $((0x24c)) 4)
    start=$(( (sects + 1) * 512 + poff ))
    magic=$(tail -c +$((start + 1)) "$img" | od -An -tx1 -N6 | tr -d ' ')
    # The kernel appends the uncompressed size after the stream, which the
    # decompressors call trailing garbage: judge the result, not the status.
    case $magic in
        fd377a585a00*) tail -c +$((start + 1)) "$img" | head -c "$plen" | xz -dc --single-stream >"$out" 2>/dev/null || true ;;
        28b52ffd*)     tail -c +$((start + 1)) "$img" | head -c "$plen" | zstd -q -dc >"$out" 2>/dev/null || true ;;
        1f8b*)         tail -c +$((start + 1)) "$img" | head -c "$plen" | gzip -dc >"$out" 2>/dev/null || true ;;
        *) return 1 ;;
    esac
    [ "$(od -An -tx1 -N4 "$out" | tr -d ' ')" = 7f454c46 ]
}

has_pvh_note() {
    command -v readelf >/dev/null || return 1
    LC_ALL=C readelf -n "$1" 2>/dev/null | grep -q 'Xen.*note type: (0x00000012)'
}

if extract_vmlinux "$stage/vmlinuz" "$stage/vmlinux.tmp"; then
    if has_pvh_note "$stage/vmlinux.tmp" ||
        { ! command -v readelf >/dev/null && grep -q '^CONFIG_PVH=y' "$stage/config" 2>/dev/null; }; then
        mv "$stage/vmlinux.tmp" "$stage/vmlinux"
    else
        log "vmlinux has no PVH entry note; the guest will boot vmlinuz"
    fi
else
    log "could not extract an ELF vmlinux; the guest will boot vmlinuz"
fi
rm -f "$stage/vmlinux.tmp"

echo "$kpkg $(dpkg-deb -f "$deb" Version)" >"$stage/package"
touch "$stage/.complete"
mkdir -p "$cache/kernel"
rm -rf "$kdir"
mv "$stage" "$kdir"

# Older kernels are dead weight once a newer one is complete.
for old in "$cache"/kernel/*/; do
    [ "${old%/}" = "$kdir" ] || rm -rf "${old%/}"
done

log "kernel $kver ready in $kdir"
set_current "$kdir"
