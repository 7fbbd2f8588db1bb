#!/usr/bin/env bash
# bench/run.sh — the hvrelay benchmark (issue 5), in one command.
#
# Installs its tools from Debian (iperf3, socat, haproxy, rinetd, gnuplot-nox,
# python3, gcc), builds hvrelay when build/src/hvrelay is missing, compiles
# bench/rr.c, then measures in one run, on 127.0.0.1 only:
#   throughput  iperf3, 1 and 8 streams, both directions
#   latency     1 B and 4 KiB request/response round trips, p50 and p99
#   conn rate   connect, send 1 byte, receive it, close, per second
#   memory      relay RSS holding 9,000 idle connections
#   CPU         relay CPU seconds per GiB relayed (during the throughput runs)
# through hvrelay, socat, haproxy, rinetd and directly (no relay: the ceiling),
# repetitions interleaved, medians reported. Then bench/vsock.sh measures the
# host/guest pair (tcp -> vsock -> tcp, two hvrelays against two socats)
# inside the QEMU guest of tests/vm: AF_VSOCK is never opened on this machine.
# Writes bench/results/RESULTS.md, results.csv (every raw sample),
# vsock.csv and vsock.txt (the guest's samples and setup), throughput.png
# and machine.txt.
#
# Knobs (environment): BENCH_REPS (5), BENCH_IPERF_SECONDS (2),
# BENCH_PORT_BASE (61100), BENCH_HOLD_CONNS (9000), BENCH_RESULTS_DIR,
# BENCH_VSOCK=0 (leave the guest out), BENCH_VSOCK_CSV (report the rows of
# an earlier bench/vsock.sh run instead of measuring them), and
# bench/vsock.sh's own BENCH_VSOCK_REPS (7) and BENCH_VSOCK_SECONDS (2).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
RESULTS_DIR=${BENCH_RESULTS_DIR:-$BENCH_DIR/results}
REPS=${BENCH_REPS:-5}
IPERF_SECONDS=${BENCH_IPERF_SECONDS:-2}
# Outside the ephemeral range (32768-60999 by default): an outgoing connection
# may otherwise leave a TIME_WAIT on a port a relay then cannot bind.
PORT_BASE=${BENCH_PORT_BASE:-61100}
HOLD_CONNS=${BENCH_HOLD_CONNS:-9000}
# A relay that has not taken them all by then is measured with what it holds.
HOLD_SETUP_SECONDS=${BENCH_HOLD_SETUP_SECONDS:-45}
LAT_ROUNDS_1B=10000
LAT_ROUNDS_4K=10000
CONNRATE_WORKERS=4
CONNRATE_SECONDS=2
PY=/usr/bin/python3
BUILT_HVRELAY=$ROOT/build/src/hvrelay
HVRELAY="" # a copy in $WORK: others may rebuild build/src during the run
RR=$BENCH_DIR/bin/rr

RELAYS=(direct hvrelay socat haproxy rinetd)
PEERS=(hvrelay socat haproxy rinetd)

# Ports: the two servers, then two listeners per relay (to iperf3, to echo).
IPERF_PORT=$PORT_BASE
ECHO_PORT=$((PORT_BASE + 1))
declare -A IPERF_FWD_PORT=([direct]=$IPERF_PORT [hvrelay]=$((PORT_BASE + 10))
	[socat]=$((PORT_BASE + 20)) [haproxy]=$((PORT_BASE + 30))
	[rinetd]=$((PORT_BASE + 40)))
declare -A ECHO_FWD_PORT=([direct]=$ECHO_PORT [hvrelay]=$((PORT_BASE + 11))
	[socat]=$((PORT_BASE + 21)) [haproxy]=$((PORT_BASE + 31))
	[rinetd]=$((PORT_BASE + 41)))

# Processes this script started: name -> PID. Only these are ever killed.
declare -A PIDS=()
# The process whose CPU is charged to a relay during the throughput runs.
declare -A CPU_PID=()
WORK=""
CSV=""
RUN_START=$SECONDS

log() {
	printf '[%s +%3ds] %s\n' "$(date +%H:%M:%S)" $((SECONDS - RUN_START)) "$*" >&2
}

die() {
	log "error: $*"
	exit 1
}

# ---- processes -------------------------------------------------------------

# start_bg NAME COMMAND...: run in the background, output to $WORK/NAME.log.
start_bg() {
	local name=$1
	shift
	: >"$WORK/$name.log" # exists at once, for whoever polls it
	"$@" >"$WORK/$name.log" 2>&1 &
	PIDS[$name]=$!
}

# Children of a PID we started (socat's per-connection forks).
children_of() {
	pgrep -P "$1" 2>/dev/null || true
}

# stop_bg NAME: SIGTERM the process and its direct children, wait up to 10 s,
# then SIGKILL whatever of them is left.
stop_bg() {
	local name=$1 pid deadline kids
	pid=${PIDS[$name]:-}
	[[ -n $pid ]] || return 0
	unset "PIDS[$name]"
	kids=$(children_of "$pid")
	# shellcheck disable=SC2086 # $kids: a list of PIDs
	kill -TERM "$pid" $kids 2>/dev/null || true
	deadline=$((SECONDS + 10))
	while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
		sleep 0.1
	done
	kids="$kids $(children_of "$pid")"
	# shellcheck disable=SC2086
	kill -KILL "$pid" $kids 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local name
	trap - EXIT INT TERM
	for name in "${!PIDS[@]}"; do
		stop_bg "$name"
	done
	if [[ -n $WORK && -d $WORK && -z ${BENCH_KEEP_WORK:-} ]]; then
		rm -rf "$WORK"
	fi
}

# wait_listen PORT: until something listens on 127.0.0.1:PORT (10 s at most).
wait_listen() {
	local port=$1 deadline=$((SECONDS + 10))
	while ((SECONDS < deadline)); do
		if [[ -n $(ss -Hltn "sport = :$port") ]]; then
			return 0
		fi
		sleep 0.1
	done
	die "nothing listens on port $port after 10 s"
}

port_free() {
	[[ -z $(ss -Hltn "sport = :$1") ]]
}

# ---- /proc readings --------------------------------------------------------

# cpu_ticks PID: utime+stime, plus cutime+cstime (waited-for children: socat).
cpu_ticks() {
	local -a f
	read -r -a f <<<"$(sed 's/^.*) //' "/proc/$1/stat")"
	# After "pid (comm) ", field 3 (state) is index 0: utime is field 14.
	echo $((f[11] + f[12] + f[13] + f[14]))
}

rss_kib() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# mem_of PID: "RSS_KIB PSS_KIB" summed over the process and its children.
mem_of() {
	local pid=$1 files=() kid
	files+=("/proc/$pid/smaps_rollup")
	for kid in $(children_of "$pid"); do
		files+=("/proc/$kid/smaps_rollup")
	done
	awk '/^Rss:/ { r += $2 } /^Pss:/ { p += $2 } END { print r + 0, p + 0 }' \
		"${files[@]}" 2>/dev/null
}

# settle_children PID: wait (5 s at most) until socat has reaped its forks,
# so that their CPU time is in the parent's cutime/cstime.
settle_children() {
	local deadline=$((SECONDS + 5))
	while [[ -n $(children_of "$1") ]] && ((SECONDS < deadline)); do
		sleep 0.05
	done
}

# csv TEST RELAY CASE REP METRIC VALUE
csv() {
	local IFS=,
	echo "$*" >>"$CSV"
}

# ---- setup -----------------------------------------------------------------

install_tools() {
	"$ROOT/build-aux/install-deps.sh" iperf3 socat haproxy rinetd \
		gnuplot-nox python3 gcc libc6-dev iproute2 procps util-linux >/dev/null
}

build_tools() {
	if [[ ! -x $BUILT_HVRELAY ]]; then
		log "building hvrelay (build-aux/bootstrap.sh)"
		"$ROOT/build-aux/bootstrap.sh"
	fi
	mkdir -p "$BENCH_DIR/bin"
	gcc -std=gnu11 -O2 -Wall -Wextra -Werror -pthread -o "$RR" "$BENCH_DIR/rr.c"
}

describe_machine() {
	local out=$RESULTS_DIR/machine.txt
	{
		echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
		echo "cpu: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
		echo "cores: $(nproc)"
		echo "memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
		echo "kernel: $(uname -srm)"
		# shellcheck disable=SC1091
		echo "os: $(. /etc/os-release && echo "$PRETTY_NAME")"
		echo "hvrelay: $("$HVRELAY" --version 2>&1 | head -1), built $(date -u -r "$BUILT_HVRELAY" +%Y-%m-%dT%H:%M:%SZ) (git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || echo ', src modified'))"
		echo "libevent: $(dpkg-query -W -f='${Version}' libevent-2.1-7 2>/dev/null || echo '?')"
		echo "iperf3: $(iperf3 --version | head -1)"
		echo "socat: $(socat -V | awk '/socat version/ { print $3; exit }')"
		echo "haproxy: $(haproxy -v | head -1)"
		echo "rinetd: $(rinetd --version 2>&1 | head -1)"
		echo "gnuplot: $(gnuplot --version)"
		echo "gcc: $(gcc --version | head -1)"
		echo "ulimit -n: $(ulimit -n)"
		echo "net.ipv4.tcp_tw_reuse: $(cat /proc/sys/net/ipv4/tcp_tw_reuse)"
		echo "net.ipv4.ip_local_port_range: $(tr '\t' ' ' </proc/sys/net/ipv4/ip_local_port_range)"
		echo "settings: reps=$REPS; iperf3 -t $IPERF_SECONDS; latency $LAT_ROUNDS_1B x 1 B, $LAT_ROUNDS_4K x 4 KiB round trips; connrate $CONNRATE_WORKERS workers x ${CONNRATE_SECONDS}s; idle connections $HOLD_CONNS (setup budget ${HOLD_SETUP_SECONDS}s)"
	} >"$out"
}

# ---- relays ----------------------------------------------------------------

# write_configs: one config per relay, both forwards (to iperf3 and to echo).
write_configs() {
	cat >"$WORK/hvrelay.conf" <<-EOF
		; bench/run.sh: per-connection log lines off, as the peers log nothing
		log-level = warn
		max-connections = 10000

		[bench]
		listen = tcp:127.0.0.1:${IPERF_FWD_PORT[hvrelay]}
		connect = tcp:127.0.0.1:$IPERF_PORT

		[bench-echo]
		listen = tcp:127.0.0.1:${ECHO_FWD_PORT[hvrelay]}
		connect = tcp:127.0.0.1:$ECHO_PORT
	EOF
	"$HVRELAY" -t -c "$WORK/hvrelay.conf" >/dev/null ||
		die "hvrelay rejects $WORK/hvrelay.conf"

	# haproxy: a frontend's default maxconn is 2000, the global one is
	# derived from ulimit -n; both raised for the 9,000-connection test
	# (2 descriptors each, within the 20,000 cap).
	cat >"$WORK/haproxy.cfg" <<-EOF
		global
		    maxconn 9500
		defaults
		    mode tcp
		    maxconn 9500
		    timeout connect 5s
		    timeout client 1h
		    timeout server 1h
		listen bench
		    bind 127.0.0.1:${IPERF_FWD_PORT[haproxy]}
		    server target 127.0.0.1:$IPERF_PORT
		listen bench-echo
		    bind 127.0.0.1:${ECHO_FWD_PORT[haproxy]}
		    server target 127.0.0.1:$ECHO_PORT
	EOF
	haproxy -c -q -f "$WORK/haproxy.cfg" || die "haproxy rejects its config"

	cat >"$WORK/rinetd.conf" <<-EOF
		127.0.0.1 ${IPERF_FWD_PORT[rinetd]} 127.0.0.1 $IPERF_PORT
		127.0.0.1 ${ECHO_FWD_PORT[rinetd]} 127.0.0.1 $ECHO_PORT
	EOF
}

socat_cmd() {
	# bind=127.0.0.1: socat would listen on every address otherwise.
	echo socat "TCP-LISTEN:$1,fork,reuseaddr,bind=127.0.0.1" "TCP:127.0.0.1:$2"
}

# start_relay RELAY [echo]: start it (only its echo forward for socat with
# "echo"), wait for its listeners, set CPU_PID[RELAY].
start_relay() {
	local relay=$1 only_echo=${2:-}
	case $relay in
	direct) return 0 ;;
	hvrelay) start_bg hvrelay "$HVRELAY" -c "$WORK/hvrelay.conf" ;;
	haproxy) start_bg haproxy haproxy -db -f "$WORK/haproxy.cfg" ;;
	rinetd) start_bg rinetd rinetd -f -c "$WORK/rinetd.conf" ;;
	socat)
		# shellcheck disable=SC2046
		start_bg socat-echo $(socat_cmd "${ECHO_FWD_PORT[socat]}" "$ECHO_PORT")
		if [[ -z $only_echo ]]; then
			# shellcheck disable=SC2046
			start_bg socat $(socat_cmd "${IPERF_FWD_PORT[socat]}" "$IPERF_PORT")
		fi
		;;
	esac
	if [[ -z $only_echo ]]; then
		wait_listen "${IPERF_FWD_PORT[$relay]}"
	fi
	wait_listen "${ECHO_FWD_PORT[$relay]}"
	CPU_PID[$relay]=${PIDS[$relay]:-${PIDS[socat-echo]}}
}

stop_relay() {
	case $1 in
	direct) ;;
	socat) stop_bg socat; stop_bg socat-echo ;;
	*) stop_bg "$1" ;;
	esac
}

start_iperf_server() {
	start_bg iperf3-server iperf3 -s -B 127.0.0.1 -p "$IPERF_PORT"
	wait_listen "$IPERF_PORT"
}

# ---- measurements ----------------------------------------------------------

# iperf_once RELAY STREAMS DIR REP: one iperf3 run, its Gbit/s, bytes and the
# relay's CPU ticks; one retry (with a fresh iperf3 server) on failure.
iperf_once() {
	local relay=$1 streams=$2 dir=$3 rep=$4
	local case="P${streams}-$dir" json="$WORK/iperf-$relay-P$streams-$dir-$rep.json"
	local -a reverse=()
	local pid=${CPU_PID[$relay]:-} before=0 after=0 attempt parsed
	[[ $dir == down ]] && reverse=(-R)
	for attempt in 1 2; do
		[[ -n $pid ]] && before=$(cpu_ticks "$pid")
		if timeout $((IPERF_SECONDS + 20)) iperf3 -c 127.0.0.1 \
			-p "${IPERF_FWD_PORT[$relay]}" -t "$IPERF_SECONDS" \
			-P "$streams" "${reverse[@]}" --json >"$json" 2>&1; then
			break
		fi
		log "iperf3 $relay $case rep $rep failed (attempt $attempt): $(grep -m1 '"error"' "$json" || tail -1 "$json")"
		if ((attempt == 2)); then
			csv throughput "$relay" "$case" "$rep" error 1
			return 0
		fi
		stop_bg iperf3-server
		start_iperf_server
		sleep 1
	done
	if [[ -n $pid ]]; then
		[[ $relay == socat ]] && settle_children "$pid"
		after=$(cpu_ticks "$pid")
	fi
	parsed=$("$PY" -c '
import json, sys
end = json.load(open(sys.argv[1]))["end"]
r = end["sum_received"]
print("%.4f %d" % (r["bits_per_second"] / 1e9, r["bytes"]))
' "$json")
	csv throughput "$relay" "$case" "$rep" gbps "${parsed% *}"
	csv throughput "$relay" "$case" "$rep" bytes "${parsed#* }"
	if [[ -n $pid ]]; then
		csv throughput "$relay" "$case" "$rep" cpu_s \
			"$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", t / hz }')"
	fi
}

# latency_once RELAY SIZE ROUNDS REP [CPU]: with CPU, the client runs there
# (the relay and the echo server must have been pinned there too).
latency_once() {
	local relay=$1 size=$2 rounds=$3 rep=$4 cpu=${5:-} out case
	local -a pin=()
	case=$([[ $size == 1 ]] && echo 1B || echo 4KiB)
	if [[ -n $cpu ]]; then
		case="$case-cpu$cpu"
		pin=(taskset -c "$cpu")
	fi
	if ! out=$(timeout 120 "${pin[@]}" "$RR" latency 127.0.0.1 "${ECHO_FWD_PORT[$relay]}" \
		"$size" "$rounds" 2>&1); then
		log "latency $relay $case rep $rep failed: $out"
		csv latency "$relay" "$case" "$rep" error 1
		return 0
	fi
	# shellcheck disable=SC2086 # "p50_us=.. p99_us=.. mean_us=.. count=.."
	set -- $out
	csv latency "$relay" "$case" "$rep" p50_us "${1#p50_us=}"
	csv latency "$relay" "$case" "$rep" p99_us "${2#p99_us=}"
	csv latency "$relay" "$case" "$rep" mean_us "${3#mean_us=}"
}

# connrate_once RELAY REP
connrate_once() {
	local relay=$1 rep=$2 out
	if ! out=$(timeout $((CONNRATE_SECONDS + 30)) "$RR" connrate 127.0.0.1 \
		"${ECHO_FWD_PORT[$relay]}" "$CONNRATE_WORKERS" "$CONNRATE_SECONDS" 2>&1); then
		log "connrate $relay rep $rep failed: $out"
		csv connrate "$relay" conn "$rep" error 1
		return 0
	fi
	local conns errors rate
	conns=$(sed -n 's/.*conns=\([0-9]*\).*/\1/p' <<<"$out")
	errors=$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' <<<"$out")
	rate=$(sed -n 's/.*rate=\([0-9]*\).*/\1/p' <<<"$out")
	csv connrate "$relay" conn "$rep" conn_per_s "$rate"
	csv connrate "$relay" conn "$rep" errors "$errors"
	if ((errors > 0)); then
		log "connrate $relay rep $rep: $errors errors ($out)"
	fi
	: "$conns"
}

# memory_once RELAY: a fresh relay, RSS before and after $HOLD_CONNS idle
# connections (each carried one 1-byte round trip first), or as many as it
# took in $HOLD_SETUP_SECONDS.
memory_once() {
	local relay=$1 pid before before_rss after setup deadline line held
	start_relay "$relay" echo
	pid=${CPU_PID[$relay]}
	sleep 0.5
	if [[ $relay == socat ]]; then
		read -r before_rss before <<<"$(mem_of "$pid")"
	else
		before=$(rss_kib "$pid")
		before_rss=$before
	fi
	start_bg hold timeout $((HOLD_SETUP_SECONDS + 120)) "$RR" hold 127.0.0.1 \
		"${ECHO_FWD_PORT[$relay]}" "$HOLD_CONNS" $((HOLD_SETUP_SECONDS + 100)) \
		"$HOLD_SETUP_SECONDS"
	deadline=$((SECONDS + HOLD_SETUP_SECONDS + 30))
	line=""
	while ((SECONDS < deadline)); do
		line=$(grep -m1 '^ready' "$WORK/hold.log" || true)
		[[ -n $line ]] && break
		kill -0 "${PIDS[hold]}" 2>/dev/null || break
		sleep 0.2
	done
	if [[ -z $line ]]; then
		log "memory $relay: the client failed: $(tail -2 "$WORK/hold.log")"
		csv memory "$relay" idle "$HOLD_CONNS" error 1
	else
		sleep 1
		if [[ $relay == socat ]]; then
			local rss_sum pss_sum
			read -r rss_sum pss_sum <<<"$(mem_of "$pid")"
			after=$pss_sum
			csv memory "$relay" idle 1 rss_sum_before_kib "$before_rss"
			csv memory "$relay" idle 1 rss_sum_after_kib "$rss_sum"
			csv memory "$relay" idle 1 processes "$(($(children_of "$pid" | wc -l) + 1))"
		else
			after=$(rss_kib "$pid")
		fi
		read -r _ held setup <<<"$line"
		csv memory "$relay" idle 1 conns "$held"
		csv memory "$relay" idle 1 rss_before_kib "$before"
		csv memory "$relay" idle 1 rss_after_kib "$after"
		csv memory "$relay" idle 1 bytes_per_conn \
			"$(awk -v a="$after" -v b="$before" -v n="$held" 'BEGIN { printf "%.0f", (a - b) * 1024 / n }')"
		csv memory "$relay" idle 1 setup_s "$setup"
		log "memory $relay: $held connections in ${setup}s: before $before KiB, after $after KiB"
	fi
	stop_bg hold
	# Let the relay see the 9,000 closes (socat: its forks exit) before stopping.
	deadline=$((SECONDS + 20))
	while [[ $relay == socat && -n $(children_of "$pid") ]] && ((SECONDS < deadline)); do
		sleep 0.2
	done
	stop_relay "$relay"
}

# pin CPUS: move the echo server and every running relay (all threads; socat's
# future forks inherit it) to CPUS.
pin() {
	local name
	for name in echo "${PEERS[@]}" socat-echo; do
		[[ $name == socat ]] && continue # the iperf3 forward: not on this path
		if [[ -n ${PIDS[$name]:-} ]]; then
			taskset -a -p -c "$1" "${PIDS[$name]}" >/dev/null
		fi
	done
}

phase_time() {
	csv timing - "$1" 0 seconds "$2"
}

# ---- main ------------------------------------------------------------------

main() {
	local relay rep streams dir t0
	install_tools
	build_tools
	ulimit -n "$(ulimit -Hn)"
	mkdir -p "$RESULTS_DIR"
	WORK=$(mktemp -d /tmp/hvrelay-bench.XXXXXX)
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	CSV=$RESULTS_DIR/results.csv
	HVRELAY=$WORK/hvrelay
	cp "$BUILT_HVRELAY" "$HVRELAY"
	echo "test,relay,case,rep,metric,value" >"$CSV"
	describe_machine
	log "work dir $WORK, results in $RESULTS_DIR, ulimit -n $(ulimit -n)"

	local port eph_lo eph_hi
	read -r eph_lo eph_hi </proc/sys/net/ipv4/ip_local_port_range
	for port in "$IPERF_PORT" "$ECHO_PORT" "${IPERF_FWD_PORT[@]}" "${ECHO_FWD_PORT[@]}"; do
		port_free "$port" || die "port $port is in use: set BENCH_PORT_BASE"
		if ((port >= eph_lo && port <= eph_hi)); then
			die "port $port is in the ephemeral range $eph_lo-$eph_hi: set BENCH_PORT_BASE outside it"
		fi
	done
	write_configs
	start_iperf_server
	start_bg echo "$RR" echo "$ECHO_PORT"
	wait_listen "$ECHO_PORT"
	for relay in "${PEERS[@]}"; do
		start_relay "$relay"
	done

	t0=$SECONDS
	log "throughput: ${#RELAYS[@]} relays x 4 cases x $REPS reps x ${IPERF_SECONDS}s"
	# Relays innermost: the figures compared with each other are taken
	# seconds apart, whatever the machine's neighbours do meanwhile.
	for ((rep = 1; rep <= REPS; rep++)); do
		for streams in 1 8; do
			for dir in up down; do
				for relay in "${RELAYS[@]}"; do
					iperf_once "$relay" "$streams" "$dir" "$rep"
				done
			done
		done
		log "throughput rep $rep done"
	done
	phase_time throughput $((SECONDS - t0))

	t0=$SECONDS
	log "latency"
	for ((rep = 1; rep <= REPS; rep++)); do
		for relay in "${RELAYS[@]}"; do
			latency_once "$relay" 1 "$LAT_ROUNDS_1B" "$rep"
			latency_once "$relay" 4096 "$LAT_ROUNDS_4K" "$rep"
		done
	done
	# Again with client, relay and echo server on CPU 0: in a VM, waking a
	# process on the other (idle) vCPU costs tens of µs, which otherwise
	# swamps the relay's own cost and depends on where the scheduler puts
	# each process.
	pin 0
	for ((rep = 1; rep <= REPS; rep++)); do
		for relay in "${RELAYS[@]}"; do
			latency_once "$relay" 1 "$LAT_ROUNDS_1B" "$rep" 0
			latency_once "$relay" 4096 "$LAT_ROUNDS_4K" "$rep" 0
		done
	done
	pin "0-$(($(nproc) - 1))"
	phase_time latency $((SECONDS - t0))

	t0=$SECONDS
	log "connection rate"
	for ((rep = 1; rep <= REPS; rep++)); do
		for relay in "${RELAYS[@]}"; do
			connrate_once "$relay" "$rep"
			sleep 1 # TIME_WAIT slots on loopback are reusable after 1 s
		done
	done
	phase_time connrate $((SECONDS - t0))

	for relay in "${PEERS[@]}"; do
		stop_relay "$relay"
	done
	stop_bg iperf3-server

	t0=$SECONDS
	log "memory: $HOLD_CONNS idle connections per relay"
	for relay in "${PEERS[@]}"; do
		memory_once "$relay"
		sleep 1
	done
	phase_time memory $((SECONDS - t0))
	stop_bg echo

	# Last, with every relay above stopped: the guest's two emulated CPUs
	# take both of this machine's cores. vsock.sh records its own time.
	local vsock_csv=${BENCH_VSOCK_CSV:-}
	if [[ -n $vsock_csv ]]; then
		log "vsock: reporting $vsock_csv (BENCH_VSOCK_CSV), not measuring"
	elif [[ ${BENCH_VSOCK:-1} == 0 ]]; then
		log "vsock: left out (BENCH_VSOCK=0)"
	else
		log "vsock: the pair in the QEMU guest (bench/vsock.sh)"
		vsock_csv=$RESULTS_DIR/vsock.csv
		# Its section of the report stays empty if it fails: the rest of
		# this run still counts.
		HVRELAY=$HVRELAY "$BENCH_DIR/vsock.sh" "$vsock_csv" ||
			log "vsock: bench/vsock.sh failed (see above)"
	fi
	phase_time total $((SECONDS - RUN_START))

	log "report"
	"$PY" "$BENCH_DIR/report.py" "$RESULTS_DIR" ${vsock_csv:+"$vsock_csv"}
	gnuplot "$RESULTS_DIR/throughput.gp"
	log "done in $((SECONDS - RUN_START)) s: $RESULTS_DIR/RESULTS.md"
	grep -E '^- \*\*(PASS|MISS)' "$RESULTS_DIR/RESULTS.md" >&2 || true
}

main "$@"
