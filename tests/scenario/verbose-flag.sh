#!/bin/bash
# -v shows debug lines whatever log-level says, and keeps showing them
# after a reload (a reload once reset the level to the file's).
. "$TESTS_DIR/scenario/lib.sh"

free_port port
printf 'log-level = warn\ncontrol-socket = off\n[v]\nlisten = tcp:127.0.0.1:%s\nconnect = unix:%s/nobody.sock\nconnect-timeout = 300ms\n' \
    "$port" "$TMP" >"$TMP/relay.conf"
"$HVRELAY" -v -c "$TMP/relay.conf" 2>"$TMP/relay.log" &
RELAY_PID=$!
track $RELAY_PID
wait_for 10 grep -q "started:" "$TMP/relay.log"
"$HVTEST" connect "tcp:127.0.0.1:$port" --timeout 5 >/dev/null 2>&1
check "-v shows the debug line of a failed attempt" \
    grep -q "debug: v: .* attempt 1 to unix:.* failed" "$TMP/relay.log"
kill -HUP "$RELAY_PID"
wait_for 5 grep -q "reloaded" "$TMP/relay.log"
: >"$TMP/relay.log"
"$HVTEST" connect "tcp:127.0.0.1:$port" --timeout 5 >/dev/null 2>&1
check "  and still does after a reload" \
    wait_for 3 grep -q "debug: v: .* attempt 1 to unix:.* failed" "$TMP/relay.log"
done_testing
