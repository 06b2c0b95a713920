#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vm-run.sh KERNEL [--no-module] -- COMMAND...  - run a command in the test VM.
#
# For debugging: boots KERNEL (a matrix name such as trixie-6.12, or an exact
# version) with the module DKMS built for it (make check builds it) and the
# test binaries under /bpf-oom/tests, loads the module unless --no-module,
# runs COMMAND with /bin/sh, and prints its output and the kernel log.
#   make vm-run K=trixie-6.12 CMD='/bpf-oom/tests/memcg_kfuncs memcg_bad_input'
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/vm.sh"
bpf_oom_begin

[ $# -ge 1 ] || die "usage: $0 KERNEL [--no-module] -- COMMAND..."
want=$1
shift
load=1
[ "${1:-}" = --no-module ] && { load=0; shift; }
[ "${1:-}" = -- ] && shift
[ $# -ge 1 ] || die "no command given"

kver=$(awk -v k="$want" '$1 == k || $3 == k { print $3; exit }' "$RESOLVED" 2>/dev/null)
[ -n "$kver" ] || die "unknown kernel '$want' (see $RESOLVED; run make setup)"
out=$BPF_OOM_TOP/build/$kver
[ -s "$out/bpf_oom.ko" ] || die "no module built for $kver: run make check first"

arch=$(kver_arch "$kver")
build_tests "$arch" || die "building the test programs failed"
mkdir -p "$out/run"
{
	[ $load = 1 ] && echo 'insmod /bpf-oom/bpf_oom.ko || exit 1'
	printf '%s\n' "$*"
} >"$out/run/job.sh"
in_rootfs "$CHROOT_SRC/scripts/mkinitramfs.sh" "$CHROOT_SRC/build/$kver/bpf_oom.ko" \
	"$CHROOT_SRC/build/$kver/run/job.sh" "$CHROOT_SRC/build/$kver/run/initramfs.cpio" "$arch"
if vm_boot "$kver" "$out/run/initramfs.cpio" "$out/run"; then
	sed -n '/^@@BPFOOM-INIT/,$p' "$out/run/results.log"
	rc=$(sed -n 's/^@@BPFOOM-DONE //p' "$out/run/results.log")
	exit "${rc:-1}"
fi
vm_report_failure "$out/run"
exit 1
