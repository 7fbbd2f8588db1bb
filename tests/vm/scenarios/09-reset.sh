#!/bin/sh
# vm-timeout: 60
#
# Resets through the host/guest pair. The relay next to the reset must log
# it as one ("client reset" / "target reset"), and the far end must not be
# left hanging: its connection ends promptly and not as a success.
#
# What the far end sees is a limit of Linux vsock, not of hvrelay: vsock has
# no abortive close (close() with SO_LINGER 0 still sends an orderly
# SHUTDOWN, and the RST that follows carries no error to the peer), so a
# reset on one side arrives on the other as an EOF, and only a later write
# there fails (EPIPE). A cut upload thus looks complete to a server that only
# reads; the scenario prints what each far end saw.
# shellcheck source=lib.sh
. "$SCENARIO_DIR/lib.sh"

need_cmd hvrelay hvtest

cat >host.conf <<CONF
control-socket = off
[rst-host]
listen = tcp:127.0.0.1:7900
connect = vsock:1:5900
CONF
cat >guest.conf <<CONF
control-socket = off
[rst-guest]
listen = vsock:any:5900
connect = tcp:127.0.0.1:7901
CONF
start_relay guest-relay guest.conf
guest_relay=$RELAY_PID
start_relay host-relay host.conf
host_relay=$RELAY_PID
wait_vsock_listen 5900
wait_tcp_listen 7900

# far_end_result NAME: fail unless the far end's hvtest ended (not by its
# own timeout) and did not succeed; print what it saw.
far_end_result() {
    _rc=0
    bg_wait "$2" 15 || _rc=$?
    [ "$_rc" -ne 124 ] || fail "$1 still running 15s after the reset"
    _res=$(sed -n 's/^conn=.* result=//p' "$WORKDIR/$1.log")
    case $_res in
        "") fail "$1 reported no connection: $(cat "$WORKDIR/$1.log")" ;;
        ok*) fail "$1 succeeded although its peer reset: $_res" ;;
        *timeout*) fail "$1 hung until its timeout: $_res" ;;
    esac
    log "$1 (the far end) saw: $_res"
}

# 1. The client resets in the middle of an upload that the server reads
#    slowly (1 MiB/s; it wants 4 MiB).
bg server1 hvtest listen tcp:127.0.0.1:7901 --read-rate 1M --expect 4M --timeout 30
server=$BG_PID
wait_tcp_listen 7901
run client1 hvtest connect tcp:127.0.0.1:7900 --send 1M --reset --timeout 20
far_end_result server1 "$server"
wait_log host-relay ' forward=rst-host .* end=' 10
wait_log guest-relay ' forward=rst-guest .* end=' 10
expect_log host-relay ' forward=rst-host .* end="client reset"' \
    "the host relay did not log the client's reset: $(end_line host-relay rst-host)"
log "host:  $(end_line host-relay rst-host)"
log "guest: $(end_line guest-relay rst-guest)"

# 2. The server sends 1000 bytes and resets; the client only reads.
bg server2 hvtest listen tcp:127.0.0.1:7901 --delay-ms 500 --send 1000 --reset --timeout 30
server=$BG_PID
wait_tcp_listen 7901
bg client2 hvtest connect tcp:127.0.0.1:7900 --expect 1M --timeout 30
far_end_result client2 "$BG_PID"
expect_bg_ok "$server" server2 10
wait_until 10 "a second end line from guest-relay" \
    test "$(count_log guest-relay ' forward=rst-guest .* end=')" -ge 2
wait_until 10 "a second end line from host-relay" \
    test "$(count_log host-relay ' forward=rst-host .* end=')" -ge 2
end_line guest-relay rst-guest | grep -q 'end="target reset"' ||
    fail "the guest relay did not log the server's reset: $(end_line guest-relay rst-guest)"
log "guest: $(end_line guest-relay rst-guest)"
log "host:  $(end_line host-relay rst-host)"

stop_relay "$host_relay" host-relay
stop_relay "$guest_relay" guest-relay
