#!/bin/bash
# A target that refuses: the client is closed promptly with a logged
# reason, and the relay goes on serving. A target that starts late is
# reached through the retries within connect-timeout.
. "$TESTS_DIR/scenario/lib.sh"

free_port down_port
free_port late_port
cat >"$TMP/relay.conf" <<CONF
connect-timeout = 1s

[down]
listen = tcp:127.0.0.1:$down_port
connect = unix:$TMP/nobody.sock

[late]
listen = tcp:127.0.0.1:$late_port
connect = unix:$TMP/late.sock
connect-timeout = 5s
CONF
start_relay "$TMP/relay.conf" || exit 1

start=$SECONDS
"$HVTEST" connect "tcp:127.0.0.1:$down_port" --expect 0 --timeout 10 \
    >"$TMP/down.out" 2>&1
elapsed=$((SECONDS - start))
check "client to a dead target gets EOF and no data" grep -q "recv=0 " "$TMP/down.out"
check "within connect-timeout (took ${elapsed}s)" test "$elapsed" -le 3
check "the log says why" \
    grep -q 'forward=down .* end="target unreachable: No such file or directory' "$TMP/relay.log"

# Ten clients at once against the dead target, then a live forward still works.
"$HVTEST" connect "tcp:127.0.0.1:$down_port" --conns 10 --expect 0 \
    --timeout 10 >"$TMP/down10.out" 2>&1
check "ten clients against the dead target are all closed" \
    grep -q "summary ok=10 failed=0" "$TMP/down10.out"

( sleep 1.5; exec "$HVTEST" listen "unix:$TMP/late.sock" --send 1M \
    --expect 1M --expect-seed 2 --timeout 20 >"$TMP/late-server.out" 2>&1 ) &
track $!
late_pid=$!
start=$SECONDS
"$HVTEST" connect "tcp:127.0.0.1:$late_port" --send 1M --seed 2 \
    --expect 1M --expect-seed 1 --timeout 20 >"$TMP/late.out" 2>&1
check "a target listening 1.5 s late is reached through the retries" test $? -eq 0
wait "$late_pid"
check "  and the late server got everything" test $? -eq 0
diag "$TMP/late.out"
check "relay still running" kill -0 "$RELAY_PID"
done_testing
