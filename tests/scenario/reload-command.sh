#!/bin/bash
# `hvrelay reload` asks the running daemon to reload over its control
# socket and waits for the outcome: exit 0 once the new configuration is
# in force, exit 1 with the reason when the daemon refused it (a broken
# file, a port already taken) and kept the running one. A SIGHUP cannot
# say either, which is why systemd's ExecReload uses this.
. "$TESTS_DIR/scenario/lib.sh"

free_port first_port
free_port second_port
free_port target_port
write_conf() {
	cat >"$TMP/relay.conf" <<CONF
control-socket = $TMP/control.sock

[first]
listen = tcp:127.0.0.1:$first_port
connect = tcp:127.0.0.1:$target_port
$1
CONF
}
write_conf ""
start_relay "$TMP/relay.conf" || exit 1

# A new forward: in force when the command returns.
write_conf "[second]
listen = tcp:127.0.0.1:$second_port
connect = tcp:127.0.0.1:$target_port"
"$HVRELAY" reload -c "$TMP/relay.conf" >"$TMP/reload1.out" 2>&1
check "reload of a good file exits 0" test $? -eq 0
diag "$TMP/reload1.out"
check "  saying so" grep -q "^reloaded" "$TMP/reload1.out"
start_server echo "tcp:127.0.0.1:$target_port" --send 4K --expect 4K --timeout 10
"$HVTEST" connect "tcp:127.0.0.1:$second_port" --send 4K --expect 4K \
    --timeout 10 >"$TMP/second.out" 2>&1
check "  the new forward relays right after it" test $? -eq 0
wait "$SERVER_PID"

# A port already taken: the file is valid, so only the daemon can tell.
python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
time.sleep(60)
' "$TMP/taken.port" &
taker=$!
track "$taker"
wait_for 10 test -s "$TMP/taken.port"
taken=$(cat "$TMP/taken.port")
write_conf "[second]
listen = tcp:127.0.0.1:$second_port
connect = tcp:127.0.0.1:$target_port
[third]
listen = tcp:127.0.0.1:$taken
connect = tcp:127.0.0.1:$target_port"
"$HVRELAY" -t -c "$TMP/relay.conf" >/dev/null 2>&1
check "a file whose port is taken passes -t" test $? -eq 0
"$HVRELAY" reload -c "$TMP/relay.conf" >"$TMP/reload2.out" 2>&1
check "  but its reload exits 1" test $? -eq 1
diag "$TMP/reload2.out"
check "  naming the forward and the port" \
    grep -q "third: cannot listen on tcp:127.0.0.1:$taken" "$TMP/reload2.out"
check "  and that the running configuration is kept" \
    grep -q "running configuration" "$TMP/reload2.out"
kill "$taker"

# A broken file: exit 1 with the file, line and key.
write_conf "[second]
listen = tcp:127.0.0.1:$second_port
conect = tcp:127.0.0.1:$target_port"
"$HVRELAY" reload -s "$TMP/control.sock" >"$TMP/reload3.out" 2>&1
check "reload of a broken file exits 1" test $? -eq 1
diag "$TMP/reload3.out"
check "  with the file, line and key" \
    grep -q "relay.conf:[0-9]*: .*conect" "$TMP/reload3.out"

"$HVRELAY" status -s "$TMP/control.sock" >"$TMP/status.txt" 2>&1
check "the daemon counts 1 good and 2 failed reloads" \
    grep -q "1 reload(s), 2 failed" "$TMP/status.txt"
diag "$TMP/status.txt"

"$HVRELAY" reload >"$TMP/usage.out" 2>&1 -x
check "an unknown option is a usage error (2)" test $? -eq 2
"$HVRELAY" reload -s "$TMP/nobody.sock" >"$TMP/nobody.out" 2>&1
check "no daemon at the socket: exit 1" test $? -eq 1
check "  saying it cannot reach it" grep -q "cannot reach the daemon" "$TMP/nobody.out"
printf 'control-socket = off\n[x]\nlisten = tcp:127.0.0.1:%s\nconnect = tcp:127.0.0.1:%s\n' \
    "$first_port" "$target_port" >"$TMP/off.conf"
"$HVRELAY" reload -c "$TMP/off.conf" >"$TMP/off.out" 2>&1
check "control-socket = off: exit 1" test $? -eq 1
check "  suggesting SIGHUP" grep -q "SIGHUP" "$TMP/off.out"
done_testing
