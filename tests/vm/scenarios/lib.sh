# Helpers for guest scenarios; busybox ash compatible. Source it first:
#
#   . "$SCENARIO_DIR/lib.sh"
#
# A scenario is a shell script that exits 0 for ok, 77 to skip, anything else
# for not ok. guest-init.sh runs it in a fresh working directory ($WORKDIR)
# with stdout+stderr captured (shown only when it fails) and kills its whole
# process group when it ends or times out. Put "# vm-timeout: SECONDS" near
# the top to change the default 60 s limit.
#
# Everything here that waits has its own deadline: a hang must fail the step
# that hung, with a message, not run into the scenario's timeout.

set -eu

# Whole seconds since boot; ash has no $SECONDS.
now() {
    read -r _up _ </proc/uptime
    echo "${_up%.*}"
}

log() { echo "[$(cut -d' ' -f1 /proc/uptime)] $*"; }

# Background processes started with bg, as "pid:name" words, for cleanup and
# for showing their output when something fails.
BG_PROCS=""
BG_PID=""

_show_bg_logs() {
    for _p in $BG_PROCS; do
        _n=${_p#*:}
        [ -s "$WORKDIR/$_n.log" ] || continue
        echo "--- $_n.log (last 30 lines) ---"
        tail -n 30 "$WORKDIR/$_n.log"
    done
}

# fail MESSAGE...: end the scenario as not ok.
fail() {
    echo "FAIL: $*"
    _show_bg_logs
    exit 1
}

# skip REASON...: end the scenario as skipped; the reason becomes the TAP
# SKIP comment, so keep it to one line.
skip() {
    echo "$*"
    exit 77
}

_alive() {
    # A zombie counts as gone: it has exited, only nobody has reaped it yet.
    [ -r "/proc/$1/stat" ] || return 1
    _st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
    [ -n "$_st" ] && [ "$_st" != Z ]
}

cleanup() {
    _left=""
    for _p in $BG_PROCS; do
        _pid=${_p%%:*}
        if _alive "$_pid"; then
            kill -TERM "$_pid" 2>/dev/null || true
            _left="$_left $_pid"
        fi
    done
    [ -n "$_left" ] || return 0
    _i=0
    while [ $_i -lt 20 ]; do
        _any=""
        for _pid in $_left; do
            if _alive "$_pid"; then _any=1; fi
        done
        [ -n "$_any" ] || return 0
        sleep 0.1
        _i=$((_i + 1))
    done
    for _pid in $_left; do
        kill -KILL "$_pid" 2>/dev/null || true
    done
}
trap 'cleanup' EXIT
# ash runs the EXIT trap on exit only; turn signals into an exit.
trap 'exit 143' TERM
trap 'exit 130' INT

# bg NAME COMMAND [ARG]...: start COMMAND in the background with its output
# in $WORKDIR/NAME.log; its PID is left in BG_PID and it is killed at exit.
bg() {
    _name=$1
    shift
    "$@" >"$WORKDIR/$_name.log" 2>&1 </dev/null &
    BG_PID=$!
    BG_PROCS="$BG_PROCS $BG_PID:$_name"
    log "started $_name (pid $BG_PID): $*"
}

# bg_wait PID [TIMEOUT]: wait for a process started with bg and return its
# exit status; 124 if it is still running after TIMEOUT seconds (default 30),
# in which case it is left running for cleanup to kill.
bg_wait() {
    _pid=$1
    _deadline=$(( $(now) + ${2:-30} ))
    while _alive "$_pid"; do
        [ "$(now)" -lt "$_deadline" ] || return 124
        sleep 0.1
    done
    _rc=0
    wait "$_pid" || _rc=$?
    return $_rc
}

# expect_bg_ok PID NAME [TIMEOUT]: fail unless the background process exits 0.
expect_bg_ok() {
    _rc=0
    bg_wait "$1" "${3:-30}" || _rc=$?
    case $_rc in
        0) log "$2 exited 0" ;;
        124) fail "$2 (pid $1) still running after ${3:-30}s" ;;
        *) fail "$2 (pid $1) exited with status $_rc" ;;
    esac
}

# run NAME COMMAND [ARG]...: run in the foreground, output to $WORKDIR/NAME.log
# (shown on failure), fail unless it exits 0.
run() {
    _name=$1
    shift
    log "running $_name: $*"
    _rc=0
    "$@" >"$WORKDIR/$_name.log" 2>&1 </dev/null || _rc=$?
    if [ $_rc -ne 0 ]; then
        echo "--- $_name.log (last 30 lines) ---"
        tail -n 30 "$WORKDIR/$_name.log"
        fail "$_name exited with status $_rc"
    fi
    log "$_name ok"
}

# wait_until TIMEOUT WHAT COMMAND [ARG]...: poll COMMAND every 0.1 s until it
# succeeds, or fail naming WHAT.
wait_until() {
    _t=$1
    _what=$2
    shift 2
    _deadline=$(( $(now) + _t ))
    until "$@"; do
        [ "$(now)" -lt "$_deadline" ] || fail "timed out after ${_t}s waiting for $_what"
        sleep 0.1
    done
}

_need_ss() {
    command -v ss >/dev/null 2>&1 || fail "ss (iproute2) is not in the guest"
}

# The local address is the only "ADDR:PORT" followed by blanks on a listener
# line (the peer column is "*:*"), whatever columns this ss version prints.
_vsock_listening() { ss -Hln --vsock 2>/dev/null | grep -q ":$1[[:space:]]"; }
_tcp_listening()   { ss -Hltn 2>/dev/null | grep -q ":$1[[:space:]]"; }
_unix_listening()  { ss -Hlx 2>/dev/null | grep -qF " $1 "; }

# wait_vsock_listen PORT [TIMEOUT]: until something listens on vsock PORT
# (any CID). Needs vsock_diag, which guest-init.sh loads.
wait_vsock_listen() {
    _need_ss
    wait_until "${2:-20}" "a vsock listener on port $1" _vsock_listening "$1"
    log "vsock port $1 is listening"
}

# wait_tcp_listen PORT [TIMEOUT]: until something listens on TCP PORT.
wait_tcp_listen() {
    _need_ss
    wait_until "${2:-20}" "a TCP listener on port $1" _tcp_listening "$1"
    log "tcp port $1 is listening"
}

# wait_unix_listen PATH [TIMEOUT]: until something listens on a Unix stream
# socket PATH (abstract names as @name).
wait_unix_listen() {
    _need_ss
    wait_until "${2:-20}" "a Unix listener on $1" _unix_listening "$1"
    log "unix socket $1 is listening"
}

# need_cmd NAME...: skip the scenario when the guest lacks a tool.
need_cmd() {
    for _c in "$@"; do
        command -v "$_c" >/dev/null 2>&1 || skip "$_c not in the guest image"
    done
}
