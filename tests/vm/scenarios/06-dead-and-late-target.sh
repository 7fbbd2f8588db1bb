#!/bin/sh
# vm-timeout: 60
#
# Targets that are not there, over vsock:
#   - a port nobody listens on (vsock answers the connect with a reset): the
#     client is closed within connect-timeout (2s) after retries, logged as
#     refused, not as a reset;
#   - a CID no transport reaches (ENODEV): no retry can help, so the client
#     is closed after the first attempt, with a reason that names the CID
#     problem;
#   - meanwhile the same relay keeps relaying other connections, during the
#     wait and after it;
#   - a target that starts listening about 2.5 s after the client connected is
#     reached through the retries within connect-timeout = 8s, and nothing
#     the client sent meanwhile is lost.
# The relay runs with -v for its per-attempt debug lines.
# shellcheck source=lib.sh
. "$SCENARIO_DIR/lib.sh"

need_cmd hvrelay hvtest

cat >host.conf <<CONF
control-socket = off
[dead]
listen = tcp:127.0.0.1:7700
connect = vsock:1:5799
connect-timeout = 2s
[nodev]
listen = tcp:127.0.0.1:7703
connect = vsock:3:5703
connect-timeout = 2s
[live]
listen = tcp:127.0.0.1:7701
connect = vsock:1:5701
[late]
listen = tcp:127.0.0.1:7702
connect = vsock:host:5702
connect-timeout = 8s
CONF
start_relay host-relay host.conf -v
host_relay=$RELAY_PID
wait_tcp_listen 7700

bg live-server hvtest listen vsock:any:5701 --count 2 \
    --send 4M --seed 21 --expect 4M --expect-seed 22 --timeout 40
live_server=$BG_PID
wait_vsock_listen 5701

# The client sends nothing and half-closes: it only waits to be closed.
bg dead-client hvtest connect tcp:127.0.0.1:7700 --send 0 --expect 0 --timeout 20
dead_client=$BG_PID
bg nodev-client hvtest connect tcp:127.0.0.1:7703 --send 0 --expect 0 --timeout 20
nodev_client=$BG_PID

# While both are being retried, the relay serves another forward.
wait_log host-relay 'dead: .* attempt 1 to vsock:1:5799 failed' 10
wait_log host-relay 'nodev: .* attempt 1 to vsock:3:5703 failed' 10
run live-during hvtest connect tcp:127.0.0.1:7701 \
    --send 4M --seed 22 --expect 4M --expect-seed 21 --timeout 30

# check_given_up FORWARD PID REASON MIN MAX: the client (PID) was closed
# within connect-timeout, after MIN to MAX attempts, and the relay logged
# REASON (an extended regular expression).
check_given_up() {
    expect_bg_ok "$2" "$1-client" 15
    ms=$(conn_ms "$1-client")
    line=$(end_line host-relay "$1")
    log "$1: client closed after ${ms}ms: $line"
    [ -n "$line" ] || fail "$1: no end line in the relay log"
    echo "$line" | grep -qE "end=\"target unreachable: $3 \([0-9]+ attempts?\)\"" ||
        fail "$1: unexpected end reason: $line"
    # Within connect-timeout (2 s), with some slack for emulation.
    [ "${ms:-99999}" -le 3000 ] || fail "$1: the client waited ${ms}ms with connect-timeout = 2s"
    attempts=$(count_log host-relay "$1: .* attempt [0-9]+ to .* failed")
    [ "$attempts" -ge "$4" ] && [ "$attempts" -le "$5" ] ||
        fail "$1: $attempts attempt(s) before giving up, expected $4 to $5"
}
check_given_up dead "$dead_client" "Connection refused" 2 99
check_given_up nodev "$nodev_client" "No such device: no vsock transport reaches that CID" 1 1

# And after: the relay still relays.
run live-after hvtest connect tcp:127.0.0.1:7701 \
    --send 4M --seed 22 --expect 4M --expect-seed 21 --timeout 30
expect_bg_ok "$live_server" live-server 20
[ "$(count_log host-relay ' forward=live .* up=4194304 down=4194304 end="(client|target) EOF"')" -eq 2 ] ||
    fail "live: expected 2 complete connections: $(grep ' forward=live ' "$WORKDIR/host-relay.log")"

# A late target: the client connects (and sends 4 MiB, which waits in the
# relay's socket buffers) about 2.5 s before anyone listens on vsock 5702.
t0=$(now)
bg late-client hvtest connect tcp:127.0.0.1:7702 \
    --send 4M --seed 31 --expect 4M --expect-seed 32 --timeout 30
late_client=$BG_PID
wait_log host-relay 'late: .* attempt 1 to vsock:host:5702 failed' 10
sleep 2.5
bg late-server hvtest listen vsock:any:5702 \
    --send 4M --seed 32 --expect 4M --expect-seed 31 --timeout 30
late_server=$BG_PID
log "late target listening $(( $(now) - t0 ))s after the client connected"
expect_bg_ok "$late_client" late-client 20
expect_bg_ok "$late_server" late-server 10
ms=$(conn_ms late-client)
log "late: client done after ${ms}ms"
[ "${ms:-0}" -ge 2000 ] || fail "late: the client finished after ${ms}ms, before the target listened"
expect_log host-relay 'late: .* connected to vsock:host:5702 after ([3-9]|1[0-9]) attempt\(s\)' \
    "late: no 'connected after N attempts' with N >= 3: $(grep 'late: ' "$WORKDIR/host-relay.log" | tail -n 3)"
expect_log host-relay ' forward=late .* up=4194304 down=4194304 end="(client|target) EOF"' \
    "late: $(end_line host-relay late)"
log "late: $(grep 'late: .* connected to' "$WORKDIR/host-relay.log")"

stop_relay "$host_relay" host-relay
