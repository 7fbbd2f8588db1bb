#!/bin/bash
# The whole test suite, exactly as CI runs it: installs what it needs,
# builds with strict warnings and runs `make check` (the QEMU guest suite
# included), builds again with AddressSanitizer + UndefinedBehaviorSanitizer
# and runs the same tests, cross-builds hvrelay.exe and runs its tests under
# Wine, then `make distcheck`. Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."

build-aux/install-deps.sh --tests || exit 1
autoreconf -fi || exit 1

passed=0
failed=0

# The QEMU guest suite skips on machines that cannot boot it; here it must run.
export HVRELAY_VM_REQUIRE=1

# count LOG: adds the Automake harness totals of a `make check` log.
count() {
	local pass fail
	pass=$(sed -n 's/^# PASS: *//p' "$1" | awk '{s += $1} END {print s + 0}')
	fail=$(sed -n 's/^# \(FAIL\|ERROR\|XPASS\): *//p' "$1" | awk '{s += $1} END {print s + 0}')
	passed=$((passed + pass))
	failed=$((failed + fail))
}

# suite NAME DIR CONFIGURE-ARGS... [-- MAKE-ARGS...]: configure, build and
# check in DIR.
suite() {
	local name=$1 dir=$2 arg
	local -a configure_args=() make_args=()
	shift 2
	for arg in "$@"; do
		shift
		[ "$arg" = "--" ] && break
		configure_args+=("$arg")
	done
	make_args=("$@")
	echo "=== $name"
	mkdir -p "$dir"
	if ! (cd "$dir" && ../configure -q "${configure_args[@]}" &&
	    make -j"$(nproc)" >/dev/null); then
		echo "=== $name: build failed"
		failed=$((failed + 1))
		return
	fi
	(cd "$dir" && make -j"$(nproc)" check "${make_args[@]}") 2>&1 |
	    tee "$dir/check-output.txt"
	count "$dir/check-output.txt"
	if grep -q "^# TOTAL: *[1-9]" "$dir/check-output.txt"; then
		return
	fi
	echo "=== $name: no test ran"
	failed=$((failed + 1))
}

cache="${XDG_CACHE_HOME:-$HOME/.cache}"

# The Windows build needs static libevent and inih for mingw-w64 (kept in
# the cache once built) and a prepared Wine prefix that its tests clone.
windows_prerequisites() {
	build-aux/mingw-deps.sh "$cache/hvrelay-mingw" || return 1
	export HVRELAY_WINE_TEMPLATE="$cache/hvrelay-wine" WINEDEBUG=-all
	if [ ! -f "$HVRELAY_WINE_TEMPLATE/system.reg" ]; then
		WINEPREFIX="$HVRELAY_WINE_TEMPLATE" WINEDLLOVERRIDES="mscoree,mshtml=" \
		    /usr/lib/wine/wine64 wineboot --init >/dev/null 2>&1
	fi
	WINEPREFIX="$HVRELAY_WINE_TEMPLATE" /usr/lib/wine/wineserver -w
}

suite "strict build" build --enable-strict
suite "sanitizer build" build-asan --enable-strict --enable-asan
if windows_prerequisites; then
	suite "windows build (under Wine)" build-w32 --enable-strict \
	    --host=x86_64-w64-mingw32 \
	    PKG_CONFIG_LIBDIR="$cache/hvrelay-mingw/lib/pkgconfig" \
	    -- HVTEST="$PWD/build/tests/tools/hvtest"
else
	echo "=== windows build: prerequisites failed"
	failed=$((failed + 1))
fi

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
