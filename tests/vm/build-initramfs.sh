#!/bin/bash
# build-initramfs.sh CACHE_DIR OUT FILE...
#
# Builds the guest's whole root file system as an initramfs: static busybox,
# the vsock modules from CACHE_DIR/current (see prepare.sh), /init
# (guest-init.sh), the scenarios, and each FILE in /usr/local/bin with the
# shared libraries and dynamic loader it needs, at the paths ldd reports.
#
# OUT ending in .gz is gzip-compressed; a plain .cpio is not, which QEMU loads
# just as well and the guest then need not inflate under emulation.
#
# FILE may be NAME=PATH to install PATH under another name. A libtool wrapper
# script is replaced by the real binary it wraps.
#
# Environment:
#   SCENARIOS  scenario files to include (default: every NN-*.sh beside this
#              script in scenarios/); lib.sh is always included.
#   BUSYBOX    a statically linked busybox (default /bin/busybox)
set -eu

die() { echo "build-initramfs.sh: $*" >&2; exit 1; }

[ $# -ge 2 ] || die "usage: build-initramfs.sh CACHE_DIR OUT FILE..."
cache=$1
out=$2
shift 2

here=$(cd "$(dirname "$0")" && pwd)
kdir=$cache/current
[ -e "$kdir/.complete" ] || die "no prepared kernel in $cache (run prepare.sh first)"
busybox=${BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || die "no busybox at $busybox"
if ldd "$busybox" >/dev/null 2>&1; then
    die "$busybox is dynamically linked; install busybox-static"
fi
if [ -z "${SCENARIOS+set}" ]; then
    SCENARIOS=$(ls "$here"/scenarios/[0-9]*.sh 2>/dev/null | sort || true)
fi

root=$(mktemp -d "${TMPDIR:-/tmp}/hvrelay-initramfs.XXXXXX")
tmpout=
trap 'rm -rf "$root" ${tmpout:+"$tmpout"}' EXIT

mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,etc,proc,sys,dev,tmp,run,root,scenarios,lib/vmtest-modules,var}
ln -s ../run "$root/var/run"
chmod 1777 "$root/tmp"
chmod 700 "$root/root"

cp "$busybox" "$root/bin/busybox"
# Symlinks for every applet, where busybox itself would install them.
for applet in $("$busybox" --list-full); do
    [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done

cp "$kdir"/modules/*.ko "$kdir/modules/order" "$root/lib/vmtest-modules/"
cp "$here/guest-init.sh" "$root/init"
chmod 755 "$root/init"
cp "$here/scenarios/lib.sh" "$root/scenarios/lib.sh"
for s in $SCENARIOS; do
    [ -f "$s" ] || die "no scenario $s"
    install -m 755 "$s" "$root/scenarios/$(basename "$s")"
done

# Enough of /etc for dropbear (root's shell and home), glibc's resolver
# (localhost without DNS) and ss.
cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
tty:x:5:
nogroup:x:65534:
EOF
echo 'root::1::::::' >"$root/etc/shadow"
chmod 600 "$root/etc/shadow"
printf '/bin/sh\n/bin/ash\n' >"$root/etc/shells"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n' >"$root/etc/hosts"
printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n' >"$root/etc/nsswitch.conf"
: >"$root/etc/ld.so.conf"

if [ "$(id -u)" -eq 0 ]; then
    mknod -m 600 "$root/dev/console" c 5 1
    mknod -m 666 "$root/dev/null" c 1 3
fi

# copy_with_path SRC: SRC at the same absolute path inside the image, with
# symlinks resolved (the library's soname link is what the loader opens).
copy_with_path() {
    [ -e "$root/$1" ] && return 0
    mkdir -p "$root/$(dirname "$1")"
    cp -L "$1" "$root/$1"
}

# copy_libs FILE: the loader and every library ldd resolves for FILE. The
# guest has no ld.so.cache, so each lands where ldd found it, which is on
# glibc's built-in search path (Debian's multiarch directories).
copy_libs() {
    local line lib
    local deps
    deps=$(ldd "$1" 2>/dev/null) || return 0   # static, or not an ELF at all
    while read -r line; do
        case $line in
            *"not found"*) die "$1: ${line%%=>*} not found by ldd" ;;
            *"=> /"*) lib=${line#*=> }; lib=${lib%% (*} ;;
            /*) lib=${line%% (*} ;;
            *) continue ;;   # linux-vdso.so.1 and the like
        esac
        copy_with_path "$lib"
    done <<<"$deps"
}

for arg in "$@"; do
    case $arg in
        *=*) name=${arg%%=*}; src=${arg#*=} ;;
        *)   name=$(basename "$arg"); src=$arg ;;
    esac
    [ -f "$src" ] || die "no file $src"
    # libtool keeps the real program in .libs/ (lt-NAME once it has run) and
    # leaves a shell wrapper, useless in the guest, in its place.
    if head -c 4096 "$src" | grep -q 'libtool wrapper'; then
        d=$(dirname "$src")
        b=$(basename "$src")
        if [ -f "$d/.libs/lt-$b" ]; then src=$d/.libs/lt-$b
        elif [ -f "$d/.libs/$b" ]; then src=$d/.libs/$b
        else die "$src is a libtool wrapper and its binary is missing"
        fi
    fi
    install -m 755 "$src" "$root/usr/local/bin/$name"
    copy_libs "$src"
done

# The archive is built without root privileges on its contents: everything
# becomes root-owned here, and /init gets the console itself if no node was
# made above.
mkdir -p "$(dirname "$out")"
tmpout=$(mktemp "$out.XXXXXX")
(
    cd "$root"
    find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort |
        "$busybox" cpio -o -H newc -R 0:0 2>/dev/null
) | case $out in
    *.gz) gzip -1 -n ;;
    *) cat ;;
esac >"$tmpout"
chmod 644 "$tmpout"
mv "$tmpout" "$out"
