#!/bin/bash
# Half-close passes through in both directions while the other direction
# keeps flowing: request + FIN then a large reply, and the reverse.
. "$TESTS_DIR/scenario/lib.sh"

free_port relay_port
cat >"$TMP/relay.conf" <<CONF
[hc]
listen = tcp:127.0.0.1:$relay_port
connect = unix:@hvrelay-test-$$
CONF
start_relay "$TMP/relay.conf" || exit 1

# The client sends a request and half-closes; only then does the server
# answer with 16 MiB, which must all reach the half-closed client.
start_server reply "unix:@hvrelay-test-$$" --after-eof --send 16M --seed 5 \
    --expect 1000 --expect-seed 9 --timeout 30
"$HVTEST" connect "tcp:127.0.0.1:$relay_port" --send 1000 --seed 9 \
    --expect 16M --expect-seed 5 --timeout 30 >"$TMP/req.out" 2>&1
check "client half-closes, then receives a 16 MiB reply" test $? -eq 0
wait "$SERVER_PID"
check "server got the whole request before answering" test $? -eq 0
diag "$TMP/req.out" "$TMP/reply.out"
check "the log says the client closed first" \
    grep -q 'forward=hc .* up=1000 down=16777216 end="client EOF"' "$TMP/relay.log"

# The server speaks first and half-closes; the client reads it all and
# only then sends 16 MiB, which must still reach the server.
start_server first "unix:@hvrelay-test-$$" --send 2000 --seed 3 \
    --expect 16M --expect-seed 4 --timeout 30
"$HVTEST" connect "tcp:127.0.0.1:$relay_port" --after-eof --send 16M \
    --seed 4 --expect 2000 --expect-seed 3 --timeout 30 >"$TMP/late.out" 2>&1
check "server half-closes first, client still receives everything" test $? -eq 0
wait "$SERVER_PID"
check "server receives 16 MiB after its own half-close" test $? -eq 0
diag "$TMP/late.out" "$TMP/first.out"
check "the log says the target closed first" \
    grep -q 'forward=hc .* up=16777216 down=2000 end="target EOF"' "$TMP/relay.log"
done_testing
