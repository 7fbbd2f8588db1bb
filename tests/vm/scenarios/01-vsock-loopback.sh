#!/bin/sh
# vm-timeout: 90
#
# Proves the guest itself: AF_VSOCK works through vsock_loopback, both to
# CID 1 (local) and to CID 2 (host), which in this guest reaches its own
# listeners because no guest-to-host transport is loaded. Relay scenarios
# rely on both, so this runs first and fails loudly if either breaks.
. "$SCENARIO_DIR/lib.sh"

need_cmd hvtest

# 4 MiB each way at once: enough to cross the loopback transport's credit
# window many times over, so flow control is exercised, not just one write.
SIZE=4M

for cid in 1 2; do
    port=$((5000 + cid))
    bg "listen-cid$cid" hvtest listen "vsock:any:$port" --send $SIZE --expect $SIZE --timeout 40
    listener=$BG_PID
    wait_vsock_listen $port
    run "connect-cid$cid" hvtest connect "vsock:$cid:$port" --send $SIZE --expect $SIZE --timeout 40
    expect_bg_ok "$listener" "listen-cid$cid" 40
done

# A port nobody listens on must be refused, not hang: relay code depends on
# this answer (ECONNRESET here) to retry or give up.
if hvtest connect vsock:1:5999 --send 1 --expect 0 --timeout 10 >"$WORKDIR/refused.log" 2>&1; then
    fail "connect to vsock:1:5999 with no listener succeeded"
fi
log "no listener on 5999: refused ($(tail -n 1 "$WORKDIR/refused.log"))"
