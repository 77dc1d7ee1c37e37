#!/bin/bash
# PID 1 of the rdma-pal guest. The host root is mounted read-only over 9p;
# the host's output directory is the 9p share "rdmapalout". Runs
# <out>/payload.sh, records its exit status in <out>/status and the kernel
# log in <out>/dmesg.txt, then powers the guest off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8

# This project, as the host shares it: found now, before tmpfs mounts below
# may hide it (a clone under /tmp or /run).
top=$(cd "$(dirname "$0")/.." && pwd)

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug
mount -t configfs configfs /sys/kernel/config
# tmpfs over /tmp, /run and /dev/shm (and devtmpfs over /dev) hide what the
# host has there. A project that lives below one of them is bound back from
# a plain bind of the 9p root, which shows the host's directories under
# those mount points.
if [ ! -f "$top/scripts/guest-init.sh" ]; then
	mkdir -p /dev/.rdma-pal-host "$top" &&
		mount --bind / /dev/.rdma-pal-host &&
		mount --bind "/dev/.rdma-pal-host$top" "$top" ||
		echo "rdma-pal guest: cannot reach the project at $top" >/dev/console
fi
mkdir -p /run/out /run/netns
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 rdmapalout /run/out
hostname rdma-pal-guest
ip link set lo up

echo "rdma-pal guest: init at $(cut -d' ' -f1 /proc/uptime) s uptime" >/dev/console
cd /run/out || exit 1
# The payload's output goes both to payload.log and to the console, there
# behind "| " so that it is never taken for a kernel message.
bash /run/out/payload.sh 2>&1 | tee /run/out/payload.log | sed -u 's/^/| /' >/dev/console
rc=${PIPESTATUS[0]}
dmesg >/run/out/dmesg.txt
echo "$rc" >/run/out/status
echo "rdma-pal guest: payload exited $rc at $(cut -d' ' -f1 /proc/uptime) s uptime" >/dev/console
sync
cd / && umount /run/out
# Power off with builtins only: once the poweroff starts, the 9p root may be
# gone, and an exec failing then (seen: sleep got EIO) kills init, a panic.
echo o >/proc/sysrq-trigger
while :; do read -r -t 1 _ </dev/console || :; done
