#!/bin/bash
# 64 MiB of random data each way at the same time, through TCP (spliced,
# and copied with splice = no) and through a Unix socket target: every
# byte arrives, in order.
. "$TESTS_DIR/scenario/lib.sh"

free_port relay_port
free_port unix_port
free_port target_port
free_port copy_port
cat >"$TMP/relay.conf" <<CONF
[tcp]
listen = tcp:127.0.0.1:$relay_port
connect = tcp:127.0.0.1:$target_port

[copy]
listen = tcp:127.0.0.1:$copy_port
connect = tcp:127.0.0.1:$target_port
splice = no

[to-unix]
listen = tcp:[::1]:$unix_port
connect = unix:$TMP/target.sock
CONF
start_relay "$TMP/relay.conf" || exit 1

transfer() {
	local name=$1 endpoint=$2 target=$3
	start_server "$name-server" "$target" --send 64M --seed 100 \
	    --expect 64M --expect-seed 7 --timeout 60
	"$HVTEST" connect "$endpoint" --send 64M --seed 7 --expect 64M \
	    --expect-seed 100 --timeout 60 >"$TMP/$name-client.out" 2>&1
	local client=$?
	wait "$SERVER_PID"
	local server=$?
	check "$name: client sent and received 64 MiB intact" test $client -eq 0
	check "$name: server sent and received 64 MiB intact" test $server -eq 0
	check "$name: client->server digests equal" \
	    same_digests "$TMP/$name-client.out" sent_digest "$TMP/$name-server.out" recv_digest
	check "$name: server->client digests equal" \
	    same_digests "$TMP/$name-server.out" sent_digest "$TMP/$name-client.out" recv_digest
	diag "$TMP/$name-client.out" "$TMP/$name-server.out"
}

transfer tcp "tcp:127.0.0.1:$relay_port" "tcp:127.0.0.1:$target_port"
transfer copy "tcp:127.0.0.1:$copy_port" "tcp:127.0.0.1:$target_port"
transfer unix "tcp:[::1]:$unix_port" "unix:$TMP/target.sock"
check "the log line counts 64 MiB each way" \
    grep -q 'forward=tcp .* up=67108864 down=67108864' "$TMP/relay.log"
check "relay still running" kill -0 "$RELAY_PID"
done_testing
