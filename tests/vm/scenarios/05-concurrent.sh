#!/bin/sh
# vm-timeout: 60
#
# Many transfers over vsock at once: 40 connections through the host/guest
# pair, 2 MiB each way on each, every client with its own stream. The server
# must have seen them overlap, each relay must log 40 complete connections,
# and the digests must pair up: each client's stream arrived at the server,
# and each client got the server's.
# shellcheck source=lib.sh
. "$SCENARIO_DIR/lib.sh"

need_cmd hvrelay hvtest

CONNS=40
SIZE=2M
BYTES=2097152

cat >host.conf <<CONF
control-socket = off
[many-host]
listen = tcp:127.0.0.1:7600
connect = vsock:1:5600
CONF
cat >guest.conf <<CONF
control-socket = off
[many-guest]
listen = vsock:any:5600
connect = tcp:127.0.0.1:7601
CONF
start_relay guest-relay guest.conf
guest_relay=$RELAY_PID
start_relay host-relay host.conf
host_relay=$RELAY_PID
wait_vsock_listen 5600
wait_tcp_listen 7600

# The listener sends seed 7 on every connection; client i sends seed 1000+i.
# (hvtest's --expect-seed would want seed 7+i on client i: digests instead.)
bg server hvtest listen tcp:127.0.0.1:7601 --count $CONNS \
    --send $SIZE --seed 7 --expect $SIZE --hold-ms 200 --timeout 40
server=$BG_PID
wait_tcp_listen 7601

t0=$(now)
run clients hvtest connect tcp:127.0.0.1:7600 --conns $CONNS \
    --send $SIZE --seed 1000 --expect $SIZE --timeout 40
expect_bg_ok "$server" server 30
log "$CONNS x $SIZE each way in about $(( $(now) - t0 ))s"

same_digests clients sent_digest server recv_digest
same_digests clients recv_digest server sent_digest
# And they are the streams that were sent, not just equal garbage: every
# client got seed 7, the server got seeds 1000..1039, once each.
[ "$(hvtest_field clients recv_digest | uniq)" = "$(hvtest digest $SIZE 7)" ] ||
    fail "some client received another stream than the server's seed 7"
i=0
: >expected
while [ $i -lt $CONNS ]; do
    hvtest digest $SIZE $((1000 + i)) >>expected
    i=$((i + 1))
done
[ "$(sort expected)" = "$(hvtest_field server recv_digest)" ] ||
    fail "the server received other streams than clients 1000..$((1000 + CONNS - 1))"

peak=$(sed -n 's/^peak=//p' "$WORKDIR/server.log")
log "server peak concurrency: $peak"
[ "${peak:-0}" -ge 10 ] || fail "only $peak of $CONNS connections overlapped at the server"

wait_until 10 "$CONNS end lines from host-relay" \
    test "$(count_log host-relay ' forward=many-host .* end=')" -ge $CONNS
wait_until 10 "$CONNS end lines from guest-relay" \
    test "$(count_log guest-relay ' forward=many-guest .* end=')" -ge $CONNS
for r in host-relay:many-host guest-relay:many-guest; do
    good=$(count_log "${r%%:*}" " forward=${r#*:} .* up=$BYTES down=$BYTES end=\"(client|target) EOF\"")
    [ "$good" -eq $CONNS ] ||
        fail "${r%%:*}: $good of $CONNS connections complete: $(grep ' end=' "$WORKDIR/${r%%:*}.log" | grep -v "up=$BYTES down=$BYTES" | head -n 3)"
done

stop_relay "$host_relay" host-relay
stop_relay "$guest_relay" guest-relay
