#!/usr/bin/env bash
# Install what rdma-pal needs from Debian's archive (Debian 12 or later).
# Runs 'apt-get update' only when something is missing.
set -euo pipefail

packages=(
	# kernel build
	build-essential bc bison flex libelf-dev libssl-dev cpio xz-utils kmod
	perl python3 python3-ply python3-git git ccache
	# guest
	qemu-system-x86 iproute2 iputils-ping procps
	# RDMA userspace
	cmake pkg-config rdma-core ibverbs-providers ibverbs-utils libibverbs-dev
	librdmacm-dev rdmacm-utils perftest
	# patched rdma-core and perftest builds (scripts/userspace-tree.sh)
	ninja-build libnl-3-dev libnl-route-3-dev autoconf automake libtool
	libpci-dev libibumad-dev
	# pyverbs, to run rdma-core's own tests in the guest
	cython3 python3-dev
	# reports
	jq gnuplot-nox hwloc libhwloc-dev
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
