#!/bin/sh
# vm-timeout: 60
#
# The typical pair over real AF_VSOCK: one hvrelay as the "host" side
# (tcp -> hvsock:loopback, a Hyper-V address translated to vsock CID 1) and
# one as the "guest" side (vsock:any -> tcp), a client and a server at the
# two TCP ends, 64 MiB each way at the same time, every byte checked at both
# ends, and both relays' end-of-connection lines counting the same bytes.
# shellcheck source=lib.sh
. "$SCENARIO_DIR/lib.sh"

need_cmd hvrelay hvtest

SIZE=64M
BYTES=67108864

cat >host.conf <<CONF
control-socket = off
[host]
listen = tcp:127.0.0.1:7200
connect = hvsock:loopback:5200
CONF
cat >guest.conf <<CONF
control-socket = off
[guest]
listen = vsock:any:5200
connect = tcp:127.0.0.1:7201
CONF

run check-host hvrelay -t -c host.conf
run check-guest hvrelay -t -c guest.conf

start_relay guest-relay guest.conf
guest_relay=$RELAY_PID
wait_vsock_listen 5200
start_relay host-relay host.conf
host_relay=$RELAY_PID
wait_tcp_listen 7200

bg server hvtest listen tcp:127.0.0.1:7201 \
    --send $SIZE --seed 101 --expect $SIZE --expect-seed 202 --timeout 40
server=$BG_PID
wait_tcp_listen 7201

t0=$(now)
run client hvtest connect tcp:127.0.0.1:7200 \
    --send $SIZE --seed 202 --expect $SIZE --expect-seed 101 --timeout 40
expect_bg_ok "$server" server 20
log "64 MiB each way through both relays in about $(( $(now) - t0 ))s"

# Each end's checks passed; the digests must also agree across the ends.
same_digests client sent_digest server recv_digest
same_digests client recv_digest server sent_digest
[ "$(hvtest_field client recv_digest)" = "$(hvtest digest $SIZE 101)" ] ||
    fail "the client's digest is not the server's stream"

# Simultaneous EOFs: either side may have finished first.
wait_log host-relay ' forward=host .* end=' 10
wait_log guest-relay ' forward=guest .* end=' 10
expect_log host-relay " forward=host peer=127\.0\.0\.1:[0-9]+ target=hvsock:loopback:5200 .* up=$BYTES down=$BYTES end=\"(client|target) EOF\"" \
    "host relay end line wrong: $(end_line host-relay host)"
expect_log guest-relay " forward=guest peer=vsock:1:[0-9]+ target=tcp:127\.0\.0\.1:7201 .* up=$BYTES down=$BYTES end=\"(client|target) EOF\"" \
    "guest relay end line wrong: $(end_line guest-relay guest)"
log "host:  $(end_line host-relay host)"
log "guest: $(end_line guest-relay guest)"

stop_relay "$host_relay" host-relay
stop_relay "$guest_relay" guest-relay
