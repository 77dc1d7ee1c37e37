#!/bin/bash
# pal_bench speaks perftest's flags: -V is the version, and a one-letter
# flag that means something else in perftest (-m MTU, -j source IP, -c
# connection type, -e events, -r RX depth, -o outstanding reads, -S service
# level, -M MGID, -P client, -x GID index, -b bidirectional) is refused
# rather than taken for one of ours; perftest's own letters parse.
#
#   test_bench_flags.sh PAL_BENCH
set -u
bench=$1
fails=0 n=0
check() {
	local want=$1 what=$2 rc
	shift 2
	n=$((n + 1))
	"$bench" "$@" >/tmp/bench-flags.$$ 2>&1
	rc=$?
	if [ "$rc" = "$want" ]; then
		echo "ok $n - $what"
	else
		echo "not ok $n - $what: exit $rc, wanted $want"
		sed 's/^/# /' /tmp/bench-flags.$$
		fails=$((fails + 1))
	fi
}
version=$("$bench" -V)
n=$((n + 1))
if [[ "$version" =~ ^pal_bench\ \(rdma-pal\)\ [0-9]+\.[0-9]+\.[0-9]+$ ]]; then
	echo "ok $n - pal_bench -V: $version"
else
	echo "not ok $n - pal_bench -V printed '$version'"
	fails=$((fails + 1))
fi
for cmd in bw reg revoke topo import refault; do
	check 0 "$cmd -V prints the version" "$cmd" -V
done
# bw: parse errors exit 2, a parsed command that cannot connect exits 1.
for flag in "-m 1024" "-j 10.0.0.1" "-c UC" "-e" "-r 64" "-o 4" "-S 1" "-M ff00::1" \
	    "-P" "-x 3" "-b"; do
	# shellcheck disable=SC2086
	check 2 "bw refuses perftest's $flag" bw --client 127.0.0.1 $flag
done
for cmd in reg revoke import; do
	for flag in "-m udmabuf" "-r 3" "-c out.csv" "-j out.json" "-S 1M" "-e 64K"; do
		# shellcheck disable=SC2086
		check 2 "$cmd refuses perftest's $flag" "$cmd" $flag
	done
done
check 2 "topo refuses perftest's -x (GID index)" topo -d rxe0 -x 3
# perftest's letters parse (the client then fails to reach 127.0.0.1:1
# over RDMA, or finds no device: exit 1, not 2).
check 1 "bw takes -d -p -s -n -t -Q" bw --client 127.0.0.1 -d nosuch -p 1 -s 4K -n 8 -t 4 -Q 2 \
	--verb read --memory host --out_json_file=/dev/null
check 1 "bw takes -a -D" bw --client 127.0.0.1 -p 1 -a -D 1
rm -f /tmp/bench-flags.$$
echo "1..$n"
[ "$fails" = 0 ]
