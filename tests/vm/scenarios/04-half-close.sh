#!/bin/sh
# vm-timeout: 60
#
# Half-closes cross vsock in both directions while the other direction keeps
# flowing, through the host/guest pair (tcp -> vsock:host -> hvsock:wildcard
# -> tcp):
#   - the client sends a request and its FIN; only after that EOF does the
#     server answer, with 16 MiB that must all reach the half-closed client;
#   - the server speaks first and half-closes; only after that EOF does the
#     client send 16 MiB, which must all reach the half-closed server.
# Each relay's end line must name the side that finished first.
# shellcheck source=lib.sh
. "$SCENARIO_DIR/lib.sh"

need_cmd hvrelay hvtest

BIG=16M
BIG_BYTES=16777216

cat >host.conf <<CONF
control-socket = off
[hc-host]
listen = tcp:127.0.0.1:7500
connect = vsock:host:5500
CONF
cat >guest.conf <<CONF
control-socket = off
[hc-guest]
listen = hvsock:wildcard:5500
connect = tcp:127.0.0.1:7501
CONF
start_relay guest-relay guest.conf
guest_relay=$RELAY_PID
start_relay host-relay host.conf
host_relay=$RELAY_PID
wait_vsock_listen 5500
wait_tcp_listen 7500

# 1. Request, FIN, then a 16 MiB reply to the half-closed client.
bg reply hvtest listen tcp:127.0.0.1:7501 --after-eof \
    --send $BIG --seed 5 --expect 1000 --expect-seed 9 --timeout 30
server=$BG_PID
wait_tcp_listen 7501
run request hvtest connect tcp:127.0.0.1:7500 \
    --send 1000 --seed 9 --expect $BIG --expect-seed 5 --timeout 30
expect_bg_ok "$server" reply 20
wait_log host-relay ' forward=hc-host .* end=' 10
wait_log guest-relay ' forward=hc-guest .* end=' 10
expect_log host-relay " forward=hc-host .* up=1000 down=$BIG_BYTES end=\"client EOF\"" \
    "host relay, client half-closed first: $(end_line host-relay hc-host)"
expect_log guest-relay " forward=hc-guest .* up=1000 down=$BIG_BYTES end=\"client EOF\"" \
    "guest relay, client half-closed first: $(end_line guest-relay hc-guest)"
log "client FIN first: $(end_line host-relay hc-host)"

# 2. The server half-closes first; the client then sends 16 MiB.
bg first hvtest listen tcp:127.0.0.1:7501 \
    --send 2000 --seed 3 --expect $BIG --expect-seed 4 --timeout 30
server=$BG_PID
wait_tcp_listen 7501
run late hvtest connect tcp:127.0.0.1:7500 --after-eof \
    --send $BIG --seed 4 --expect 2000 --expect-seed 3 --timeout 30
expect_bg_ok "$server" first 20
wait_until 10 "a second end line from host-relay" \
    test "$(count_log host-relay ' forward=hc-host .* end=')" -ge 2
wait_until 10 "a second end line from guest-relay" \
    test "$(count_log guest-relay ' forward=hc-guest .* end=')" -ge 2
expect_log host-relay " forward=hc-host .* up=$BIG_BYTES down=2000 end=\"target EOF\"" \
    "host relay, server half-closed first: $(end_line host-relay hc-host)"
expect_log guest-relay " forward=hc-guest .* up=$BIG_BYTES down=2000 end=\"target EOF\"" \
    "guest relay, server half-closed first: $(end_line guest-relay hc-guest)"
log "server FIN first: $(end_line host-relay hc-host)"

stop_relay "$host_relay" host-relay
stop_relay "$guest_relay" guest-relay
