#!/bin/bash
# idle-timeout ends silent connections but never a busy one;
# half-close-timeout ends a half-closed connection that stalls.
. "$TESTS_DIR/scenario/lib.sh"

free_port idle_port
free_port hc_port
free_port target_port
cat >"$TMP/relay.conf" <<CONF
[idle]
listen = tcp:127.0.0.1:$idle_port
connect = tcp:127.0.0.1:$target_port
idle-timeout = 1s

[hc]
listen = tcp:127.0.0.1:$hc_port
connect = tcp:127.0.0.1:$target_port
half-close-timeout = 1s
CONF
start_relay "$TMP/relay.conf" || exit 1

start_server silent "tcp:127.0.0.1:$target_port" --delay-ms 6000 --timeout 20
start=$SECONDS
"$HVTEST" connect "tcp:127.0.0.1:$idle_port" --delay-ms 6000 --timeout 20 \
    >"$TMP/silent.out" 2>&1
elapsed=$((SECONDS - start))
check "a silent connection is closed by idle-timeout (after ${elapsed}s)" \
    test "$elapsed" -le 3
check "  logged as idle timeout" \
    grep -q 'forward=idle .*end="idle timeout"' "$TMP/relay.log"
kill "$SERVER_PID" 2>/dev/null

start_server busy "tcp:127.0.0.1:$target_port" --send 32M --timeout 30
"$HVTEST" connect "tcp:127.0.0.1:$idle_port" --read-rate 10M --expect 32M \
    --expect-seed 1 --timeout 30 >"$TMP/busy.out" 2>&1
check "a 3 s transfer is not cut by a 1 s idle-timeout" test $? -eq 0
wait "$SERVER_PID"

start_server stalled "tcp:127.0.0.1:$target_port" --delay-ms 6000 --timeout 20
start=$SECONDS
"$HVTEST" connect "tcp:127.0.0.1:$hc_port" --send 10 --timeout 20 \
    >"$TMP/stalled.out" 2>&1
elapsed=$((SECONDS - start))
check "a half-closed connection that stalls is closed (after ${elapsed}s)" \
    test "$elapsed" -le 3
check "  logged as half-close timeout" \
    grep -q 'forward=hc .*end="half-close timeout"' "$TMP/relay.log"
done_testing
