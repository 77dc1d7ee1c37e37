#!/bin/bash
# The guest test suite. Runs inside the rdma-pal guest (scripts/vm-run.sh):
#
#   tests/guest/run.sh --bin DIR [--only REGEX] [--debug-kernel]
#
# Sets up two soft-RoCE hosts: network namespaces pal_a (10.77.0.1) and
# pal_b (10.77.0.2) joined by a veth pair, with rxe_a and rxe_b on the two
# ends. Runs every guest test, then turns the KUnit results of this boot
# into TAP lines and checks the kernel log for splats; with --debug-kernel
# (the KASAN/lockdep/kmemleak build) it also requires a clean kmemleak scan.
# Prints TAP (also written to $RDMA_PAL_OUT/guest.tap) and exits non-zero if
# anything failed.
set -u
. "$(dirname "$0")/../../scripts/lib.sh"	# SPLAT_RE

bin=""
only="."
debug_kernel=0
while [ $# -gt 0 ]; do
	case "$1" in
	--bin) bin=$2; shift ;;
	--only) only=$2; shift ;;
	--debug-kernel) debug_kernel=1 ;;
	*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done
[ -d "$bin" ] || { echo "no test binaries at '$bin' (--bin)" >&2; exit 2; }

out=${RDMA_PAL_OUT:-/tmp}
tap=$out/guest.tap
: >"$tap"
n=0
failed=0
ADDR_A=10.77.0.1
ADDR_B=10.77.0.2

emit() { echo "$*" | tee -a "$tap"; }

# result NAME STATUS LOGFILE: one TAP line, the log as diagnostics.
result() {
	local name=$1 status=$2 logf=$3
	n=$((n + 1))
	if [ "$status" = 0 ]; then
		emit "ok $n - $name"
	else
		failed=$((failed + 1))
		emit "not ok $n - $name (exit $status)"
	fi
	[ -s "$logf" ] && sed 's/^/# /' "$logf" | tee -a "$tap"
}

# run_test NAME FUNCTION [ARGS]: run a test function with a time limit.
run_test() {
	local name=$1
	shift
	[[ $name =~ $only ]] || return 0
	local logf
	logf=$(mktemp)
	local start=$SECONDS
	( "$@" ) >"$logf" 2>&1
	local status=$?
	echo "took $((SECONDS - start)) s" >>"$logf"
	result "$name" "$status" "$logf"
	rm -f "$logf"
}

in_a() { ip netns exec pal_a "$@"; }
in_b() { ip netns exec pal_b "$@"; }

port_active() {
	ibv_devinfo -d "$1" 2>/dev/null | grep -q 'state:.*PORT_ACTIVE'
}

setup_rxe() {
	ip netns add pal_a && ip netns add pal_b &&
	ip link add veth_a netns pal_a type veth peer name veth_b netns pal_b &&
	in_a ip addr add $ADDR_A/24 dev veth_a &&
	in_b ip addr add $ADDR_B/24 dev veth_b &&
	in_a ip link set lo up && in_b ip link set lo up &&
	in_a ip link set veth_a up && in_b ip link set veth_b up &&
	in_a rdma link add rxe_a type rxe netdev veth_a &&
	in_b rdma link add rxe_b type rxe netdev veth_b || return 1
	local i
	for i in $(seq 50); do
		port_active rxe_a && port_active rxe_b && return 0
		sleep 0.2
	done
	echo "rxe ports did not become active"
	return 1
}

# --- tests ---------------------------------------------------------------

t_rxe_pair() {
	setup_rxe || return 1
	rdma link show
	for dev in rxe_a rxe_b; do
		ibv_devinfo -d "$dev" | grep -E 'hca_id|transport|state' || return 1
	done
	# Each rxe device must carry the IPv4 address of its netdev as a GID.
	grep -qi '0000:0000:0000:0000:0000:ffff:0a4d:0001' /sys/class/infiniband/rxe_a/ports/1/gids/* &&
	grep -qi '0000:0000:0000:0000:0000:ffff:0a4d:0002' /sys/class/infiniband/rxe_b/ports/1/gids/* ||
		{ echo "RoCEv2 GIDs for $ADDR_A/$ADDR_B missing"; return 1; }
	in_a ping -c 1 -W 2 $ADDR_B
}

# t_rc_write_read PORT ARGS...: rc_write_read's server in pal_b, its client
# in pal_a, both with ARGS; passes only if both sides pass.
t_rc_write_read() {
	local port=$1
	shift
	in_b "$bin/rc_write_read" --server $ADDR_B --port "$port" "$@" &
	local server=$!
	# The server listens within milliseconds; retry the connect briefly.
	local client=1 i
	for i in $(seq 10); do
		sleep 0.3
		in_a "$bin/rc_write_read" --client $ADDR_B --port "$port" "$@" && { client=0; break; }
		kill -0 $server 2>/dev/null || break
	done
	wait $server
	local srv=$?
	echo "client exit $client, server exit $srv"
	[ $client = 0 ] && [ $srv = 0 ]
}

t_dmabuf_reg() {
	"$bin/dmabuf_reg" "$@"
}

# The KUnit suites this project relies on; each must have run at boot and
# passed. Upstream's dma-buf-fence-chain is left out: its test_wait_forward
# calls kthread_stop() on a waiter kthread that may not have run yet and
# then fails with -EINTR, which happens on a loaded emulated CPU.
KUNIT_SUITES=(dma-buf-pal ib-umem-extents dma-buf-fence dma-buf-fence-unwrap dma-buf-resv)

# One TAP line per expected suite, with its number of cases and the failed
# ones as diagnostics.
t_kunit() {
	local klog=/tmp/kunit.log logf=/tmp/kunit-suite.log suite line status
	dmesg | sed -e 's/^\[[ 0-9.]*\] //' >"$klog"
	for suite in "${KUNIT_SUITES[@]}"; do
		# A suite's own result is an unindented "ok N name" line.
		line=$(grep -E "^(not )?ok [0-9]+ $suite\$" "$klog")
		status=0
		[[ -z $line || $line == "not ok"* ]] && status=1
		# Its cases: four-space-indented results after its header.
		awk -v s="$suite" '$0 == "    # Subtest: " s { on = 1; next }
				   on && /^    (not )?ok / { print }
				   on && /^(not )?ok / { exit }' "$klog" >"$logf.cases"
		{
			[ -n "$line" ] || echo "no result for suite $suite in the kernel log"
			echo "$(wc -l <"$logf.cases") cases, $(grep -c '^    not ok' "$logf.cases") failed"
			grep '^    not ok' "$logf.cases"
		} >"$logf"
		result "kunit: $suite" "$status" "$logf"
	done
}

# Two scans, as Documentation/dev-tools/kmemleak.rst advises: objects
# younger than the minimum age are only reported by the second.
t_kmemleak() {
	local f=/sys/kernel/debug/kmemleak
	[ -w "$f" ] || { echo "no $f: not a kmemleak kernel"; return 1; }
	echo scan >"$f" && sleep 6 && echo scan >"$f" || return 1
	# debugfs files have no size: read the report itself.
	local report
	report=$(cat "$f")
	if [ -n "$report" ]; then
		head -n 80 <<<"$report"
		return 1
	fi
	echo "kmemleak: no leak reported"
}

t_dmesg_clean() {
	if dmesg | grep -Eq "$SPLAT_RE"; then
		dmesg | grep -E -B 2 -A 25 "$SPLAT_RE" | head -n 120
		return 1
	fi
	echo "no oops, WARN, BUG, KASAN, lockdep or kmemleak report in $(dmesg | wc -l) lines"
}

# --- the suite -------------------------------------------------------------

emit "TAP version 13"
emit "# kernel $(uname -r), accelerator ${RDMA_PAL_ACCEL_USED:-?}"
run_test "rxe: two namespaces joined by veth, rxe_a and rxe_b active" t_rxe_pair
run_test "rc: RDMA WRITE and READ of 1 MiB between rxe_a and rxe_b, bytes checked" \
	t_rc_write_read 18515 --size 1048576
run_test "dmabuf: ibv_reg_dmabuf_mr on rxe with a udmabuf fails with EOPNOTSUPP (stock 7.2)" \
	t_dmabuf_reg --device rxe_a --backend udmabuf --expect EOPNOTSUPP
run_test "pal: udmabuf offers one segment of RAM covering the buffer" \
	"$bin/pal_inspect" --backend udmabuf --size $((4 << 20)) --max-ranges 1024
run_test "pal: udmabuf of 2 MiB hugetlb folios has whole-folio ranges" \
	"$bin/pal_inspect" --backend udmabuf-huge --size $((8 << 20)) \
	--range-multiple $((2 << 20)) --max-ranges 4
run_test "pal: the system dma-heap offers one segment of RAM covering the buffer" \
	"$bin/pal_inspect" --backend heap --size $((4 << 20)) --max-ranges 1024
run_test "pal: test exporter, 64 KiB extents shuffled: whole-extent ranges" \
	"$bin/pal_inspect" --backend testexp --size $((4 << 20)) --extent-size $((64 << 10)) \
	--shuffle 7 --range-multiple $((64 << 10)) --max-ranges 64
run_test "pal: test exporter, 2 MiB extents, lists only" \
	"$bin/pal_inspect" --backend testexp --size $((8 << 20)) --extent-size $((2 << 20)) \
	--mode pal --range-multiple $((2 << 20)) --max-ranges 4
run_test "pal: test exporter, sg_tables only: no list (EOPNOTSUPP)" \
	"$bin/pal_inspect" --backend testexp --size $((1 << 20)) --mode sgt --expect EOPNOTSUPP
run_test "pal: test exporter refuses an extent size that is not a power of two (EINVAL)" \
	"$bin/pal_inspect" --backend testexp --size $((3 << 12)) --extent-size $((3 << 12)) \
	--expect-alloc EINVAL
run_test "pal: test exporter refuses extents above the largest page block (EINVAL)" \
	"$bin/pal_inspect" --backend testexp --size $((8 << 20)) --extent-size $((8 << 20)) \
	--expect-alloc EINVAL
# The ivshmem-plain device vm-run.sh --ivshmem adds, bound to vfio-pci.
vfio_ivshmem() {
	local d bdf=""
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = 0x1af4 ] && [ "$(cat "$d/device")" = 0x1110 ] &&
			bdf=$(basename "$d")
	done
	[ -n "$bdf" ] || { echo "no ivshmem-plain device (vm-run.sh --ivshmem)" >&2; return 1; }
	d=/sys/bus/pci/devices/$bdf
	if [ "$(basename "$(readlink "$d/driver")")" != vfio-pci ]; then
		echo vfio-pci >"$d/driver_override" && echo "$bdf" >/sys/bus/pci/drivers_probe ||
			return 1
	fi
	echo "$bdf"
}

t_vfio_bar_pal() {
	local bdf
	bdf=$(vfio_ivshmem) || return 1
	echo "ivshmem at $bdf, driver $(basename "$(readlink "/sys/bus/pci/devices/$bdf/driver")")"
	"$bin/pal_inspect" --backend vfio --device "$bdf" --bar 2 --size $((16 << 20)) \
		--kind mmio --max-ranges 1
}

run_test "pal: vfio-pci BAR of an ivshmem device offers one segment of CPU-accessible MMIO" \
	t_vfio_bar_pal
run_test "pal: inspecting a non-dma-buf fd fails with EBADF" \
	"$bin/pal_inspect" --backend host --size 4096 --expect EBADF
[[ kunit =~ $only ]] && t_kunit
[ "$debug_kernel" = 1 ] && run_test "kmemleak: no leak after the suite" t_kmemleak
run_test "dmesg: no kernel splat during the suite" t_dmesg_clean
emit "1..$n"
emit "# $((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
