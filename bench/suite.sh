#!/bin/bash
# The benchmark suite. Runs inside the rdma-pal guest (scripts/vm-run.sh) on
# the soft-RoCE pair of tests/guest/rxe-pair.sh:
#
#   bench/suite.sh --bench PAL_BENCH --rdma-core-lib DIR --perftest DIR
#                  [--quick] [--ivshmem] [--only large-huge|import]
#
# Writes into $RDMA_PAL_OUT (the VM's output share): topo.json,
# reg.json/.csv, reg-windows.json/.csv, reg-many.json/.csv,
# reg-large-testexp.json/.csv, revoke.json/.csv, refault.json,
# import.json/.csv, import-windows.json/.csv, bw-<verb>-<memory>-<path>.json,
# the side-by-side perftest runs perftest-*.json and pal_bench-*.json, every
# round of the compared pairs in rounds/ (bw-<verb>-udmabuf-<path>-r<N>.json,
# <perftest|pal_bench>-<memory>-r<N>.json), then on the soft-iWARP pair
# siw-reg.json/.csv and siw-bw-<verb>-<memory>-<path>.json, and suite.log.
# --quick shrinks every sweep to a smoke run (tests use it), and adds
# reg-large-huge.json/.csv of 2 MiB hugetlb folios.
# --only runs one part, for a boot of its own: large-huge the registration
# of 1 GiB hugetlb folios (reg-large-huge.json/.csv, hugepages-1g.txt; the
# guest must reserve its 1 GiB pages at boot), import the kernel import
# sweeps (for a boot behind an IOMMU).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/guest/rxe-pair.sh"

bench="" rdma_core_lib="" perftest="" quick=0 ivshmem=0 only=""
while [ $# -gt 0 ]; do
	case "$1" in
	--bench) bench=$2; shift ;;
	--rdma-core-lib) rdma_core_lib=$2; shift ;;
	--perftest) perftest=$2; shift ;;
	--quick) quick=1 ;;
	--ivshmem) ivshmem=1 ;;
	--only) only=$2; shift ;;
	*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done
[ -x "$bench" ] && [ -d "$rdma_core_lib" ] && [ -x "$perftest/ib_write_bw" ] || {
	echo "usage: $0 --bench PAL_BENCH --rdma-core-lib DIR --perftest DIR" >&2
	exit 2
}
bench=$(realpath "$bench") rdma_core_lib=$(realpath "$rdma_core_lib")
perftest=$(realpath "$perftest")
cd "${RDMA_PAL_OUT:?not in the rdma-pal guest}" || exit 1
export LD_LIBRARY_PATH=$rdma_core_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PATH=$(dirname "$rdma_core_lib")/bin:$PATH
failed=0

step() { echo "== $*" >&2; }
# GiB the guest can still give a buffer.
mem_avail_gib() { awk '/^MemAvailable:/ { print int($2 / 1048576) }' /proc/meminfo; }
fail() { echo "FAILED: $*" >&2; failed=$((failed + 1)); }

# pair PORT ARGS...: pal_bench bw server in pal_b, client in pal_a.
pair() {
	local port=$1
	shift
	run_pair "$bench" bw --server $ADDR_B -p "$port" "$@" -- \
		"$bench" bw --client $ADDR_B -p "$port" "$@"
}

# perftest_pair PORT JSON ARGS...: the patched perftest's ib_write_bw likewise.
perftest_pair() {
	local port=$1 json=$2
	shift 2
	run_pair "$perftest/ib_write_bw" -d rxe_b -R -p "$port" "$@" -- \
		"$perftest/ib_write_bw" -d rxe_a -R -p "$port" "$@" --out_json \
		--out_json_file="$json" $ADDR_B
}

# The sweeps' largest buffers are above the exporters' defaults (udmabuf's
# 64 MiB, the test exporter's 1 GiB).
modprobe dma-buf-pal-test 2>/dev/null
echo 32768 >/sys/module/udmabuf/parameters/size_limit_mb
echo 16384 >/sys/module/dma_buf_pal_test/parameters/size_limit_mb

step "soft-RoCE pair"
setup_rxe || { echo "no rxe pair" >&2; exit 1; }

step "topology"
vfio_bdf=""
if [ "$ivshmem" = 1 ]; then
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = 0x1af4 ] && [ "$(cat "$d/device")" = 0x1110 ] &&
			vfio_bdf=$(basename "$d")
	done
fi
"$bench" topo -d rxe_a ${vfio_bdf:+--exporter-pci $vfio_bdf} --out_json_file=topo.json ||
	fail topo
cat topo.json >&2

if [ "$quick" = 1 ]; then
	reg_args=(--max-size 64K -n 2 --memory udmabuf --memory testexp:4K:1)
	siw_reg_args=("${reg_args[@]}")
	revoke_args=(--mrs 1 --mrs 4 -n 2)
	window_args=(--window 64K --held-mrs 4 --min-size 1M --max-size 4M -n 2 --memory testexp:4K:1
		     --memory udmabuf)
	many_args=(--window 64K --held-mrs 1 --held-mrs 64 -s 4M -s 16M -n 1
		   --memory testexp:4K:1)
	# Large buffers, small: 2 MiB extents and 2 MiB hugetlb folios.
	large_testexp_args=(-s 16M -n 2 --memory testexp:2M)
	large_huge_args=(-s 16M -n 2 --memory udmabuf-huge --anonymous-baseline)
	import_args=(--max-size 1M -n 2 --extent 64K)
	import_window_args=(--window 64K --min-size 256K --max-size 1M -n 2 --extent 4K
			    --import-mode pinned)
	refault_args=(-n 3)
	bw_rw=(-s 65536 -n 100)
	bw_send=(-s 65536 -n 100)
	pt_args=(-s 65536 -n 100)
	rounds=3
else
	reg_args=(--max-size 256M -n 5)
	siw_reg_args=(--max-size 256M -n 5 --memory udmabuf --memory testexp:4K:1
		      --memory testexp:2M)
	revoke_args=(-n 5)
	# Per-MR cost against the buffer's size: 16 windows of 64 KiB held on
	# buffers of 4 MiB to 256 MiB, fully fragmented, of 2 MiB extents, and
	# udmabuf (whose baseline registers the same pages).
	window_args=(--window 64K --held-mrs 16 --min-size 4M --max-size 256M -n 5
		     --memory testexp:4K:1 --memory testexp:2M --memory udmabuf)
	# Many MRs held on one fully fragmented buffer: 1 to 10,000 windows
	# of 64 KiB on 64 MiB to 8 GiB (where the guest's memory allows; the
	# windows overlap where more are held than fit).
	many_args=(--window 64K --held-mrs 1 --held-mrs 10 --held-mrs 100 --held-mrs 1000
		   --held-mrs 10000 -n 3 --memory testexp:4K:1 -s 64M -s 512M)
	[ "$(mem_avail_gib)" -ge 11 ] && many_args+=(-s 8G)
	# Large buffers: the test exporter's layouts at 1 GiB (4 KiB and
	# 64 KiB extents shuffled, 2 MiB extents) against anonymous 4 KiB
	# memory of the same size, and 1 GiB hugetlb folios from 1 GiB to
	# 16 GiB against ibv_reg_mr of the same pages, and of anonymous
	# memory at 1 GiB.
	large_testexp_args=(-s 1G -n 3 --memory testexp:4K:1 --memory testexp:64K:1
			    --memory testexp:2M)
	# -n 5: the first registration of the boot is cold (78 and 561 us at
	# 1 GiB where every later size took 16-66 us); the median of five
	# is not the mean of a cold and a warm one.
	large_huge_args=(-n 5 --memory udmabuf-huge:1G --anonymous-baseline --anonymous-max 1G)
	import_args=(-n 5)
	# One 64 KiB MR at the end of buffers of 4 MiB to 256 MiB: which path's
	# cost follows the MR, which the buffer's.
	import_window_args=(--window 64K --min-size 4M --max-size 256M -n 5 --extent 4K
			    --extent 2M --import-mode pinned --import-mode dynamic)
	refault_args=(-n 20)
	# -n rather than -D: with 128 messages in flight a timed run of 8 MiB
	# messages lasts 20 s under TCG whatever the duration asked. -Q 10:
	# a completion every 10 of the 50 messages, so that the peak has
	# windows to compare (perftest's default for -a, 100, would leave one
	# completion per size); the two paths compared run the same. The
	# perftest comparison (pt_args) keeps perftest's defaults.
	bw_rw=(-a -n 50 -Q 10)
	bw_send=(-a -n 50 -Q 10)
	pt_args=(-s 65536 -n 2000)
	# Compared pairs run this often each: under TCG one run of a pair
	# is not enough (the SEND ratio at 8 MiB came out 0.64 in one run
	# and 1.00 in another).
	rounds=5
fi

# Registration of large buffers of huge folios against ibv_reg_mr of the
# same pages and of anonymous memory. The full sweep takes as many of the
# 1 GiB pages the guest reserved at boot (hugepagesz=1G) as there are, up
# to 16: sizes of 1 GiB to 16 GiB.
large_huge() {
	step "registration of large buffers of huge folios"
	if [ "$quick" = 0 ]; then
		local got g
		got=$(cat /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages 2>/dev/null)
		echo "1 GiB hugetlb pages reserved: ${got:-none}" >&2
		echo "${got:-0}" >hugepages-1g.txt
		for g in 1 2 4 8 16; do
			[ "$g" -le "${got:-0}" ] && large_huge_args+=(-s ${g}G)
		done
		[ "${got:-0}" -ge 1 ] || { fail "no 1 GiB hugetlb page reserved"; return; }
	fi
	in_a "$bench" reg -d rxe_a "${large_huge_args[@]}" --out_json_file=reg-large-huge.json \
		--out_csv=reg-large-huge.csv || fail "reg large, hugetlb"
}

# The kernel import for a DMA device, list vs sg_table: the main boot, and
# a boot behind an IOMMU (--only import).
import_sweeps() {
	step "kernel import for a DMA device: list vs sg_table"
	"$bench" import "${import_args[@]}" --out_json_file=import.json --out_csv=import.csv ||
		fail import
	"$bench" import "${import_window_args[@]}" --out_json_file=import-windows.json \
		--out_csv=import-windows.csv || fail "import windows"
}

case "$only" in
"") ;;
large-huge)
	large_huge
	echo "suite: $failed step(s) failed" >&2
	[ "$failed" = 0 ]
	exit ;;
import)
	import_sweeps
	echo "suite: $failed step(s) failed" >&2
	[ "$failed" = 0 ]
	exit ;;
*) echo "unknown --only $only" >&2; exit 2 ;;
esac

step "registration"
in_a "$bench" reg -d rxe_a "${reg_args[@]}" --out_json_file=reg.json --out_csv=reg.csv ||
	fail reg

step "registration of windows: per-MR cost vs buffer size"
in_a "$bench" reg -d rxe_a "${window_args[@]}" --out_json_file=reg-windows.json \
	--out_csv=reg-windows.csv || fail "reg windows"
step "many MRs on one buffer"
in_a "$bench" reg -d rxe_a "${many_args[@]}" --out_json_file=reg-many.json \
	--out_csv=reg-many.csv || fail "reg many"

step "registration of large buffers"
in_a "$bench" reg -d rxe_a "${large_testexp_args[@]}" --out_json_file=reg-large-testexp.json \
	--out_csv=reg-large-testexp.csv || fail "reg large, test exporter"
# The full sweep of 1 GiB folios needs the guest's 1 GiB pages reserved at
# boot, in a boot of its own (--only large-huge); the quick one uses the
# 2 MiB pages every guest reserves.
[ "$quick" = 1 ] && large_huge

step "revoke"
in_a "$bench" revoke -d rxe_a "${revoke_args[@]}" --out_json_file=revoke.json \
	--out_csv=revoke.csv || fail revoke

step "re-fault of an on-demand MR after a move"
run_pair "$bench" refault --server $ADDR_B -p 18690 "${refault_args[@]}" -- \
	"$bench" refault --client $ADDR_B -p 18690 "${refault_args[@]}" \
	--out_json_file=refault.json || fail refault

import_sweeps

# Compared pairs run $rounds times, the two sides taking turns to go first,
# so that the emulator's drift taxes both alike; rounds/ holds every run,
# the report takes medians and spread of the per-round ratios, and round 1
# is also the single run the tables and plots show.
mkdir -p rounds
# round_order R A B: A B in odd rounds, B A in even ones.
round_order() { if [ $(($1 % 2)) = 1 ]; then echo "$2 $3"; else echo "$3 $2"; fi; }

step "bandwidth"
port=18700
for verb in write read send; do
	args=("${bw_rw[@]}")
	[ "$verb" = send ] && args=("${bw_send[@]}")
	# memory, path: other memory as dma-bufs, once each.
	for mp in host:reg_mr heap:dmabuf testexp:64K:1:dmabuf; do
		path=${mp##*:} mem=${mp%:*}
		flags=()
		[ "$path" = dmabuf ] && flags=(--dmabuf)
		port=$((port + 1))
		pair $port --verb $verb --memory "$mem" "${flags[@]}" "${args[@]}" \
			--out_json_file="bw-$verb-${mem//:/_}-$path.json" || fail "bw $verb $mem $path"
	done
	# The compared pair: a dma-buf MR and ibv_reg_mr of the same udmabuf pages.
	for r in $(seq 1 "$rounds"); do
		for path in $(round_order "$r" reg_mr dmabuf); do
			flags=()
			[ "$path" = dmabuf ] && flags=(--dmabuf)
			port=$((port + 1))
			pair $port --verb $verb --memory udmabuf "${flags[@]}" "${args[@]}" \
				--out_json_file="rounds/bw-$verb-udmabuf-$path-r$r.json" ||
				fail "bw $verb udmabuf $path, round $r"
		done
	done
	for path in reg_mr dmabuf; do
		cp "rounds/bw-$verb-udmabuf-$path-r1.json" "bw-$verb-udmabuf-$path.json" ||
			fail "bw $verb udmabuf $path"
	done
done

step "side by side with perftest (ib_write_bw, 64 KiB)"
port=18800
for r in $(seq 1 "$rounds"); do
	for tool in $(round_order "$r" perftest pal_bench); do
		for mem in host udmabuf; do
			port=$((port + 1))
			json=rounds/$tool-$mem-r$r.json
			if [ "$tool" = perftest ]; then
				flags=()
				[ "$mem" = udmabuf ] && flags=(--use_memfd_dmabuf)
				perftest_pair $port "$json" "${pt_args[@]}" "${flags[@]}"
			else
				flags=()
				[ "$mem" = udmabuf ] && flags=(--dmabuf)
				pair $port --verb write --memory "$mem" "${flags[@]}" "${pt_args[@]}" \
					--out_json_file="$json"
			fi || fail "$tool $mem, round $r"
		done
	done
done
for tool in perftest pal_bench; do
	for mem in host udmabuf; do
		cp "rounds/$tool-$mem-r1.json" "$tool-$mem.json" || fail "$tool $mem"
	done
done

# soft-iWARP: the same registration and bandwidth measurements on siw,
# which replaces rxe on the same veth pair (nothing above runs after this).
# siw copies a dma-buf MR's payload out under the MR's lock where it would
# send user memory zero copy. It sends only unsignaled requests zero copy:
# with pal_bench's CQ moderation (bw_rw: one completion in 10), most
# requests of the ibv_reg_mr baseline go out zero copy and every one of
# the dma-buf MR copies, which is the cost users will see.
step "soft-iWARP pair (siw_a, siw_b replace rxe_a, rxe_b)"
if setup_siw; then
	step "siw: registration"
	in_a "$bench" reg -d siw_a "${siw_reg_args[@]}" --out_json_file=siw-reg.json \
		--out_csv=siw-reg.csv || fail "siw reg"
	step "siw: bandwidth"
	for verb in write read; do
		for mp in udmabuf:reg_mr udmabuf:dmabuf testexp:64K:1:dmabuf; do
			path=${mp##*:} mem=${mp%:*}
			flags=()
			[ "$path" = dmabuf ] && flags=(--dmabuf)
			port=$((port + 1))
			pair $port --verb $verb --memory "$mem" "${flags[@]}" "${bw_rw[@]}" \
				--out_json_file="siw-bw-$verb-${mem//:/_}-$path.json" ||
				fail "siw bw $verb $mem $path"
		done
	done
else
	fail "no siw pair"
fi

echo "suite: $failed step(s) failed" >&2
[ "$failed" = 0 ]
