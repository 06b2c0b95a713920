#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh [KERNEL] - make demo: one stock kernel in QEMU, one memcg OOM
# decided twice, by the stock OOM killer and by the sample BPF policy.
# KERNEL defaults to the first test kernel of the matrix (Debian 6.12).
set -euo pipefail
. "$(dirname "$0")/common.sh"
k=${1:-$(awk '$4 == "test" { print $1; exit }' "$RESOLVED" 2>/dev/null)}
[ -n "$k" ] || die "no kernel matrix: run 'make setup' first"
kver=$(awk -v k="$k" '$1 == k || $3 == k { print $3; exit }' "$RESOLVED")
[ -s "$BPF_OOM_TOP/build/$kver/bpf_oom.ko" ] || "$BPF_OOM_TOP/scripts/check.sh" --build >/dev/null
echo "make demo: $k ($kver) in QEMU" >&2
"$BPF_OOM_TOP/scripts/vm-run.sh" "$k" --no-module -- '. /bpf-oom/demo.sh' >"$BPF_OOM_TOP/build/demo.log" 2>&1 ||
	{ cat "$BPF_OOM_TOP/build/demo.log"; die "the demo failed"; }
sed -n '/^@@BPFOOM-INIT/,/^@@BPFOOM-DMESG/p' "$BPF_OOM_TOP/build/demo.log" | sed '1d;$d'
