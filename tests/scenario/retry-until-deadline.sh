#!/bin/bash
# The retries of a connect go on until connect-timeout is spent: a target
# that starts listening shortly before the deadline, after the backoff has
# grown to its longest step, is still reached rather than given up on early.
. "$TESTS_DIR/scenario/lib.sh"

free_port port
cat >"$TMP/relay.conf" <<CONF
[late]
listen = tcp:127.0.0.1:$port
connect = unix:$TMP/late.sock
connect-timeout = 4s
CONF
start_relay "$TMP/relay.conf" -v || exit 1

# Attempts at 0, 0.1, 0.3, 0.7, 1.5, 2.5 and 3.5 s find nobody; the target
# appears at 3.65 s, before the 4 s budget is spent.
( sleep 3.65; exec "$HVTEST" listen "unix:$TMP/late.sock" --send 64K \
    --expect 64K --expect-seed 2 --timeout 20 >"$TMP/server.out" 2>&1 ) &
track $!
server_pid=$!
"$HVTEST" connect "tcp:127.0.0.1:$port" --send 64K --seed 2 \
    --expect 64K --expect-seed 1 --timeout 20 >"$TMP/client.out" 2>&1
check "a target listening 3.65 s into a 4 s connect-timeout is reached" test $? -eq 0
diag "$TMP/client.out"
wait "$server_pid"
check "  and it got everything" test $? -eq 0
check "  on a final attempt made before the deadline" \
    grep -q 'late: .* connected to unix:.* after 8 attempt(s)' "$TMP/relay.log"
diag "$TMP/relay.log"

# A target that never comes: the one line names the attempts correctly.
rm -f "$TMP/late.sock"
"$HVTEST" connect "tcp:127.0.0.1:$port" --expect 0 --timeout 10 \
    >"$TMP/dead.out" 2>&1
check "a dead target is given up on after 8 attempts" \
    grep -q 'forward=late .* end="target unreachable: .* (8 attempts)"' "$TMP/relay.log"
done_testing
