#!/bin/bash
# A client that reads slowly while the server pushes 256 MiB: the relay
# stops reading from the server instead of buffering, so its memory stays
# bounded, spliced or copied.
. "$TESTS_DIR/scenario/lib.sh"

# In a sanitizer build, freed memory sits in quarantine and would count.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
for splice in yes no; do
	start_tcp_forward slow "splice = $splice" || exit 1
	before=$(peak_rss_kib "$RELAY_PID")
	start_server push "tcp:127.0.0.1:$target_port" --send 256M --timeout 90
	"$HVTEST" connect "tcp:127.0.0.1:$relay_port" --read-delay-ms 1500 \
	    --read-rate 128M --expect 256M --expect-seed 1 --timeout 90 \
	    >"$TMP/slow.out" 2>&1
	check "splice=$splice: the slow reader received 256 MiB intact" test $? -eq 0
	wait "$SERVER_PID"
	check "splice=$splice: the server pushed it all" test $? -eq 0
	after=$(peak_rss_kib "$RELAY_PID")
	growth=$((after - before))
	echo "# relay peak RSS ${before} KiB before, ${after} KiB after (+${growth} KiB)"
	check "splice=$splice: relay memory grew by less than 8 MiB while 256 MiB passed" \
	    test "$growth" -lt 8192
	diag "$TMP/slow.out"
	stop_relay
	check "splice=$splice: hvrelay stops cleanly" test $? -eq 0
done
done_testing
