#!/bin/sh
# vm-timeout: 120
#
# ssh without a network card: dropbear listens on 127.0.0.1:2222 only; a
# "guest" hvrelay exposes it on vsock port 22 (hvsock:wildcard:22, a
# privileged vsock port: root only) and a "host" hvrelay forwards
# 127.0.0.1:2200 to hvsock:parent:22. The ssh client dbclient, knowing only
# 127.0.0.1:2200, logs in with a key made here, runs a command, and pushes and
# pulls a 16 MiB file whose checksum must survive both trips.
# shellcheck source=lib.sh
. "$SCENARIO_DIR/lib.sh"

need_cmd hvrelay dropbear dbclient dropbearkey

[ "$(id -u)" = 0 ] || skip "vsock port 22 needs root"

# Keys: the server's host key and root's login key, made now.
run hostkey dropbearkey -t ed25519 -f "$WORKDIR/hostkey"
run userkey dropbearkey -t ed25519 -f "$WORKDIR/key"
mkdir -p /root/.ssh
chmod 700 /root /root/.ssh
dropbearkey -y -f "$WORKDIR/key" | grep '^ssh-' >/root/.ssh/authorized_keys ||
    fail "no public key from dropbearkey -y"
chmod 600 /root/.ssh/authorized_keys
rm -f /root/.ssh/known_hosts

# -s: keys only; -E: log to stderr (dropbear.log).
bg dropbear dropbear -F -E -s -p 127.0.0.1:2222 -r "$WORKDIR/hostkey" -P "$WORKDIR/dropbear.pid"
dropbear=$BG_PID
wait_tcp_listen 2222

cat >guest.conf <<CONF
control-socket = off
[sshd]
listen = hvsock:wildcard:22
connect = tcp:127.0.0.1:2222
CONF
cat >host.conf <<CONF
control-socket = off
[ssh-to-vm]
listen = tcp:127.0.0.1:2200
connect = hvsock:parent:22
CONF
start_relay guest-relay guest.conf
guest_relay=$RELAY_PID
start_relay host-relay host.conf
host_relay=$RELAY_PID
wait_vsock_listen 22
wait_tcp_listen 2200

# No TCP connection to 2222 but the guest relay's own: the only way there is
# through vsock.
# (-W: a 1 MiB receive window instead of dropbear's 24 KiB, which costs a
# round trip per 24 KiB and makes the pull 2-3x slower under emulation,
# relayed or not. timeout: a hung session fails its step, with the logs.)
ssh_() {
    timeout 60 dbclient -y -W 1048576 -i "$WORKDIR/key" -p 2200 root@127.0.0.1 "$@"
}

t0=$(now)
# shellcheck disable=SC2016 # expanded by the remote shell
ssh_ 'echo "hello from $(hostname)"; id -u' >cmd.out 2>cmd.err </dev/null ||
    fail "ssh command failed: $(cat cmd.err)"
[ "$(cat cmd.out)" = "hello from vmtest
0" ] || fail "ssh command printed: $(cat cmd.out) / $(cat cmd.err)"
log "command ok in about $(( $(now) - t0 ))s: $(head -n 1 cmd.out)"

dd if=/dev/urandom of=file bs=1M count=16 2>/dev/null
sum=$(sha256sum <file | cut -d' ' -f1)
t0=$(now)
ssh_ 'cat >/tmp/ssh-pushed' <file 2>push.err || fail "push failed: $(cat push.err)"
remote=$(ssh_ 'sha256sum </tmp/ssh-pushed' </dev/null 2>sum.err | cut -d' ' -f1)
[ "$remote" = "$sum" ] || fail "pushed file's sha256 is $remote, sent $sum ($(cat sum.err))"
log "pushed 16 MiB, sha256 matches ($(( $(now) - t0 ))s)"
t0=$(now)
ssh_ 'cat /tmp/ssh-pushed' </dev/null >back 2>pull.err || fail "pull failed: $(cat pull.err)"
[ "$(sha256sum <back | cut -d' ' -f1)" = "$sum" ] ||
    fail "pulled file differs: $(wc -c <back) bytes, sha256 $(sha256sum <back)"
[ "$(md5sum <back | cut -d' ' -f1)" = "$(md5sum <file | cut -d' ' -f1)" ] || fail "md5 differs"
log "pulled 16 MiB back, sha256 and md5 match ($(( $(now) - t0 ))s)"
rm -f /tmp/ssh-pushed

# Four ssh sessions, each one connection through both relays, each ended
# cleanly: no reset, no error, and the big ones carried the file.
wait_until 10 "4 end lines from host-relay" \
    test "$(count_log host-relay ' forward=ssh-to-vm .* end=')" -ge 4
wait_until 10 "4 end lines from guest-relay" \
    test "$(count_log guest-relay ' forward=sshd .* end=')" -ge 4
for r in host-relay:ssh-to-vm guest-relay:sshd; do
    n=$(count_log "${r%%:*}" " forward=${r#*:} .* end=\"(client|target) EOF\"")
    [ "$n" -eq 4 ] || fail "${r%%:*}: $n of 4 ssh sessions ended with EOF: $(grep ' end=' "$WORKDIR/${r%%:*}.log")"
    for dir in up down; do
        most=$(grep " forward=${r#*:} .* end=" "$WORKDIR/${r%%:*}.log" |
            sed -n "s/.* $dir=\([0-9]*\) .*/\1/p" | sort -n | tail -n 1)
        [ "${most:-0}" -gt 16777216 ] ||
            fail "${r%%:*}: no session carried 16 MiB $dir (at most ${most:-0} bytes)"
    done
done
log "$(grep ' end=' "$WORKDIR/host-relay.log" | sed 's/.* duration=/duration=/' | tr '\n' ';')"

stop_relay "$host_relay" host-relay
stop_relay "$guest_relay" guest-relay
kill -TERM "$dropbear" 2>/dev/null || true
