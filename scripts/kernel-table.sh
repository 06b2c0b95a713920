#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# kernel-table.sh [--update-readme] - the README's tested-kernel table, made
# from what the last `make check` ran (build/results.txt, the resolved matrix,
# each module's toolchain record), so the README cannot claim a kernel, a
# compiler or a result the run did not have.
#
#   scripts/kernel-table.sh                 print the table (markdown)
#   scripts/kernel-table.sh --update-readme replace the table in README.md
#                                           (between the tested-kernels markers)
#
# check.sh compares the README's table with this one at the end of every run.
set -euo pipefail
. "$(dirname "$0")/common.sh"

OUT=$BPF_OOM_TOP/build
RESULTS=$OUT/results.txt
README=$BPF_OOM_TOP/README.md
BEGIN='<!-- tested-kernels:begin (scripts/kernel-table.sh writes this table; make check compares) -->'
END='<!-- tested-kernels:end -->'

[ -s "$RESOLVED" ] || die "no resolved kernel matrix: run 'make setup' first"
[ -s "$RESULTS" ] || die "no results: run 'make check' first"

table() {
	echo '| matrix entry | Debian suite | kernel (newest at setup) | flavour | module built in | compiler | pahole | memcg kfuncs | result |'
	echo '|---|---|---|---|---|---|---|---|---|'
	while read -r name suite kver role userland; do
		flavour=$(awk -v n="$name" '$1 == n { print $5 }' "$MATRIX")
		if [ "$role" = floor ]; then
			if grep -q "^$name dkms_refuses_floor PASS$" "$RESULTS"; then
				res="refused by DKMS (exit 77, one-line reason), as intended"
			else
				res="**FAIL**: not refused as intended"
			fi
			echo "| $name | $suite | $kver | $flavour | $userland | — | — | — | $res |"
			continue
		fi
		cc=$(awk '$1 == "compiler" { $1 = ""; sub(/^ /, ""); print; exit }' "$OUT/$kver/toolchain" 2>/dev/null || :)
		ph=$(awk '$1 == "pahole" { print $2; exit }' "$OUT/$kver/toolchain" 2>/dev/null || :)
		vmlinux=$(rootfs_dir "$userland")/usr/src/linux-headers-$kver/vmlinux
		if [ ! -r "$vmlinux" ]; then
			kf="?"
		# (not grep -q: tr must not die of SIGPIPE under pipefail)
		elif LC_ALL=C tr '\0' '\n' <"$vmlinux" | grep -Fx bpf_get_mem_cgroup >/dev/null; then
			kf="the kernel's"
		else
			kf="bpf-oom's"
		fi
		np=$(awk -v n="$name" '$1 == n && $3 == "PASS"' "$RESULTS" | wc -l)
		nf=$(awk -v n="$name" '$1 == n && $3 == "FAIL"' "$RESULTS" | wc -l)
		ns=$(awk -v n="$name" '$1 == n && $3 == "SKIP"' "$RESULTS" | wc -l)
		if [ "$nf" = 0 ] && [ "$ns" = 0 ] && [ "$np" -gt 0 ]; then
			res="all $np checks pass"
		else
			res="**$np pass, $nf fail, $ns skip**"
		fi
		echo "| $name | $suite | $kver | $flavour | $userland | ${cc:-?} | ${ph:-?} | $kf | $res |"
	done <"$RESOLVED"
}

case "${1:-}" in
"")
	table
	;;
--update-readme)
	grep -qxF "$BEGIN" "$README" && grep -qxF "$END" "$README" ||
		die "README.md has no tested-kernels markers"
	new=$(mktemp)
	trap 'rm -f "$new"' EXIT
	table >"$new"
	awk -v b="$BEGIN" -v e="$END" -v f="$new" '
		$0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
		$0 == e { skip = 0 }
		!skip' "$README" >"$README.tmp"
	mv "$README.tmp" "$README"
	log "README.md: tested-kernel table updated from $RESULTS"
	;;
--readme)
	# the table the README holds now
	awk -v b="$BEGIN" -v e="$END" '$0 == e { p = 0 } p; $0 == b { p = 1 }' "$README"
	;;
*)
	die "usage: $0 [--update-readme|--readme]"
	;;
esac
