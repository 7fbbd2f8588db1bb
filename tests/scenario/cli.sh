#!/bin/bash
# The command-line contract: -t, guid, --version, --help, usage errors,
# and a clear failure when a listener cannot be opened.
. "$TESTS_DIR/scenario/lib.sh"

cat >"$TMP/good.conf" <<CONF
[ssh]
listen = tcp:127.0.0.1:2222
connect = hvsock:parent:22
CONF
printf '[ssh]\nlisten = tcp:127.0.0.1:2222\nconnect = hvsock:nope:22\n' >"$TMP/bad.conf"

out=$("$HVRELAY" -t -c "$TMP/good.conf" 2>&1)
check "-t on a good file exits 0" test $? -eq 0
check "  and says 'configuration OK'" test "$out" = "configuration OK"

out=$("$HVRELAY" -t -c "$TMP/bad.conf" 2>&1)
check "-t on a bad file exits 1" test $? -eq 1
check "  naming file, line, key and what was expected" test "$out" = \
    "$TMP/bad.conf:3: connect: 'hvsock:nope:22': VMID must be a GUID or one of wildcard, children, loopback, parent, silohost"

out=$("$HVRELAY" -t -c "$TMP/missing.conf" 2>&1)
check "-t on a missing file exits 1" test $? -eq 1
check "  and says so" test "$out" = "$TMP/missing.conf: cannot open: No such file or directory"

check "the shipped configuration passes -t" \
    "$HVRELAY" -t -c "$top_srcdir/conf/hvrelay.conf"
for f in linux-guest kvm-host; do
	check "example $f.conf passes -t" \
	    "$HVRELAY" -t -c "$top_srcdir/conf/examples/$f.conf"
done
out=$("$HVRELAY" -t -c "$top_srcdir/conf/examples/windows-host.conf" 2>&1)
check "the Windows host example is refused on Linux" test $? -eq 1
check "  explaining that a Linux guest only reaches its host" \
    contains "$out" "a Linux guest only reaches its host"

check "guid 22" test "$("$HVRELAY" guid 22)" = "00000016-facb-11e6-bd58-64006a7986d3"
check "guid of the largest port" \
    test "$("$HVRELAY" guid 4294967294)" = "fffffffe-facb-11e6-bd58-64006a7986d3"
check "guid back to a port" \
    test "$("$HVRELAY" guid 00001F90-FACB-11E6-BD58-64006A7986D3)" = "8080"
check "guid accepts braces" \
    test "$("$HVRELAY" guid '{00000016-facb-11e6-bd58-64006a7986d3}')" = "22"
out=$("$HVRELAY" guid a42e7cda-d03f-480c-9cc2-a4de20abb878 2>&1)
check "a GUID that is not a port GUID exits 1" test $? -eq 1
check "  and explains the template" test "$out" = \
    "hvrelay: a42e7cda-d03f-480c-9cc2-a4de20abb878 is not a port GUID: those end in -facb-11e6-bd58-64006a7986d3"
"$HVRELAY" guid ssh >/dev/null 2>&1
check "guid with garbage is a usage error (2)" test $? -eq 2
"$HVRELAY" guid >/dev/null 2>&1
check "guid without argument is a usage error (2)" test $? -eq 2

check "--version" bash -c "'$HVRELAY' --version | grep -qx 'hvrelay [0-9.]*'"
out=$("$HVRELAY" --help)
check "--help exits 0" test $? -eq 0
check "  and shows usage" grep -q '^usage: hvrelay' <<<"$out"
check "  without the Windows commands" \
    test "$(grep -Ec 'hvrelay (service|register)' <<<"$out")" = 0
out=$("$HVRELAY" -x 2>&1)
check "an unknown option exits 2" test $? -eq 2
check "  with a one-line hint" contains "$out" "Try 'hvrelay --help'"
"$HVRELAY" -c "$TMP/good.conf" extra >/dev/null 2>&1
check "a stray argument exits 2" test $? -eq 2

free_port port
printf '[a]\nlisten = tcp:127.0.0.1:%s\nconnect = tcp:127.0.0.1:1\n' "$port" >"$TMP/a.conf"
printf '[b]\nlisten = tcp:127.0.0.1:%s\nconnect = tcp:127.0.0.1:1\n' "$port" >"$TMP/b.conf"
start_relay "$TMP/a.conf" || exit 1
"$HVRELAY" -c "$TMP/b.conf" 2>"$TMP/b.log"
check "a listener that cannot bind makes hvrelay exit 1" test $? -eq 1
check "  saying which forward and why" \
    grep -q "error: b: cannot listen on tcp:127.0.0.1:$port: bind: Address already in use" "$TMP/b.log"
done_testing
