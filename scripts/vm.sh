# SPDX-License-Identifier: GPL-2.0
#
# vm.sh - boot a kernel of the matrix in QEMU with the test initramfs.
# Sourced by check.sh and vm-run.sh (after common.sh).
#
# Every boot runs with oops=panic panic_on_warn=1: an oops or a WARN ends the
# VM at once (panic=-1 + -no-reboot), so it cannot pass unnoticed. The job's
# output arrives on the second serial port (results.log), the kernel console
# on the first (console.log).

VM_MEM=${BPF_OOM_VM_MEM:-1024}
VM_TIMEOUT=${BPF_OOM_VM_TIMEOUT:-900}
# tsc=reliable: under TCG the emulated TSC follows host time, and when a vCPU
# thread is starved the clocksource watchdog "finds" it skewed and switches
# clocksource mid-run. That switch patches kernel text (static keys) with
# int3-based text_poke, and multi-threaded TCG can execute the stale int3
# after the kernel finished the patch: "Oops: int3" at a static-branch site
# (seen once in ktime_get_mono_fast_ns, 10 ms after "Marking clocksource tsc
# unstable", while a test's BPF program spun on bpf_ktime_get_ns()). Real
# CPUs synchronise text_poke_bp() properly; the VM keeps its clocksource.
#
# bpfoom_results names the port /init writes the job's output to (the kernel
# hands unknown parameters to init as environment variables).
#
# log_buf_len: tests read the kernel log between OOMs (/dev/kmsg); the
# default 128 KiB ring holds about a dozen global OOM reports, and a record
# overwritten before it is read is lost to the test.
VM_CMDLINE="console=ttyS0 oops=panic panic_on_warn=1 panic=-1 tsc=reliable rdinit=/init log_buf_len=4M bpfoom_results=ttyS1"
# arm64 (Debian's arm64 kernels, always TCG on this amd64 host): QEMU's virt
# machine has one PL011 UART, the console; the job's output goes to a
# virtio console (single-port virtio-serial, so hvc0 exists as soon as the
# device is probed). pauth-impdef: QEMU's own pointer-authentication
# algorithm instead of the architected QARMA, same semantics, ~2.5x faster
# boots under TCG.
VM_CMDLINE_ARM64="console=ttyAMA0 oops=panic panic_on_warn=1 panic=-1 rdinit=/init log_buf_len=4M bpfoom_results=hvc0"

# kver_arch KVER: the architecture of a Debian kernel, from its flavour.
kver_arch() {
	case "$1" in
	*-arm64) echo arm64 ;;
	*) echo x86_64 ;;
	esac
}

# vm_accel [ARCH]: the accelerator: KVM where it can run Debian's kernels,
# else TCG. On these machines /dev/kvm exists but cannot run stock kernels, so
# the first boot probes it once and the answer is cached. arm64: always TCG.
vm_accel() {
	local cached=$BPF_OOM_CACHE/accel
	if [ "${1:-}" = arm64 ]; then
		echo tcg
	elif [ -n "${BPF_OOM_ACCEL:-}" ]; then
		echo "$BPF_OOM_ACCEL"
	elif [ -s "$cached" ]; then
		cat "$cached"
	else
		echo probe
	fi
}

# vm_qemu ACCEL KERNEL INITRD OUTDIR: one boot, to completion or timeout.
vm_qemu() {
	local accel=$1 kernel=$2 initrd=$3 out=$4 acc
	case "$accel" in
	kvm) acc="-accel kvm -cpu host" ;;
	*) acc="-accel tcg,thread=multi -cpu max" ;;
	esac
	rm -f "$out/console.log" "$out/results.log"
	if [ "$accel" = tcg-arm64 ]; then
		timeout --foreground "${VM_TIMEOUT}" qemu-system-aarch64 -M virt \
			-cpu max,pauth-impdef=on -accel tcg,thread=multi -m "$VM_MEM" -smp 2 \
			-kernel "$kernel" -initrd "$initrd" -append "$VM_CMDLINE_ARM64" \
			-display none -no-reboot -nodefaults -serial "file:$out/console.log" \
			-device virtio-serial-pci,max_ports=1 \
			-chardev "file,id=results,path=$out/results.log" \
			-device virtconsole,chardev=results \
			</dev/null >"$out/qemu.log" 2>&1 || :
	else
		# shellcheck disable=SC2086
		timeout --foreground "${VM_TIMEOUT}" qemu-system-x86_64 $acc -m "$VM_MEM" -smp 2 \
			-kernel "$kernel" -initrd "$initrd" -append "$VM_CMDLINE" \
			-display none -no-reboot -nodefaults \
			-serial "file:$out/console.log" -serial "file:$out/results.log" \
			</dev/null >"$out/qemu.log" 2>&1 || :
	fi
	# the serial ports turn \n into \r\n
	sed -i 's/\r$//' "$out/console.log" "$out/results.log" 2>/dev/null || :
}

# vm_boot KVER INITRD OUTDIR: boot until the job reports; 0 if it did.
# A boot that dies before /init starts (TCG has been seen to oops in early
# boot) is retried once, and said so; a job that started is never retried.
vm_boot() {
	local kver=$1 initrd=$2 out=$3 accel try
	local kernel=$KERNELS_DIR/$kver/vmlinuz
	mkdir -p "$out"
	accel=$(vm_accel)
	[ "$(kver_arch "$kver")" = arm64 ] && accel=tcg-arm64
	if [ "$accel" = probe ]; then
		accel=tcg
		if [ -w /dev/kvm ]; then
			VM_TIMEOUT=120 vm_qemu kvm "$kernel" "$initrd" "$out"
			grep -q '^@@BPFOOM-INIT' "$out/results.log" 2>/dev/null && accel=kvm
		fi
		echo "$accel" >"$BPF_OOM_CACHE/accel"
		log "accelerator: $accel (cached in $BPF_OOM_CACHE/accel)"
		[ "$accel" = kvm ] && grep -q '^@@BPFOOM-DONE' "$out/results.log" && return 0
	fi
	for try in 1 2; do
		vm_qemu "$accel" "$kernel" "$initrd" "$out" || :
		grep -q '^@@BPFOOM-DONE' "$out/results.log" 2>/dev/null && return 0
		grep -q '^@@BPFOOM-INIT' "$out/results.log" 2>/dev/null && break
		[ $try = 1 ] && log "$kver: the VM died before /init started; retrying the boot once"
	done
	return 1
}

# vm_console_problems CONSOLE_LOG: print every line of the kernel console
# that shows a kernel problem (the whole log, not only the part the job's
# dmesg still held). An OOM report's stack dump is a dump_stack(), not a
# warning: "Call Trace" alone is not a problem.
vm_console_problems() {
	grep -E 'BUG:|WARNING:|Oops|general protection fault|kernel BUG|Kernel panic|soft lockup|hard LOCKUP|rcu: INFO|detected stalls|self-detected stall|hung_task|blocked for more than|Bad page|KASAN|UBSAN|kmemleak: [0-9]+ new suspected|enqueued on deprecated workqueue|kmemleak: .*(disabled|[Cc]annot)|ODEBUG|Invalid wait context|refcount_t:|list_(add|del) corruption|sleeping function called from invalid context|possible circular locking|inconsistent lock state|possible recursive locking|cut here' \
		"$1" 2>/dev/null || :
}

# vm_report_failure OUTDIR: the console tail, so a failed run explains itself.
vm_report_failure() {
	local out=$1
	echo "---- console tail ($out/console.log) ----"
	tail -n 60 "$out/console.log" 2>/dev/null
	echo "---- job output tail ($out/results.log) ----"
	tail -n 30 "$out/results.log" 2>/dev/null
	echo "---- qemu ----"
	tail -n 5 "$out/qemu.log" 2>/dev/null
	echo "----"
}

# build_tests [ARCH [KVER]]: the BPF objects and test binaries (once per
# architecture, CO-RE across the matrix, in the trixie userland), against the
# BTF of the first test kernel of that architecture installed there (or of
# KVER) plus the module built for it. x86_64 into build/tests; arm64
# (cross-built) into build/tests-arm64.
build_tests() {
	local arch=${1:-x86_64} first=${2:-}
	[ -n "$first" ] || first=$(awk -v a="$arch" '$4 == "test" && $5 == "trixie" &&
		(a == "arm64") == ($3 ~ /-arm64$/) { print $3; exit }' "$RESOLVED")
	[ -n "$first" ] && [ -s "$BPF_OOM_TOP/build/$first/bpf_oom.ko" ] || return 1
	if [ "$arch" = arm64 ]; then
		in_rootfs make -s -C "$CHROOT_SRC/tests" O="$CHROOT_SRC/build/tests-arm64" \
			BPF_TARGET_ARCH=arm64 CC=aarch64-linux-gnu-gcc-14 \
			VMLINUX="/lib/modules/$first/build/vmlinux" \
			MODULE_KO="$CHROOT_SRC/build/$first/bpf_oom.ko"
	else
		in_rootfs make -s -C "$CHROOT_SRC/tests" \
			VMLINUX="/lib/modules/$first/build/vmlinux" \
			MODULE_KO="$CHROOT_SRC/build/$first/bpf_oom.ko"
	fi
}
