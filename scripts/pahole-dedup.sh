#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# pahole-dedup.sh - what Kbuild runs as PAHOLE for bpf-oom (see the Makefile).
#
# Runs pahole unchanged, then, when pahole wrote a module's split BTF to a file
# (--btf_encode_detached: scripts/gen-btf.sh of Linux 7.x), deduplicates it
# again against the kernel's BTF with the kernel's own libbpf, the one built
# into resolve_btfids, until a pass no longer shrinks it. Kbuild's
# resolve_btfids then processes kfuncs, distills .BTF.base, sorts and patches
# .BTF_ids from that result as usual.
#
# Why: pahole deduplicates with the system libbpf, and Debian 13's libbpf 1.5.0
# lacks "libbpf: Add identical pointer detection to btf_dedup_is_equiv()"
# (upstream 8e64c387c942, in libbpf 1.6). Since TYPEOF_UNQUAL() and __percpu
# as the x86 __seg_gs named address space (Linux 6.15 era), GCC describes a
# __percpu pointer as its own pointer DIE (DW_AT_address_class 2) next to the
# plain pointer to the same type; pahole drops the address space, so one
# compilation unit has two identical PTR types where the kernel's BTF has one,
# and the old dedup gives up on every struct that reaches them (struct
# module.percpu, percpu_rw_semaphore.read_count, ...): task_struct and
# some 1700 types around it then stay in the module's BTF as
# private copies, and the verifier refuses kernel task pointers for the
# module's kfuncs. Debian's own 7.3 modules have the same defect. The single
# resolve_btfids pass Kbuild runs removes some copies, not all (pahole's
# partial result is no longer consistent per compilation unit); further passes
# finish the job: two for bpf_oom on Debian 7.3.4, after which the BTF is the
# same as with a pahole that uses libbpf 1.7. A pahole other than the kernel's
# (Kbuild warns) is no remedy: 1.32 encodes multi-dimensional arrays nested
# where 1.30, which built Debian's 7.3 vmlinux, flattened them.
#
# Environment (all exported by Kbuild): RESOLVE_BTFIDS, OBJCOPY; BPF_OOM_PAHOLE
# names the real pahole (default: pahole). Any other use of PAHOLE (--version,
# 6.12's in-place encoding) is passed through untouched.
set -eu

pahole=${BPF_OOM_PAHOLE:-pahole}
out= base= elf= prev=
for a in "$@"; do
	case $prev in
	--btf_base) base=$a ;;
	esac
	case $a in
	--btf_encode_detached=*) out=${a#*=} ;;
	--btf_base=*) base=${a#*=} ;;
	-*) ;;
	*) [ "$prev" = --btf_base ] || elf=$a ;;
	esac
	prev=$a
done

"$pahole" "$@"

# Only a detached split BTF against a base, and only with the kernel's
# resolve_btfids at hand; otherwise pahole's result stands.
[ -n "$out" ] && [ -n "$base" ] && [ -n "$elf" ] && [ -s "$out" ] || exit 0
rb=${RESOLVE_BTFIDS:-}
[ -n "$rb" ] && [ -x "$rb" ] || exit 0

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# An ELF without symbols and .BTF_ids: on it resolve_btfids only
# deduplicates and sorts the BTF (no kfunc processing, no ids), writing
# $tmp/elf.BTF.
${OBJCOPY:-objcopy} --strip-all --remove-section=.BTF_ids "$elf" "$tmp/elf"

size() { wc -c <"$1" | tr -d ' '; }

# Each pass must shrink the BTF; keep the smallest, stop when one does not.
best=$out
start=$(size "$out")
last=$start
n=0
while [ $n -lt 8 ]; do
	n=$((n + 1))
	if ! "$rb" --btf_base "$base" --btf "$best" "$tmp/elf" >/dev/null; then
		echo "bpf-oom: warning: $rb failed on $elf's BTF: it may carry private copies of kernel types" >&2
		break
	fi
	mv "$tmp/elf.BTF" "$tmp/pass$n.BTF"
	now=$(size "$tmp/pass$n.BTF")
	[ "$now" -lt "$last" ] || break
	best=$tmp/pass$n.BTF
	last=$now
done

if [ "$best" != "$out" ]; then
	cp "$best" "$out"
	[ -z "${KBUILD_VERBOSE:-}" ] || [ "$KBUILD_VERBOSE" = 0 ] ||
		echo "pahole-dedup: $elf: split BTF $start -> $last bytes ($n dedup passes)" >&2
fi
exit 0
