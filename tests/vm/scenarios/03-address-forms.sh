#!/bin/sh
# vm-timeout: 60
#
# Every Linux spelling of a vsock address carries data through a pair of
# relays: as a target vsock:local, vsock:1, vsock:host, vsock:2,
# hvsock:loopback, hvsock:parent (CID 2 reaches this guest's own listeners),
# the well-known VmIds written as GUIDs (braces and capitals too) and the
# template-GUID form of the service; as a listener vsock:any, vsock:local,
# hvsock:wildcard, hvsock:children, the zero GUID and the template GUID.
# Each form has its own ports and seeds, so a connection that reached the
# wrong listener fails its digest check.
# shellcheck source=lib.sh
. "$SCENARIO_DIR/lib.sh"

need_cmd hvrelay hvtest

SIZE=1M
BYTES=1048576

# The template GUID of a vsock port, and back, from the tool itself.
guid_of() {
    _g=$(hvrelay guid "$1") || fail "hvrelay guid $1 failed"
    [ "$(hvrelay guid "$_g")" = "$1" ] || fail "hvrelay guid $_g does not give back $1"
    echo "$_g"
}
g5307=$(guid_of 5307)
g5309=$(guid_of 5309)
g5311=$(guid_of 5311)
[ "$g5307" = 000014bb-facb-11e6-bd58-64006a7986d3 ] || fail "hvrelay guid 5307 printed $g5307"
PARENT=a42e7cda-d03f-480c-9cc2-a4de20abb878
LOOPBACK=e0e16197-dd56-4a10-9195-5ee7a155a838
ZERO=00000000-0000-0000-0000-000000000000
G5311_UPPER=$(echo "$g5311" | tr a-f A-F)

# N  CONNECT (host side)  LISTEN (guest side)
cat >forms <<EOF2
1 vsock:local:5301 hvsock:wildcard:5301
2 vsock:1:5302 vsock:any:5302
3 vsock:host:5303 hvsock:wildcard:5303
4 vsock:2:5304 vsock:any:5304
5 hvsock:loopback:5305 vsock:any:5305
6 hvsock:parent:5306 hvsock:wildcard:5306
7 hvsock:parent:$g5307 hvsock:wildcard:$g5307
8 hvsock:$PARENT:5308 hvsock:children:5308
9 hvsock:loopback:$g5309 hvsock:$ZERO:5309
10 hvsock:$LOOPBACK:5310 vsock:local:5310
11 hvsock:{$(echo $PARENT | tr a-f A-F)}:{$G5311_UPPER} vsock:any:5311
EOF2

echo "control-socket = off" >host.conf
echo "control-socket = off" >guest.conf
while read -r n connect listen; do
    printf '[h%s]\nlisten = tcp:127.0.0.1:%s\nconnect = %s\n' "$n" $((7300 + n)) "$connect" >>host.conf
    printf '[g%s]\nlisten = %s\nconnect = tcp:127.0.0.1:%s\n' "$n" "$listen" $((7400 + n)) >>guest.conf
done <forms

run check-host hvrelay -t -c host.conf
run check-guest hvrelay -t -c guest.conf

start_relay guest-relay guest.conf
guest_relay=$RELAY_PID
start_relay host-relay host.conf
host_relay=$RELAY_PID
for p in 5301 5302 5303 5304 5305 5306 5307 5308 5309 5310 5311; do
    wait_vsock_listen $p
done

while read -r n connect listen; do
    bg "server$n" hvtest listen "tcp:127.0.0.1:$((7400 + n))" \
        --send $SIZE --seed $((2000 + n)) --expect $SIZE --expect-seed $((1000 + n)) --timeout 45
    eval "server$n=\$BG_PID"
done <forms

while read -r n connect listen; do
    wait_tcp_listen $((7400 + n))
    run "client$n" hvtest connect "tcp:127.0.0.1:$((7300 + n))" \
        --send $SIZE --seed $((1000 + n)) --expect $SIZE --expect-seed $((2000 + n)) --timeout 30
    eval "expect_bg_ok \$server$n server$n 20"
    wait_log host-relay " forward=h$n .* end=" 10
    wait_log guest-relay " forward=g$n .* end=" 10
    # The template GUID is shown as written; the bytes must add up.
    expect_log host-relay " forward=h$n peer=127\.0\.0\.1:[0-9]+ target=.* up=$BYTES down=$BYTES end=\"(client|target) EOF\"" \
        "h$n ($connect): $(end_line host-relay "h$n")"
    expect_log guest-relay " forward=g$n peer=vsock:1:[0-9]+ .* up=$BYTES down=$BYTES end=\"(client|target) EOF\"" \
        "g$n ($listen): $(end_line guest-relay "g$n")"
    log "form $n ok: $connect -> $listen"
done <forms

stop_relay "$host_relay" host-relay
stop_relay "$guest_relay" guest-relay
