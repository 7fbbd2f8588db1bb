#!/bin/bash
# hvrelay.exe as a Windows service under Wine's Service Control Manager:
# install registers it (automatic start, event log source); start brings
# up a relay that really carries bytes; reload picks up a new forward and
# survives a broken file; stop waits for an open connection, closes the
# port and ends in STOPPED; a bad configuration shows as the service's
# exit code; uninstall removes it; every refusal says what to do. Its log
# goes to the Application event log unless the file sets log-file, which
# a reload reopens after the file was moved away.
: "${TESTS_DIR:=$(cd "$(dirname "$0")/.." && pwd)}"
# The scenario library wants hvtest; python3 moves the bytes here.
: "${HVTEST:=unused}"
. "$TESTS_DIR/win32/lib.sh"

# Wine's SCM stops every service about a second after the last ordinary
# Wine process ends, and starts automatic ones again with the next: an
# idle hvrelay.exe in the console keeps it up for the whole test.
keep_scm_alive() {
	local port target
	free_port port
	free_port target
	printf 'control-socket = off\n[keeper]\nlisten = tcp:127.0.0.1:%s\nconnect = tcp:127.0.0.1:%s\n' \
	    "$port" "$target" >"$TMP/keeper.conf"
	"$WINE" "$HVRELAY_EXE" -c "$TMP/keeper.conf" 2>"$TMP/keeper.log" &
	track $!
	wait_for 60 grep -q "started:" "$TMP/keeper.log"
}

service_state() {
	"$WINE" sc query hvrelay 2>/dev/null | tr -d '\r' |
	    sed -n 's/^ *STATE *: *[0-9]* *\([A-Z_]*\).*/\1/p'
}

is_state() {
	[ "$(service_state)" = "$1" ]
}

# sc_field NAME: a numeric field of sc query, e.g. SERVICE_EXIT_CODE.
sc_field() {
	"$WINE" sc query hvrelay 2>/dev/null | tr -d '\r' |
	    sed -n "s/^ *$1 *: *\\([0-9]*\\).*/\\1/p"
}

accepts() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

refuses() {
	! accepts "$1"
}

# echo_py MODE ARGS...: the echo server and its clients (see below).
# In the background python3 is called directly, so that $! is its PID.
echo_py() {
	python3 "$TMP/echo.py" "$@"
}

cat >"$TMP/echo.py" <<'PY'
import os, socket, sys, threading, time

def echo(conn):
    with conn:
        while True:
            data = conn.recv(65536)
            if not data:
                return
            conn.sendall(data)

def exchange(sock, size):
    data = os.urandom(size)
    sock.sendall(data)
    got = b""
    while len(got) < size:
        part = sock.recv(65536)
        if not part:
            break
        got += part
    return got == data

mode, port = sys.argv[1], int(sys.argv[2])
if mode == "serve":
    # serve PORT READY-FILE: echoes every connection until killed.
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(16)
    open(sys.argv[3], "w").close()
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=echo, args=(conn,), daemon=True).start()
sock = socket.create_connection(("127.0.0.1", port), timeout=15)
if mode == "check":
    # check PORT: 256 KiB there and back, then an orderly end.
    ok = exchange(sock, 256 * 1024)
    sock.shutdown(socket.SHUT_WR)
    ok = ok and sock.recv(1) == b""
elif mode == "hold":
    # hold PORT MARKER SECONDS: an exchange, MARKER, a pause, another one.
    ok = exchange(sock, 1000)
    open(sys.argv[3], "w").close()
    time.sleep(float(sys.argv[4]))
    ok = ok and exchange(sock, 64 * 1024)
sys.exit(0 if ok else 1)
PY

uninstall_left_over() {
	if [ -n "$(service_state)" ]; then
		"$WINE" "$HVRELAY_EXE" service uninstall >/dev/null 2>&1
	fi
	wine_cleanup
}
trap uninstall_left_over EXIT

# Wine's event log writes to the standard error of the services, which
# they inherit from the process that started the service manager.
WINEDEBUG=-all,+eventlog "$WINE" wineboot >/dev/null 2>"$TMP/eventlog"
# in_eventlog TEXT: how many event log entries start with TEXT.
in_eventlog() {
	grep -cF "ReportEventW L\"$1" "$TMP/eventlog"
}
if [ -n "$(service_state)" ]; then
	echo "Bail out! this Wine prefix already has a service named hvrelay"
	exit 1
fi
keep_scm_alive || { echo "Bail out! hvrelay.exe does not start"; exit 1; }

free_port port_a
free_port port_b
free_port target_port
python3 "$TMP/echo.py" serve "$target_port" "$TMP/echo.ready" &
track $!
wait_for 10 test -e "$TMP/echo.ready"

conf_dir="hvrelay-service-$$"
conf_unix="$WINEPREFIX/drive_c/$conf_dir/hvrelay.conf"
conf_win="C:\\$conf_dir\\hvrelay.conf"
mkdir -p "$(dirname "$conf_unix")"
# write_conf [LINE...]: LINEs go after forward [a]; $log_conf before it.
log_conf=""
write_conf() {
	{
		printf 'control-socket = off\nshutdown-timeout = 20s\n%s\n' \
		    "$log_conf"
		printf '[a]\nlisten = tcp:127.0.0.1:%s\nconnect = tcp:127.0.0.1:%s\n' \
		    "$port_a" "$target_port"
		printf '%s\n' "$@"
	} >"$conf_unix"
}
write_conf

out=$(hvrelay_exe service install -c "$conf_win")
check "service install exits 0" test $? -eq 0
check "  the SCM runs 'service run -c' with the absolute file" \
    grep -q "service run -c \"C:\\\\$conf_dir\\\\hvrelay.conf\"" <<<"$out"
check "  a file that does not say where to log gets no note" \
    test "$(grep -c "note:" <<<"$out")" = 0
check "sc query shows it, stopped" is_state STOPPED
evlog='HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\hvrelay'
out=$("$WINE" reg query "$evlog" 2>/dev/null | tr -d '\r')
check "  the event log source points at hvrelay.exe" \
    grep -Eq "EventMessageFile +REG_EXPAND_SZ +.*hvrelay\\.exe" <<<"$out"
check "  with TypesSupported 7" \
    grep -Eq "TypesSupported +REG_DWORD +0x7" <<<"$out"
log_conf="log = stderr"
write_conf
out=$(hvrelay_exe service install -c "$conf_win")
check "installing twice exits 1" test $? -eq 1
check "  saying it is already installed" contains "$out" "already installed"
check "  after a note on 'log = stderr', which a service does not have" \
    contains "$out" "note: $conf_win sets 'log = stderr', which a service does not have: remove it to log to the Application event log, or set log-file"
log_conf=""
write_conf

out=$(hvrelay_exe service start)
check "service start exits 0 ($out)" test $? -eq 0
check "  the service is running" is_state RUNNING
check "  its relay carries bytes both ways" echo_py check "$port_a"
check "  it logs to the Application event log" \
    test "$(in_eventlog "started: 1 forward(s)")" = 1
out=$(hvrelay_exe service start)
check "starting it again exits 0" test $? -eq 0
check "  saying it is already running" contains "$out" "already running"

write_conf "[b]" "listen = tcp:127.0.0.1:$port_b" \
    "connect = tcp:127.0.0.1:$target_port"
out=$(hvrelay_exe service reload)
check "service reload exits 0" test $? -eq 0
check "  the new forward starts listening" wait_for 20 accepts "$port_b"
check "  and relays" echo_py check "$port_b"
check "  the old one still relays" echo_py check "$port_a"
printf 'this is not a configuration\n' >>"$conf_unix"
hvrelay_exe service reload >/dev/null
sleep 1
check "a reload of a broken file keeps the service running" is_state RUNNING
check "  and its forwards relaying" echo_py check "$port_b"

log_win="C:\\$conf_dir\\service.log"
log_unix="$WINEPREFIX/drive_c/$conf_dir/service.log"
log_conf="log-file = $log_win"
write_conf
reloads_before=$(in_eventlog "reloaded")
hvrelay_exe service reload >/dev/null
check "a reload that sets log-file: the file gets the lines" \
    wait_for 20 grep -q "info: reloaded" "$log_unix"
check "  the event log no longer does" \
    test "$(in_eventlog "reloaded")" = "$reloads_before"
"$WINE" cmd /c move "$log_win" "$log_win.1" >/dev/null 2>&1
check "the log file can be moved away while the service writes it" \
    test $? -eq 0 -a -e "$log_unix.1" -a ! -e "$log_unix"
hvrelay_exe service reload >/dev/null
check "  service reload starts a new file" \
    wait_for 20 grep -q "info: reloaded" "$log_unix"
check "  with the whole reload in it" grep -qF \
    "info: reloading C:\\$conf_dir\\hvrelay.conf" "$log_unix"
check "  the moved one has nothing of it" \
    test "$(grep -c "reloading" "$log_unix.1")" = 0
echo_py check "$port_a"
check "  later connections go to the new file" \
    wait_for 10 grep -q "forward=a peer=" "$log_unix"

# Stopping waits for open connections (shutdown-timeout) but stops
# listening at once.
rm -f "$TMP/held"
python3 "$TMP/echo.py" hold "$port_a" "$TMP/held" 4 &
hold_pid=$!
track "$hold_pid"
wait_for 10 test -e "$TMP/held"
start=$SECONDS
"$WINE" "$HVRELAY_EXE" service stop >"$TMP/stop.out" 2>&1 &
stop_pid=$!
track "$stop_pid"
check "service stop: STOP_PENDING while a connection is open" \
    wait_for 10 is_state STOP_PENDING
check "  the listeners are closed at once" wait_for 10 refuses "$port_b"
wait "$hold_pid"
check "  the open connection keeps relaying until its end" test $? -eq 0
wait "$stop_pid"
check "  service stop exits 0 once it has stopped" test $? -eq 0
check "  after the connection ended ($((SECONDS - start))s)" \
    test $((SECONDS - start)) -ge 2
check "  saying so" grep -q "stopped hvrelay" "$TMP/stop.out"
check "  its log file ends with it" \
    test "$(tail -n 1 "$log_unix" | tr -d '\r' | sed 's/^[^ ]* //')" = "info: stopped"
check "sc query shows it stopped" is_state STOPPED
check "  with exit code 0" test "$(sc_field WIN32_EXIT_CODE)" = 0
check "  the port is closed" refuses "$port_a"
out=$(hvrelay_exe service stop)
check "stopping a stopped service exits 0" test $? -eq 0
check "  saying it is not running" contains "$out" "not running"
out=$(hvrelay_exe service reload)
check "reloading a stopped service exits 1" test $? -eq 1
check "  saying how to start it" contains "$out" "hvrelay service start"

printf 'bogus\n' >>"$conf_unix"
out=$(hvrelay_exe service start)
check "a broken configuration: service start exits 1" test $? -eq 1
check "  saying where to look" contains "$out" "stopped with status 1"
check "  sc query shows the service-specific exit code 1" \
    test "$(sc_field SERVICE_EXIT_CODE)" = 1
log_conf="log-file = C:\\$conf_dir\\missing\\service.log"
write_conf
out=$(hvrelay_exe service start)
check "a log file that cannot be opened: service start exits 1" test $? -eq 1
check "  the event log says which and why" \
    test "$(in_eventlog "cannot open log-file C:\\\\$conf_dir\\\\missing\\\\service.log: ")" = 1
log_conf=""
write_conf
out=$(hvrelay_exe service install -c "C:\\$conf_dir\\missing.conf")
check "installing with a missing file exits 1" test $? -eq 1
check "  naming it" contains "$out" "missing.conf: cannot open"

out=$(hvrelay_exe service run -c "$conf_win")
check "service run in a console exits 1" test $? -eq 1
check "  saying how to run in a console" contains "$out" \
    "to run in a console use: hvrelay -c FILE"

for args in "" "bogus" "stop -c x" "install extra" "start --bogus" \
    "install -c"; do
	# shellcheck disable=SC2086 # each case is a list of words
	out=$(hvrelay_exe service $args)
	status=$?
	check "service $args: exit 2 ($status)" test "$status" -eq 2
	check "  with a hint" contains "$out" "Try 'hvrelay --help'"
done

hvrelay_exe service start >/dev/null
out=$(hvrelay_exe service uninstall)
check "service uninstall of a running service exits 0" test $? -eq 0
check "  saying so" contains "$out" "uninstalled service hvrelay"
"$WINE" sc query hvrelay >/dev/null 2>&1
check "  sc query no longer finds it" test $? -ne 0
check "  its port is closed" refuses "$port_a"
"$WINE" reg query "$evlog" >/dev/null 2>&1
check "  the event log source is gone" test $? -ne 0
out=$(hvrelay_exe service start)
check "starting an uninstalled service exits 1" test $? -eq 1
check "  saying how to install it" contains "$out" \
    "not installed: hvrelay service install"
out=$(hvrelay_exe service uninstall)
check "uninstalling it again exits 1" test $? -eq 1

rm -rf "$WINEPREFIX/drive_c/$conf_dir"
done_testing
