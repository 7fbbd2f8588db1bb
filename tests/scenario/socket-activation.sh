#!/bin/bash
# Sockets passed by the service manager (systemd-socket-activate stands in
# for systemd) are matched to forwards by --fdname, used instead of the
# forward's own 'listen', and kept across a reload.
. "$TESTS_DIR/scenario/lib.sh"

if ! command -v systemd-socket-activate >/dev/null; then
	echo "Bail out! systemd-socket-activate is missing (Debian package systemd)"
	exit 1
fi
free_port passed_port
free_port configured_port
free_port other_port
free_port target_port
cat >"$TMP/relay.conf" <<CONF
control-socket = off

[act]
listen = tcp:127.0.0.1:$configured_port
connect = tcp:127.0.0.1:$target_port

[other]
listen = tcp:127.0.0.1:$other_port
connect = tcp:127.0.0.1:$target_port
CONF

# It waits for the first client, then execs hvrelay with the socket as fd 3.
systemd-socket-activate -l "127.0.0.1:$passed_port" --fdname=act \
    -l "127.0.0.1:$(free_port stray; echo "$stray")" --fdname=stray \
    "$HVRELAY" -c "$TMP/relay.conf" 2>"$TMP/relay.log" &
RELAY_PID=$!
track $RELAY_PID
wait_for 10 grep -q "Listening on 127.0.0.1:$passed_port" "$TMP/relay.log"

start_server target "tcp:127.0.0.1:$target_port" --count 3 --send 1M \
    --expect 64K --timeout 30
"$HVTEST" connect "tcp:127.0.0.1:$passed_port" --send 64K --expect 1M \
    --timeout 10 >"$TMP/first.out" 2>&1
check "the first client, through the passed socket, is relayed" test $? -eq 0
check "the socket was taken by the forward of the same name" \
    grep -q "act: listening on a socket passed by the service manager" "$TMP/relay.log"
check "the forward's own listen address was not opened" \
    bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$configured_port) 2>/dev/null"
check "a passed socket matching no forward is reported" \
    grep -q "socket 'stray' from the service manager matches no \[section\]" "$TMP/relay.log"

kill -HUP "$RELAY_PID"
wait_for 5 grep -q "reloaded" "$TMP/relay.log"
"$HVTEST" connect "tcp:127.0.0.1:$passed_port" --send 64K --expect 1M \
    --timeout 10 >"$TMP/second.out" 2>&1
check "after a reload the passed socket still serves" test $? -eq 0
"$HVTEST" connect "tcp:127.0.0.1:$other_port" --send 64K --expect 1M \
    --timeout 10 >/dev/null 2>&1
check "forwards without a passed socket listen as configured" test $? -eq 0
done_testing
