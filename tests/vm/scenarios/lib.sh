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
# ss needs unix_diag (a module) for Unix sockets; /proc/net/unix needs
# nothing. Flags 00010000 is __SO_ACCEPTCON (listening), type 0001 stream.
_unix_listening() {
    awk -v p="$1" '$4 == "00010000" && $5 == "0001" && $8 == p { f = 1 } END { exit !f }' /proc/net/unix
}

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
    wait_until "${2:-20}" "a Unix listener on $1" _unix_listening "$1"
    log "unix socket $1 is listening"
}

# need_cmd NAME...: skip the scenario when the guest lacks a tool.
need_cmd() {
    for _c in "$@"; do
        command -v "$_c" >/dev/null 2>&1 || skip "$_c not in the guest image"
    done
}

# --- hvrelay and hvtest ---------------------------------------------------------

# start_relay NAME CONF [ARG]...: runs `hvrelay -c CONF ARG...` in the
# background, its log (stderr) in $WORKDIR/NAME.log, and waits for its
# "started:" line, which it writes once every listener is bound. RELAY_PID is
# its pid. A relay that exits first fails the scenario with its log.
start_relay() {
    _sr_name=$1
    _sr_conf=$2
    shift 2
    bg "$_sr_name" hvrelay -c "$_sr_conf" "$@"
    RELAY_PID=$BG_PID
    _sr_deadline=$(( $(now) + 20 ))
    until grep -q ' started: ' "$WORKDIR/$_sr_name.log"; do
        _alive "$RELAY_PID" || fail "$_sr_name exited before it started"
        [ "$(now)" -lt "$_sr_deadline" ] || fail "$_sr_name logged no 'started:' line in 20s"
        sleep 0.1
    done
    log "$_sr_name started (pid $RELAY_PID)"
}

# stop_relay PID NAME [TIMEOUT]: SIGTERM; the relay must exit 0 within
# TIMEOUT seconds (default 15) and must have logged no error or warning.
stop_relay() {
    kill -TERM "$1" 2>/dev/null || fail "$2 (pid $1) was no longer running"
    expect_bg_ok "$1" "$2" "${3:-15}"
    relay_log_clean "$2"
}

# relay_log_clean NAME: fail if the relay's log has an error or warn line,
# or a sanitizer report (an --enable-asan build writes those to stderr too).
relay_log_clean() {
    if grep -E '^[^ ]+ (error|warn): |AddressSanitizer|LeakSanitizer|runtime error:' \
        "$WORKDIR/$1.log" >"$WORKDIR/$1.bad"; then
        fail "$1 logged errors, warnings or a sanitizer report: $(head -n 3 "$WORKDIR/$1.bad")"
    fi
}

# expect_log NAME ERE [WHAT]: fail unless NAME.log has a line matching ERE.
expect_log() {
    grep -qE "$2" "$WORKDIR/$1.log" || fail "${3:-$1.log has no line matching: $2}"
}

# wait_log NAME ERE [TIMEOUT]: until NAME.log has a line matching ERE.
wait_log() {
    wait_until "${3:-20}" "a line matching '$2' in $1.log" grep -qE "$2" "$WORKDIR/$1.log"
}

# count_log NAME ERE: how many lines of NAME.log match ERE.
count_log() {
    grep -cE "$2" "$WORKDIR/$1.log" || true
}

# end_line NAME FORWARD: the (last) connection-end line of FORWARD in NAME.log.
end_line() {
    grep -E " forward=$2 .* end=" "$WORKDIR/$1.log" | tail -n 1
}

# hvtest_field FILE FIELD: FIELD's values in an hvtest output, one a line,
# sorted (conn lines print "FIELD=VALUE").
hvtest_field() {
    sed -n "s/.* $2=\([^ ]*\).*/\1/p" "$WORKDIR/$1.log" | sort
}

# same_digests A FIELD_A B FIELD_B: fail unless what one end's FIELD_A lists
# is, as a set, what the other end's FIELD_B lists (and neither is empty).
same_digests() {
    _sd_a=$(hvtest_field "$1" "$2")
    _sd_b=$(hvtest_field "$3" "$4")
    if [ -z "$_sd_a" ] || [ "$_sd_a" != "$_sd_b" ]; then
        fail "$1's $2 and $3's $4 differ: [$(echo "$_sd_a" | tr '\n' ' ')] vs [$(echo "$_sd_b" | tr '\n' ' ')]"
    fi
}

# conn_ms NAME: the ms= of the first connection line of an hvtest output.
conn_ms() {
    sed -n 's/^conn=.* ms=\([0-9]*\) .*/\1/p' "$WORKDIR/$1.log" | head -n 1
}
