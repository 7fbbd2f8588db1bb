#!/bin/bash
# A reset on one side becomes a reset on the other, in both directions.
. "$TESTS_DIR/scenario/lib.sh"

start_tcp_forward rst || exit 1

# Connects (or accepts), sends a little, then closes with SO_LINGER 0.
resetter() {
	python3 - "$@" <<'PY'
import socket, struct, sys, time
mode, port = sys.argv[1], int(sys.argv[2])
if mode == "client":
    s = socket.create_connection(("127.0.0.1", port))
else:
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(1)
    open(sys.argv[3], "w").close()
    s, _ = srv.accept()
s.sendall(b"x" * 1000)
time.sleep(0.5)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
PY
}

start_server victim "tcp:127.0.0.1:$target_port" --delay-ms 5000 --timeout 10
resetter client "$relay_port"
wait "$SERVER_PID"
check "a client reset reaches the target as a reset" \
    grep -q "result=error:.*reset" "$TMP/victim.out"
check "  logged as client reset" \
    grep -q 'forward=rst .*end="client reset"' "$TMP/relay.log"
diag "$TMP/victim.out"

resetter server "$target_port" "$TMP/rst-ready" &
track $!
wait_for 10 test -e "$TMP/rst-ready"
"$HVTEST" connect "tcp:127.0.0.1:$relay_port" --delay-ms 5000 --timeout 10 \
    >"$TMP/client.out" 2>&1
check "a target reset reaches the client as a reset" \
    grep -q "result=error:.*reset" "$TMP/client.out"
check "  logged as target reset" \
    grep -q 'forward=rst .*end="target reset"' "$TMP/relay.log"
diag "$TMP/client.out"
check "relay still running" kill -0 "$RELAY_PID"
done_testing
