#!/bin/bash
# Hundreds of concurrent connections through one relay, each carrying
# data both ways, all intact.
. "$TESTS_DIR/scenario/lib.sh"

start_tcp_forward many || exit 1

start_server many "tcp:127.0.0.1:$target_port" --count 400 --send 256K \
    --seed 11 --expect 256K --hold-ms 200 --timeout 60
"$HVTEST" connect "tcp:127.0.0.1:$relay_port" --conns 400 --send 256K \
    --seed 1000 --expect 256K --timeout 60 \
    >"$TMP/clients.out" 2>&1
check "400 concurrent clients all succeed" test $? -eq 0
wait "$SERVER_PID"
check "the server saw 400 intact connections" test $? -eq 0
check "every client's stream arrived at the server" \
    same_digests "$TMP/clients.out" sent_digest "$TMP/many.out" recv_digest
check "every client got the server's stream" \
    same_digests "$TMP/clients.out" recv_digest "$TMP/many.out" sent_digest
peak=$(sed -n 's/^peak=//p' "$TMP/many.out")
check "they were relayed concurrently (peak $peak >= 100)" test "${peak:-0}" -ge 100
check "400 log lines" test "$(grep -c 'forward=many ' "$TMP/relay.log")" -eq 400
tail -3 "$TMP/clients.out" | diag
done_testing
