#!/usr/bin/env bash
# Run every rdma-pal test (the README's test command; .ci/run calls it):
#   1. install dependencies from Debian's archive;
#   2. make build/linux (Linux 7.2 + kernel/patches) and build the guest kernel
#      at every patch of the series (each must build), ending at the last,
#      and the debug kernel (KASAN, lockdep, kmemleak) of the whole series,
#      and the kernel without on-demand paging (incremental on the first);
#   3. build the userspace, host tests and guest test programs with CMake;
#   4. ctest: host tests, the kernel series checks (export round trip,
#      checkpatch --strict), and the guest suite on the patched kernel in QEMU
#      (soft-RoCE, dma-buf, KUnit, dmesg splat check), on the normal and on
#      the debug kernel;
#   5. print one TAP stream of all results and "N passed, N failed".
# Exits non-zero if anything failed.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. scripts/lib.sh

t_start=$(now)
scripts/deps.sh
t_deps=$(now)
scripts/kernel-tree.sh
scripts/kernel-build-series.sh
scripts/kernel-build.sh --debug
scripts/kernel-build.sh --no-odp
t_kernel=$(now)
scripts/userspace-tree.sh rdma-core
scripts/userspace-tree.sh perftest
cmake -S . -B build/cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DRDMA_PAL_KERNEL_HEADERS="$top/build/kobj/usr/include" >/dev/null
cmake --build build/cmake -j"$(nproc)"
t_user=$(now)

rc=0
ctest --test-dir build/cmake --output-on-failure --output-junit junit.xml || rc=$?
t_tests=$(now)

echo
echo "timings: deps $((t_deps - t_start)) s, kernel tree+build $((t_kernel - t_deps)) s," \
	"userspace $((t_user - t_kernel)) s, tests $((t_tests - t_user)) s," \
	"total $((t_tests - t_start)) s"
cat build/cmake/vm-out/guest/summary build/cmake/vm-out/guest-debug/summary \
	build/cmake/vm-out/guest-iommu/summary build/cmake/vm-out/guest-swiotlb/summary \
	build/cmake/vm-out/guest-noodp/summary \
	2>/dev/null
echo
python3 scripts/summarize.py build/cmake/junit.xml \
	--tap guest-suite=build/cmake/vm-out/guest/guest.tap \
	--tap guest-suite-debug=build/cmake/vm-out/guest-debug/guest.tap \
	--tap guest-iommu=build/cmake/vm-out/guest-iommu/guest.tap \
	--tap guest-swiotlb=build/cmake/vm-out/guest-swiotlb/guest.tap \
	--tap guest-noodp=build/cmake/vm-out/guest-noodp/guest.tap || rc=1
exit "$rc"
