#!/usr/bin/env bash
# Boot the guest kernel in QEMU and run one command in it.
#
#   scripts/vm-run.sh [options] -- COMMAND [ARG...]
#
# The host root is shared read-only over 9p and is the guest's root, so the
# guest sees this project and the host's tools at their usual paths. OUT is
# shared writable; inside the guest it is /run/out and the current directory.
# COMMAND runs as root in the project's top directory.
#
# Options:
#   --kernel PATH    vmlinux to boot (default build/kobj/vmlinux)
#   --debug          boot build/kobj-debug/vmlinux
#   --out DIR        results directory (default build/vm-out/last); emptied
#   --accel A        auto (default), kvm or tcg. auto probes KVM with a short
#                    boot and falls back to TCG: this machine's nested KVM
#                    aborts guests on some instructions (cmpxchg16b, xrstor)
#   --timeout S      whole-run limit in seconds (default 1200)
#   --mem SIZE       guest memory (default 2G)
#   --smp N          guest CPUs (default 2)
#   --append ARGS    extra kernel command line
#   --qemu-arg ARG   extra QEMU argument (repeatable)
#   --iommu          add QEMU's emulated Intel IOMMU (intel_iommu=on): DMA
#                    mappings go through IOVA
#   --ivshmem SIZE   add an ivshmem-plain PCI device whose BAR 2 is SIZE of
#                    shared memory (a file in OUT), for vfio-pci BAR tests,
#                    and QEMU's "edu" device, whose BAR 0 (1 MiB, not
#                    prefetchable) holds registers
#
# Exit status: COMMAND's, or 124 on timeout, 125 when the guest died before
# COMMAND returned, 70 when the kernel log shows a splat (oops, WARN, BUG,
# KASAN, lockdep, kmemleak, hung task) even if COMMAND passed.
# RDMA_PAL_ACCEL in the environment overrides --accel.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kernel=$KOBJ/vmlinux
out=$BUILD_DIR/vm-out/last
accel=auto
timeout_s=1200
mem=2G
smp=2
append=""
qemu_extra=()
ivshmem=""
iommu=0
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=$2; shift ;;
	--debug) kernel=$KOBJ-debug/vmlinux ;;
	--out) out=$2; shift ;;
	--accel) accel=$2; shift ;;
	--timeout) timeout_s=$2; shift ;;
	--mem) mem=$2; shift ;;
	--smp) smp=$2; shift ;;
	--append) append="$append $2"; shift ;;
	--qemu-arg) qemu_extra+=("$2"); shift ;;
	--ivshmem) ivshmem=$2; shift ;;
	--iommu) iommu=1 ;;
	--) shift; break ;;
	-h|--help) sed -n '2,30p' "$0"; exit 0 ;;
	*) die "unknown argument: $1 (the guest command goes after --)" ;;
	esac
	shift
done
[ $# -gt 0 ] || die "no guest command given (after --)"
[ -f "$kernel" ] || die "no kernel at $kernel: run scripts/kernel-build.sh"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is missing: run scripts/deps.sh"
accel=${RDMA_PAL_ACCEL:-$accel}

# boot ACCEL DIR TIMEOUT PAYLOAD-ARGS...: one QEMU run; sets boot_result to
# ok, timeout, died or kvm-error.
boot() {
	local acc=$1 dir=$2 limit=$3
	shift 3
	rm -rf "$dir"
	mkdir -p "$dir"
	{
		echo "cd $(printf %q "$RDMA_PAL_TOP") || exit 1"
		printf 'export RDMA_PAL_OUT=/run/out RDMA_PAL_ACCEL_USED=%s\n' "$acc"
		printf '%q ' "$@"
		echo
	} >"$dir/payload.sh"
	local accel_args
	case "$acc" in
	kvm) accel_args=(-accel kvm -cpu host) ;;
	tcg) accel_args=(-accel tcg,thread=multi -cpu max) ;;
	*) die "unknown accelerator $acc" ;;
	esac
	local devices=()
	if [ -n "$ivshmem" ]; then
		devices=(-object "memory-backend-file,id=ivmem,share=on,mem-path=$dir/ivshmem.mem,size=$ivshmem"
			 -device ivshmem-plain,memdev=ivmem -device edu)
	fi
	local iommu_args=() iommu_cmdline=""
	if [ "$iommu" = 1 ]; then
		# QEMU wants it before every other PCI device.
		iommu_args=(-device intel-iommu,intremap=off)
		iommu_cmdline=" intel_iommu=on"
	fi
	local cmdline="console=ttyS0 root=/dev/root rootfstype=9p"
	cmdline+=" rootflags=trans=virtio,version=9p2000.L,msize=512000,cache=loose ro"
	cmdline+=" init=$RDMA_PAL_TOP/scripts/guest-init.sh panic=-1 oops=panic"
	cmdline+=" hung_task_panic=0 udmabuf.size_limit_mb=2048 hugepages=32$iommu_cmdline"
	# Every built-in KUnit suite runs at boot except upstream's
	# dma-buf-fence-chain, the only one whose name ends in "n": the guest
	# suite does not check it (see tests/guest/run.sh), and its
	# test_wait_backward alone takes 230 s on the emulated debug kernel.
	cmdline+=" kunit.filter_glob=*[!n]$append"
	timeout --kill-after=10 "$limit" qemu-system-x86_64 \
		-machine q35 "${accel_args[@]}" "${iommu_args[@]}" -smp "$smp" -m "$mem" \
		-nodefaults -display none -no-reboot \
		-kernel "$kernel" -append "$cmdline" \
		-serial "file:$dir/console.log" \
		-fsdev local,id=rootfs,path=/,security_model=none,readonly=on,multidevs=remap \
		-device virtio-9p-pci,fsdev=rootfs,mount_tag=/dev/root \
		-fsdev "local,id=outfs,path=$dir,security_model=none" \
		-device virtio-9p-pci,fsdev=outfs,mount_tag=rdmapalout \
		-device virtio-rng-pci \
		"${devices[@]}" "${qemu_extra[@]}" >"$dir/qemu.log" 2>&1 &
	local pid=$! rc=0
	boot_result=ok
	# A KVM emulation failure leaves QEMU paused forever: watch for it.
	while kill -0 "$pid" 2>/dev/null; do
		if grep -qs -e 'KVM internal error' -e 'emulation failure' "$dir/qemu.log"; then
			kill "$pid" 2>/dev/null || true
			boot_result=kvm-error
			break
		fi
		sleep 0.5
	done
	wait "$pid" || rc=$?
	if [ "$boot_result" = ok ]; then
		if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
			boot_result=timeout
		elif [ ! -f "$dir/status" ]; then
			boot_result=died
		fi
	fi
	return 0
}

pick_accel() {
	if [ "$accel" != auto ]; then
		echo "$accel"
		return
	fi
	if [ ! -w /dev/kvm ]; then
		log "accelerator: /dev/kvm not usable, using TCG" >&2
		echo tcg
		return
	fi
	# A short KVM boot that runs userspace from the 9p root.
	boot kvm "$out.kvm-probe" 60 sh -c 'cat /proc/cpuinfo >/dev/null && ls / >/dev/null'
	if [ "$boot_result" = ok ] && [ "$(cat "$out.kvm-probe/status")" = 0 ]; then
		log "accelerator: KVM probe boot passed, using KVM" >&2
		echo kvm
	else
		log "accelerator: KVM probe boot failed ($boot_result: $(tail -n 1 "$out.kvm-probe/qemu.log" 2>/dev/null)), using TCG" >&2
		echo tcg
	fi
}

start=$(now)
used=$(pick_accel)
boot "$used" "$out" "$timeout_s" "$@"
if [ "$boot_result" = kvm-error ]; then
	log "KVM failed during the run ($(grep -h -m1 -e 'KVM internal error' -e 'emulation failure' "$out/qemu.log")); running again under TCG"
	used=tcg
	boot tcg "$out" "$timeout_s" "$@"
fi
echo "$used" >"$out/accel"
init_at=$(sed -n 's/.*rdma-pal guest: init at \([0-9.]*\) s uptime.*/\1/p' "$out/console.log" | head -n 1)
echo "vm: accelerator=$used kernel=$kernel boot-to-init=${init_at:-?}s wall=$(($(now) - start))s result=$boot_result" |
	tee "$out/summary" >&2

rc=0
case "$boot_result" in
timeout) rc=124; log "vm: timed out after ${timeout_s}s" ;;
died) rc=125; log "vm: the guest stopped before the command finished" ;;
ok) rc=$(cat "$out/status") ;;
esac
# The kernel's own lines: the console without the payload's ("| ").
grep -v '^| ' "$out/console.log" >"$out/kernel.log" || true
if grep -Eq "$SPLAT_RE" "$out/kernel.log"; then
	log "vm: the kernel log shows a splat:"
	grep -E -A 20 "$SPLAT_RE" "$out/kernel.log" | head -n 80 >&2
	rc=70
fi
if [ "$rc" != 0 ]; then
	log "vm: failed (exit $rc); last lines of $out/console.log:"
	tail -n 60 "$out/console.log" >&2
fi
exit "$rc"
