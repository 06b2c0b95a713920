#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# check-ko.sh MODULE.ko - fail unless the module can work with BPF at all.
#
# Kbuild silently skips module BTF (it prints one line) when the headers lack
# vmlinux or pahole is missing or too old; resolve_btfids only warns about an
# unresolved kfunc. Without BTF no kfunc or struct_ops can be registered, so
# turn both into hard, explained build failures.
set -eu

ko=$1
fail() { echo "bpf-oom: $ko: $*" >&2; exit 1; }

[ -f "$ko" ] || fail "not built"
sections=$(readelf -SW "$ko")
echo "$sections" | grep -q ' \.BTF ' ||
	fail "no .BTF section: module BTF was not generated (needs pahole >= 1.28 and the headers' vmlinux)"

# Every __BTF_ID__func__<name>__<n> symbol marks the 4-byte slot
# resolve_btfids must fill with <name>'s BTF id; 0 means unresolved.
ids=$(mktemp)
btf=$(mktemp)
trap 'rm -f "$ids" "$btf"' EXIT
nr=0
# dump_section NAME FILE: the bytes of section NAME (none if it is absent),
# cut at the offset and size readelf gives. Not objcopy: the build host's
# objcopy reads only its own architecture, and an arm64 module may be
# cross-built on amd64; readelf reads any ELF.
dump_section() {
	set -- "$1" "$2" $(echo "$sections" | sed 's/^ *\[ *[0-9]*\] *//' |
		awk -v n="$1" '$1 == n { print $4, $5; exit }')
	: >"$2"
	[ $# = 4 ] || return 0
	tail -c +$((0x$3 + 1)) "$ko" | head -c $((0x$4)) >"$2"
}
# No .BTF_ids at all is fine only if no kfunc needs one (the kernel has
# them all); a kfunc symbol without the section is caught below.
dump_section .BTF_ids "$ids"
for sym in $(readelf -sW "$ko" | awk '$8 ~ /^__BTF_ID__func__/ { print $2 ":" $8 }'); do
	off=$((0x${sym%%:*}))
	name=${sym#*:}
	name=${name#__BTF_ID__func__}
	name=${name%__*}
	id=$(od -An -tu4 -j "$off" -N4 "$ids" 2>/dev/null | tr -d ' ')
	[ "${id:-0}" != 0 ] || fail "kfunc $name has no BTF id (resolve_btfids did not resolve it)"
	nr=$((nr + 1))
done

# The task kfuncs take the kernel's task pointers, so the module's BTF must
# refer to the kernel's struct task_struct. A split BTF stores only the
# strings its own types add: the name "task_struct" there means a private
# copy, which the verifier does not accept for a kernel task (see
# scripts/pahole-dedup.sh). Warn, not fail: the rest of the module works.
dump_section .BTF "$btf"
if tr '\0' '\n' <"$btf" | grep -qx task_struct; then
	echo "bpf-oom: warning: $ko: module BTF has its own copy of struct task_struct: BPF policies cannot pass kernel tasks to bpf_oom_kill_process()" >&2
fi
echo "bpf-oom: $ko: .BTF present, $nr kfunc BTF id(s) resolved"
