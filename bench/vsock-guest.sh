# bench/vsock-guest.sh: the guest half of bench/vsock.sh (busybox sh).
#
# Not run on its own: bench/vsock.sh prepends a scenario header (vm-timeout,
# the settings below) and hands the result to tests/vm/run.sh, which runs it
# inside the QEMU guest, where AF_VSOCK is the guest's own loopback.
#
# Measures iperf3 throughput, one stream each way, from a client to a server
# on 127.0.0.1 through:
#   direct            no relay (the ceiling)
#   hvrelay           the host/guest pair: tcp -> vsock:1 -> tcp, two hvrelays
#   hvrelay-nosplice  the same pair with splice = no
#   socat             the same pair made of two socat processes
# Results go to stdout as "BENCH-CSV: test,relay,case,rep,metric,value"
# (bench/run.sh's results.csv columns) and "BENCH-INFO: key: value"; the
# harness shows this output on the console (HVRELAY_VM_VERBOSE=1), where
# bench/vsock.sh picks those lines up.
# shellcheck shell=sh
# shellcheck source=../tests/vm/scenarios/lib.sh
. "$SCENARIO_DIR/lib.sh"

need_cmd hvrelay iperf3 socat ss

: "${VSOCK_REPS:=5}"
: "${VSOCK_SECONDS:=2}"

SETS="direct hvrelay hvrelay-nosplice socat"
SERVER_PORT=5201
# Linux reports CPU times in USER_HZ, which is 100 on x86 whatever the
# kernel's own tick rate; busybox has no getconf to ask.
CLK_TCK=100

# tcp_port SET: where the client connects for SET.
tcp_port() {
    case $1 in
        direct) echo $SERVER_PORT ;;
        hvrelay) echo 7301 ;;
        hvrelay-nosplice) echo 7302 ;;
        socat) echo 7303 ;;
    esac
}

# vsock_port SET: the vsock hop of SET's pair.
vsock_port() {
    case $1 in
        hvrelay) echo 5301 ;;
        hvrelay-nosplice) echo 5302 ;;
        socat) echo 5303 ;;
    esac
}

row() {
    echo "BENCH-CSV: vsock,$1,$2,$3,$4,$5"
}

info() {
    echo "BENCH-INFO: $*"
}

# write_pair_configs SET SPLICE: the two halves of an hvrelay pair, with the
# main bench's settings (no per-connection log lines: socat logs none).
write_pair_configs() {
    cat >"$1-host.conf" <<CONF
log-level = warn
control-socket = off
splice = $2
[$1-host]
listen = tcp:127.0.0.1:$(tcp_port "$1")
connect = vsock:1:$(vsock_port "$1")
CONF
    cat >"$1-guest.conf" <<CONF
log-level = warn
control-socket = off
splice = $2
[$1-guest]
listen = vsock:any:$(vsock_port "$1")
connect = tcp:127.0.0.1:$SERVER_PORT
CONF
    run "check-$1-host" hvrelay -t -c "$1-host.conf"
    run "check-$1-guest" hvrelay -t -c "$1-guest.conf"
}

# PIDs whose CPU time is charged to each set: both halves of its pair.
# HVRELAY_NAMES: "pid:name" of every hvrelay, to stop each at the end.
HVRELAY_NAMES=""
HVRELAY_PIDS=""
HVRELAY_NOSPLICE_PIDS=""
SOCAT_PIDS=""

set_pids() {
    case $1 in
        hvrelay) echo "$HVRELAY_PIDS" ;;
        hvrelay-nosplice) echo "$HVRELAY_NOSPLICE_PIDS" ;;
        socat) echo "$SOCAT_PIDS" ;;
    esac
}

# The relays start with warn-level logs, which have no "started:" line:
# their listeners say when they are ready instead.
start_hvrelay_pair() {
    bg "$1-guest" hvrelay -c "$1-guest.conf"
    _pids=$BG_PID
    HVRELAY_NAMES="$HVRELAY_NAMES $BG_PID:$1-guest"
    bg "$1-host" hvrelay -c "$1-host.conf"
    _pids="$_pids $BG_PID"
    HVRELAY_NAMES="$HVRELAY_NAMES $BG_PID:$1-host"
    wait_vsock_listen "$(vsock_port "$1")"
    wait_tcp_listen "$(tcp_port "$1")"
    case $1 in
        hvrelay) HVRELAY_PIDS=$_pids ;;
        hvrelay-nosplice) HVRELAY_NOSPLICE_PIDS=$_pids ;;
    esac
}

# bind=127.0.0.1 as in bench/run.sh: socat would listen on every address.
start_socat_pair() {
    bg socat-guest socat "VSOCK-LISTEN:$(vsock_port socat),fork,reuseaddr" \
        "TCP:127.0.0.1:$SERVER_PORT"
    SOCAT_PIDS=$BG_PID
    bg socat-host socat "TCP-LISTEN:$(tcp_port socat),fork,reuseaddr,bind=127.0.0.1" \
        "VSOCK-CONNECT:1:$(vsock_port socat)"
    SOCAT_PIDS="$SOCAT_PIDS $BG_PID"
    wait_vsock_listen "$(vsock_port socat)"
    wait_tcp_listen "$(tcp_port socat)"
}

# cpu_ticks PID...: utime+stime+cutime+cstime summed; the children's part is
# socat's per-connection forks once it has reaped them.
cpu_ticks() {
    _sum=0
    for _p in "$@"; do
        # After "pid (comm) ", the state is field 1 and utime field 12.
        _t=$(sed 's/^.*) //' "/proc/$_p/stat" | awk '{ print $12 + $13 + $14 + $15 }')
        _sum=$((_sum + _t))
    done
    echo "$_sum"
}

has_children() {
    for _p in "$@"; do
        # Field 2 after the comm is the parent's PID.
        if sed 's/^.*) //' /proc/[0-9]*/stat 2>/dev/null | awk -v p="$_p" '$2 == p { f = 1 } END { exit !f }'; then
            return 0
        fi
    done
    return 1
}

# settle SET: wait (5 s at most) until socat has reaped the forks of the
# last test, so that their CPU time is in its parents' cutime/cstime.
settle() {
    [ "$1" = socat ] || return 0
    _deadline=$(( $(now) + 5 ))
    # shellcheck disable=SC2086 # a list of PIDs
    while has_children $SOCAT_PIDS && [ "$(now)" -lt "$_deadline" ]; do
        sleep 0.1
    done
}

# iperf_json FILE: "BYTES BITS_PER_SECOND" from the end.sum_received object
# of iperf3's --json output: what the receiving end counted.
iperf_json() {
    awk '/"sum_received"/ { f = 1 }
        f && /"bytes"/ { gsub(/[^0-9]/, "", $2); b = $2 }
        f && /"bits_per_second"/ { gsub(/[^0-9.e+-]/, "", $2); print b, $2; exit }' "$1"
}

# measure SET DIR REP [SECONDS]: one iperf3 run, its output in
# iperf-SET-DIR-REP.log; REP 0 is a warm-up whose figures are not reported. One retry after a failure: the server may still
# be closing the previous test.
measure() {
    _set=$1
    _dir=$2
    _rep=$3
    _secs=${4:-$VSOCK_SECONDS}
    _name="iperf-$_set-$_dir-$_rep"
    _out="$_name.log"
    _rev=""
    [ "$_dir" = down ] && _rev=-R
    _pids=$(set_pids "$_set")
    for _attempt in 1 2; do
        # shellcheck disable=SC2086 # a list of PIDs
        [ -z "$_pids" ] || _before=$(cpu_ticks $_pids)
        # Not busybox timeout: its watchdog outlives the command by up to
        # a second, and would be left running at the end.
        # shellcheck disable=SC2086 # $_rev: empty or -R
        bg "$_name" iperf3 -c 127.0.0.1 -p "$(tcp_port "$_set")" -t "$_secs" $_rev --json
        _rc=0
        bg_wait "$BG_PID" $((_secs + 30)) || _rc=$?
        [ $_rc -ne 124 ] || kill -KILL "$BG_PID" 2>/dev/null || true
        if [ $_rc -eq 0 ] && [ -n "$(iperf_json "$_out")" ]; then
            break
        fi
        log "iperf3 $_set $_dir rep $_rep failed (attempt $_attempt): $(grep -m1 '"error"' "$_out" || tail -n 1 "$_out")"
        if [ "$_attempt" = 2 ]; then
            [ "$_rep" = 0 ] || row "$_set" "P1-$_dir" "$_rep" error 1
            return 1
        fi
        sleep 1
    done
    settle "$_set"
    # shellcheck disable=SC2086
    [ -z "$_pids" ] || _after=$(cpu_ticks $_pids)
    # shellcheck disable=SC2046 # two words
    set -- $(iperf_json "$_out")
    _gbps=$(awk -v b="$2" 'BEGIN { printf "%.4f", b / 1e9 }')
    log "$_set $_dir rep $_rep: $_gbps Gbit/s"
    [ "$_rep" != 0 ] || return 0
    row "$_set" "P1-$_dir" "$_rep" gbps "$_gbps"
    row "$_set" "P1-$_dir" "$_rep" bytes "$1"
    if [ -n "$_pids" ]; then
        row "$_set" "P1-$_dir" "$_rep" cpu_s \
            "$(awk -v t=$((_after - _before)) -v hz=$CLK_TCK 'BEGIN { printf "%.3f", t / hz }')"
    fi
}

info "guest kernel: $(uname -r), $(grep -c '^processor' /proc/cpuinfo) vCPUs, $(awk '/^MemTotal/ { printf "%d MiB", $2 / 1024 }' /proc/meminfo)"
info "guest iperf3: $(iperf3 --version | head -n 1)"
info "guest socat: $(socat -V | awk '/socat version/ { print $3; exit }')"
info "guest hvrelay: $(hvrelay --version 2>&1 | head -n 1)"
info "guest settings: reps=$VSOCK_REPS; iperf3 -t $VSOCK_SECONDS, 1 stream each way"

write_pair_configs hvrelay yes
write_pair_configs hvrelay-nosplice no

bg iperf3-server iperf3 -s -B 127.0.0.1 -p $SERVER_PORT
wait_tcp_listen $SERVER_PORT
start_hvrelay_pair hvrelay
start_hvrelay_pair hvrelay-nosplice
start_socat_pair

t0=$(now)
# Each path once before measuring: first-use costs (page faults, the
# loader, socat's first fork) stay out of the figures, and a broken path
# fails here, early.
for set in $SETS; do
    measure "$set" up 0 1 || fail "no iperf3 run gets through $set"
done
# Sets innermost: the figures compared with each other are taken seconds
# apart, whatever the host does meanwhile.
rep=1
while [ $rep -le "$VSOCK_REPS" ]; do
    for dir in up down; do
        for set in $SETS; do
            measure "$set" "$dir" $rep || true
        done
    done
    log "rep $rep done"
    rep=$((rep + 1))
done
info "guest measuring time: $(( $(now) - t0 )) s"

# Both pairs must have relayed it all without a warning and exit cleanly.
for r in $HVRELAY_NAMES; do
    stop_relay "${r%%:*}" "${r#*:}"
done
