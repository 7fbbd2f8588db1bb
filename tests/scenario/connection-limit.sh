#!/bin/bash
# At max-connections the listener pauses: extra clients wait in the
# backlog and are served as earlier connections finish, never refused.
. "$TESTS_DIR/scenario/lib.sh"

free_port fwd_port
free_port a_port
free_port b_port
free_port target_port
cat >"$TMP/relay.conf" <<CONF
max-connections = 3

[capped]
listen = tcp:127.0.0.1:$fwd_port
connect = tcp:127.0.0.1:$target_port
max-connections = 2

[a]
listen = tcp:127.0.0.1:$a_port
connect = tcp:127.0.0.1:$target_port

[b]
listen = tcp:127.0.0.1:$b_port
connect = tcp:127.0.0.1:$target_port
CONF
start_relay "$TMP/relay.conf" || exit 1

start_server capped "tcp:127.0.0.1:$target_port" --count 6 --send 1K \
    --delay-ms 400 --timeout 30
"$HVTEST" connect "tcp:127.0.0.1:$fwd_port" --conns 6 --expect 1K \
    --timeout 30 >"$TMP/capped-clients.out" 2>&1
check "six clients against a forward capped at 2 are all served" test $? -eq 0
wait "$SERVER_PID"
peak=$(sed -n 's/^peak=//p' "$TMP/capped.out")
check "no more than 2 at a time reached the target (peak $peak)" \
    test "${peak:-99}" -le 2
check "and they did overlap (peak $peak = 2)" test "${peak:-0}" -eq 2

start_server global "tcp:127.0.0.1:$target_port" --count 8 --send 1K \
    --delay-ms 400 --timeout 30
"$HVTEST" connect "tcp:127.0.0.1:$a_port" --conns 4 --expect 1K \
    --timeout 30 >"$TMP/a.out" 2>&1 &
a_pid=$!
track $a_pid
"$HVTEST" connect "tcp:127.0.0.1:$b_port" --conns 4 --expect 1K \
    --timeout 30 >"$TMP/b.out" 2>&1
b_status=$?
wait $a_pid
a_status=$?
check "eight clients on two forwards under a global cap of 3 are all served" \
    test "$a_status" -eq 0 -a "$b_status" -eq 0
wait "$SERVER_PID"
peak=$(sed -n 's/^peak=//p' "$TMP/global.out")
check "the global cap held (peak $peak <= 3)" test "${peak:-99}" -le 3
check "relay still running" kill -0 "$RELAY_PID"
done_testing
