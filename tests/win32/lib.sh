# Shared by the tests of the Windows build: hvrelay.exe runs under Wine,
# driven by Linux tools on loopback. Prints TAP like tests/scenario.

: "${HVRELAY_EXE:?HVRELAY_EXE must name hvrelay.exe}"
: "${WINE:?WINE must name wine64}"
export WINEDEBUG=-all

# The scenario helpers (TAP, ports, hvtest servers) are the same.
HVRELAY=$HVRELAY_EXE
. "$TESTS_DIR/scenario/lib.sh"

# A private Wine prefix unless the caller shares a prepared one.
if [ -z "${WINEPREFIX:-}" ]; then
	export WINEPREFIX="$TMP/wine"
	WINE_PRIVATE=1
fi

wine_cleanup() {
	if [ -n "${WINE_PRIVATE:-}" ]; then
		"$(dirname "$WINE")/wineserver" -k 2>/dev/null
	fi
	cleanup
}
trap wine_cleanup EXIT

# Runs hvrelay.exe to completion; its output, without Windows' CRs.
hvrelay_exe() {
	"$WINE" "$HVRELAY_EXE" "$@" 2>&1 | tr -d '\r'
	return "${PIPESTATUS[0]}"
}

# start_exe CONFIG: hvrelay.exe in the background, logging to
# $TMP/relay.log; waits for its "started:" line.
start_exe() {
	"$WINE" "$HVRELAY_EXE" -c "$1" 2>"$TMP/relay.log" &
	RELAY_PID=$!
	track "$RELAY_PID"
	if ! wait_for 60 grep -q "started:" "$TMP/relay.log"; then
		echo "# hvrelay.exe did not start:"
		diag "$TMP/relay.log"
		return 1
	fi
}

# Wine ends a process on SIGTERM without Windows' console events, so the
# Windows build is stopped the hard way; its own stop path is covered by
# the service test.
finish_exe() {
	kill "$RELAY_PID" 2>/dev/null
	wait "$RELAY_PID" 2>/dev/null
	RELAY_PID=""
	done_testing
}
