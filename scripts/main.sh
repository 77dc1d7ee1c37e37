#!/usr/bin/env bash
# The main job (the README's first command): build the patched guest kernel
# and the userspace, boot the kernel in QEMU, bring up soft-RoCE between two
# network namespaces and run the RDMA smoke test there; the results and the
# console log go to results/.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. scripts/lib.sh

scripts/deps.sh
scripts/kernel-tree.sh
scripts/kernel-build.sh
cmake -S . -B build/cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/cmake -j"$(nproc)"

mkdir -p results
rc=0
scripts/vm-run.sh --out "$top/results/smoke" --append kunit.enable=0 -- \
	tests/guest/run.sh --bin "$top/build/cmake/tests/guest" --only '^(rxe|rc|dmesg):' || rc=$?
echo
cat results/smoke/summary
grep -E '^(ok|not ok) ' results/smoke/guest.tap
exit "$rc"
