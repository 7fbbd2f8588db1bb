#!/bin/bash
# SIGTERM closes the listeners at once, lets a running transfer finish
# intact, then exits 0; shutdown-timeout cuts connections that linger.
. "$TESTS_DIR/scenario/lib.sh"

RELAY_GLOBALS="shutdown-timeout = 20s" start_tcp_forward drain || exit 1

start_server drain "tcp:127.0.0.1:$target_port" --send 64M --timeout 30
"$HVTEST" connect "tcp:127.0.0.1:$relay_port" --read-rate 32M \
    --expect 64M --expect-seed 1 --timeout 30 >"$TMP/client.out" 2>&1 &
client_pid=$!
track $client_pid
sleep 0.5
kill -TERM "$RELAY_PID"
wait_for 5 grep -q "stopping" "$TMP/relay.log"
check "listener closed at once after SIGTERM" \
    bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$relay_port) 2>/dev/null"
wait $client_pid
check "the running 64 MiB transfer finished intact" test $? -eq 0
wait "$RELAY_PID"
check "hvrelay exited 0 after draining" test $? -eq 0
diag "$TMP/client.out"

# A connection that never ends is cut when shutdown-timeout expires.
RELAY_GLOBALS="shutdown-timeout = 500ms" start_tcp_forward stuck || exit 1
start_server stuck "tcp:127.0.0.1:$target_port" --delay-ms 20000 --timeout 30
"$HVTEST" connect "tcp:127.0.0.1:$relay_port" --timeout 30 \
    >"$TMP/stuck.out" 2>&1 &
track $!
sleep 0.5
start=$SECONDS
kill -TERM "$RELAY_PID"
wait "$RELAY_PID"
status=$?
check "with a stuck connection hvrelay still exits 0" test $status -eq 0
check "  within shutdown-timeout (took $((SECONDS - start))s)" \
    test $((SECONDS - start)) -le 2
check "  and logs the cut connection" \
    grep -q 'forward=stuck .*end="shutdown timeout"' "$TMP/relay.log"
done_testing
