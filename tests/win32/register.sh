#!/bin/bash
# hvrelay.exe register under Wine: a port or a GUID becomes a key under
# GuestCommunicationServices named after the lower-case GUID without
# braces, with its ElementName; --list shows them, --remove deletes them,
# -c FILE registers every hvsock: service of a configuration once, and
# bad arguments are usage errors (exit 2).
: "${TESTS_DIR:=$(cd "$(dirname "$0")/.." && pwd)}"
# The scenario library wants hvtest; nothing here sends traffic.
: "${HVTEST:=unused}"
. "$TESTS_DIR/win32/lib.sh"

GCS='HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Virtualization\GuestCommunicationServices'
PORT22=00000016-facb-11e6-bd58-64006a7986d3
VM=5f0d6e8a-3c39-4f6c-9b4a-0a1f2e3d4c5b

# reg_query ARGS...: Wine's reg.exe, output without CRs.
reg_query() {
	"$WINE" reg query "$@" 2>/dev/null | tr -d '\r'
	return "${PIPESTATUS[0]}"
}

# element_name GUID: the ElementName stored for GUID.
element_name() {
	reg_query "$GCS\\$1" /v ElementName |
	    sed -n 's/^ *ElementName *REG_SZ *//p'
}

# registered_keys: the key names under GuestCommunicationServices.
registered_keys() {
	reg_query "$GCS" | sed -n 's/.*\\GuestCommunicationServices\\//p'
}

# A fresh prefix prints its creation on the first command: not in a result.
"$WINE" wineboot >/dev/null 2>&1

out=$(hvrelay_exe register 22)
check "register 22 exits 0" test $? -eq 0
check "  and says what it did" test "$out" = \
    "registered $PORT22 (port 22) as \"hvrelay port 22\""
check "  ElementName is 'hvrelay port 22'" \
    test "$(element_name "$PORT22")" = "hvrelay port 22"
check "  the key is the bare lower-case GUID" \
    contains "$(registered_keys)" "$PORT22"

out=$(hvrelay_exe register "{5F0D6E8A-3C39-4F6C-9B4A-0A1F2E3D4C5B}" "my vm")
check "register {GUID} NAME exits 0" test $? -eq 0
check "  the key drops the braces and the capitals" \
    test "$(registered_keys | grep -ci "$VM")" = 1 -a \
    "$(registered_keys | grep -c "^$VM\$")" = 1
check "  ElementName is the NAME given" test "$(element_name "$VM")" = "my vm"

out=$(hvrelay_exe register 22 "ssh to the VM")
check "registering again updates the name" test "$out" = \
    "updated $PORT22 (port 22) as \"ssh to the VM\""
check "  in the registry too" \
    test "$(element_name "$PORT22")" = "ssh to the VM"

out=$(hvrelay_exe register --list)
check "--list exits 0" test $? -eq 0
check "  shows a port GUID with its port and name" \
    grep -Eq "^$PORT22 +22 +ssh to the VM\$" <<<"$out"
check "  shows another GUID without a port" \
    grep -Eq "^$VM +- +my vm\$" <<<"$out"

out=$(hvrelay_exe register --remove 22)
check "--remove 22 exits 0" test $? -eq 0
check "  and says what it removed" test "$out" = "removed $PORT22 (port 22)"
reg_query "$GCS\\$PORT22" >/dev/null
check "  reg query no longer finds the key" test $? -ne 0
out=$(hvrelay_exe register --remove 22)
check "removing it again exits 1" test $? -eq 1
check "  saying it is not registered" contains "$out" \
    "$PORT22 (port 22) is not registered"
hvrelay_exe register --remove "$VM" >/dev/null
check "--remove GUID deletes that key" \
    test "$(registered_keys | grep -c "$VM")" = 0

# Two hvsock services, one of them used twice, and a TCP-only forward.
conf_dir="$WINEPREFIX/drive_c/hvrelay-register-$$"
mkdir -p "$conf_dir"
cat >"$conf_dir/host.conf" <<CONF
control-socket = off

[ssh-to-vm]
listen = tcp:127.0.0.1:2222
connect = hvsock:$VM:22

[ssh-again]
listen = tcp:127.0.0.1:2223
connect = hvsock:$VM:$PORT22

[from-guests]
listen = hvsock:children:3000
connect = tcp:127.0.0.1:3000

[plain]
listen = tcp:127.0.0.1:4000
connect = tcp:127.0.0.1:4001
CONF
out=$(hvrelay_exe register -c "C:\\hvrelay-register-$$\\host.conf")
check "register -c FILE exits 0" test $? -eq 0
check "  one line per service GUID, each once" test "$out" = \
"registered $PORT22 (port 22) as \"hvrelay ssh-to-vm\"
registered 00000bb8-facb-11e6-bd58-64006a7986d3 (port 3000) as \"hvrelay from-guests\""
check "  the connect service is in the registry" \
    test "$(element_name "$PORT22")" = "hvrelay ssh-to-vm"
check "  the listen service too" test "$(element_name \
    00000bb8-facb-11e6-bd58-64006a7986d3)" = "hvrelay from-guests"
check "  the VmId is not registered" \
    test "$(registered_keys | grep -c "$VM")" = 0

printf '[plain]\nlisten = tcp:127.0.0.1:4000\nconnect = tcp:127.0.0.1:4001\n' \
    >"$conf_dir/tcp.conf"
out=$(hvrelay_exe register -c "C:\\hvrelay-register-$$\\tcp.conf")
check "a file without hvsock: has nothing to register (exit 0)" \
    contains "$out" "has no hvsock: endpoint: nothing to register"
out=$(hvrelay_exe register -c "C:\\hvrelay-register-$$\\missing.conf")
check "a missing file exits 1" test $? -eq 1
check "  naming it" contains "$out" "missing.conf: cannot open"

for args in "" "x" "4294967295" "22 a b" "--list 22" "--remove" \
    "-c host.conf 22" "--list --remove 22" "--bogus"; do
	# shellcheck disable=SC2086 # each case is a list of words
	out=$(hvrelay_exe register $args)
	status=$?
	check "register $args: exit 2 ($status)" test "$status" -eq 2
	check "  with a hint" contains "$out" "Try 'hvrelay --help'"
done
hvrelay_exe register 22 "" >/dev/null
check "an empty NAME is a usage error" test $? -eq 2
out=$(hvrelay_exe register --help)
check "register --help exits 0" test $? -eq 0
check "  and shows the usage" contains "$out" "hvrelay register --remove PORT|GUID"

hvrelay_exe register --remove 22 >/dev/null
hvrelay_exe register --remove 3000 >/dev/null
if [ -n "${WINE_PRIVATE:-}" ]; then
	out=$(hvrelay_exe register --list)
	check "--list with nothing registered says so" \
	    test "$out" = "no service GUID is registered on this host"
fi
rm -rf "$conf_dir"
done_testing
