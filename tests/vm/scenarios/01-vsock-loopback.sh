#!/bin/sh
# vm-timeout: 60
#
# Proves the guest itself: AF_VSOCK works through vsock_loopback, both to
# CID 1 (local) and to CID 2 (host), which in this guest reaches its own
# listeners because no guest-to-host transport is loaded. Relay scenarios
# rely on both, so this runs first and fails loudly if either breaks.
# It also pins down the vsock errors the relay and hvtest depend on: a port
# without a listener is refused with ECONNRESET, a CID no transport reaches
# fails with ENODEV at once, and hvtest --retry-ms retries only the former.
# shellcheck source=lib.sh
. "$SCENARIO_DIR/lib.sh"

need_cmd hvtest

# 4 MiB each way at once: enough to cross the loopback transport's credit
# window many times over, so flow control is exercised, not just one write.
SIZE=4M

# Different seeds each way: bytes that came back on the wrong stream (or from
# the sender itself) fail the digest check, not just the byte count.
for cid in 1 2; do
    port=$((5000 + cid))
    bg "listen-cid$cid" hvtest listen "vsock:any:$port" \
        --send $SIZE --seed 11 --expect $SIZE --expect-seed 22 --timeout 40
    listener=$BG_PID
    wait_vsock_listen $port
    run "connect-cid$cid" hvtest connect "vsock:$cid:$port" \
        --send $SIZE --seed 22 --expect $SIZE --expect-seed 11 --timeout 40
    expect_bg_ok "$listener" "listen-cid$cid" 40
done

# A port nobody listens on must be refused at once, not hang: relay code
# depends on this answer (ECONNRESET on vsock) to retry or give up.
t0=$(now)
if hvtest connect vsock:1:5999 --send 1 --expect 0 --timeout 20 >"$WORKDIR/refused.log" 2>&1; then
    fail "connect to vsock:1:5999 with no listener succeeded"
fi
grep -qE 'reset|refused' "$WORKDIR/refused.log" ||
    fail "connect to vsock:1:5999: unexpected error: $(cat "$WORKDIR/refused.log")"
[ $(( $(now) - t0 )) -lt 10 ] || fail "refusing vsock:1:5999 took $(( $(now) - t0 ))s"
log "no listener on 5999: $(grep -oE 'error:[^ ]*( [a-z]+)*' "$WORKDIR/refused.log" | head -n 1)"

# No transport reaches CID 3 in this guest: ENODEV, at once. It is not a
# refusal, so --retry-ms must not retry it, and hvtest must exit as soon as
# it has reported it (not at --timeout).
t0=$(now)
if hvtest connect vsock:3:5999 --send 1 --retry-ms 8000 --timeout 20 >"$WORKDIR/nodev.log" 2>&1; then
    fail "connect to vsock:3:5999 succeeded"
fi
grep -q 'error:No such device' "$WORKDIR/nodev.log" ||
    fail "connect to vsock:3:5999: unexpected result: $(cat "$WORKDIR/nodev.log")"
[ $(( $(now) - t0 )) -lt 5 ] || fail "hvtest took $(( $(now) - t0 ))s to report ENODEV"
log "CID 3: $(grep -o 'ms=.*' "$WORKDIR/nodev.log")"

# --retry-ms retries vsock's refusal (ECONNRESET) until a late listener
# appears, and gives up when none does.
bg late-client hvtest connect vsock:1:5998 --retry-ms 15000 \
    --send 1M --seed 33 --expect 1M --expect-seed 44 --timeout 30
late_client=$BG_PID
sleep 1
bg late-listener hvtest listen vsock:any:5998 \
    --send 1M --seed 44 --expect 1M --expect-seed 33 --timeout 30
expect_bg_ok "$late_client" late-client 30
expect_bg_ok "$BG_PID" late-listener 10
t0=$(now)
if hvtest connect vsock:1:5997 --retry-ms 1500 --send 1 --timeout 20 >"$WORKDIR/gave-up.log" 2>&1; then
    fail "connect to vsock:1:5997 with no listener succeeded"
fi
grep -q 'error:Connection reset by peer' "$WORKDIR/gave-up.log" ||
    fail "vsock:1:5997 with --retry-ms: $(cat "$WORKDIR/gave-up.log")"
[ $(( $(now) - t0 )) -lt 8 ] || fail "--retry-ms 1500 took $(( $(now) - t0 ))s to give up"
