#!/usr/bin/env bash
# The main job (the README's first command): build the patched guest kernel,
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
scripts/kernel-build.sh
scripts/userspace-tree.sh rdma-core
scripts/userspace-tree.sh perftest
cmake -S . -B build/cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/cmake -j"$(nproc)"

mkdir -p results
rc=0
scripts/bench-run.sh --out "$top/results/bench" || rc=$?
echo
cat results/bench/summary
[ -f results/bench/report.md ] && cat results/bench/report.md
echo "results: $top/results/bench (report.md, *.json, *.csv, *.png, *.svg)"
exit "$rc"
