#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# system-vm.sh - make check-system: the Debian packages on a real Debian 13
# system, as a user gets them.
#
# Boots the image of scripts/system-image.sh (debootstrapped trixie, systemd
# as PID 1, ext4 root on /dev/vda) with Debian's stock kernels, on a fresh
# qcow2 overlay (the cached image is never written), three times:
#
#   A  6.12  apt install the running kernel's headers (from the mirror, over
#            QEMU's user-mode network), then ./bpf-oom-dkms_*.deb
#            ./bpf-oom_*.deb (built here by make deb from this checkout):
#            DKMS builds the module in the guest; a policy configured
#   B  6.12  the policy attached at boot, a memcg OOM decided by it and
#            journaled; the 7.3 headers from trixie-backports: DKMS builds
#            for 7.3 by itself
#   C  7.3   the DKMS-built 7.3 module attaches the same policy, one OOM;
#            stop detaches; apt purge removes everything
#
# The guest's side is tests/system/guest.sh, on a second disk with the
# packages; each phase ends with a poweroff, and QEMU is started again with
# the next kernel on the same overlay (a reboot, with the kernel chosen by
# the harness as a boot loader would). Phase output arrives on the second
# serial port (build/system/<phase>/results.log), the console on the first.
# A failed assertion prints the guest's journal and kernel log; a boot that
# dies before the phase starts is retried once, and said so; a phase that
# started is never retried.
#
# Prints PASS/FAIL per assertion, the time of each step, and a closing
# "N passed, N failed" line; exits non-zero if anything failed.
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/vm.sh"
bpf_oom_begin

[ "$(id -u)" = 0 ] || die "must run as root (chroot, mkfs)"
[ -s "$RESOLVED" ] || die "no resolved kernel matrix: run 'make setup' first"
command -v qemu-img >/dev/null || die "no qemu-img on the host: run 'make setup' (qemu-utils)"

SYS_MEM=${BPF_OOM_SYSTEM_MEM:-2048}
SYS_TIMEOUT=${BPF_OOM_SYSTEM_TIMEOUT:-900}
VERSION=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$BPF_OOM_TOP/dkms.conf")
OUT=$BPF_OOM_TOP/build/system
RESULTS=$OUT/results.txt
K612=$(awk '$1 == "trixie-6.12" { print $3 }' "$RESOLVED")
K73=$(awk '$1 == "trixie-bpo-7.3" { print $3 }' "$RESOLVED")
rm -rf "$OUT"
mkdir -p "$OUT"
: >"$RESULTS"
t_start=$(date +%s)
declare -a TIMES=()
step_done() { TIMES+=("$1 $(($(date +%s) - $2)) s"); }

# ---- 1. the system image (cached; make setup builds it) ---------------
t=$(date +%s)
SYSDIR=$("$BPF_OOM_TOP/scripts/system-image.sh")
step_done image "$t"

# ---- 2. the packages of this checkout --------------------------------
t=$(date +%s)
log "make deb (log: build/system/deb.log)"
if ! "$BPF_OOM_TOP/scripts/deb.sh" >"$OUT/deb.log" 2>&1; then
	tail -n 30 "$OUT/deb.log"
	die "make deb failed (build/system/deb.log)"
fi
step_done deb "$t"
DEBS=("$BPF_OOM_TOP/build/deb/trixie/bpf-oom-dkms_${VERSION}_all.deb"
	"$BPF_OOM_TOP/build/deb/trixie/bpf-oom_${VERSION}_amd64.deb")
for d in "${DEBS[@]}"; do [ -s "$d" ] || die "make deb made no ${d##*/}"; done
# Everything after the installation goes through the unit.
case "$(dpkg-deb -c "${DEBS[1]}")" in
*/lib/systemd/system/bpf-oom.service*) ;;
*)
	echo "FAIL package_ships_unit: no bpf-oom.service in ${DEBS[1]##*/}"
	exit 1
	;;
esac

# ---- 3. the test disk and the overlay ---------------------------------
t=$(date +%s)
stage=$OUT/disk
mkdir -p "$stage"
cp "$BPF_OOM_TOP/tests/system/guest.sh" "$stage/run.sh"
cp "${DEBS[@]}" "$stage/"
printf 'K612=%s\nK73=%s\nVERSION=%s\n' "$K612" "$K73" "$VERSION" >"$stage/env.sh"
truncate -s 64M "$OUT/test-disk.img"
mkfs.ext4 -q -F -L bpfoomtest -d "$stage" "$OUT/test-disk.img"
qemu-img create -q -f qcow2 -b "$SYSDIR/root.img" -F raw "$OUT/root.qcow2"
step_done disks "$t"

# sys_qemu KVER PHASE DIR: one boot of the system, until it powers off.
sys_qemu() {
	local kver=$1 phase=$2 dir=$3 acc
	case "$(vm_accel)" in
	kvm) acc="-accel kvm -cpu host" ;;
	*) acc="-accel tcg,thread=multi -cpu max" ;;
	esac
	rm -f "$dir/console.log" "$dir/results.log"
	# shellcheck disable=SC2086
	timeout --foreground "$SYS_TIMEOUT" qemu-system-x86_64 $acc -m "$SYS_MEM" -smp 2 \
		-kernel "$SYSDIR/vmlinuz-$kver" -initrd "$SYSDIR/initrd.img-$kver" \
		-append "root=/dev/vda rw console=ttyS0 oops=panic panic_on_warn=1 panic=-1 tsc=reliable bpfoom.phase=$phase systemd.wants=bpfoomtest-phase.service" \
		-display none -no-reboot -nodefaults \
		-serial "file:$dir/console.log" -serial "file:$dir/results.log" \
		-drive "file=$OUT/root.qcow2,if=virtio,format=qcow2" \
		-drive "file=$OUT/test-disk.img,if=virtio,format=raw" \
		-nic user,model=virtio-net-pci \
		</dev/null >"$dir/qemu.log" 2>&1 || :
	sed -i 's/\r$//' "$dir/console.log" "$dir/results.log" 2>/dev/null || :
}

# phase PHASE KVER: boot, report; 0 if the phase ran to its end.
phase() {
	local p=$1 kver=$2 dir=$OUT/$1 try t n problems
	mkdir -p "$dir"
	t=$(date +%s)
	log "boot $p: $kver"
	for try in 1 2; do
		sys_qemu "$kver" "$p" "$dir"
		grep -q '^@@SYSTEM-START' "$dir/results.log" 2>/dev/null && break
		[ $try = 1 ] && log "boot $p: the system died before the phase started; booting it once more"
	done
	step_done "boot_$p($kver)" "$t"
	grep -E '^(PASS|FAIL|# )' "$dir/results.log" 2>/dev/null | tee -a "$OUT/phases.log"
	grep -E '^(PASS|FAIL) ' "$dir/results.log" 2>/dev/null | awk '{ print $1, $2 }' >>"$RESULTS"
	problems=$(vm_console_problems "$dir/console.log")
	if [ -n "$problems" ]; then
		echo "FAIL $p.kernel_console_clean: $problems"
		echo "FAIL $p.kernel_console_clean" >>"$RESULTS"
	fi
	n=$(sed -n "s/^@@SYSTEM-DONE $p //p" "$dir/results.log")
	if [ -z "$n" ]; then
		echo "FAIL $p.phase_completed: no @@SYSTEM-DONE within ${SYS_TIMEOUT} s"
		echo "FAIL $p.phase_completed" >>"$RESULTS"
		vm_report_failure "$dir"
		return 1
	fi
	if [ "$n" != 0 ] || [ -n "$problems" ]; then
		echo "---- phase $p: guest diagnostics ($dir/results.log) ----"
		sed -n '/^---- systemctl --failed/,/^----$/p' "$dir/results.log"
		vm_report_failure "$dir"
	fi
	grep -q "^@@SYSTEM-ABORT" "$dir/results.log" && return 1
	return 0
}

phase A "$K612" && phase B "$K612" && phase C "$K73" || :

npass=$(grep -c '^PASS' "$RESULTS" || :)
nfail=$(grep -c '^FAIL' "$RESULTS" || :)
echo "---- times ----"
printf '  %s\n' "${TIMES[@]}"
grep '^# time ' "$OUT/phases.log" | sed 's/^# time /  guest: /'
echo "check-system: $npass passed, $nfail failed in $(($(date +%s) - t_start)) s"
[ "$nfail" = 0 ] && [ "$npass" -gt 0 ]
