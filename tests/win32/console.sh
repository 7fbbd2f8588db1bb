#!/bin/bash
# hvrelay.exe in a console under Wine: --help lists the Windows commands;
# the control socket takes Windows paths and is named after a file given
# with backslashes, and without AF_UNIX (Wine has none) both the daemon
# and 'hvrelay status' say so; log-file gets the lines, with a time and a
# level, and can be moved away while hvrelay.exe writes it; a log file
# that cannot be opened stops the start.
. "$TESTS_DIR/win32/lib.sh"

no_af_unix="Unix sockets (AF_UNIX) are not available: they need Windows 10 1803+ / Server 2019+"
stamped='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z (error|warn|info|debug): '

out=$(hvrelay_exe --help)
check "--help exits 0" test $? -eq 0
check "  and lists the service command" contains "$out" \
    "hvrelay service install [-c FILE] | uninstall | start | stop | reload"
check "  and the register command" contains "$out" \
    "hvrelay register PORT|GUID [NAME] | -c FILE | --list | --remove PORT|GUID"

# A configuration in C:\ named with backslashes, as Windows users do.
dir="hvrelay-console-$$"
dir_unix="$WINEPREFIX/drive_c/$dir"
mkdir -p "$dir_unix"
free_port relay_port
free_port target_port
# write_conf [GLOBAL-LINE...]: one TCP forward after the global lines.
write_conf() {
	{
		printf '%s\n' "$@"
		printf '[app]\nlisten = tcp:127.0.0.1:%s\nconnect = tcp:127.0.0.1:%s\n' \
		    "$relay_port" "$target_port"
	} >"$dir_unix/relay.conf"
}

write_conf
out=$(hvrelay_exe status -c "C:\\$dir\\relay.conf")
check "status without AF_UNIX exits 1" test $? -eq 1
check "  naming the default socket after the file: $out" contains "$out" \
    "cannot reach the daemon at C:/ProgramData/hvrelay/relay.sock: $no_af_unix"
check "  without asking whether the daemon runs" \
    test "$(grep -c "is it running" <<<"$out")" = 0
write_conf "control-socket = C:\\$dir\\control.sock"
out=$(hvrelay_exe -t -c "C:\\$dir\\relay.conf")
check "control-socket = C:\\...: -t accepts it" test "$out" = "configuration OK"
out=$(hvrelay_exe status -c "C:\\$dir\\relay.conf")
check "  status names it" contains "$out" \
    "cannot reach the daemon at C:\\$dir\\control.sock: $no_af_unix"
out=$(hvrelay_exe status -s "C:/$dir/other.sock")
check "status -s C:/...: the same" contains "$out" \
    "cannot reach the daemon at C:/$dir/other.sock: $no_af_unix"

write_conf "log-file = C:\\$dir\\relay.log"
echo "earlier line" >"$dir_unix/relay.log"
"$WINE" "$HVRELAY_EXE" -c "C:\\$dir\\relay.conf" 2>"$TMP/relay.log" &
RELAY_PID=$!
track "$RELAY_PID"
check "log-file: the start is logged in the file" \
    wait_for 60 grep -q "started:" "$dir_unix/relay.log"
check "  after what the file held" \
    test "$(head -n 1 "$dir_unix/relay.log" | tr -d '\r')" = "earlier line"
check "  every line with a time and a level" \
    test "$(sed 1d "$dir_unix/relay.log" | tr -d '\r' | grep -Evc "$stamped")" = 0
check "  the control socket warns that it cannot work here" \
    grep -q "warn: control socket C:/ProgramData/hvrelay/relay.sock: socket: $no_af_unix" \
    "$dir_unix/relay.log"
check "  nothing on stderr" test ! -s "$TMP/relay.log"
"$WINE" cmd /c move "C:\\$dir\\relay.log" "C:\\$dir\\relay.log.1" >/dev/null 2>&1
check "the log file can be moved away while in use (rotation)" \
    test $? -eq 0 -a -e "$dir_unix/relay.log.1" -a ! -e "$dir_unix/relay.log"
start_server one "tcp:127.0.0.1:$target_port" --send 1000 --timeout 10
"$HVTEST" connect "tcp:127.0.0.1:$relay_port" --expect 1000 --timeout 10 \
    >/dev/null 2>&1
wait "$SERVER_PID"
check "  the open file keeps getting lines" \
    wait_for 10 grep -q "forward=app peer=" "$dir_unix/relay.log.1"
kill "$RELAY_PID" 2>/dev/null
wait "$RELAY_PID" 2>/dev/null
RELAY_PID=""

write_conf "log-file = C:\\$dir\\missing\\relay.log"
out=$(hvrelay_exe -c "C:\\$dir\\relay.conf")
check "a log file that cannot be opened: exit 1" test $? -eq 1
check "  naming the path and the reason: $out" grep -Eq \
    "${stamped#^}cannot open log-file C:\\\\$dir\\\\missing\\\\relay.log: .+" <<<"$out"
check "  before listening" test "$(grep -c "listening on" <<<"$out")" = 0
rm -rf "$dir_unix"
done_testing
