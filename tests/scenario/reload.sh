#!/bin/bash
# SIGHUP under load: transfers run through [steady] while the file is
# rewritten and reloaded many times (forwards added, removed, changed, and
# one invalid file): no connection error, no byte lost, no refused connect
# on [steady]; afterwards new forwards work and removed ones refuse.
. "$TESTS_DIR/scenario/lib.sh"

free_port steady_port
free_port doomed_port
free_port changing_port
free_port fresh_port
free_port flip_port
free_port target_port

# write_config VERSION: the [steady] forward never changes.
write_config() {
	{
		echo "control-socket = $TMP/control.sock"
		echo "[steady]"
		echo "listen = tcp:127.0.0.1:$steady_port"
		echo "connect = tcp:127.0.0.1:$target_port"
		case $1 in
		first)
			printf '[doomed]\nlisten = tcp:127.0.0.1:%s\nconnect = tcp:127.0.0.1:%s\n' "$doomed_port" "$target_port"
			printf '[changing]\nlisten = tcp:127.0.0.1:%s\nconnect = unix:%s/one.sock\n' "$changing_port" "$TMP"
			;;
		flip)
			printf '[flip]\nlisten = tcp:127.0.0.1:%s\nconnect = tcp:127.0.0.1:%s\n' "$flip_port" "$target_port"
			printf '[changing]\nlisten = tcp:127.0.0.1:%s\nconnect = unix:%s/two.sock\n' "$changing_port" "$TMP"
			;;
		broken)
			echo "[changing"
			;;
		final)
			printf '[changing]\nlisten = tcp:127.0.0.1:%s\nconnect = unix:%s/two.sock\n' "$changing_port" "$TMP"
			printf '[fresh]\nlisten = tcp:127.0.0.1:%s\nconnect = tcp:127.0.0.1:%s\n' "$fresh_port" "$target_port"
			;;
		esac
	} >"$TMP/relay.conf"
}

write_config first
start_relay "$TMP/relay.conf" || exit 1
start_server target "tcp:127.0.0.1:$target_port" --count 0 --send 1M --timeout 60

# Long transfers that span every reload, and short ones all along.
"$HVTEST" connect "tcp:127.0.0.1:$steady_port" --conns 10 --send 16M \
    --seed 100 --read-delay-ms 3000 --expect 1M --timeout 60 \
    >"$TMP/long.out" 2>&1 &
long_pid=$!
track $long_pid
(
	for i in $(seq 1 30); do
		"$HVTEST" connect "tcp:127.0.0.1:$steady_port" --conns 4 \
		    --send 64K --seed $((1000 + 10 * i)) --expect 1M --timeout 20 ||
		    echo "short round $i failed"
		sleep 0.05
	done
) >"$TMP/short.out" 2>&1 &
short_pid=$!
track $short_pid

valid=0
for round in 1 2 3 4; do
	for version in flip final broken first; do
		write_config "$version"
		kill -HUP "$RELAY_PID"
		if [ "$version" != broken ]; then
			valid=$((valid + 1))
		fi
		sleep 0.15
	done
done
write_config final
kill -HUP "$RELAY_PID"
valid=$((valid + 1))

wait $long_pid
check "10 long transfers across $((valid + 4)) reloads all succeed" test $? -eq 0
wait $short_pid
check "120 short connections during the reloads all succeed" \
    bash -c "! grep -q 'short round' '$TMP/short.out' && test \$(grep -c 'result=ok' '$TMP/short.out') -eq 120"
sleep 0.3
cat "$TMP/long.out" "$TMP/short.out" >"$TMP/clients.out"
check "every byte sent through [steady] reached the target" \
    same_digests "$TMP/clients.out" sent_digest "$TMP/target.out" recv_digest
check "the invalid file was reported and the old configuration kept" \
    grep -q "reload failed, keeping the running configuration" "$TMP/relay.log"

"$HVRELAY" status --json -s "$TMP/control.sock" >"$TMP/status.json"
python3 - "$TMP/status.json" "$valid" >"$TMP/json.out" 2>&1 <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["reloads"] == int(sys.argv[2]), doc
assert doc["failed_reloads"] == 4, doc
names = sorted(f["name"] for f in doc["forwards"])
assert names == ["changing", "fresh", "steady"], names
steady = [f for f in doc["forwards"] if f["name"] == "steady"][0]
assert steady["accepted"] == 130 and steady["connect_errors"] == 0, steady
print("status ok")
PY
check "status counts the reloads, the forwards and 130 connections" \
    grep -q "status ok" "$TMP/json.out"
diag "$TMP/json.out"

"$HVTEST" connect "tcp:127.0.0.1:$fresh_port" --expect 1M --timeout 10 \
    >/dev/null 2>&1
check "a forward added by the reload works" test $? -eq 0
check "a removed forward refuses connections" \
    bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$doomed_port) 2>/dev/null"
start_server two "unix:$TMP/two.sock" --send 5K --timeout 10
"$HVTEST" connect "tcp:127.0.0.1:$changing_port" --expect 5K --timeout 10 \
    >/dev/null 2>&1
check "a changed forward goes to its new target" test $? -eq 0
done_testing
