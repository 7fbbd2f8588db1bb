#!/bin/bash
# The shipped units as this build generates them: systemd-analyze finds
# nothing to say about them, and rates the service's sandbox OK or better.
. "$TESTS_DIR/scenario/lib.sh"

for tool in systemd-analyze; do
	if ! command -v "$tool" >/dev/null; then
		echo "Bail out! $tool is missing (Debian package systemd)"
		exit 1
	fi
done
units="$top_builddir/systemd"
# The units name the installed binary: point them at the one just built.
for unit in hvrelay.service hvrelay@.service; do
	sed "s|^\(Exec[A-Za-z]*=\)[^ ]*/hvrelay |\1$HVRELAY |" "$units/$unit" \
	    >"$TMP/$unit"
done
cp "$TMP/hvrelay@.service" "$TMP/hvrelay@demo.service"
cp "$top_srcdir/systemd/hvrelay-guest-sshd.socket" "$TMP/"

for unit in hvrelay.service hvrelay@demo.service hvrelay-guest-sshd.socket; do
	out=$(cd "$TMP" && systemd-analyze verify --man=no "$TMP/$unit" 2>&1)
	check "systemd-analyze verify $unit: nothing to report" test -z "$out"
	[ -z "$out" ] || echo "$out" | diag
done
for unit in hvrelay.service hvrelay@demo.service; do
	rating=$(systemd-analyze security --offline=yes "$TMP/$unit" 2>&1 |
	    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p')
	check "$unit sandbox is rated OK or better ($rating)" \
	    bash -c "echo '$rating' | grep -Eq ' (OK|SAFE|PERFECT)$'"
done
for unit in hvrelay.service hvrelay@demo.service; do
	check "$unit is Type=notify and reloads with 'hvrelay reload', which reports the outcome" \
	    bash -c "grep -q '^Type=notify' '$TMP/$unit' &&
	        [ \"\$(grep -c '^ExecReload=' '$TMP/$unit')\" = 1 ] &&
	        grep -q '^ExecReload=.*/hvrelay reload -c ' '$TMP/$unit'"
done
check "AF_VSOCK stays allowed" \
    grep -q '^RestrictAddressFamilies=.*AF_VSOCK' "$TMP/hvrelay.service"
# They share /run/hvrelay; systemd removes a runtime directory when its
# unit stops unless told to preserve it (tests/vm/systemd.sh shows why).
check "every unit keeps the shared /run/hvrelay when it stops" \
    bash -c "grep -q '^RuntimeDirectoryPreserve=yes' '$TMP/hvrelay.service' &&
        grep -q '^RuntimeDirectoryPreserve=yes' '$TMP/hvrelay@.service'"
done_testing
