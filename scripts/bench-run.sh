#!/usr/bin/env bash
# Run the benchmark suite (bench/suite.sh) in the guest on soft-RoCE and
# write the report.
#
#   scripts/bench-run.sh --out DIR [--quick] [--debug]
#
# Needs the kernel (scripts/kernel-build.sh), the patched rdma-core and
# perftest (scripts/userspace-tree.sh) and the CMake build (build/cmake).
# DIR gets the JSON/CSV of every benchmark, the plots (PNG and SVG), the
# console log and report.md. --quick makes it a smoke run of every
# benchmark. Exit status non-zero if a benchmark failed or its numbers are
# inconsistent (scripts/report.py).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out="" quick=() vm_args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--out) out=$2; shift ;;
	--quick) quick=(--quick) ;;
	--debug) vm_args+=(--debug --timeout 2400) ;;
	*) die "unknown argument: $1" ;;
	esac
	shift
done
[ -n "$out" ] || die "usage: $0 --out DIR [--quick] [--debug]"
bench=$BUILD_DIR/cmake/bench/pal_bench
[ -x "$bench" ] || die "no $bench: build the CMake project first"

rc=0
"$RDMA_PAL_TOP/scripts/vm-run.sh" "${vm_args[@]}" --out "$out" --timeout 3600 \
	--ivshmem 16M --append vfio.enable_unsafe_noiommu_mode=1 -- \
	"$RDMA_PAL_TOP/bench/suite.sh" --bench "$bench" \
	--rdma-core-lib "$BUILD_DIR/rdma-core/build/lib" \
	--perftest "$BUILD_DIR/perftest" --ivshmem "${quick[@]}" || rc=$?
python3 "$RDMA_PAL_TOP/scripts/report.py" "$out" || rc=1
exit "$rc"
