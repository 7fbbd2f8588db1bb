# Sourced by the host-side scripts that boot a test guest (run.sh,
# systemd.sh): clocks, bailing out, and running QEMU under a time limit.

# Seconds with centiseconds, from bash's own clock: no fork per reading.
clock() { local t=${EPOCHREALTIME//[.,]/}; echo $(( t / 10000 )); }
secs() { printf '%d.%02d' $(( $1 / 100 )) $(( $1 % 100 )); }

bail() {
    echo "Bail out! $*"
    exit 1
}

# boot_guest LIMIT MARKER QEMU-ARGS...: runs qemu-system-x86_64 with its
# console in $console and kills it after LIMIT seconds: the guest powers
# itself off when done, so only one that stopped making progress is still
# running then. Sets qrc (QEMU's status), timed_out, t_boot, t_end and,
# unless MARKER is empty, t_first: when MARKER first showed on the console.
# qpid names QEMU while it runs, for the caller's cleanup.
boot_guest() {
    local limit=$1 marker=$2 now
    shift 2
    qemu-system-x86_64 "$@" </dev/null >"$console" 2>&1 &
    qpid=$!
    t_boot=$(clock)
    t_first=
    timed_out=
    while kill -0 "$qpid" 2>/dev/null; do
        now=$(clock)
        if [ -n "$marker" ] && [ -z "$t_first" ] && grep -qa "$marker" "$console"; then
            t_first=$now
        fi
        if [ $(( now - t_boot )) -ge $(( limit * 100 )) ]; then
            timed_out=1
            kill -KILL "$qpid" 2>/dev/null || true
            break
        fi
        sleep 0.1
    done
    qrc=0
    # (braces: keeps bash's "Killed" job notice out of the output)
    { wait "$qpid" || qrc=$?; } 2>/dev/null
    qpid=
    t_end=$(clock)
    if [ -n "${HVRELAY_VM_LOG:-}" ]; then
        cp "$console" "$HVRELAY_VM_LOG" || true
    fi
}
