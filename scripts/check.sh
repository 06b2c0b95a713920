#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh - build bpf-oom for every kernel of the matrix through DKMS, boot
# each kernel in QEMU with the module and the tests, and report.
#
#   scripts/check.sh            the whole suite (make check)
#   scripts/check.sh --bench    the benchmarks instead (make bench)
#   scripts/check.sh --soak     the soak instead (make soak; BPF_OOM_SOAK_SECS,
#                               default 600 s per kernel)
#   scripts/check.sh --build    only build, through DKMS (for make vm-run)
#   scripts/check.sh --debug    the whole suite, a short soak and a kmemleak
#                               scan on debug builds of Debian's 6.12 and 7.3
#                               (make check-debug; scripts/debug-kernel.sh)
#
# Prints PASS/FAIL per test per kernel, a table, and a closing
# "N passed, N failed" line; exits non-zero if anything failed. A failed VM
# run prints its console tail and the job output.
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/vm.sh"
bpf_oom_begin

mode=test
case "${1:-}" in
--bench) mode=bench ;;
--soak) mode=soak ;;
--build) mode=build ;;
--debug) mode=debug ;;
esac

[ -s "$RESOLVED" ] || die "no resolved kernel matrix: run 'make setup' first"
VERSION=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$BPF_OOM_TOP/dkms.conf")
OUT=$BPF_OOM_TOP/build
RESULTS=$OUT/results.txt
[ $mode = debug ] && RESULTS=$OUT/results-debug.txt
mkdir -p "$OUT"
: >"$RESULTS"
t_start=$(date +%s)

# result KERNEL TEST PASS|FAIL [DETAIL]
result() {
	printf '%s %s %s\n' "$1" "$2" "$3" >>"$RESULTS"
	printf '%-4s %-20s %s%s\n' "$3" "$1" "$2" "${4:+: $4}"
}

# "NAME KVER USERLAND" per kernel of the role
mapfile -t TEST_KERNELS < <(awk '$4 == "test" { print $1, $3, $5 }' "$RESOLVED")
mapfile -t FLOOR_KERNELS < <(awk '$4 == "floor" { print $1, $3, $5 }' "$RESOLVED")
[ ${#TEST_KERNELS[@]} -gt 0 ] || die "no test kernel in $RESOLVED"
[ "$(awk 'NF != 5' "$RESOLVED")" = "" ] || die "$RESOLVED is from an older setup: run 'make setup'"
# The kernels make check-debug rebuilds with lock, memory and object
# debugging: Debian 13's 6.12 and the newest 7.x of the matrix
# (BPF_OOM_DEBUG_KERNELS: a subset; .ci/run takes 6.12 only).
DEBUG_BASES=${BPF_OOM_DEBUG_KERNELS:-trixie-6.12 trixie-bpo-7.3}
if [ $mode = debug ]; then
	# Only the debug kernels (built once, cached), in the trixie userland.
	TEST_KERNELS=()
	for b in $DEBUG_BASES; do
		dkver=$("$BPF_OOM_TOP/scripts/debug-kernel.sh" "$b")
		TEST_KERNELS+=("debug-${dkver%.*-*} $dkver trixie")
	done
	FLOOR_KERNELS=()
fi

# ---- 1. DKMS: the user's build path, for every kernel ------------------
log "DKMS: bpf-oom/$VERSION"
for u in $(awk '{ print $5 }' "$RESOLVED" | sort -u); do
	in_userland "$u" sh -c "
		set -e
		cd $CHROOT_SRC && make -s dkms-src
		dkms remove bpf-oom/$VERSION --all >/dev/null 2>&1 || :
		dkms add bpf-oom/$VERSION >/dev/null
	"
done
for entry in "${TEST_KERNELS[@]}"; do
	read -r name kver userland <<<"$entry"
	mkdir -p "$OUT/$kver"
	rm -f "$OUT/$kver/bpf_oom.ko" "$OUT/$kver/toolchain"
	# DKMS's name for the architecture (uname -m); arm64 kernels are
	# cross-built (dkms -a; the headers name the cross compiler).
	darch=x86_64
	[ "$(kver_arch "$kver")" = arm64 ] && darch=aarch64
	t0=$(date +%s)
	if in_userland "$userland" dkms build -k "$kver" -a "$darch" "bpf-oom/$VERSION" >"$OUT/$kver/dkms.log" 2>&1; then
		mlog=$(rootfs_dir "$userland")/var/lib/dkms/bpf-oom/$VERSION/$kver/$darch/log/make.log
		cp "$mlog" "$OUT/$kver/make.log"
		result "$name" dkms_build PASS "$kver ($userland) in $(($(date +%s) - t0)) s; $(grep '^bpf-oom: ' "$mlog" | sed 's/^bpf-oom: bpf_oom.ko: //')"
		if grep -qiE 'warning:|warn:' "$mlog"; then
			result "$name" build_no_warnings FAIL "$(grep -iE 'warning:|warn:' "$mlog" | head -n 3)"
		else
			result "$name" build_no_warnings PASS
		fi
		in_userland "$userland" sh -c "
			m=/var/lib/dkms/bpf-oom/$VERSION/$kver/$darch/module/bpf_oom.ko
			if [ -e \$m.xz ]; then xz -dc \$m.xz; elif [ -e \$m.zst ]; then zstd -dc \$m.zst; else cat \$m; fi
		" >"$OUT/$kver/bpf_oom.ko"
		# What built it, for the tested-kernel table: the compiler the
		# module's .comment names and the pahole that wrote its BTF.
		{
			readelf -p .comment "$OUT/$kver/bpf_oom.ko" |
				sed -n 's/.*GCC: (Debian [^)]*) \([0-9.]*\).*/compiler gcc \1/p' | sort -u
			echo "pahole $(in_userland "$userland" pahole --version)"
		} >"$OUT/$kver/toolchain"
	else
		result "$name" dkms_build FAIL "see $OUT/$kver/dkms.log"
		tail -n 20 "$OUT/$kver/dkms.log"
	fi
	# Test-only modules (not part of bpf-oom): a stand-in for a livepatch,
	# a victim that cannot exit; and bpf-oom's own fault-injection build
	# (BPF_OOM_TESTING=1, from the same sources DKMS got), which is the
	# only one with test parameters. Built in the kernel's userland too.
	rm -rf "$OUT/$kver/kmod" "$OUT/$kver/testing-src" && cp -r "$BPF_OOM_TOP/tests/kmod" "$OUT/$kver/kmod"
	if ! in_userland "$userland" sh -c "
		set -e
		make -s -C /lib/modules/$kver/build M=$CHROOT_SRC/build/$kver/kmod modules
		make -s -C $CHROOT_SRC dkms-src DESTDIR=$CHROOT_SRC/build/$kver/testing-src
		cd $CHROOT_SRC/build/$kver/testing-src/usr/src/bpf-oom-$VERSION
		make -s module KVER=$kver KDIR=/lib/modules/$kver/build BPF_OOM_TESTING=1
		cp bpf_oom.ko $CHROOT_SRC/build/$kver/kmod/bpf_oom_testing.ko
	" >"$OUT/$kver/kmod.log" 2>&1; then
		result "$name" test_kmod_build FAIL "see $OUT/$kver/kmod.log"
	fi
done

# The floor: DKMS must refuse, with bpf-oom's one-line reason.
for entry in "${FLOOR_KERNELS[@]}"; do
	read -r name kver userland <<<"$entry"
	rc=0
	in_userland "$userland" dkms build -k "$kver" "bpf-oom/$VERSION" >"$OUT/floor-$kver.log" 2>&1 || rc=$?
	reason=$(grep '^bpf-oom: refusing' "$OUT/floor-$kver.log" || :)
	if [ $rc = 77 ] && [ -n "$reason" ]; then
		result "$name" dkms_refuses_floor PASS "exit 77, \"$reason\""
	else
		result "$name" dkms_refuses_floor FAIL "exit $rc, reason line: '${reason:-none}'"
		cat "$OUT/floor-$kver.log"
	fi
done

# ---- 2. test programs (once per architecture, CO-RE across the matrix) -
if [ $mode = debug ]; then
	tests_ok() { build_tests x86_64 "$(echo "${TEST_KERNELS[0]}" | cut -d' ' -f2)"; }
else
	tests_ok() { build_tests; }
fi
if tests_ok >"$OUT/tests-build.log" 2>&1; then
	result all tests_build PASS
else
	result all tests_build FAIL "see $OUT/tests-build.log"
	tail -n 30 "$OUT/tests-build.log"
fi
if [ $mode != debug ] && grep -q -- '-arm64 test ' "$RESOLVED"; then
	if build_tests arm64 >"$OUT/tests-build-arm64.log" 2>&1; then
		result all tests_build_arm64 PASS
	else
		result all tests_build_arm64 FAIL "see $OUT/tests-build-arm64.log"
		tail -n 30 "$OUT/tests-build-arm64.log"
	fi
fi

# The manuals (bpf/bpf-oom.8, bpf/bpf-oom.conf.5) render without a single
# groff warning (-ww: every class), on the host: the trixie rootfs has
# neither groff nor mandoc.
if [ $mode = test ]; then
	if ! command -v groff >/dev/null; then
		result all man_page_renders FAIL "groff is not installed on the host: apt install groff-base (make setup does)"
	elif warn=$(for m in bpf-oom.8 bpf-oom.conf.5; do
			groff -man -ww -z "$BPF_OOM_TOP/bpf/$m" 2>&1 | sed "s|^|$m: |"; done) &&
	     [ -z "$warn" ]; then
		result all man_page_renders PASS "groff -man -ww -z bpf/bpf-oom.8 bpf/bpf-oom.conf.5: no warning"
	else
		result all man_page_renders FAIL "$(echo "$warn" | head -n 3)"
	fi
fi

[ $mode = build ] && exit 0

# ---- 3. boot every kernel ----------------------------------------------
# After a soak: a clean unload (after the last BPF user, RCU may need a
# moment).
soak_unload="i=0; while ! rmmod bpf_oom 2>/tmp/rmmod.err && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i + 1)); done
		if [ -e /sys/module/bpf_oom ]; then echo \"FAIL soak_module_unload: \$(cat /tmp/rmmod.err)\"; else echo 'PASS soak_module_unload'; fi"
if [ $mode = bench ]; then
	job='insmod /bpf-oom/bpf_oom.ko && /bpf-oom/tests/bench_memcg 20000 &&
		/bpf-oom/tests/bench_oom 100 1000 && /bpf-oom/tests/bench_psi 0 &&
		/bpf-oom/tests/bench_psi 2 && /bpf-oom/tests/bench_psi 0 squeezed'
elif [ $mode = soak ]; then
	soak_secs=${BPF_OOM_SOAK_SECS:-600}
	VM_TIMEOUT=$((soak_secs + 900))
	job="insmod /bpf-oom/bpf_oom.ko && /bpf-oom/tests/soak $soak_secs
		$soak_unload"
elif [ $mode = debug ]; then
	# Lock, memory and object debugging make the VM several times slower,
	# and bigger: KASAN's shadow takes an eighth of memory, and in 1 GiB
	# the 2,000-process test of oom_library ran the VM out of memory before
	# its cgroup's limit (a global OOM where a memcg OOM was built).
	VM_TIMEOUT=${BPF_OOM_VM_TIMEOUT:-3600}
	VM_MEM=${BPF_OOM_VM_MEM:-2048}
	soak_secs=${BPF_OOM_SOAK_SECS:-120}
	# The suite, a short soak, then kmemleak. Its automatic scans are
	# stopped first, so what is reported comes from the two scans at the
	# end, with everything unloaded (a scan reports objects older than 5 s;
	# the second confirms the first), printed with allocation stacks.
	job="echo scan=off >/sys/kernel/debug/kmemleak
		. /bpf-oom/suite.sh
		insmod /bpf-oom/bpf_oom.ko && /bpf-oom/tests/soak $soak_secs
		$soak_unload
		# lockdep turns itself off after its first report (or when it runs
		# out of room): it must still be on, or it stopped looking
		if grep -q '^ *debug_locks: *1\$' /proc/lockdep_stats; then echo 'PASS lockdep_still_on'
		else echo \"FAIL lockdep_still_on: \$(grep debug_locks /proc/lockdep_stats)\"; fi
		sleep 6; echo scan >/sys/kernel/debug/kmemleak; sleep 6; echo scan >/sys/kernel/debug/kmemleak
		# (debugfs files have size 0: read it, test -s cannot tell)
		leaks=\$(cat /sys/kernel/debug/kmemleak)
		if [ -n \"\$leaks\" ]; then
			echo \"FAIL kmemleak_clean: \$(echo \"\$leaks\" | grep -c '^unreferenced object') unreferenced objects\"
			echo \"\$leaks\"
		else
			echo 'PASS kmemleak_clean'
		fi
		. /bpf-oom/lockdown.sh"
else
	job='. /bpf-oom/suite.sh
		. /bpf-oom/lockdown.sh'
fi
printf '%s\n' "$job" >"$OUT/job.sh"

for entry in "${TEST_KERNELS[@]}"; do
	read -r name kver _ <<<"$entry"
	vmout=$OUT/$kver/vm
	mkdir -p "$vmout"
	arch=$(kver_arch "$kver")
	tb=tests_build
	[ "$arch" = arm64 ] && tb=tests_build_arm64
	if [ ! -s "$OUT/$kver/bpf_oom.ko" ] || ! grep -q "^all $tb PASS" "$RESULTS"; then
		result "$name" vm_boot FAIL "nothing to boot: the build failed"
		continue
	fi
	in_rootfs "$CHROOT_SRC/scripts/mkinitramfs.sh" "$CHROOT_SRC/build/$kver/bpf_oom.ko" \
		"$CHROOT_SRC/build/job.sh" "$CHROOT_SRC/build/$kver/vm/initramfs.cpio" "$arch"
	t0=$(date +%s)
	log "$name: booting $kver ($arch, $(vm_accel "$arch"))"
	booted=1
	vm_boot "$kver" "$vmout/initramfs.cpio" "$vmout" || booted=0
	secs=$(($(date +%s) - t0))
	# The job's lines (also those before a crash), up to the kernel log.
	job_out=$(sed -n '/^@@BPFOOM-INIT/,/^@@BPFOOM-DMESG/p' "$vmout/results.log" 2>/dev/null |
		sed '1d;/^@@BPFOOM-DMESG/d')
	failed=0
	while IFS= read -r line; do
		case "$line" in
		"") ;;
		"PASS "*) result "$name" "${line#PASS }" PASS ;;
		"SKIP "*)
			t=${line#SKIP }
			result "$name" "${t%%:*}" SKIP "${t#*: }" ;;
		"FAIL "*)
			t=${line#FAIL }
			result "$name" "${t%%:*}" FAIL "${t#*: }"
			failed=1 ;;
		"    also: "*|"#"*|"bench "*) printf '     %-20s %s\n' "$name" "$line" ;;
		*) printf '     %-20s | %s\n' "$name" "$line" ;;
		esac
	done <<<"$job_out"
	if [ $booted = 0 ]; then
		result "$name" vm_run FAIL "no completion marker after $secs s: crash, WARN (panic_on_warn) or timeout"
		vm_report_failure "$vmout"
		continue
	fi
	problems=$(vm_console_problems "$vmout/console.log")
	if [ -n "$problems" ]; then
		result "$name" console_clean FAIL "$(echo "$problems" | head -n 1)"
		echo "---- kernel problems on the console ($vmout/console.log) ----"
		echo "$problems" | head -n 20
		failed=1
	else
		result "$name" console_clean PASS
	fi
	if [ $mode != bench ]; then
		result "$name" vm_run PASS "$kver booted and ran in $secs s"
	elif [ "$(sed -n 's/^@@BPFOOM-DONE //p' "$vmout/results.log")" = 0 ]; then
		result "$name" bench PASS "in $secs s"
	else
		result "$name" bench FAIL "the benchmark job failed"
		failed=1
	fi
	if [ $failed = 1 ]; then
		echo "---- dmesg tail ($kver) ----"
		sed -n '/^@@BPFOOM-DMESG/,/^@@BPFOOM-DONE/p' "$vmout/results.log" | tail -n 40
	fi
done

# The expected-test manifest: every test it lists must have run on every
# test kernel (one missing means a binary died half-way or a test was
# dropped), a test it does not list must not run (add new tests to it), and
# a skip must be on the allow-list for that kernel, with its reason.
if [ $mode = test ] || [ $mode = debug ]; then
	manifest=$BPF_OOM_TOP/tests/expected-tests.txt
	allowed=$BPF_OOM_TOP/tests/allowed-skips.conf
	expected=$(sed 's/#.*//' "$manifest" | awk 'NF { print $1 }')
	[ $mode = debug ] && expected="$expected
soak
soak_module_unload
lockdep_still_on
kmemleak_clean"
	for entry in "${TEST_KERNELS[@]}"; do
		name=${entry%% *}
		for t in $expected; do
			grep -q "^$name $t " "$RESULTS" || result "$name" "$t" FAIL "did not run on this kernel"
		done
		awk -v k="$name" '$1 == k { print $2 }' "$RESULTS" | sort -u | while read -r t; do
			grep -qx "$t" <<<"$expected" ||
				result "$name" "$t" FAIL "not in tests/expected-tests.txt: list it there"
		done
		awk -v k="$name" '$1 == k && $3 == "SKIP" { print $2 }' "$RESULTS" | while read -r t; do
			sed 's/#.*//' "$allowed" | awk -v k="$name" -v t="$t" '$1 == k && $2 == t { f = 1 } END { exit !f }' ||
				result "$name" "$t" FAIL "skipped, and the skip is not on tests/allowed-skips.conf for $name"
		done
	done
fi

# The README's tested-kernel table must be what this run tested.
if [ $mode = test ]; then
	want=$("$BPF_OOM_TOP/scripts/kernel-table.sh")
	have=$("$BPF_OOM_TOP/scripts/kernel-table.sh" --readme)
	if [ "$want" = "$have" ]; then
		result all readme_kernel_table PASS
	else
		result all readme_kernel_table FAIL "README.md's tested-kernel table is not what this run tested ('make readme-table' writes it)"
		diff <(echo "$have") <(echo "$want") || :
	fi
fi

# ---- 4. summary --------------------------------------------------------
echo
echo "Kernels:"
i=0
while read -r name suite kver role userland; do
	i=$((i + 1))
	printf '  %-3s %-22s %-18s %-30s %-6s %s\n' "[$i]" "$name" "$suite" "$kver" "$role" "$userland"
done < <(if [ $mode = debug ]; then
	for e in "${TEST_KERNELS[@]}"; do
		read -r name kver userland <<<"$e"
		echo "$name linux-source-${kver%.*-*} $kver test $userland"
	done
else cat "$RESOLVED"; fi)
echo
# One row per test in the order they ran, one column per kernel (numbered
# as in the list above).
cols="all $(awk '{ printf "%s ", $1 }' "$RESOLVED")"
[ $mode = debug ] && cols="all $(printf '%s\n' "${TEST_KERNELS[@]}" | awk '{ printf "%s ", $1 }')"
awk -v cols="$cols" '
	BEGIN { nc = split(cols, c, " ") }
	!($2 in seen) { seen[$2] = 1; rows[++nr] = $2 }
	{ r[$2 " " $1] = $3 }
	END {
		printf "%-44s %-5s", "test", "all"
		for (i = 2; i <= nc; i++) printf " %-5s", "[" i - 1 "]"
		printf "\n"
		for (j = 1; j <= nr; j++) {
			printf "%-44s", rows[j]
			for (i = 1; i <= nc; i++)
				printf " %-5s", ((rows[j] " " c[i]) in r) ? r[rows[j] " " c[i]] : "-"
			printf "\n"
		}
	}' "$RESULTS"
npass=$(grep -c ' PASS$' "$RESULTS" || :)
nfail=$(grep -c ' FAIL$' "$RESULTS" || :)
nskip=$(grep -c ' SKIP$' "$RESULTS" || :)
if [ "$nskip" -gt 0 ]; then
	echo
	echo "Skipped (each with its reason; see README, Known limits):"
	grep ' SKIP$' "$RESULTS" | awk '{ printf "  %-16s %s\n", $1, $2 }'
fi
echo
echo "check: $(($(date +%s) - t_start)) s"
echo "$npass passed, $nfail failed, $nskip skipped"
[ "$nfail" = 0 ] && [ "$npass" -gt 0 ]
