#!/bin/bash
# run.sh: boot one QEMU guest (TCG, no network card) with a real Linux
# AF_VSOCK, run every scenario in tests/vm/scenarios/ inside it, and print
# the results as TAP on stdout (the `make check` entry of the VM suite).
#
# AF_VSOCK is never opened on this machine: its vsock leads to a host that is
# not ours. Everything vsock happens in the guest, whose kernel command line
# carries hvrelay.vmtest=1, the mark hvtest requires before it touches vsock.
#
# Exit status: 0 whenever a TAP plan and a line per scenario were printed,
# whatever they say (a hung or crashed guest turns the scenarios it did not
# report into "not ok"); 1 with "Bail out!" if the harness itself failed.
#
# Environment:
#   HVRELAY, HVTEST        binaries to put in the guest (as hvrelay, hvtest);
#                          unset: looked for in the build and source trees
#   HVRELAY_VM_CACHE       kernel cache (default $XDG_CACHE_HOME/hvrelay-vm)
#   HVRELAY_VM_SCENARIOS   run only scenarios whose names start with one of
#                          these words, e.g. "01 03"
#   HVRELAY_VM_SCENARIO_FILES  scenario files to run instead of those in
#                          scenarios/ (paths anywhere, names NN-name.sh;
#                          they can source lib.sh as usual): bench/vsock.sh
#   HVRELAY_VM_EXTRA       more files for the guest's /usr/local/bin
#   HVRELAY_VM_TIMEOUT     overall limit in seconds (default: boot allowance
#                          plus every scenario's own limit, at most 300)
#   HVRELAY_VM_VERBOSE=1   show passing scenarios' output too
#   HVRELAY_VM_LOG=FILE    keep the guest's whole console output in FILE
#   HVRELAY_VM_SKIP=1      print a skipped plan and boot nothing
#   HVRELAY_VM_REQUIRE=1   fail ("Bail out!") rather than skip when this
#                          machine cannot run the guest (missing packages and
#                          not root, no kernel package reachable): for CI
#   HVRELAY_VM_QEMU_ARGS   extra QEMU arguments (word-split)
#   HVRELAY_VM_SMP         guest CPUs (default 2: clients and servers run at
#                          the same time, and TCG runs each vCPU on a thread)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
srcroot=$(cd "$here/../.." && pwd)
cache=${HVRELAY_VM_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/hvrelay-vm}
smp=${HVRELAY_VM_SMP:-2}

# shellcheck source=host-lib.sh
. "$here/host-lib.sh"

t_start=$(clock)

if [ "${HVRELAY_VM_SKIP:-0}" = 1 ]; then
    echo "1..0 # SKIP HVRELAY_VM_SKIP=1"
    exit 0
fi

# --- what goes into the guest -----------------------------------------------

# The guest runs /scenarios/[0-9]*.sh in glob order and numbers its TAP
# lines that way, so files named from elsewhere must follow the same naming,
# have distinct names, and be listed here in the same (C locale) order.
candidates=()
if [ -n "${HVRELAY_VM_SCENARIO_FILES:-}" ]; then
    for s in $(for f in $HVRELAY_VM_SCENARIO_FILES; do
                   printf '%s %s\n' "$(basename "$f")" "$f"
               done | LC_ALL=C sort | cut -d' ' -f2-); do
        [ -f "$s" ] || bail "HVRELAY_VM_SCENARIO_FILES: no such file $s"
        case $(basename "$s") in
            [0-9]*.sh) ;;
            *) bail "HVRELAY_VM_SCENARIO_FILES: $s: the name must be NN-name.sh" ;;
        esac
        candidates+=("$s")
    done
    dups=$(for s in "${candidates[@]}"; do basename "$s"; done | sort | uniq -d)
    [ -z "$dups" ] || bail "HVRELAY_VM_SCENARIO_FILES: two files named $dups"
else
    candidates=("$here"/scenarios/[0-9]*.sh)
fi
scenarios=()
for s in "${candidates[@]}"; do
    [ -e "$s" ] || continue
    base=$(basename "$s")
    if [ -n "${HVRELAY_VM_SCENARIOS:-}" ]; then
        keep=
        for w in $HVRELAY_VM_SCENARIOS; do
            case $base in "$w"*) keep=1 ;; esac
        done
        [ -n "$keep" ] || continue
    fi
    scenarios+=("$s")
done
[ ${#scenarios[@]} -gt 0 ] || bail "no scenario selected in ${HVRELAY_VM_SCENARIO_FILES:-$here/scenarios}"

# find_tool NAME ENVVAR CANDIDATE...: an explicitly named file must exist; an
# unset one is searched for, and a missing tool only makes the scenarios
# that need it skip.
files=()
find_tool() {
    local name=$1 var=$2 c
    shift 2
    if [ -n "${!var:-}" ]; then
        [ -f "${!var}" ] || bail "$var=${!var}: no such file"
        files+=("$name=${!var}")
        return
    fi
    for c in "$@"; do
        if [ -f "$c" ]; then
            files+=("$name=$c")
            return
        fi
    done
    echo "# $name not found (set $var): scenarios needing it will skip"
}
find_tool hvrelay HVRELAY "$PWD/src/hvrelay" "$srcroot/src/hvrelay"
find_tool hvtest HVTEST "$PWD/tests/tools/hvtest" "$srcroot/tests/tools/hvtest"

# Guest-side helpers from this machine's packages (installed by prepare.sh).
for t in ss dropbear dbclient dropbearkey; do
    for d in /usr/bin /usr/sbin /bin /sbin; do
        if [ -x "$d/$t" ]; then
            files+=("$d/$t")
            break
        fi
    done
done
for f in ${HVRELAY_VM_EXTRA:-}; do
    files+=("$f")
done

# --- prepare and build --------------------------------------------------------

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hvrelay-vm.XXXXXX")
qpid=
cleanup() {
    if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
        kill -TERM "$qpid" 2>/dev/null || true
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$qpid" 2>/dev/null || break
            sleep 0.2
        done
        kill -KILL "$qpid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

prc=0
"$here/prepare.sh" "$cache" >"$tmp/kdir" 2>"$tmp/prepare.err" || prc=$?
if [ "$prc" -eq 77 ] && [ "${HVRELAY_VM_REQUIRE:-0}" != 1 ]; then
    echo "1..0 # SKIP $(tail -n 1 "$tmp/prepare.err" | sed 's/^prepare.sh: //')"
    exit 0
elif [ "$prc" -ne 0 ]; then
    sed 's/^/# /' "$tmp/prepare.err"
    bail "prepare.sh failed"
fi
kdir=$(cat "$tmp/kdir")
t_prepared=$(clock)

SCENARIOS="${scenarios[*]}" "$here/build-initramfs.sh" "$cache" "$tmp/initramfs.cpio.gz" "${files[@]}" \
    2>"$tmp/build.err" || {
    sed 's/^/# /' "$tmp/build.err"
    bail "build-initramfs.sh failed"
}
t_built=$(clock)

# Boot the ELF vmlinux when prepare.sh could make one (PVH entry: no
# decompression in the guest, ~3 s less under TCG), else the bzImage.
kernel=$kdir/vmlinux
[ -e "$kernel" ] || kernel=$kdir/vmlinuz

# Overall limit: the guest enforces each scenario's own, this only catches a
# guest that stopped making progress altogether. By default it is the boot
# allowance plus every scenario's limit, but never more than 300 s (the
# whole suite normally takes under a minute): a run where several scenarios
# hang reports the rest as not ok rather than hold `make check` for long.
default_timeout=60
limit=${HVRELAY_VM_TIMEOUT:-}
if [ -z "$limit" ]; then
    limit=60
    for s in "${scenarios[@]}"; do
        t=$(sed -n 's/^# *vm-timeout: *\([0-9][0-9]*\).*/\1/p' "$s" | head -n 1)
        limit=$(( limit + ${t:-$default_timeout} + 5 ))
    done
    [ "$limit" -le 300 ] || limit=300
fi

append="console=ttyS0 quiet panic=-1 cryptomgr.notests hvrelay.vmtest=1 hvrelay.timeout=$default_timeout"
[ "${HVRELAY_VM_VERBOSE:-0}" = 1 ] && append="$append hvrelay.verbose=1"

# --- boot -----------------------------------------------------------------------

console=$tmp/console.log
: >"$console"
# -cpu max: its RDRAND seeds the guest's RNG at once; with the default CPU the
# first getrandom() (dropbearkey, any TLS) blocks about a second.
# shellcheck disable=SC2086 # HVRELAY_VM_QEMU_ARGS is meant to be split
boot_guest "$limit" 'HVRELAY-VM: scenarios' \
    -accel tcg -cpu max -m 512 -smp "$smp" -nographic -no-reboot -nic none \
    -kernel "$kernel" -initrd "$tmp/initramfs.cpio.gz" -append "$append" ${HVRELAY_VM_QEMU_ARGS:-}

# --- report -------------------------------------------------------------------

total=${#scenarios[@]}
names=()
for s in "${scenarios[@]}"; do
    s=$(basename "$s")
    names+=("${s%.sh}")
done

# Firmware writes terminal escapes; TAP consumers want plain lines.
tr -d '\r' <"$console" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g; s/\x1b[()][0-9A-Za-z]//g' >"$tmp/console.txt"
if grep -aq 'HVRELAY-TAP: Bail out!' "$tmp/console.txt"; then
    bail "guest: $(sed -n 's/.*HVRELAY-TAP: Bail out! *//p' "$tmp/console.txt" | head -n 1)"
fi

if [ -n "$timed_out" ]; then
    why="guest killed after ${limit}s without finishing"
elif grep -aq 'HVRELAY-VM: done' "$tmp/console.txt"; then
    why="guest reported no result for it"
else
    why="guest stopped before reporting (qemu exit status $qrc)"
fi

# The scenario that was running when the guest died or was killed.
running=$(sed -n 's/.*HVRELAY-VM: start \([0-9]*\) .*/\1/p' "$tmp/console.txt" | tail -n 1)
ended=$(sed -n 's/.*HVRELAY-VM: end \([0-9]*\) .*/\1/p' "$tmp/console.txt" | tail -n 1)
[ "$running" != "$ended" ] || running=

echo "1..$total"
next=1
missing=0
fill_to() {
    local w
    while [ "$next" -lt "$1" ]; do
        w=$why
        [ "$next" != "$running" ] || w="$why, while this scenario ran"
        echo "not ok $next - ${names[next - 1]} # $w"
        missing=$((missing + 1))
        next=$((next + 1))
    done
}
while IFS= read -r line; do
    case $line in
        *"HVRELAY-TAP: "*)
            tap=${line#*HVRELAY-TAP: }
            if [[ $tap =~ ^(ok|not\ ok)\ ([0-9]+)\ (.*)$ ]]; then
                n=${BASH_REMATCH[2]}
                [ "$n" -ge "$next" ] && [ "$n" -le "$total" ] || continue
                fill_to "$n"
                echo "$tap"
                next=$((n + 1))
            elif [[ $tap =~ ^1\.\.([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" != "$total" ]; then
                echo "# guest planned ${BASH_REMATCH[1]} scenarios, the host sent $total"
            fi
            ;;
        *"HVRELAY-DIAG: "*)
            echo "# ${line#*HVRELAY-DIAG: }"
            ;;
    esac
done <"$tmp/console.txt"
fill_to $((total + 1))

if [ "$missing" -gt 0 ]; then
    # Whatever the kernel said last (a panic, an oops) explains a dead guest.
    echo "# --- last console lines ---"
    grep -av 'HVRELAY-' "$tmp/console.txt" | tail -n 60 | sed 's/^/# /'
fi

# Each scenario's duration in guest time, from its start and end markers.
durations=$(awk '
    /HVRELAY-VM: start / { for (i = 1; i <= NF; i++) if ($i ~ /^uptime=/) { sub(/uptime=/, "", $i); t[$4] = $i } }
    /HVRELAY-VM: end /   { for (i = 1; i <= NF; i++) if ($i ~ /^uptime=/) { sub(/uptime=/, "", $i);
                               if ($4 in t) printf "%s%s %.1fs", sep, $4, $i - t[$4]; sep = ", " } }
' "$tmp/console.txt")
[ -z "$durations" ] || echo "# scenario times: $durations"

# Host wall clock from QEMU's start, and the guest's own uptime (kernel
# start, after firmware) at the same point.
boot=-
[ -z "$t_first" ] || boot=$(secs $(( t_first - t_boot )))s
up=$(sed -n 's/.*HVRELAY-VM: scenarios uptime=\([0-9.]*\).*/\1/p' "$tmp/console.txt" | head -n 1)
echo "# vm: kernel $(basename "$kdir") ($(basename "$kernel")), prepare $(secs $(( t_prepared - t_start )))s," \
    "initramfs $(secs $(( t_built - t_prepared )))s, boot to first scenario $boot (guest uptime ${up:--}s)," \
    "guest $(secs $(( t_end - t_boot )))s, total $(secs $(( t_end - t_start )))s"
exit 0
