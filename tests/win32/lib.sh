# Shared by the tests of the Windows build: hvrelay.exe runs under Wine,
# driven by Linux tools on loopback. Prints TAP like tests/scenario.

: "${HVRELAY_EXE:?HVRELAY_EXE must name hvrelay.exe}"
: "${WINE:?WINE must name wine64}"
export WINEDEBUG=-all

# The scenario helpers (TAP, ports, hvtest servers) are the same.
HVRELAY=$HVRELAY_EXE
. "$TESTS_DIR/scenario/lib.sh"

# Every test has a Wine prefix of its own: the registry and the service
# manager live in the prefix, and tests run in parallel. A prepared prefix
# named by HVRELAY_WINE_TEMPLATE is cloned, its Windows directory by hard
# links (Wine reads those files and never rewrites them); without one a new
# prefix is created, which takes longer than any test waits, so up front.
export WINEPREFIX="$TMP/wine"
template=${HVRELAY_WINE_TEMPLATE:-}
if [ -n "$template" ] && [ -f "$template/system.reg" ]; then
	mkdir -p "$WINEPREFIX/drive_c"
	cp "$template"/*.reg "$template/.update-timestamp" "$WINEPREFIX/"
	cp -a "$template/dosdevices" "$WINEPREFIX/"
	for d in "$template"/drive_c/*; do
		if [ "$(basename "$d")" = windows ]; then
			cp -al "$d" "$WINEPREFIX/drive_c/" 2>/dev/null ||
			    cp -a "$d" "$WINEPREFIX/drive_c/"
		else
			cp -a "$d" "$WINEPREFIX/drive_c/"
		fi
	done
else
	WINEDLLOVERRIDES="mscoree,mshtml=" "$WINE" wineboot --init >/dev/null 2>&1
	"$(dirname "$WINE")/wineserver" -w
fi

wine_cleanup() {
	"$(dirname "$WINE")/wineserver" -k 2>/dev/null
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
