#!/bin/bash
# hvrelay.exe under Wine: a TCP relay carries data both ways intact with
# half-close; AF_HYPERV, which Wine lacks (WSAEAFNOSUPPORT), fails clearly
# for a target and for a listener while the other forwards keep serving.
. "$TESTS_DIR/win32/lib.sh"

free_port relay_port
free_port hv_port
free_port target_port
cat >"$TMP/relay.conf" <<CONF
control-socket = off

[tcp]
listen = tcp:127.0.0.1:$relay_port
connect = tcp:127.0.0.1:$target_port

[to-vm]
listen = tcp:127.0.0.1:$hv_port
connect = hvsock:5f0d6e8a-3c39-4f6c-9b4a-0a1f2e3d4c5b:22
CONF
out=$(hvrelay_exe -t -c "$TMP/relay.conf" 2>&1)
check "-t accepts a hvsock target with a real VmId" test "$out" = "configuration OK"
printf '[v]\nlisten = tcp:127.0.0.1:1\nconnect = vsock:3:22\n' >"$TMP/vsock.conf"
out=$(hvrelay_exe -t -c "$TMP/vsock.conf" 2>&1)
check "-t refuses vsock, suggesting hvsock" \
    contains "$out" "Windows has no vsock: reach a VM with hvsock:VMID:PORT"
check "guid 22" test "$(hvrelay_exe guid 22)" = \
    "00000016-facb-11e6-bd58-64006a7986d3"

start_exe "$TMP/relay.conf" || exit 1
start_server both "tcp:127.0.0.1:$target_port" --send 32M --seed 5 \
    --expect 32M --expect-seed 6 --timeout 60
"$HVTEST" connect "tcp:127.0.0.1:$relay_port" --send 32M --seed 6 \
    --expect 32M --expect-seed 5 --timeout 60 >"$TMP/both.out" 2>&1
check "32 MiB each way at once through hvrelay.exe, intact" test $? -eq 0
wait "$SERVER_PID"
check "  on the server side too" test $? -eq 0

start_server reply "tcp:127.0.0.1:$target_port" --after-eof --send 8M \
    --expect 1000 --timeout 60
"$HVTEST" connect "tcp:127.0.0.1:$relay_port" --send 1000 --expect 8M \
    --expect-seed 1 --timeout 60 >"$TMP/reply.out" 2>&1
check "request, half-close, then an 8 MiB reply" test $? -eq 0
wait "$SERVER_PID"

start=$SECONDS
"$HVTEST" connect "tcp:127.0.0.1:$hv_port" --expect 0 --timeout 20 \
    >"$TMP/hv.out" 2>&1
check "a client of the hvsock forward is closed promptly ($((SECONDS - start))s)" \
    test $((SECONDS - start)) -le 3
check "  the log says Hyper-V sockets are not available" \
    grep -q 'forward=to-vm .*end="target unreachable: Hyper-V sockets are not available: Windows 10 1607+ / Server 2016+ with Hyper-V enabled (1 attempt)"' "$TMP/relay.log"
start_server after "tcp:127.0.0.1:$target_port" --send 1M --timeout 30
"$HVTEST" connect "tcp:127.0.0.1:$relay_port" --expect 1M --timeout 30 \
    >/dev/null 2>&1
check "the TCP forward still serves afterwards" test $? -eq 0
diag "$TMP/relay.log"

printf 'control-socket = off\n[in]\nlisten = hvsock:wildcard:22\nconnect = tcp:127.0.0.1:22\n' >"$TMP/listen.conf"
out=$(hvrelay_exe -c "$TMP/listen.conf" 2>&1)
check "a hvsock listener without Hyper-V: hvrelay.exe exits 1" test $? -eq 1
check "  saying why" contains "$out" \
    "in: cannot listen on hvsock:wildcard:22: socket: Hyper-V sockets are not available"
finish_exe
