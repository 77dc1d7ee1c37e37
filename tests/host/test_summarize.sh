#!/usr/bin/env bash
# scripts/summarize.py must not let a guest run that produced no results, or
# died part-way, pass: a missing TAP file, a TAP file without a plan and one
# whose plan the results do not fill each add a failing line and make it
# exit 1; a complete file passes.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
cat >junit.xml <<'XML'
<?xml version="1.0"?>
<testsuite><testcase name="host" status="run"/><testcase name="guest" status="run"/></testsuite>
XML
printf 'TAP version 13\nok 1 - a\nok 2 - b\n1..2\n# 2 passed, 0 failed\n' >complete.tap
printf 'TAP version 13\nok 1 - a\n' >noplan.tap
printf 'TAP version 13\nok 1 - a\n1..3\n' >short.tap
fails=0

# summarize FILE WANT_RC WANT_LINE: exit status and closing line.
summarize() {
	local tap=$1 want_rc=$2 want=$3 out rc=0
	out=$(python3 "$top/scripts/summarize.py" junit.xml --tap "guest=$tap") || rc=$?
	if [ "$rc" = "$want_rc" ] && [ "$(tail -n 1 <<<"$out")" = "$want" ]; then
		echo "ok - $tap: exit $rc, $want"
	else
		echo "not ok - $tap: exit $rc, '$(tail -n 1 <<<"$out")', expected exit $want_rc, '$want'"
		fails=$((fails + 1))
	fi
}

summarize complete.tap 0 "4 passed, 0 failed"
summarize noplan.tap 1 "3 passed, 1 failed"
summarize short.tap 1 "3 passed, 1 failed"
summarize missing.tap 1 "2 passed, 1 failed"
[ "$fails" = 0 ]
