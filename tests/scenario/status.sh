#!/bin/bash
# `hvrelay status` (table and JSON) and SIGUSR1 show the traffic a test
# really sent; 'allow' refuses, counts and logs a source outside the list.
. "$TESTS_DIR/scenario/lib.sh"

free_port open_port
free_port guarded_port
free_port target_port
cat >"$TMP/relay.conf" <<CONF
control-socket = $TMP/control.sock

[open]
listen = tcp:127.0.0.1:$open_port
connect = tcp:127.0.0.1:$target_port

[guarded]
listen = tcp:127.0.0.1:$guarded_port
connect = tcp:127.0.0.1:$target_port
allow = 127.0.0.1/32, ::1
CONF
start_relay "$TMP/relay.conf" || exit 1

start_server traffic "tcp:127.0.0.1:$target_port" --count 4 --send 2M \
    --expect 1M --timeout 30
"$HVTEST" connect "tcp:127.0.0.1:$open_port" --conns 3 --send 1M \
    --expect 2M --timeout 30 >"$TMP/open.out" 2>&1
check "three connections through [open]" test $? -eq 0
"$HVTEST" connect "tcp:127.0.0.1:$guarded_port" --send 1M --expect 2M \
    --timeout 30 >"$TMP/guarded.out" 2>&1
check "127.0.0.1 is allowed through [guarded]" test $? -eq 0
wait "$SERVER_PID"

# A client bound to 127.0.0.2 is outside the list: closed at once.
python3 - "$guarded_port" >"$TMP/denied.out" 2>&1 <<'PY'
import socket, sys
s = socket.socket()
s.bind(("127.0.0.2", 0))
s.settimeout(5)
s.connect(("127.0.0.1", int(sys.argv[1])))
try:
    s.sendall(b"hello")
    print("received", len(s.recv(100)))
except ConnectionResetError:
    print("received 0 (reset)")
PY
check "a client from 127.0.0.2 is closed at once" grep -q "received 0" "$TMP/denied.out"
check "  and the denial is logged" \
    grep -q 'forward=guarded peer=127.0.0.2:[0-9]* denied' "$TMP/relay.log"

"$HVRELAY" status -c "$TMP/relay.conf" >"$TMP/status.txt" 2>&1
check "hvrelay status answers" test $? -eq 0
diag "$TMP/status.txt"
check "  the table counts 3 connections and their bytes on [open]" \
    grep -Eq '^open +listening +0 +3 +0 +0 +0 +0 +0 +3145728 +6291456 ' "$TMP/status.txt"
check "  and 1 allowed + 1 denied on [guarded]" \
    grep -Eq '^guarded +listening +0 +1 +1 +0 +0 +0 +0 +1048576 +2097152 ' "$TMP/status.txt"

"$HVRELAY" status --json -s "$TMP/control.sock" >"$TMP/status.json" 2>&1
check "hvrelay status --json -s SOCKET answers" test $? -eq 0
python3 - "$TMP/status.json" >"$TMP/json-check.out" 2>&1 <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
fwd = {f["name"]: f for f in doc["forwards"]}
assert doc["active"] == 0, doc
assert fwd["open"]["accepted"] == 3 and fwd["open"]["bytes_up"] == 3 * 1048576, fwd
assert fwd["open"]["bytes_down"] == 3 * 2097152, fwd
assert fwd["guarded"]["denied"] == 1 and fwd["guarded"]["accepted"] == 1, fwd
print("json ok")
PY
check "  the JSON holds the same numbers" grep -q "json ok" "$TMP/json-check.out"
diag "$TMP/json-check.out"

kill -USR1 "$RELAY_PID"
check "SIGUSR1 writes the counters to the log" wait_for 5 grep -q \
    'stats forward=open state=listening active=0 accepted=3 .* bytes_up=3145728 bytes_down=6291456' "$TMP/relay.log"

out=$("$HVRELAY" status -s "$TMP/nobody.sock" 2>&1)
check "status without a daemon fails" test $? -eq 1
check "  saying so" contains "$out" "cannot reach the daemon"
check "the control socket is private to its owner" \
    test "$(stat -c %a "$TMP/control.sock")" = 700
done_testing
