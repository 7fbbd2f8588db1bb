#!/bin/bash
# The systemd notify protocol, with a datagram socket standing in for
# $NOTIFY_SOCKET: READY=1 once every listener is bound, RELOADING=1 with
# MONOTONIC_USEC then READY=1 on SIGHUP, STOPPING=1 on SIGTERM. Also the
# journald line format when JOURNAL_STREAM names our stderr.
. "$TESTS_DIR/scenario/lib.sh"

free_port port
python3 - "$TMP/notify.sock" "$TMP/messages" "$port" <<'PY' &
import os, socket, sys
path, out, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
open(path + ".ready", "w").close()
s.settimeout(30)
with open(out, "w", buffering=1) as f:
    while True:
        msg = s.recv(4096).decode()
        # At READY, the listener must already accept connections.
        listening = "-"
        if "READY=1" in msg:
            c = socket.socket()
            listening = "listening" if c.connect_ex(("127.0.0.1", port)) == 0 else "not-listening"
            c.close()
        f.write(msg.replace("\n", "|") + " " + listening + "\n")
        if "STOPPING=1" in msg:
            break
PY
track $!
wait_for 10 test -e "$TMP/notify.sock.ready"

printf '[n]\nlisten = tcp:127.0.0.1:%s\nconnect = tcp:127.0.0.1:1\n' "$port" >"$TMP/relay.conf"
NOTIFY_SOCKET="$TMP/notify.sock" start_relay "$TMP/relay.conf" || exit 1
check "READY=1 comes once the listener accepts" \
    wait_for 5 grep -q "^READY=1|STATUS=.* listening$" "$TMP/messages"
kill -HUP "$RELAY_PID"
check "SIGHUP: RELOADING=1 with MONOTONIC_USEC" \
    wait_for 5 grep -q "^RELOADING=1|MONOTONIC_USEC=[0-9][0-9]* " "$TMP/messages"
check "  then READY=1 again" \
    wait_for 5 test "$(grep -c '^READY=1' "$TMP/messages")" -eq 2
kill -TERM "$RELAY_PID"
wait "$RELAY_PID"
check "SIGTERM: STOPPING=1" wait_for 5 grep -q "^STOPPING=1" "$TMP/messages"
diag "$TMP/messages"

# journald: "<N>" priority prefixes instead of timestamps.
: >"$TMP/relay.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$TMP/relay.log") start_relay "$TMP/relay.conf"
check "with JOURNAL_STREAM naming stderr, lines carry <6> priorities" \
    grep -q "^<6>n: listening on" "$TMP/relay.log"
done_testing
