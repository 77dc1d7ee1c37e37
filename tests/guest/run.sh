#!/bin/bash
# The guest test suite. Runs inside the rdma-pal guest (scripts/vm-run.sh):
#
#   tests/guest/run.sh --bin DIR --rdma-core-lib DIR --perftest DIR
#                      [--only REGEX] [--skip REGEX] [--expect-tests N]
#                      [--debug-kernel]
#                      [--iommu] [--swiotlb] [--no-odp]
#                      [--stress-seed N] [--stress-ops N] [--test-timeout S]
#
# --iommu: the guest has an emulated IOMMU (vm-run.sh --iommu); the umem
# import tests then check the IOVA path instead of comparing the list and
# sg_table paths on page size, blocks and the blocks' device addresses (a
# digest of what a driver would program) and extent count. --swiotlb: the
# guest booted with swiotlb=force; the umem import tests check that the
# list path refuses to bounce. --no-odp: the kernel has no on-demand paging
# (CONFIG_INFINIBAND_ON_DEMAND_PAGING=n): rxe's registration table then
# requires every on-demand dma-buf MR to be refused with EINVAL.
#
# Every program runs on the patched rdma-core (scripts/userspace-tree.sh
# rdma-core): its lib/ directory comes first on LD_LIBRARY_PATH, so the
# unmodified programs get its libibverbs and its rxe provider; its bin/
# comes first on PATH, since rdma-core's tools need their own library.
#
# --only/--skip: run only the tests whose names match --only and not --skip
# (the KUnit, kmemleak and dmesg checks are named "kunit: ...",
# "kmemleak: ..." and "dmesg: ...").
# --expect-tests N: the selection must run exactly N tests, so that
# renaming a test cannot silently drop it from a selection.
#
# --test-timeout S: each test is killed and fails after S seconds
# (default 900), so that a hang costs one test, not the TAP of the run.
#
# --stress-seed/--stress-ops: replay dmabuf_stress with a given seed (it
# prints the seed of every run) and number of operations; by default a new
# seed per run and 20000 operations.
#
# Sets up two soft-RoCE hosts: network namespaces pal_a (10.77.0.1) and
# pal_b (10.77.0.2) joined by a veth pair, with rxe_a and rxe_b on the two
# ends, and later siw_a and siw_b in their place. Runs every guest test, then turns the KUnit results of this boot
# into TAP lines and checks the kernel log for splats; with --debug-kernel
# (the KASAN/lockdep/kmemleak/fault-injection build) it also runs the
# fault-injection tests and requires a clean kmemleak scan.
# Prints TAP (also written to $RDMA_PAL_OUT/guest.tap) and exits non-zero if
# anything failed.
set -u
. "$(dirname "$0")/../../scripts/lib.sh"	# SPLAT_RE

bin=""
rdma_core_lib=""
perftest=""
only="."
skip=""
debug_kernel=0
iommu=0
swiotlb=0
no_odp=0
expect_tests=""
stress_seed=""
stress_ops=""
test_timeout=900
while [ $# -gt 0 ]; do
	case "$1" in
	--bin) bin=$2; shift ;;
	--rdma-core-lib) rdma_core_lib=$2; shift ;;
	--perftest) perftest=$2; shift ;;
	--only) only=$2; shift ;;
	--skip) skip=$2; shift ;;
	--expect-tests) expect_tests=$2; shift ;;
	--debug-kernel) debug_kernel=1 ;;
	--iommu) iommu=1 ;;
	--swiotlb) swiotlb=1 ;;
	--no-odp) no_odp=1 ;;
	--stress-seed) stress_seed=$2; shift ;;
	--stress-ops) stress_ops=$2; shift ;;
	--test-timeout) test_timeout=$2; shift ;;
	*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done
[ -d "$bin" ] || { echo "no test binaries at '$bin' (--bin)" >&2; exit 2; }
ls "$rdma_core_lib"/librxe-rdmav*.so >/dev/null 2>&1 ||
	{ echo "no patched rdma-core at '$rdma_core_lib' (--rdma-core-lib)" >&2; exit 2; }
[ -x "$perftest/ib_write_bw" ] ||
	{ echo "no patched perftest at '$perftest' (--perftest)" >&2; exit 2; }
export LD_LIBRARY_PATH=$rdma_core_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
# rdma-core's own tools (ibv_devinfo) use its private ABI: take them from
# the same build as the library.
export PATH=$(dirname "$rdma_core_lib")/bin:$PATH

out=${RDMA_PAL_OUT:-/tmp}
tap=$out/guest.tap
: >"$tap"
n=0
failed=0

# The harness itself uses shell builtins only, once the suite runs: on the
# debug kernel under TCG every process started costs about a second, and
# five per test (mktemp, sleep, sed, tee, rm) cost five minutes a run.

# emit TEXT: print TEXT as a line and append it to the TAP file.
emit() {
	printf '%s\n' "$*"
	printf '%s\n' "$*" >>"$tap"
}

# result NAME STATUS LOGFILE: one TAP line, the log as diagnostics.
result() {
	local name=$1 status=$2 logf=$3 line text=""
	n=$((n + 1))
	if [ "$status" = 0 ]; then
		emit "ok $n - $name"
	else
		failed=$((failed + 1))
		emit "not ok $n - $name (exit $status)"
	fi
	while IFS= read -r line || [ -n "$line" ]; do
		text+="# $line"$'\n'
	done <"$logf"
	printf '%s' "$text"
	printf '%s' "$text" >>"$tap"
}

# The watchdog of run_test sleeps in a builtin read on a FIFO nobody
# writes to (opened read-write, so the open does not block).
watchdog_fifo=/tmp/run_test.$$.fifo
test_log=/tmp/run_test.$$.log
mkfifo "$watchdog_fifo"

# kill_tree PID: kill PID and every process below it.
kill_tree() {
	local child
	for child in $(pgrep -P "$1"); do
		kill_tree "$child"
	done
	kill -KILL "$1" 2>/dev/null
}

# run_test NAME FUNCTION [ARGS]: run a test function for at most
# $test_timeout seconds; a test that hangs is killed with everything it
# started and fails, and the suite goes on.
run_test() {
	local name=$1
	shift
	[[ $name =~ $only ]] || return 0
	[[ -n $skip && $name =~ $skip ]] && return 0
	local logf=$test_log pid watchdog first status
	local start=$SECONDS
	( "$@" ) >"$logf" 2>&1 &
	pid=$!
	{ read -r -t "$test_timeout" <>"$watchdog_fifo"; } &
	watchdog=$!
	wait -n -p first "$pid" "$watchdog"
	status=$?
	if [ "$first" = "$watchdog" ]; then
		kill_tree "$pid"
		wait "$pid"
		status=124
		# Only now: the test's own writes would overwrite this line.
		echo "killed: still running after $test_timeout s" >>"$logf"
	else
		kill "$watchdog" 2>/dev/null
		wait "$watchdog" 2>/dev/null
	fi
	echo "took $((SECONDS - start)) s" >>"$logf"
	result "$name" "$status" "$logf"
}

. "$(dirname "$0")/rxe-pair.sh"	# in_a, in_b, setup_rxe

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
	run_pair "$bin/rc_write_read" --server $ADDR_B --port "$port" "$@" -- \
		"$bin/rc_write_read" --client $ADDR_B --port "$port" "$@"
}

# The guest programs link the system's libibverbs by name; the patched one
# must be what they load, with the rxe provider that has reg_dmabuf_mr.
t_patched_rdma_core() {
	local lib
	lib=$(ldd "$bin/dmabuf_reg" | awk '/libibverbs.so.1/ { print $3 }')
	echo "libibverbs: $lib"
	[ "$(dirname "$(readlink -f "$lib")")" = "$(readlink -f "$rdma_core_lib")" ] ||
		{ echo "expected it from $rdma_core_lib"; return 1; }
	grep -c reg_dmabuf_mr "$rdma_core_lib"/librxe-rdmav*.so >/dev/null ||
		{ echo "the rxe provider has no reg_dmabuf_mr"; return 1; }
}

# t_dmabuf_reg ARGS: the registration table of dmabuf_reg, with --vfio when
# the ivshmem device is there; without ODP every on-demand case must fail.
t_dmabuf_reg() {
	local bdf regs odp=()
	bdf=$(vfio_ivshmem) && regs=$(vfio_edu) || return 1
	[ "$no_odp" = 1 ] && odp=(--no-on-demand)
	# In rxe_a's namespace: every MR that registers must carry traffic.
	in_a "$bin/dmabuf_reg" --device rxe_a --vfio "$bdf" --vfio-registers "$regs" "${odp[@]}" "$@"
}

# t_revoke PORT SERVER-ARGS -- CLIENT-ARGS
t_revoke() {
	local port=$1 sargs=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do sargs+=("$1"); shift; done
	shift
	run_pair "$bin/dmabuf_revoke" --server $ADDR_B --port "$port" "${sargs[@]}" -- \
		"$bin/dmabuf_revoke" --client $ADDR_B --port "$port" "$@"
}

# t_perftest VERB KIND PORT [ARG]: the patched perftest's ib_VERB_bw between
# the namespaces on dma-buf memory of --use_KIND_dmabuf[=ARG]; both sides
# must succeed and the client's JSON must hold a positive bandwidth.
t_perftest() {
	local verb=$1 kind=$2 port=$3 json=$out/perftest-$1-$2.json
	local args=(-R -p "$port" -s 65536 -n 200 -q 1 "--use_${kind}_dmabuf${4:+=$4}")
	rm -f "$json"
	run_pair "$perftest/ib_${verb}_bw" -d rxe_b "${args[@]}" -- \
		"$perftest/ib_${verb}_bw" -d rxe_a "${args[@]}" --out_json \
		--out_json_file="$json" $ADDR_B || return 1
	cat "$json"
	python3 - "$json" <<-'PY'
	import json, sys
	r = json.load(open(sys.argv[1]))["results"]
	assert float(r["BW_average"]) > 0 and int(r["MsgSize"]) == 65536, r
	print("JSON parses: %s MiB/s average at %s bytes" % (r["BW_average"], r["MsgSize"]))
	PY
}

# t_restrack: while a dma-buf MR is registered, 'rdma -dd resource show mr'
# reports its import path, extents and mode.
t_restrack() {
	in_a "$bin/dmabuf_reg" --device rxe_a --only "window inside" --show-restrack
}

# t_mr_bytes: restrack's measured metadata of rxe MRs: 16 bytes per extent
# of a dma-buf MR's window, the exporter's list shared, less than
# ibv_reg_mr keeps for the same pages (mr_bytes.c).
t_mr_bytes() {
	in_a "$bin/mr_bytes" -d rxe_a
}

# The KUnit suites this project relies on, each with its number of cases;
# each must have run at boot with exactly that many cases, none failed and
# none skipped (a skip hides a case as well as a failure does). Upstream's
# dma-buf-fence-chain is left out: its test_wait_forward calls
# kthread_stop() on a waiter kthread that may not have run yet and then
# fails with -EINTR, which happens on a loaded emulated CPU.
KUNIT_SUITES=(dma-buf-pal:14 ib-umem-extents:8 siw-dmabuf:3 dma-buf-fence:12 dma-buf-fence-unwrap:10
	      dma-buf-resv:5)

# One TAP line per expected suite, with its number of cases and the failed
# or skipped ones as diagnostics.
t_kunit() {
	local klog=/tmp/kunit.log logf=/tmp/kunit-suite.log entry suite want line status
	local cases
	dmesg | sed -e 's/^\[[ 0-9.]*\] //' >"$klog"
	for entry in "${KUNIT_SUITES[@]}"; do
		suite=${entry%:*}
		want=${entry##*:}
		# A suite's own result is an unindented "ok N name" line.
		line=$(grep -E "^(not )?ok [0-9]+ $suite\$" "$klog")
		status=0
		[[ -z $line || $line == "not ok"* ]] && status=1
		# Its cases: four-space-indented results after its header.
		awk -v s="$suite" '$0 == "    # Subtest: " s { on = 1; next }
				   on && /^    (not )?ok / { print }
				   on && /^(not )?ok / { exit }' "$klog" >"$logf.cases"
		cases=$(wc -l <"$logf.cases")
		[ "$cases" = "$want" ] || status=1
		grep -q '# SKIP' "$logf.cases" && status=1
		{
			[ -n "$line" ] || echo "no result for suite $suite in the kernel log"
			echo "$cases cases (expected $want), $(grep -c '^    not ok' "$logf.cases") failed," \
			     "$(grep -c '# SKIP' "$logf.cases") skipped"
			grep -e '^    not ok' -e '# SKIP' "$logf.cases"
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
run_test "pal: udmabuf offers one segment of RAM covering the buffer" \
	"$bin/pal_inspect" --backend udmabuf --size $((4 << 20)) --max-ranges 1024
run_test "pal: udmabuf of 2 MiB hugetlb folios has whole-folio ranges" \
	"$bin/pal_inspect" --backend udmabuf-huge --size $((8 << 20)) \
	--range-multiple $((2 << 20)) --max-ranges 4
# Pieces of one 2 MiB folio, the first starting inside it, later ones
# reusing its pages: one range per piece, the third merged into the second
# (it continues it), none into a piece that ends where another starts.
run_test "pal: udmabuf of several pieces of one hugetlb folio: a range per piece, merged where contiguous" \
	"$bin/pal_inspect" --udmabuf-list $((1 << 20)):$((1 << 20)),0:$((512 << 10)),$((512 << 10)):$((512 << 10)),0:$((256 << 10)) \
	--expect-lens $((1 << 20)),$((1 << 20)),$((256 << 10))
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
# pci_find VENDOR DEVICE: print the address of the PCI function with these
# ids. Shell builtins only: the tests call this often, and every process
# the debug kernel starts under TCG costs a good part of a second.
pci_find() {
	local d vendor device
	for d in /sys/bus/pci/devices/*; do
		read -r vendor <"$d/vendor" && read -r device <"$d/device" || continue
		[ "$vendor" = "$1" ] && [ "$device" = "$2" ] && { echo "${d##*/}"; return 0; }
	done
	return 1
}
# vfio_bind VENDOR DEVICE WHAT: the PCI function with these ids, bound to
# vfio-pci.
vfio_bind() {
	local d bdf
	bdf=$(pci_find "$1" "$2") || { echo "no $3 (vm-run.sh --ivshmem)" >&2; return 1; }
	d=/sys/bus/pci/devices/$bdf
	if ! [ "$d/driver" -ef /sys/bus/pci/drivers/vfio-pci ]; then
		echo vfio-pci >"$d/driver_override" && echo "$bdf" >/sys/bus/pci/drivers_probe ||
			return 1
	fi
	echo "$bdf"
}
# The ivshmem-plain device vm-run.sh --ivshmem adds: BAR 2 is shared memory,
# prefetchable. QEMU's "edu" device, added beside it: BAR 0 is registers.
vfio_ivshmem() { vfio_bind 0x1af4 0x1110 "ivshmem-plain device"; }
vfio_edu() { vfio_bind 0x1234 0x11e8 "edu device"; }

# The test device's INSPECT on files that are not dma-bufs: EBADF as its
# uAPI says (dma_buf_get() itself says EINVAL for an open file).
t_inspect_not_dmabuf() {
	"$bin/pal_inspect" --backend host --size 4096 --expect EBADF &&
		"$bin/pal_inspect" --not-dmabuf memfd --expect EBADF &&
		"$bin/pal_inspect" --not-dmabuf socket --expect EBADF
}
t_vfio_bar_pal() {
	local bdf
	bdf=$(vfio_ivshmem) || return 1
	local group
	group=$(basename "$(readlink "/sys/bus/pci/devices/$bdf/iommu_group")")
	echo "ivshmem at $bdf, driver $(basename "$(readlink "/sys/bus/pci/devices/$bdf/driver")"), IOMMU group $group"
	# Behind the emulated IOMMU the group must be a real one, not no-IOMMU.
	if [ "$iommu" = 1 ]; then
		[ -e "/dev/vfio/$group" ] || { echo "no /dev/vfio/$group: not an IOMMU-backed group"; return 1; }
	else
		[ -e "/dev/vfio/noiommu-$group" ] || { echo "no /dev/vfio/noiommu-$group"; return 1; }
	fi
	"$bin/pal_inspect" --backend vfio --device "$bdf" --bar 2 --size $((16 << 20)) \
		--kind mmio --max-ranges 1
}

run_test "pal: vfio-pci BAR of an ivshmem device offers one segment of CPU-accessible MMIO" \
	t_vfio_bar_pal
t_vfio_regs_pal() {
	local bdf
	bdf=$(vfio_edu) || return 1
	"$bin/pal_inspect" --backend vfio --device "$bdf" --bar 0 --size $((1 << 20)) \
		--kind mmio --no-cpu --max-ranges 1
}
run_test "pal: vfio-pci BAR of registers (edu BAR 0, not prefetchable) is MMIO the CPU may not touch" \
	t_vfio_regs_pal
run_test "pal: inspecting a non-dma-buf fd fails with EBADF (fd -1, a memfd, a socket)" \
	t_inspect_not_dmabuf

# The series' kselftest (pal_export in tools/testing/selftests/drivers/
# dma-buf), built with its own Makefile and run as a reviewer runs it: its
# TAP must plan and pass every test, none skipped (it skips without the
# test device).
kselftest_pal_export_tests=10
t_kselftest_pal_export() {
	local n=$kselftest_pal_export_tests out rc=0
	out=$("$bin/kselftest/drivers/dma-buf/pal_export" 2>&1) || rc=$?
	echo "$out"
	[ "$rc" = 0 ] || { echo "pal_export exited with $rc"; return 1; }
	grep -qx "1\.\.$n" <<<"$out" || { echo "TAP plan is not 1..$n"; return 1; }
	grep -qx "# Totals: pass:$n fail:0 xfail:0 xpass:0 skip:0 error:0" <<<"$out" ||
		{ echo "expected $n passed, none failed or skipped"; return 1; }
}
run_test "kselftest: dma-buf pal_export (list exports from user space, TAP, none skipped)" \
	t_kselftest_pal_export
run_test "rdma-core: programs load the patched libibverbs and rxe provider" t_patched_rdma_core
run_test "dmabuf: ibv_reg_dmabuf_mr on rxe: good and bad registrations give the right errno" \
	t_dmabuf_reg
# t_pyverbs DEV ALLOCATOR MIN-TESTS ALLOW-SKIPS -k PATTERN...: rdma-core's own
# tests (run_tests.py of the patched build, pyverbs) on DEV in pal_a, with
# dma-bufs of host memory from ALLOCATOR (udmabuf or heap: rdma-core patch
# "pyverbs: Allocate dma-bufs from host memory"). unittest must report OK
# for at least MIN-TESTS tests; with ALLOW-SKIPS=0 a plain "OK", as
# unittest says "OK (skipped=N)" when it skipped any.
t_pyverbs() {
	local dev=$1 alloc=$2 min=$3 allow_skips=$4 out rc ran
	shift 4
	out=$(mktemp)
	in_a timeout 900 run_tests.py --dev "$dev" --dmabuf-allocator "$alloc" -v "$@" \
		>"$out" 2>&1
	rc=$?
	cat "$out"
	ran=$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\} in .*/\1/p' "$out")
	if [ "$rc" != 0 ] || ! grep -q '^OK' "$out"; then
		echo "run_tests.py failed (exit $rc)"
		rc=1
	elif [ "${ran:-0}" -lt "$min" ]; then
		echo "ran ${ran:-no} test(s), expected at least $min"
		rc=1
	elif [ "$allow_skips" = 0 ] && ! grep -qx 'OK' "$out"; then
		echo "a dma-buf test was skipped"
		rc=1
	fi
	rm -f "$out"
	return "$rc"
}
run_test "rdma-core tests: DmaBufMRTest and DmaBufTestCase on rxe, udmabuf, none skipped" \
	t_pyverbs rxe_a udmabuf 10 0 -k DmaBufMRTest -k DmaBufTestCase
run_test "rdma-core tests: DmaBufTestCase on rxe, system heap, none skipped" \
	t_pyverbs rxe_a heap 2 0 -k DmaBufTestCase
run_test "rdma-core tests: MR, memory window and ODP tests on rxe" \
	t_pyverbs rxe_a udmabuf 40 1 -k test_mr.MRTest -k test_mr.MWTest -k test_odp.OdpTestCase
run_test "dmabuf: restrack reports path, extents and mode of a dma-buf MR" t_restrack
run_test "dmabuf: restrack measures what rxe MRs keep: window-sized extents, one shared list" \
	t_mr_bytes
mib=$((1 << 20))
run_test "rc dmabuf: udmabuf MRs both sides: WRITE, READ, SEND, atomics" \
	t_rc_write_read 18520 --size $mib --backend udmabuf --dmabuf --atomics
run_test "rc dmabuf: test exporter, 4 KiB extents shuffled: WRITE, READ, SEND, atomics" \
	t_rc_write_read 18522 --size $mib --backend testexp --extent-size 4096 --shuffle 3 \
	--dmabuf --atomics
# Other layouts take the same rxe paths with longer extents; the debug
# kernel (as for siw below) runs the fragmented one, the shmem udmabuf
# above, the on-demand and the MMIO cases, and the layouts are checked
# there by the pal and umem import tests.
if [ "$debug_kernel" = 0 ]; then
	run_test "rc dmabuf: system heap MRs: WRITE, READ, SEND, atomics" \
		t_rc_write_read 18521 --size $mib --backend heap --dmabuf --atomics
	run_test "rc dmabuf: test exporter, 64 KiB extents shuffled, lists only" \
		t_rc_write_read 18523 --size $((4 * mib)) --backend testexp \
		--extent-size $((64 << 10)) --shuffle 5 --mode pal --dmabuf --atomics
	run_test "rc dmabuf: test exporter, 2 MiB extents" \
		t_rc_write_read 18524 --size $((4 * mib)) --backend testexp \
		--extent-size $((2 * mib)) --dmabuf --atomics
	run_test "rc dmabuf: udmabuf of hugetlb folios" \
		t_rc_write_read 18525 --size $((4 * mib)) --backend udmabuf-huge --dmabuf --atomics
fi
run_test "rc dmabuf: on-demand MRs on the test exporter" \
	t_rc_write_read 18526 --size $mib --backend testexp --extent-size $((64 << 10)) \
	--shuffle 9 --dmabuf --on-demand --atomics
t_rc_vfio() {
	local bdf
	bdf=$(vfio_ivshmem) || return 1
	t_rc_write_read 18527 --size $mib --backend vfio --pci-device "$bdf" --bar 2 \
		--client-backend udmabuf --dmabuf
}
run_test "rc dmabuf: server MR on a vfio-pci BAR (MMIO through the CPU), client udmabuf" \
	t_rc_vfio
run_test "perftest: ib_write_bw --use_memfd_dmabuf (udmabuf MRs), JSON parses" \
	t_perftest write memfd 18540
run_test "perftest: ib_read_bw --use_sys_dmabuf (system-heap MRs), JSON parses" \
	t_perftest read sys 18541
run_test "perftest: ib_send_bw --use_pal_test_dmabuf (test exporter MRs, 64 KiB extents, shuffled)" \
	t_perftest send pal_test 18542 65536:7
# umem_import ARGS: the ib_umem import test device, DMA-mapping for the
# virtio-rng PCI function every guest has.
virtio_rng() {
	pci_find 0x1af4 0x1005 || { echo "no virtio-rng PCI function" >&2; return 1; }
}
t_umem_import() {
	local rng
	rng=$(virtio_rng) || return 1
	"$bin/umem_import" --pci "$rng" "$@"
}
# The BAR of the ivshmem function imported for the virtio-rng function:
# EOPNOTSUPP, and the kernel's own words that the P2P route check refused
# (pci_p2pdma_map_type() says so the first time it looks at a pair), not
# one of the other refusals that share the errno (no list, a private
# interconnect, a mapping that would bounce).
t_umem_import_vfio_no_route() {
	local bdf rng
	bdf=$(vfio_ivshmem) && rng=$(virtio_rng) || return 1
	"$bin/umem_import" --pci "$rng" --backend vfio --vfio "$bdf" --size $mib --path pal \
		--expect EOPNOTSUPP || return 1
	dmesg | grep -F "$rng: cannot be used for peer-to-peer DMA as the client and provider ($bdf)" ||
		{ echo "the kernel log names no P2P route refusal between $rng and $bdf"; return 1; }
}
# The positive control of that refusal: the same BAR, imported for the
# ivshmem function that owns it. A device reaches its own BAR without
# crossing a bridge (pci_p2pdma_map_type(): PCI_P2PDMA_MAP_BUS_ADDR), so
# the list import must succeed, and the refusal above is the route's.
t_umem_import_vfio_self() {
	local bdf
	bdf=$(vfio_ivshmem) || return 1
	"$bin/umem_import" --pci "$bdf" --backend vfio --vfio "$bdf" "$@"
}
if [ "$swiotlb" = 1 ]; then
	# swiotlb=force: every streaming DMA mapping bounces. A long-lived MR
	# must not: the list path, which maps with DMA_ATTR_REQUIRE_COHERENT
	# as ib_umem_get() does, refuses; the exporter's sg_table path cannot
	# say so and bounces.
	run_test "umem import (forced bounce): list path refuses to bounce (EOPNOTSUPP), test exporter" \
		t_umem_import --backend testexp --size $((4 * mib)) --extent-size $((64 << 10)) \
		--path pal --expect EOPNOTSUPP
	run_test "umem import (forced bounce): list path refuses to bounce (EOPNOTSUPP), udmabuf" \
		t_umem_import --backend udmabuf --size $((4 * mib)) --path pal --expect EOPNOTSUPP
	run_test "umem import (forced bounce): the sg_table path of the same buffer is bounced" \
		t_umem_import --backend testexp --size $((4 * mib)) --extent-size $((64 << 10)) \
		--path sgt
elif [ "$iommu" = 0 ]; then
	run_test "umem import (DMA device): list and sg_table paths agree, test exporter 64 KiB extents" \
		t_umem_import --backend testexp --size $((4 * mib)) --extent-size $((64 << 10)) \
		--expect-pgsz 4096
	run_test "umem import (DMA device): ... shuffled 64 KiB extents" \
		t_umem_import --backend testexp --size $((4 * mib)) --extent-size $((64 << 10)) --shuffle 3
	run_test "umem import (DMA device): ... 2 MiB extents give 2 MiB pages" \
		t_umem_import --backend testexp --size $((8 * mib)) --extent-size $((2 * mib)) \
		--expect-pgsz $((2 * mib))
	run_test "umem import (DMA device): ... udmabuf" t_umem_import --backend udmabuf --size $((4 * mib))
	run_test "umem import (DMA device): ... system heap" t_umem_import --backend heap --size $((4 * mib))
	run_test "umem import (DMA device): ... unaligned window" \
		t_umem_import --backend testexp --size $mib --extent-size $((64 << 10)) \
		--offset 4096 --length $((64 << 10)) --iova 4096
	run_test "umem import (DMA device): ... window starting inside a page" \
		t_umem_import --backend testexp --size $mib --extent-size 4096 --shuffle 2 \
		--offset $((4096 + 100)) --length $((64 << 10)) --iova $((4096 + 100))
	# Windows at the buffer's edges, across range boundaries and in the
	# middle, on every RAM exporter: the list path's binary search must find
	# the blocks the sg_table path finds by walking its table.
	run_test "umem import (DMA device): windows at edges and range boundaries, test exporter 4 KiB extents shuffled" \
		t_umem_import --backend testexp --size $mib --extent-size 4096 --shuffle 5 \
		--windows 4096
	run_test "umem import (DMA device): ... test exporter 64 KiB extents shuffled" \
		t_umem_import --backend testexp --size $((4 * mib)) --extent-size $((64 << 10)) \
		--shuffle 6 --windows $((64 << 10))
	run_test "umem import (DMA device): ... test exporter 2 MiB extents" \
		t_umem_import --backend testexp --size $((8 * mib)) --extent-size $((2 * mib)) \
		--windows $((2 * mib))
	run_test "umem import (DMA device): ... udmabuf" \
		t_umem_import --backend udmabuf --size $((4 * mib)) --windows $((64 << 10))
	run_test "umem import (DMA device): ... udmabuf of hugetlb folios" \
		t_umem_import --backend udmabuf-huge --size $((8 * mib)) --windows $((2 * mib))
	run_test "umem import (DMA device): ... system heap" \
		t_umem_import --backend heap --size $((4 * mib)) --windows $((64 << 10))
	# The other import modes drivers use, on every RAM exporter: both paths
	# agree on page size and blocks, the list path has no more extents.
	for imode in pinned dynamic; do
		run_test "umem import (DMA device, $imode): paths agree, test exporter 64 KiB extents shuffled" \
			t_umem_import --import-mode $imode --backend testexp --size $((4 * mib)) \
			--extent-size $((64 << 10)) --shuffle 3
		run_test "umem import (DMA device, $imode): paths agree, udmabuf" \
			t_umem_import --import-mode $imode --backend udmabuf --size $((4 * mib))
		run_test "umem import (DMA device, $imode): paths agree, udmabuf of hugetlb folios" \
			t_umem_import --import-mode $imode --backend udmabuf-huge --size $((4 * mib)) \
			--expect-pgsz $((2 * mib))
		run_test "umem import (DMA device, $imode): paths agree, system heap" \
			t_umem_import --import-mode $imode --backend heap --size $((4 * mib))
	done
	# Held imports against a moving, then revoked, buffer.
	for imode in revocable pinned dynamic; do
		run_test "umem import (DMA device, $imode): list import across a move and a revoke" \
			t_umem_import --import-mode $imode --backend testexp --size $((4 * mib)) \
			--extent-size $((64 << 10)) --shuffle 4 --path pal --scenario move-revoke
	done
	run_test "umem import (DMA device, dynamic): sg_table import across a move and a revoke" \
		t_umem_import --import-mode dynamic --backend testexp --size $((4 * mib)) \
		--extent-size $((64 << 10)) --shuffle 4 --path sgt --scenario move-revoke
	run_test "umem import (DMA device, dynamic): exporter without lists falls back to sg_table" \
		t_umem_import --import-mode dynamic --backend testexp --size $mib --mode sgt \
		--path pal --expect-fallback
	run_test "umem import (DMA device): exporter without lists falls back to sg_table" \
		t_umem_import --backend testexp --size $mib --mode sgt --path pal --expect-fallback
	run_test "umem import (DMA device): sg_table path refused by a list-only exporter (EOPNOTSUPP)" \
		t_umem_import --backend testexp --size $mib --mode pal --path sgt --expect EOPNOTSUPP
	run_test "umem import (DMA device): vfio BAR to another device: no P2P route here (EOPNOTSUPP)" \
		t_umem_import_vfio_no_route
	run_test "umem import (DMA device): the same vfio BAR to its own device: bus-address route, imported" \
		t_umem_import_vfio_self --size $mib --path pal
else
	run_test "umem import (IOMMU): list path is one IOVA extent, 64 KiB extents shuffled" \
		t_umem_import --iommu --backend testexp --size $((4 * mib)) \
		--extent-size $((64 << 10)) --shuffle 3 --expect-pgsz $((2 * mib))
	run_test "umem import (IOMMU): ... 4 KiB extents shuffled, unaligned window" \
		t_umem_import --iommu --backend testexp --size $mib --extent-size 4096 --shuffle 1 \
		--offset 4096 --length $((64 << 10)) --iova 4096
	run_test "umem import (IOMMU): ... window starting inside a page" \
		t_umem_import --iommu --backend testexp --size $mib --extent-size 4096 --shuffle 2 \
		--offset $((4096 + 100)) --length $((64 << 10)) --iova $((4096 + 100))
	run_test "umem import (IOMMU): ... udmabuf" \
		t_umem_import --iommu --backend udmabuf --size $((4 * mib))
	run_test "umem import (IOMMU): ... system heap" \
		t_umem_import --iommu --backend heap --size $((4 * mib))
	for imode in pinned dynamic; do
		run_test "umem import (IOMMU, $imode): list path is one IOVA extent, 64 KiB extents shuffled" \
			t_umem_import --iommu --import-mode $imode --backend testexp --size $((4 * mib)) \
			--extent-size $((64 << 10)) --shuffle 3 --expect-pgsz $((2 * mib))
	done
	for imode in revocable pinned dynamic; do
		run_test "umem import (IOMMU, $imode): list import across a move and a revoke" \
			t_umem_import --iommu --import-mode $imode --backend testexp \
			--size $((4 * mib)) --extent-size $((64 << 10)) --shuffle 4 --path pal \
			--scenario move-revoke
	done
	run_test "umem import (IOMMU): vfio BAR to another device: no P2P route here (EOPNOTSUPP)" \
		t_umem_import_vfio_no_route
	run_test "umem import (IOMMU): the same vfio BAR to its own device: bus-address route, imported" \
		t_umem_import_vfio_self --size $mib --path pal
fi
# rxe's responder answers an access to a revoked MR with a NAK, which the
# requester completes as a remote access error. siw never reports one: the
# responder terminates the connection, so the WR in flight completes with a
# local QP operation error or is flushed. Any other status (a retry timeout
# of a peer that stopped answering, a local protection error) fails.
run_test "revoke: pinned MR under traffic: peer gets an error, nothing written after revoke" \
	t_revoke 18530 --action revoke -- --expect error --expect-status REM_ACCESS_ERR
run_test "revoke: on-demand MR under traffic: peer gets an error, nothing written after revoke" \
	t_revoke 18531 --action revoke --on-demand -- --expect error --expect-status REM_ACCESS_ERR
# The move tests run pairs until three follow the moves: 256 KiB keeps a
# pair short on the debug kernel.
run_test "move: on-demand MR moved 3 times under traffic: data stays correct" \
	t_revoke 18532 --action move --on-demand --size $((256 << 10)) -- --expect success \
	--size $((256 << 10))
run_test "move: a pinned MR's buffer cannot be moved (EBUSY), traffic unharmed" \
	t_revoke 18533 --action move-pinned --size $((256 << 10)) -- --expect success \
	--size $((256 << 10))
run_test "fence: the test exporter frees moved memory only after the reservation's fences" \
	"$bin/dmabuf_fence" --test move-waits
run_test "fence: an on-demand MR whose move hangs fails the WRITE in bounded time, then recovers" \
	in_b "$bin/dmabuf_fence" --test fault-bounded --device rxe_b
# Races and random operations, single process on rxe_b: two RC QPs of
# rxe_b connected to each other carry the traffic.
t_race() {
	in_b timeout 600 "$bin/dmabuf_race" --device rxe_b --seconds "$1" "${@:2}"
}
race_seconds=10
[ "$debug_kernel" = 1 ] && race_seconds=20
run_test "race: register/deregister, move and revoke against traffic, on-demand MR" \
	t_race "$race_seconds" --seed 11
run_test "race: register/deregister, move and revoke against traffic, pinned MR" \
	t_race "$race_seconds" --seed 12 --pinned
t_stress() {
	local ops=$stress_ops bdf
	[ -n "$ops" ] || ops=20000
	# Under KASAN and lockdep the operations are 7 times slower; half as
	# many still cover every kind of operation thousands of times.
	[ "$debug_kernel" = 1 ] && [ -z "$stress_ops" ] && ops=10000
	bdf=$(vfio_ivshmem) || return 1
	in_b timeout 1200 "$bin/dmabuf_stress" --device rxe_b --ops "$ops" --vfio "$bdf" \
		${stress_seed:+--seed "$stress_seed"}
}
run_test "stress: seeded random operations checked against a model" t_stress

# t_faults OP: dmabuf_faults makes each fault-injectable call of OP fail
# in turn (the debug kernel has FAILSLAB and FAIL_PAGE_ALLOC); MRs on
# rxe_a, imports for the virtio-rng function, vfio on the ivshmem BAR.
t_faults() {
	local rng bdf
	rng=$(virtio_rng) && bdf=$(vfio_ivshmem) || return 1
	"$bin/dmabuf_faults" --op "$1" --device "${2:-rxe_a}" --pci "$rng" --vfio "$bdf"
}
if [ "$debug_kernel" = 1 ]; then
	run_test "faults: pinned ibv_reg_dmabuf_mr of every exporter, each allocation failing in turn" \
		t_faults reg
	run_test "faults: on-demand ibv_reg_dmabuf_mr, each allocation failing in turn" \
		t_faults reg-odp
	run_test "faults: list import in every mode for a DMA device, each allocation failing in turn" \
		t_faults import
	run_test "faults: moving a buffer with on-demand MR and dynamic import, each allocation failing" \
		t_faults move
	run_test "faults: revoking a buffer with pinned MR and revocable import, each allocation failing" \
		t_faults revoke
	run_test "faults: deregistering pinned and on-demand MRs, each allocation failing in turn" \
		t_faults dereg
fi
# --- soft-iWARP ---------------------------------------------------------------
# The rxe dma-buf groups again on siw_a/siw_b over the same veth pair, which
# replace rxe_a/rxe_b (every rxe test above is done). siw has no on-demand
# dma-buf MRs (its RX path places data in softirq, where a moved buffer
# cannot be mapped again) and no atomics: the programs are told so and
# check that both are refused, rather than leaving the cases out. On the
# debug kernel each group runs once, on a fragmented exporter where there
# is a choice; on the normal kernel every exporter.
t_siw_pair() {
	setup_siw || return 1
	rdma link show
	local lib
	lib=$(ls "$rdma_core_lib"/libsiw-rdmav*.so) || return 1
	grep -c reg_dmabuf_mr "$lib" >/dev/null ||
		{ echo "the siw provider has no reg_dmabuf_mr"; return 1; }
	[ ! -e /sys/class/infiniband/rxe_a ] && [ ! -e /sys/class/infiniband/rxe_b ] ||
		{ echo "an rxe device is left"; return 1; }
}
t_siw_reg() {
	local bdf regs
	bdf=$(vfio_ivshmem) && regs=$(vfio_edu) || return 1
	in_a "$bin/dmabuf_reg" --device siw_a --vfio "$bdf" --vfio-registers "$regs" --no-on-demand \
		--no-atomics
}
t_siw_rc_vfio() {
	local bdf
	bdf=$(vfio_ivshmem) || return 1
	t_rc_write_read 18567 --size $mib --backend vfio --pci-device "$bdf" --bar 2 \
		--client-backend udmabuf --dmabuf --atomics-refused
}
t_siw_race() {
	in_b timeout 600 "$bin/dmabuf_race" --device siw_b --seconds "$race_seconds" \
		--seed 13 --no-on-demand
}
t_siw_stress() {
	local ops=$stress_ops bdf
	[ -n "$ops" ] || ops=20000
	[ "$debug_kernel" = 1 ] && [ -z "$stress_ops" ] && ops=5000
	bdf=$(vfio_ivshmem) || return 1
	in_b timeout 1200 "$bin/dmabuf_stress" --device siw_b --ops "$ops" --vfio "$bdf" \
		--no-on-demand --no-atomics ${stress_seed:+--seed "$stress_seed"}
}
run_test "siw: siw_a and siw_b replace the rxe devices on the veth pair, active" t_siw_pair
run_test "siw dmabuf: ibv_reg_dmabuf_mr: right errno, on-demand refused (EINVAL)" t_siw_reg
# pyverbs connects its traffic tests' QPs by GID, without rdma_cm, which
# iWARP cannot do ("No supported port is up"): on siw its registration
# tests run, and our own rc tests below carry the traffic.
run_test "rdma-core tests: DmaBufMRTest on siw, udmabuf, none skipped" \
	t_pyverbs siw_a udmabuf 8 0 -k DmaBufMRTest
run_test "siw rc dmabuf: test exporter, 4 KiB extents shuffled: WRITE, READ, SEND, atomics refused" \
	t_rc_write_read 18562 --size $mib --backend testexp --extent-size 4096 --shuffle 3 \
	--dmabuf --atomics-refused
if [ "$debug_kernel" = 0 ]; then
	run_test "siw rc dmabuf: udmabuf MRs both sides" \
		t_rc_write_read 18560 --size $mib --backend udmabuf --dmabuf --atomics-refused
	run_test "siw rc dmabuf: system heap MRs" \
		t_rc_write_read 18561 --size $mib --backend heap --dmabuf --atomics-refused
	run_test "siw rc dmabuf: test exporter, 64 KiB extents shuffled, lists only" \
		t_rc_write_read 18563 --size $((4 * mib)) --backend testexp \
		--extent-size $((64 << 10)) --shuffle 5 --mode pal --dmabuf --atomics-refused
	run_test "siw rc dmabuf: test exporter, 2 MiB extents" \
		t_rc_write_read 18564 --size $((4 * mib)) --backend testexp \
		--extent-size $((2 * mib)) --dmabuf --atomics-refused
	run_test "siw rc dmabuf: udmabuf of hugetlb folios" \
		t_rc_write_read 18565 --size $((4 * mib)) --backend udmabuf-huge --dmabuf \
		--atomics-refused
fi
run_test "siw rc dmabuf: server MR on a vfio-pci BAR (MMIO through the CPU), client udmabuf" \
	t_siw_rc_vfio
run_test "siw revoke: pinned MR under traffic: peer gets an error, nothing written after revoke" \
	t_revoke 18570 --action revoke -- --expect error --expect-status WR_FLUSH_ERR,LOC_QP_OP_ERR
run_test "siw move: a pinned MR's buffer cannot be moved (EBUSY), traffic unharmed" \
	t_revoke 18571 --action move-pinned --size $((256 << 10)) -- --expect success \
	--size $((256 << 10))
run_test "siw race: register/deregister, move and revoke against traffic, pinned MRs" \
	t_siw_race
run_test "siw stress: seeded random operations checked against a model, pinned MRs" \
	t_siw_stress
if [ "$debug_kernel" = 1 ]; then
	run_test "siw faults: pinned ibv_reg_dmabuf_mr of every exporter, each allocation failing in turn" \
		t_faults reg siw_a
	run_test "siw faults: revoking a buffer with pinned MR and revocable import, each allocation failing" \
		t_faults revoke siw_a
fi

[[ kunit =~ $only && ! ( -n $skip && kunit =~ $skip ) ]] && t_kunit
[ "$debug_kernel" = 1 ] && run_test "kmemleak: no leak after the suite" t_kmemleak
run_test "dmesg: no kernel splat during the suite" t_dmesg_clean
if [ -n "$expect_tests" ] && [ "$n" != "$expect_tests" ]; then
	n=$((n + 1))
	failed=$((failed + 1))
	emit "not ok $n - selection '$only'${skip:+ without '$skip'} ran $((n - 1)) test(s), expected $expect_tests"
fi
emit "1..$n"
emit "# $((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
