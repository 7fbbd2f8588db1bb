#!/bin/bash
# Runs a test program of the Windows build under Wine. Its text-mode
# output ends lines with CRLF, which the TAP driver would not read.
"$WINE" "$@" | tr -d '\r'
exit "${PIPESTATUS[0]}"
