# Shared by the scenario tests: each test sources this, runs the real
# hvrelay and hvtest binaries on loopback, and prints TAP.
# Everything started here is killed by PID on exit; files go to a private
# temporary directory.

set -u

: "${HVRELAY:?HVRELAY must name the hvrelay binary}"
: "${HVTEST:?HVTEST must name the hvtest binary}"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/hvrelay-test.XXXXXX")
STARTED_PIDS=""
RELAY_PID=""
tap_n=0
tap_failed=0

cleanup() {
	for pid in $STARTED_PIDS; do
		kill -9 "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

ok() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $*"
}

not_ok() {
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $*"
}

# check DESCRIPTION COMMAND...: one TAP line from a command's status.
check() {
	local desc=$1
	shift
	if "$@"; then
		ok "$desc"
	else
		not_ok "$desc"
	fi
}

# contains TEXT PART: whether TEXT includes PART.
contains() {
	case $1 in
	*"$2"*) return 0 ;;
	esac
	return 1
}

diag() {
	sed 's/^/# /' "$@"
}

no_sanitizer_report() {
	! cat "$TMP"/*.log 2>/dev/null | grep -q "Sanitizer\|runtime error"
}

# Ends every test: the relay still running stops the graceful way and must
# exit 0, and no relay may have logged a sanitizer report.
done_testing() {
	local status
	if [ -n "$RELAY_PID" ] && kill -0 "$RELAY_PID" 2>/dev/null; then
		kill -TERM "$RELAY_PID"
		wait "$RELAY_PID"
		status=$?
		check "hvrelay stops cleanly on SIGTERM (status $status)" \
		    test "$status" -eq 0
	fi
	check "no sanitizer report from hvrelay" no_sanitizer_report
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}

# Remembers a background process so that cleanup kills it.
track() {
	STARTED_PIDS="$STARTED_PIDS $1"
}

# A TCP port on 127.0.0.1 that nothing answers on right now, below the
# kernel's ephemeral range (32768 and up) so that the outgoing connections
# of parallel tests cannot take it, and not handed out before in this test.
# free_port VAR stores it in VAR.
PICKED_PORTS=" "
free_port() {
	local candidate
	while :; do
		candidate=$((20000 + RANDOM % 12000))
		if ! contains "$PICKED_PORTS" " $candidate " &&
		    ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
			PICKED_PORTS="$PICKED_PORTS$candidate "
			printf -v "$1" '%s' "$candidate"
			return
		fi
	done
}

# wait_for SECONDS COMMAND...: polls until the command succeeds.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			return 1
		fi
		sleep 0.05
	done
}

# start_relay CONFIG [ARGS...]: runs hvrelay in the background, logging to
# $TMP/relay.log, and waits until every listener is up. With $RELAY_NOFILE
# set, the relay may hold only that many descriptors.
start_relay() {
	local conf=$1
	shift
	(
		if [ -n "${RELAY_NOFILE:-}" ]; then
			ulimit -n "$RELAY_NOFILE"
		fi
		exec "$HVRELAY" -c "$conf" "$@"
	) 2>"$TMP/relay.log" &
	RELAY_PID=$!
	track "$RELAY_PID"
	if ! wait_for 10 grep -q "started:" "$TMP/relay.log"; then
		echo "# hvrelay did not start:"
		diag "$TMP/relay.log"
		return 1
	fi
}

# start_tcp_forward NAME [LINE...]: picks $relay_port and $target_port and
# runs a relay with one forward NAME from the first to the second; LINEs
# are added to the section, $RELAY_GLOBALS goes before it.
start_tcp_forward() {
	local name=$1
	shift
	free_port relay_port
	free_port target_port
	{
		printf '%s\n' "${RELAY_GLOBALS:-}"
		printf '[%s]\nlisten = tcp:127.0.0.1:%s\nconnect = tcp:127.0.0.1:%s\n' \
		    "$name" "$relay_port" "$target_port"
		printf '%s\n' "$@"
	} >"$TMP/$name.conf"
	start_relay "$TMP/$name.conf"
}

# start_server NAME ENDPOINT [HVTEST OPTIONS...]: an hvtest listener whose
# output goes to $TMP/NAME.out and whose PID is $SERVER_PID; waits until
# it listens.
start_server() {
	local name=$1 endpoint=$2
	shift 2
	rm -f "$TMP/$name.ready"
	"$HVTEST" listen "$endpoint" --ready-file "$TMP/$name.ready" "$@" \
	    >"$TMP/$name.out" 2>&1 &
	SERVER_PID=$!
	track "$SERVER_PID"
	wait_for 10 test -e "$TMP/$name.ready"
}

# Digest fields of an hvtest output, sorted, for comparing both ends.
digests() {
	sed -n "s/.* $2=\([0-9a-f]*\).*/\1/p" "$1" | sort
}

# same_digests A.out FIELD B.out FIELD: what one end sent, the other got.
same_digests() {
	[ -s "$1" ] && [ "$(digests "$1" "$2")" = "$(digests "$3" "$4")" ] &&
	    [ -n "$(digests "$1" "$2")" ]
}

# The peak resident memory of a process, in KiB.
peak_rss_kib() {
	sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"
}

# stop_relay: SIGTERM, then the exit status of hvrelay.
stop_relay() {
	kill -TERM "$RELAY_PID"
	wait "$RELAY_PID"
}
