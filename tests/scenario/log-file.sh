#!/bin/bash
# log-file: lines are appended to the file with a time and a level; alone
# it is the only destination, with 'log' both get them; SIGHUP reopens it
# first, so a file moved away (rotated) is let go, even when the reload
# fails; a file that cannot be opened stops the start, and on a reload
# keeps the file open before; -t creates nothing.
. "$TESTS_DIR/scenario/lib.sh"

log=$TMP/hvrelay.log
stamped='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z (error|warn|info|debug): '

free_port relay_port
free_port target_port
# write_conf [GLOBAL-LINE...]: one TCP forward after the global lines.
write_conf() {
	{
		printf 'control-socket = off\n'
		printf '%s\n' "$@"
		printf '[app]\nlisten = tcp:127.0.0.1:%s\nconnect = tcp:127.0.0.1:%s\n' \
		    "$relay_port" "$target_port"
	} >"$TMP/relay.conf"
}

# one_connection: a client through the relay, logged when it ends.
one_connection() {
	start_server one "tcp:127.0.0.1:$target_port" --send 1000 --timeout 10
	"$HVTEST" connect "tcp:127.0.0.1:$relay_port" --expect 1000 \
	    --timeout 10 >/dev/null 2>&1
	wait "$SERVER_PID"
}

# lacks FILE TEXT: whether FILE does not hold TEXT.
lacks() {
	! grep -qs "$2" "$1"
}

# connections_in FILE: how many connection lines FILE holds.
connections_in() {
	grep -c 'forward=app peer=' "$1"
}

echo "earlier line" >"$log"
write_conf "log-file = $log"
out=$("$HVRELAY" -t -c "$TMP/relay.conf" 2>&1)
check "-t accepts log-file" test "$out" = "configuration OK"
write_conf "log-file = $TMP/not-yet.log"
"$HVRELAY" -t -c "$TMP/relay.conf" >/dev/null 2>&1
check "  and creates no file" test ! -e "$TMP/not-yet.log"

write_conf "log-file = $log"
"$HVRELAY" -c "$TMP/relay.conf" 2>"$TMP/stderr.log" &
RELAY_PID=$!
track "$RELAY_PID"
check "log-file alone: the start is logged in the file" \
    wait_for 10 grep -qs "started:" "$log"
check "  appended after what the file held" \
    test "$(head -n 1 "$log")" = "earlier line"
check "  every line with a time and a level" \
    test "$(sed 1d "$log" | grep -Evc "$stamped")" = 0
one_connection
check "  a connection's line goes there" wait_for 5 test "$(connections_in "$log")" = 1
check "  and nothing to stderr" test ! -s "$TMP/stderr.log"

mv "$log" "$log.1"
kill -HUP "$RELAY_PID"
check "SIGHUP after the file was moved away: a new file" \
    wait_for 10 grep -qs "info: reloaded" "$log"
check "  with the whole reload in it" grep -qs "info: reloading" "$log"
check "  the moved file keeps what came before" grep -qs "started:" "$log.1"
check "  and nothing of the reload" lacks "$log.1" "reload"
one_connection
check "  later connections go to the new file" \
    wait_for 5 test "$(connections_in "$log")" = 1
check "  only" test "$(connections_in "$log.1")" = 1

mv "$log" "$log.2"
printf 'bogus line\n' >>"$TMP/relay.conf"
kill -HUP "$RELAY_PID"
check "a reload that fails still reopens the file" \
    wait_for 10 grep -qs "reload failed" "$log"
check "  the moved file has nothing of it" lacks "$log.2" "reload failed"

write_conf "log-file = $TMP/missing-dir/hvrelay.log"
kill -HUP "$RELAY_PID"
check "a file that cannot be opened on reload: the error in the old file" \
    wait_for 10 grep -qs "error: cannot open log-file $TMP/missing-dir/hvrelay.log: No such file or directory; still logging to $log\$" "$log"
check "  the reload itself goes on" wait_for 5 grep -qs "info: reloaded" "$log"
one_connection
check "  and the old file keeps getting lines" \
    wait_for 5 test "$(connections_in "$log")" = 1
check "  still nothing on stderr" test ! -s "$TMP/stderr.log"
stop_relay
check "hvrelay stops cleanly (status $?)" test $? -eq 0
RELAY_PID=""

write_conf "log = stderr" "log-file = $log"
: >"$log"
start_relay "$TMP/relay.conf" || exit 1
check "log = stderr with log-file: the file gets the lines" \
    wait_for 5 grep -qs "started:" "$log"
one_connection
check "  stderr and the file both get the connection" wait_for 5 \
    test "$(connections_in "$log")" = 1 -a "$(connections_in "$TMP/relay.log")" = 1
stop_relay
RELAY_PID=""

write_conf "log-file = $TMP/missing-dir/hvrelay.log"
"$HVRELAY" -c "$TMP/relay.conf" 2>"$TMP/fail.log"
check "a log file that cannot be opened at start: exit 1" test $? -eq 1
check "  naming the path and the reason on stderr" grep -Eq \
    "${stamped#^}cannot open log-file $TMP/missing-dir/hvrelay.log: No such file or directory\$" \
    "$TMP/fail.log"
check "  before listening" lacks "$TMP/fail.log" "listening on"
done_testing
