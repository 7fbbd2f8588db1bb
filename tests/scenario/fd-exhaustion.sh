#!/bin/bash
# Out of descriptors, hvrelay pauses accepting instead of spinning, says
# how to fix it, and serves the waiting clients as descriptors free up.
. "$TESTS_DIR/scenario/lib.sh"

RELAY_NOFILE=40 start_tcp_forward fd "connect-timeout = 10s" || exit 1
check "a too-low descriptor limit is reported at start" \
    grep -q "raise LimitNOFILE" "$TMP/relay.log"

start_server fd "tcp:127.0.0.1:$target_port" --count 60 --delay-ms 300 \
    --send 1K --timeout 60
"$HVTEST" connect "tcp:127.0.0.1:$relay_port" --conns 60 --expect 1K \
    --timeout 60 >"$TMP/clients.out" 2>&1
check "60 clients through a relay limited to 40 descriptors all get served" \
    test $? -eq 0
peak=$(sed -n 's/^peak=//p' "$TMP/fd.out")
check "  no more than the descriptors allow at once (target saw $peak)" \
    test "${peak:-99}" -le 20
check "  the accept failure was logged" \
    grep -q "accept: Too many open files" "$TMP/relay.log"
cpu=$(awk '{print $14 + $15}' "/proc/$RELAY_PID/stat")
check "  without spinning (relay used $cpu ticks of CPU)" test "$cpu" -lt 100
tail -2 "$TMP/clients.out" | diag
check "relay still running" kill -0 "$RELAY_PID"
done_testing
