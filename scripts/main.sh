#!/usr/bin/env bash
# The main job (the README's first command): build the patched guest kernel
# (without debug checks: build/kobj-bench),
# the patched rdma-core and perftest and our userspace, boot the kernel in
# QEMU, bring up soft-RoCE between two network namespaces and run the
# benchmark suite there (scripts/bench-run.sh); JSON, CSV, plots and
# report.md go to results/bench/.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. scripts/lib.sh

scripts/deps.sh
scripts/kernel-tree.sh
# The benchmark kernel: the series without per-operation debug checks
# (kernel/config/bench.config), so that the figures are the code's.
scripts/kernel-build.sh --bench
kobj_bench=$BUILD_DIR/kobj-bench
scripts/userspace-tree.sh rdma-core
KOBJ=$kobj_bench scripts/userspace-tree.sh perftest
cmake -S . -B build/cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DRDMA_PAL_KERNEL_HEADERS="$kobj_bench/usr/include" >/dev/null
cmake --build build/cmake -j"$(nproc)"

mkdir -p results
rc=0
scripts/bench-run.sh --kernel "$kobj_bench/vmlinux" --progress --out "$top/results/bench" || rc=$?
echo
cat results/bench/summary
[ -f results/bench/report.md ] && cat results/bench/report.md
echo "results: $top/results/bench (report.md, *.json, *.csv, *.png, *.svg)"
exit "$rc"
