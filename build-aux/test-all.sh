#!/bin/bash
# The whole test suite, exactly as CI runs it: installs what it needs,
# builds with strict warnings and runs `make check`, builds again with
# AddressSanitizer + UndefinedBehaviorSanitizer and runs the same tests,
# then `make distcheck`. Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."

build-aux/install-deps.sh --tests || exit 1
autoreconf -fi || exit 1

passed=0
failed=0

# count LOG: adds the Automake harness totals of a `make check` log.
count() {
	local pass fail
	pass=$(sed -n 's/^# PASS: *//p' "$1" | awk '{s += $1} END {print s + 0}')
	fail=$(sed -n 's/^# \(FAIL\|ERROR\|XPASS\): *//p' "$1" | awk '{s += $1} END {print s + 0}')
	passed=$((passed + pass))
	failed=$((failed + fail))
}

# suite NAME DIR CONFIGURE-ARGS...: configure, build and check in DIR.
suite() {
	local name=$1 dir=$2
	shift 2
	echo "=== $name"
	mkdir -p "$dir"
	if ! (cd "$dir" && ../configure -q "$@" && make -j"$(nproc)" >/dev/null); then
		echo "=== $name: build failed"
		failed=$((failed + 1))
		return
	fi
	(cd "$dir" && make -j"$(nproc)" check) 2>&1 | tee "$dir/check-output.txt"
	count "$dir/check-output.txt"
	if grep -q "^# TOTAL: *[1-9]" "$dir/check-output.txt"; then
		return
	fi
	echo "=== $name: no test ran"
	failed=$((failed + 1))
}

suite "strict build" build --enable-strict
suite "sanitizer build" build-asan --enable-strict --enable-asan

echo "=== make distcheck"
if (cd build && make -j"$(nproc)" distcheck >distcheck-output.txt 2>&1); then
	echo "ok - make distcheck"
	passed=$((passed + 1))
else
	tail -40 build/distcheck-output.txt
	echo "not ok - make distcheck"
	failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
