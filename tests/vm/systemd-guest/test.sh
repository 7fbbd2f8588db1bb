#!/bin/sh
# test.sh: hvrelay under a real systemd, used the way an operator would,
# with the units and configuration `make install` installed. Run once by
# hvrelay-vmtest.service in the guest that tests/vm/systemd.sh boots; every
# check prints one TAP line on the console ("HVRELAY-TAP: ok N - ..."),
# its evidence as "HVRELAY-DIAG: " lines when it fails.
#
#   1. systemd loads the installed units; the shipped hvrelay.conf is valid.
#   2. enable --now with forwards added (TCP -> vsock -> TCP server):
#      Type=notify, the status line, DynamicUser and the sandbox, the
#      control socket in RuntimeDirectory.
#   3. a long transfer; meanwhile `hvrelay status`, a reload that adds a
#      forward, a reload of a broken file (refused by the daemon, which 'hvrelay reload' reports); the
#      transfer's bytes arrive intact; the journal has the daemon's log.
#   4. the hvrelay@.service template beside it; stop, cleanly.
#   5. socket activation through the example hvrelay-guest-sshd.socket.
#
# A check failing does not stop the next ones; each command that could hang
# has its own timeout, and the unit's TimeoutStartSec bounds the whole.
WORKDIR=/tmp/vmtest-systemd
mkdir -p "$WORKDIR"
cd "$WORKDIR" || exit 1
# shellcheck source=../scenarios/lib.sh
. /scenarios/lib.sh
# UNITDIR: where make install put the units.
. /vmtest/env

PATH=/usr/local/bin:/usr/local/sbin:/bin:/sbin:/usr/bin:/usr/sbin
export PATH

# The console is for TAP; everything else (lib.sh's progress lines, command
# output) goes to test.log, shown when something fails.
exec 3>&1 >"$WORKDIR/test.log" 2>&1

verbose=0
case " $(cat /proc/cmdline) " in *" hvrelay.verbose=1 "*) verbose=1 ;; esac

say()  { echo "HVRELAY-VM: $* uptime=$(cut -d' ' -f1 /proc/uptime)" >&3; }
diag() { sed 's/^/HVRELAY-DIAG: /' >&3; }

n=0
failures=0
# check DESCRIPTION COMMAND [ARG]...: one TAP line for COMMAND's status; its
# output is the diagnosis when it fails.
check() {
    _desc=$1
    shift
    n=$((n + 1))
    if "$@" >"$WORKDIR/check.out" 2>&1; then
        echo "HVRELAY-TAP: ok $n - $_desc" >&3
        [ "$verbose" = 0 ] || diag <"$WORKDIR/check.out"
    else
        failures=$((failures + 1))
        echo "HVRELAY-TAP: not ok $n - $_desc" >&3
        tail -n 30 "$WORKDIR/check.out" | diag
    fi
}

journal() {
    echo "--- journal (last ${1:-80} lines) ---"
    journalctl -b --no-pager -o short-monotonic | tail -n "${1:-80}"
}

finished=0
on_exit() {
    _rc=$?
    cleanup
    if [ "$finished" != 1 ]; then
        echo "test.sh stopped early (exit status $_rc) after $n checks" | diag
        tail -n 40 "$WORKDIR/test.log" | diag
        journal 60 | diag
    fi
}
trap on_exit EXIT

# --- helpers ------------------------------------------------------------------

# systemctl under a deadline: a job that never finishes (a service that
# never reports READY=1) fails the check instead of the whole test.
sc() { timeout 30 systemctl "$@"; }
prop() { systemctl show -p "$2" --value "$1"; }

# expect WANT COMMAND...: COMMAND's output is WANT.
expect() {
    _want=$1
    shift
    _got=$("$@" 2>&1)
    echo "$*: '$_got' (expected '$_want')"
    [ "$_got" = "$_want" ]
}

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds; its last output
# is kept for the diagnosis.
wait_for() {
    _deadline=$(( $(now) + $1 ))
    shift
    until "$@" >"$WORKDIR/wait.out" 2>&1; do
        if [ "$(now)" -ge "$_deadline" ]; then
            cat "$WORKDIR/wait.out"
            return 1
        fi
        sleep 0.2
    done
    cat "$WORKDIR/wait.out"
}

tcp_listening()   { ss -Hltn | grep -q "127.0.0.1:$1[[:space:]]"; }
vsock_listening() { ss -Hln --vsock | grep -q ":$1[[:space:]]"; }

# listening WHAT:PORT...: every one is bound right now; ss's view is shown.
listening() {
    ss -Hltn
    ss -Hln --vsock
    for _l in "$@"; do
        case $_l in
            tcp:*) tcp_listening "${_l#tcp:}" || { echo "nothing on $_l"; return 1; } ;;
            vsock:*) vsock_listening "${_l#vsock:}" || { echo "nothing on $_l"; return 1; } ;;
        esac
    done
}

# A TCP server for one forward's target; waits until it listens.
server() {
    _name=$1
    _port=$2
    shift 2
    bg "$_name" hvtest listen "tcp:127.0.0.1:$_port" --timeout 60 "$@"
    wait_for 20 tcp_listening "$_port" >/dev/null
}

# relays NAME HVTEST-ARGS...: one hvtest client, ok when it exits 0.
client() {
    _name=$1
    shift
    hvtest connect "$@" --timeout 30 >"$WORKDIR/$_name.log" 2>&1
    _rc=$?
    cat "$WORKDIR/$_name.log"
    return $_rc
}

status_of() { "$relay" status -c "$1" 2>&1; }
# status_row CONF REGEX: `hvrelay status` answers and has a line matching.
status_row() {
    _out=$(status_of "$1")
    _rc=$?
    echo "$_out"
    [ $_rc -eq 0 ] && echo "$_out" | grep -Eq "$2"
}

main_pid() { prop hvrelay.service MainPID; }
uid_of() { awk '/^Uid:/ { print $2 }' "/proc/$1/status"; }

# A service that was stopped on request: inactive (not failed), its main
# process exited 0, and systemd saw nothing wrong.
stopped_cleanly() {
    _u=$1
    echo "ActiveState=$(prop "$_u" ActiveState) Result=$(prop "$_u" Result)" \
        "ExecMainCode=$(prop "$_u" ExecMainCode) ExecMainStatus=$(prop "$_u" ExecMainStatus)"
    [ "$(prop "$_u" ActiveState)" = inactive ] && [ "$(prop "$_u" Result)" = success ] &&
        [ "$(prop "$_u" ExecMainCode)" = 1 ] && [ "$(prop "$_u" ExecMainStatus)" = 0 ]
}

say test

# --- 1. the installed units and configuration -------------------------------------

# A prefix that systemd does not search (make distcheck installs into one)
# is what `systemctl link` is for.
case $UNITDIR in
    /etc/systemd/system | /usr/local/lib/systemd/system | /lib/systemd/system | /usr/lib/systemd/system) ;;
    *) systemctl link "$UNITDIR/hvrelay.service" "$UNITDIR/hvrelay@.service" \
           "$UNITDIR/hvrelay-guest-sshd.socket" ;;
esac

# The path and the binary the installed unit runs, as an operator reads it.
exec_start=$(prop hvrelay.service ExecStart)
argv=$(echo "$exec_start" | sed -n 's/.*argv\[\]=\([^;]*\);.*/\1/p')
relay=${argv%% *}
conf=$(echo "$argv" | sed -n 's/.* -c \([^ ]*\).*/\1/p')
confdir=$(dirname "$conf")
echo "unit runs: $argv"

units_installed() {
    for _u in hvrelay.service hvrelay@demo.service hvrelay-guest-sshd.socket; do
        _file=$UNITDIR/$(echo "$_u" | sed 's/@[^.]*/@/')
        _path=$(prop "$_u" FragmentPath)
        _load=$(prop "$_u" LoadState)
        _enabled=$(systemctl is-enabled "$_u" 2>&1)
        echo "$_u: $_load from $_path ($_enabled), installed as $_file"
        [ "$_load" = loaded ] && [ "$(readlink -f "$_path")" = "$_file" ] || return 1
        case $_enabled in disabled | linked) ;; *) return 1 ;; esac
    done
}
check "systemd loads the units make install put in $UNITDIR, none enabled yet" units_installed
check "the installed unit runs the installed $relay with $conf" \
    test -x "$relay" -a -f "$conf"
check "the shipped $(basename "$conf") passes hvrelay -t as installed" \
    sh -c "'$relay' -t -c '$conf' 2>&1 | grep -q 'configuration OK'"

# --- 2. enable --now ------------------------------------------------------------------

# The operator's edit: TCP in, out over vsock to the relay's own vsock
# forward (inside this guest CID 2 reaches the guest's own listeners), and
# on to a TCP server.
cp "$conf" "$WORKDIR/shipped.conf"
cat >>"$conf" <<'CONF'

[tcp-in]
listen = tcp:127.0.0.1:7000
connect = vsock:host:5000

[vsock-in]
listen = vsock:any:5000
connect = tcp:127.0.0.1:7001
CONF
cp "$conf" "$WORKDIR/first.conf"

# Type=notify: the start job, and so `systemctl enable --now`, ends when
# hvrelay says READY=1, which it does once every listener is bound. So at
# the moment systemctl returns they must all be there; a service counted as
# started at fork (Type=simple or exec) is still setting up its sandbox.
check "systemctl enable --now hvrelay exits 0" sc enable --now hvrelay.service
check "  when it returns, every listener is already bound (active only after READY=1)" \
    listening tcp:7000 vsock:5000 vsock:2222
check "  the service is active and enabled" \
    sh -c 'systemctl is-active hvrelay && systemctl is-enabled hvrelay'
check "  its status line (STATUS=) counts connections and forwards" \
    expect "0 active connection(s), 3 forward(s)" prop hvrelay.service StatusText

pid=$(main_pid)
sandboxed() {
    _uid=$(uid_of "$pid")
    grep -E '^(Uid|Gid|NoNewPrivs|Seccomp|CapEff|CapBnd|CapAmb):' "/proc/$pid/status"
    # systemd's range for dynamic users.
    [ "$_uid" -ge 61184 ] && [ "$_uid" -le 65519 ] &&
        grep -q '^NoNewPrivs:[[:space:]]*1$' "/proc/$pid/status" &&
        grep -q '^Seccomp:[[:space:]]*2$' "/proc/$pid/status" &&
        grep -q '^CapEff:[[:space:]]*0000000000000000$' "/proc/$pid/status" &&
        grep -q '^CapBnd:[[:space:]]*0000000000000000$' "/proc/$pid/status"
}
check "  it runs as a dynamic user, with no capability, no new privileges and a seccomp filter" \
    sandboxed
namespaced() {
    for _ns in mnt user uts; do
        echo "$_ns: pid 1 $(readlink /proc/1/ns/$_ns), hvrelay $(readlink "/proc/$pid/ns/$_ns")"
        [ "$(readlink /proc/1/ns/$_ns)" != "$(readlink "/proc/$pid/ns/$_ns")" ] || return 1
    done
    # Field 5 is the mount point, 6 its options: / read-only
    # (ProtectSystem=strict), /tmp a mount of its own (PrivateTmp), /dev a
    # private tmpfs (PrivateDevices), the runtime directory writable (with
    # DynamicUser and RuntimeDirectoryPreserve it is /run/private/hvrelay,
    # which /run/hvrelay links to).
    awk '$5 == "/" || $5 == "/tmp" || $5 == "/dev" || $5 ~ /^\/run\/(private\/)?hvrelay$/ { print $5, $6 }' \
        "/proc/$pid/mountinfo"
    awk '$5 == "/" && $6 ~ /(^|,)ro(,|$)/ { r = 1 } $5 == "/tmp" { t = 1 } $5 == "/dev" { d = 1 }
        $5 ~ /^\/run\/(private\/)?hvrelay$/ && $6 ~ /(^|,)rw(,|$)/ { w = 1 }
        END { exit !(r && t && d && w) }' "/proc/$pid/mountinfo"
}
check "  in its own mount, user and UTS namespaces: / read-only, private /tmp and /dev, /run/hvrelay writable" \
    namespaced
control_socket() {
    ls -ld /run/hvrelay /run/hvrelay/ /run/hvrelay/hvrelay.sock
    [ -S /run/hvrelay/hvrelay.sock ] &&
        [ "$(stat -L -c '%a %u' /run/hvrelay)" = "700 $(uid_of "$pid")" ]
}
check "  its control socket is in RuntimeDirectory /run/hvrelay (0700, the dynamic user's)" \
    control_socket

# --- 3. a long transfer across reloads ------------------------------------------------

# 48 MiB up, which the server reads at 2 MiB/s, and 8 MiB down: about 24 s of
# traffic through both forwards (socket buffers hold a few MiB of it, so the
# relay is busy for most of that), while the configuration changes under it.
server long-server 7001 --send 8M --seed 11 --expect 48M --expect-seed 12 --read-rate 2M
long_server=$BG_PID
bg long-client hvtest connect tcp:127.0.0.1:7000 --send 48M --seed 12 --expect 8M \
    --expect-seed 11 --timeout 60
long_client=$BG_PID

# hvrelay refreshes its status line every 5 s.
check "the status line shows the transfer's 2 connections (TCP in, vsock in)" \
    wait_for 12 expect "2 active connection(s), 3 forward(s)" prop hvrelay.service StatusText
live='+listening +1 +1 +0 +0 +0 +0 +0 +[1-9][0-9]* +[0-9]+ '
check "hvrelay status, as root against the running daemon, shows them live" \
    wait_for 5 status_row "$conf" "^tcp-in $live"
check "  on both forwards" status_row "$conf" "^vsock-in $live"
# ACTIVE and BYTES-UP of tcp-in, to see the transfer go on through the
# reloads.
tcp_in() { status_of "$conf" | awk -v f="$1" '$1 == "tcp-in" { print $f }'; }
up_before=$(tcp_in 10)

server added-server 7101 --count 2 --send 1M --expect 1M
cat >>"$conf" <<'CONF'

[added]
listen = tcp:127.0.0.1:7100
connect = tcp:127.0.0.1:7101
CONF
cp "$conf" "$WORKDIR/second.conf"
check "systemctl reload hvrelay with a forward added exits 0" sc reload hvrelay.service
check "  the same process goes on (a reload, not a restart)" \
    expect "$pid" main_pid
# An operator runs a client as soon as the reload command returns.
check "  when it returns, the new forward relays" \
    client added-1 tcp:127.0.0.1:7100 --send 1M --expect 1M

cat >>"$conf" <<'CONF'

[broken]
listen = tcp:127.0.0.1:99999
connect = tcp:127.0.0.1:1
CONF
check "systemctl reload of a broken file fails (ExecReload's hvrelay reload reports the refusal)" \
    sh -c '! timeout 30 systemctl reload hvrelay.service'
check "  the service stays active, same process" \
    sh -c "systemctl is-active hvrelay && [ \"\$(systemctl show -p MainPID --value hvrelay)\" = $pid ]"
check "  the running configuration still relays" \
    client added-2 tcp:127.0.0.1:7100 --send 1M --expect 1M
check "  the journal names the file and line at fault" \
    sh -c "journalctl -u hvrelay --no-pager -o cat | grep -F '$conf:' | grep 99999"
# `hvrelay status -c` reads the file to find the socket: repair it first.
cp "$WORKDIR/second.conf" "$conf"
# `hvrelay reload -c` reads the file itself to find the socket, so a file
# that does not parse is refused before the daemon is asked.
check "  the daemon was not asked to read it: 1 reload, 0 failed" \
    status_row "$conf" '^hvrelay .*, 1 reload\(s\), 0 failed$'
still_flowing() {
    _active=$(tcp_in 3)
    _up=$(tcp_in 10)
    echo "tcp-in: ACTIVE $_active, BYTES-UP $up_before before the reloads, $_up now (of 50331648)"
    [ "$_active" = 1 ] && [ "$_up" -gt "$up_before" ] && [ "$_up" -lt 50331648 ]
}
check "  the transfer was moving all along, and still is" still_flowing

# A file that passes -t but that the daemon cannot apply: the new forward's
# port is taken. hvrelay keeps its running configuration and logs why; the
# operator's `systemctl reload` must fail as well, not report success.
server port-holder 7300 --count 1
cat >>"$conf" <<'CONF'

[taken]
listen = tcp:127.0.0.1:7300
connect = tcp:127.0.0.1:7101
CONF
check "systemctl reload fails when the daemon cannot apply the file (a new forward's port is taken)" \
    sh -c "'$relay' -t -c '$conf' && ! timeout 30 systemctl reload hvrelay.service"
kept_running_config() {
    systemctl is-active hvrelay &&
        wait_for 5 sh -c "journalctl -u hvrelay --no-pager -o cat -t hvrelay |
            grep -B1 'taken: cannot listen on tcp:127.0.0.1:7300' | grep 'reload failed, keeping the running configuration'"
}
check "  the daemon keeps its running configuration and logs why" kept_running_config
cp "$WORKDIR/second.conf" "$conf"

transfer_done() {
    _rc=0
    bg_wait "$long_client" 40 || _rc=$?
    echo "client exit status $_rc"
    cat "$WORKDIR/long-client.log"
    [ $_rc -eq 0 ] || return 1
    _rc=0
    bg_wait "$long_server" 10 || _rc=$?
    echo "server exit status $_rc"
    cat "$WORKDIR/long-server.log"
    [ $_rc -eq 0 ] || return 1
    # Each end checked the stream it got; the digests must also agree.
    [ -n "$(hvtest_field long-client sent_digest)" ] &&
        [ "$(hvtest_field long-client sent_digest)" = "$(hvtest_field long-server recv_digest)" ] &&
        [ "$(hvtest_field long-client recv_digest)" = "$(hvtest_field long-server sent_digest)" ]
}
check "the transfer across both reloads completes, digests equal at both ends" transfer_done
counted() {
    status_row "$conf" '^tcp-in +listening +0 +1 +0 +0 +0 +0 +0 +50331648 +8388608 ' &&
        status_row "$conf" '^vsock-in +listening +0 +1 +0 +0 +0 +0 +0 +50331648 +8388608 ' &&
        status_row "$conf" '^added +listening +0 +2 +0 +0 +0 +0 +0 +2097152 +2097152 '
}
check "hvrelay status counts every connection and byte" counted
journal_ok() {
    journalctl -u hvrelay --no-pager -o cat -t hvrelay >"$WORKDIR/hvrelay.journal"
    tail -n 20 "$WORKDIR/hvrelay.journal"
    # The line that ended the transfer, with its bytes, at priority info:
    # hvrelay wrote it for journald (a "<6>" prefix, no timestamp), which
    # read the prefix as the priority.
    journalctl -u hvrelay --no-pager -o cat -t hvrelay -p info..info |
        grep -q '^forward=tcp-in .* up=50331648 down=8388608 ' &&
        ! grep -q '^<[0-7]>' "$WORKDIR/hvrelay.journal"
}
check "the journal has the daemon's log, with priorities" journal_ok

# --- 4. an instance of the template, and stop -----------------------------------------

# The instance logs through syslog(3): /dev/log must reach journald from
# inside the sandbox.
cat >"$confdir/demo.conf" <<'CONF'
log = syslog
[demo]
listen = tcp:127.0.0.1:7200
connect = tcp:127.0.0.1:7201
CONF
server demo-server 7201 --count 0 --send 1M --expect 1M
check "systemctl start hvrelay@demo (with $confdir/demo.conf) exits 0" sc start hvrelay@demo.service
check "  it relays" client demo-1 tcp:127.0.0.1:7200 --send 1M --expect 1M
check "  log = syslog: its connection line reaches the journal over /dev/log" \
    wait_for 10 sh -c "journalctl -u hvrelay@demo.service _TRANSPORT=syslog --no-pager -o cat |
        grep -q '^forward=demo .* up=1048576 down=1048576 '"
demo_pid=$(prop hvrelay@demo.service MainPID)
check "  as the same dynamic user as hvrelay.service (User=hvrelay)" \
    expect "$(uid_of "$pid")" uid_of "$demo_pid"
check "  hvrelay status -c demo.conf reaches it through /run/hvrelay/demo.sock" \
    status_row "$confdir/demo.conf" '^demo +listening +0 +1 '

check "systemctl stop hvrelay exits 0" sc stop hvrelay.service
check "  inactive, not failed: the daemon exited 0" stopped_cleanly hvrelay.service
closed() {
    ss -Hltn
    ls -l /run/hvrelay/
    ! ss -Hltn | grep -q "127.0.0.1:7000[[:space:]]" && ! test -e /run/hvrelay/hvrelay.sock
}
check "  its listeners and its control socket are closed" closed
check "hvrelay@demo is still running and relaying" \
    sh -c 'systemctl is-active hvrelay@demo && hvtest connect tcp:127.0.0.1:7200 --send 1M --expect 1M --timeout 30'
check "stopping hvrelay.service leaves a running instance its control socket (shared /run/hvrelay)" \
    status_row "$confdir/demo.conf" '^demo +listening +0 +2 '
check "systemctl stop hvrelay@demo exits 0" \
    sc stop hvrelay@demo.service
# An instance nothing refers to any more is unloaded once stopped, its exit
# status with it: the journal keeps what systemd saw.
instance_stopped_cleanly() {
    journalctl -u hvrelay@demo.service --no-pager -o cat | tail -n 6
    _j=$(journalctl -u hvrelay@demo.service --no-pager -o cat)
    echo "$_j" | grep -q '^stopped$' &&
        echo "$_j" | grep -q 'hvrelay@demo.service: Deactivated successfully' &&
        ! echo "$_j" | grep -q 'Failed with result\|Main process exited'
}
check "  inactive, not failed" \
    sh -c "[ \"\$(systemctl is-active hvrelay@demo)\" = inactive ]"
check "  the daemon exited 0 and systemd saw nothing wrong" instance_stopped_cleanly

# --- 5. socket activation -----------------------------------------------------------

# The example socket unit: systemd binds vsock port 22 (hvrelay, with no
# capability, could not) and hands it to the shipped [guest-sshd] forward,
# whose target is 127.0.0.1:22.
cp "$WORKDIR/shipped.conf" "$conf"
server sshd 22 --count 2 --send 1M --expect 1M
check "systemctl start hvrelay-guest-sshd.socket: systemd listens on vsock port 22" \
    sh -c 'timeout 30 systemctl start hvrelay-guest-sshd.socket && ss -Hln --vsock | grep -q ":22[[:space:]]"'
check "  hvrelay.service is not running yet" \
    expect inactive prop hvrelay.service ActiveState
check "a client on vsock port 22 starts hvrelay.service and is relayed to 127.0.0.1:22" \
    client sshd-1 vsock:local:22 --send 1M --expect 1M
check "  the service is active, the forward serving the passed socket" \
    sh -c "systemctl is-active hvrelay &&
        journalctl -u hvrelay --no-pager -o cat -t hvrelay | grep 'guest-sshd: listening on a socket passed by the service manager'"
check "  its own listen address (vsock port 2222) was not opened" \
    sh -c '! ss -Hln --vsock | grep ":2222[[:space:]]"'
check "  after systemctl reload the passed socket still serves" \
    sh -c 'timeout 30 systemctl reload hvrelay &&
        hvtest connect vsock:local:22 --send 1M --expect 1M --timeout 30'
check "systemctl stop of the socket and the service: both inactive, not failed" \
    sh -c 'timeout 30 systemctl stop hvrelay-guest-sshd.socket hvrelay.service &&
        [ "$(systemctl show -p ActiveState --value hvrelay-guest-sshd.socket)" = inactive ]'
check "  the service stopped cleanly" stopped_cleanly hvrelay.service

# --- end -----------------------------------------------------------------------------

if [ "$failures" -gt 0 ] || [ "$verbose" = 1 ]; then
    journal 120 | diag
fi
if [ "$verbose" = 1 ]; then
    diag <"$WORKDIR/test.log"
fi
echo "HVRELAY-TAP: 1..$n" >&3
finished=1
say "done"
