#!/bin/sh
# The manual pages, as TAP:
#  - man/hvrelay.8 and man/hvrelay.conf.5 are clean for mandoc -T lint at
#    the warning level (mandoc is required: Debian package mandoc), and for
#    groff -ww when groff is installed;
#  - they keep up with the code: every key of the table in src/config.c has
#    an ".It Cm KEY" item under KEYS in hvrelay.conf.5 (and KEYS documents no
#    other key), and every long option, short option and command of
#    src/main.c appears in hvrelay.8 (".Fl -NAME", ".It Fl X", ".It Cm CMD").
# The tree is found through $top_srcdir (set by the test harness), or else
# as the parent directory of this script.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=${top_srcdir:-$here/..}
man_dir=$top/man
src_dir=$top/src
page8=$man_dir/hvrelay.8
page5=$man_dir/hvrelay.conf.5
pages="$page8 $page5"

tap_n=0
tap_failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/man-lint.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

ok() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $*"
}

not_ok() {
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $*"
}

skip() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - # SKIP $*"
}

# diag FILE: its lines as TAP comments.
diag() {
	sed 's/^/#   /' "$1"
}

# quiet_ok DESCRIPTION COMMAND...: passes when COMMAND exits 0 and prints
# nothing on either stream; otherwise shows what it printed.
quiet_ok() {
	desc=$1
	shift
	"$@" >"$tmp/out" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ] && [ ! -s "$tmp/out" ]; then
		ok "$desc"
	else
		not_ok "$desc (exit status $rc)"
		diag "$tmp/out"
	fi
}

# The page source with \- turned into -, so that names can be searched.
normalized() {
	sed 's/\\-/-/g' "$1"
}

# --- the pages exist ------------------------------------------------------
for page in $pages; do
	if [ -f "$page" ]; then
		ok "$(basename "$page") exists"
	else
		not_ok "$(basename "$page") exists (looked for $page)"
	fi
done

# --- mandoc ---------------------------------------------------------------
if command -v mandoc >/dev/null 2>&1; then
	ok "mandoc is installed"
	for page in $pages; do
		[ -f "$page" ] || continue
		quiet_ok "mandoc -T lint -W warning $(basename "$page"): no message" \
		    mandoc -T lint -W warning "$page"
	done
else
	not_ok "mandoc is installed: the pages cannot be checked without it (Debian package mandoc: apt-get install mandoc)"
fi

# --- groff, when there is one ---------------------------------------------
if command -v groff >/dev/null 2>&1; then
	for page in $pages; do
		[ -f "$page" ] || continue
		quiet_ok "groff -ww -z -mandoc $(basename "$page"): no warning" \
		    groff -ww -z -mandoc "$page"
	done
else
	skip "groff is not installed: mandoc alone checks the pages"
fi

# --- configuration keys: src/config.c against hvrelay.conf.5 --------------
keys=$(sed -n 's/^[[:space:]]*{ "\([a-z][a-z0-9-]*\)", SCOPE_.*/\1/p' \
    "$src_dir/config.c" 2>/dev/null | sort -u)
if [ -n "$keys" ]; then
	ok "found the key table in src/config.c ($(echo $keys | wc -w) keys)"
else
	not_ok "found the key table in src/config.c (no '{ \"name\", SCOPE_' line)"
fi
if [ -f "$page5" ]; then
	# The KEYS section, and the keys it has items for.
	normalized "$page5" | sed -n '/^\.Sh KEYS$/,/^\.Sh /p' >"$tmp/keys-section"
	sed -n 's/^\.It Cm \([a-z][a-z0-9-]*\).*/\1/p' \
	    "$tmp/keys-section" | sort -u >"$tmp/documented-keys"
	for key in $keys; do
		if grep -qx "$key" "$tmp/documented-keys"; then
			ok "hvrelay.conf.5 documents key '$key' under KEYS"
		else
			not_ok "hvrelay.conf.5 documents key '$key' under KEYS (add an '.It Cm $key No = Ar value' item)"
		fi
	done
	extra=""
	for key in $(cat "$tmp/documented-keys"); do
		if ! echo "$keys" | grep -qx "$key"; then
			extra="$extra $key"
		fi
	done
	if [ -n "$keys" ] && [ -z "$extra" ]; then
		ok "hvrelay.conf.5 documents no key that src/config.c lacks"
	elif [ -n "$keys" ]; then
		not_ok "hvrelay.conf.5 documents no key that src/config.c lacks (unknown to the code:$extra)"
	fi
fi

# --- command line: src/main.c against hvrelay.8 ---------------------------
long_options=$(sed -n \
    's/^[[:space:]]*{ "\([a-z][a-z0-9-]*\)", [a-z_]*_argument.*/\1/p' \
    "$src_dir/main.c" 2>/dev/null | sort -u)
short_options=$(sed -n 's/.*getopt_long([^"]*"\([^"]*\)".*/\1/p' \
    "$src_dir/main.c" 2>/dev/null | tr -d ':+\n-' | fold -w1 | sort -u)
commands=$(sed -n 's/.*strcmp(argv\[1\], "\([a-z][a-z0-9-]*\)").*/\1/p' \
    "$src_dir/main.c" 2>/dev/null | sort -u)
if [ -n "$long_options" ] && [ -n "$short_options" ]; then
	ok "found the options in src/main.c ($(echo $long_options | wc -w) long, $(echo $short_options | wc -w) short)"
else
	not_ok "found the options in src/main.c (no '{ \"name\", ..._argument' line or getopt_long string)"
fi
if [ -f "$page8" ]; then
	normalized "$page8" >"$tmp/page8"
	for opt in $long_options; do
		if grep -Eq "Fl -$opt([^a-z0-9-]|\$)" "$tmp/page8"; then
			ok "hvrelay.8 documents --$opt"
		else
			not_ok "hvrelay.8 documents --$opt (no 'Fl \\-$opt')"
		fi
	done
	for opt in $short_options; do
		if grep -Eq "^\\.It Fl $opt( |\$)" "$tmp/page8"; then
			ok "hvrelay.8 documents -$opt"
		else
			not_ok "hvrelay.8 documents -$opt (no '.It Fl $opt' item)"
		fi
	done
	for cmd in $commands; do
		if grep -Eq "^\\.It Cm $cmd( |\$)" "$tmp/page8"; then
			ok "hvrelay.8 documents the $cmd command"
		else
			not_ok "hvrelay.8 documents the $cmd command (no '.It Cm $cmd' item)"
		fi
	done
fi

echo "1..$tap_n"
[ "$tap_failed" -eq 0 ]
