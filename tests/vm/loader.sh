# SPDX-License-Identifier: GPL-2.0
#
# loader.sh - bpf-oom-loader and bpftool attach real policies (run by
# suite.sh with the module loaded; pass/fail come from there).
L=/bpf-oom/tests/bpf-oom-loader
P=/bpf-oom/tests/loader_policy.bpf.o
CG=/sys/fs/cgroup

# invocations of policy $1 at cgroup id $2, from /proc/bpf_oom/policies
invoked() {
	awk -v n="$1" -v id="$2" '$1 == n && $2 == id { print $4 }' /proc/bpf_oom/policies
}

# a memcg OOM in cgroup $1: a 64 MiB hog under a 16 MiB limit
memcg_oom() {
	echo 16777216 >$CG/$1/memory.max
	echo 0 >$CG/$1/memory.swap.max 2>/dev/null
	sh -c "echo \$\$ >$CG/$1/cgroup.procs; exec dd if=/dev/zero of=/dev/null bs=64M count=1" 2>/dev/null
}

loader_test() {
	t=loader_attaches_to_cgroup
	mkdir -p $CG/loader_cg
	id=$(stat -c %i $CG/loader_cg)
	out=$($L attach -c /loader_cg $P 2>&1)
	if [ $? -ne 0 ] || [ ! -e /sys/fs/bpf/bpf-oom/cgroup-$id ]; then
		fail $t "attach: $out"
	elif ! $L list | grep -q "loader_policy *\/loader_cg"; then
		fail $t "list does not show loader_policy on /loader_cg: $($L list)"
	else
		memcg_oom loader_cg
		n=$(invoked loader_policy $id)
		if [ "${n:-0}" -ge 1 ]; then pass $t; else fail $t "policy not invoked by an OOM in /loader_cg (invoked=${n:-none})"; fi
	fi

	t=loader_attach_twice_is_busy
	out=$($L attach -c /loader_cg $P 2>&1)
	rc=$?
	case "$rc:$out" in
	1:*"already has a bpf_oom_ops policy attached"*) pass $t ;;
	*) fail $t "expected exit 1 and 'already has a bpf_oom_ops policy attached', got $rc: $out" ;;
	esac

	t=loader_missing_cgroup
	out=$($L attach -c /no_such_cgroup $P 2>&1)
	rc=$?
	case "$rc:$out" in
	1:*"/sys/fs/cgroup/no_such_cgroup: No such file or directory"*) pass $t ;;
	*) fail $t "expected exit 1 and ENOENT for the cgroup, got $rc: $out" ;;
	esac

	t=loader_detach
	out=$($L detach -c /loader_cg 2>&1)
	if [ $? -ne 0 ] || [ -e /sys/fs/bpf/bpf-oom/cgroup-$id ]; then
		fail $t "detach: $out"
	else
		i=0
		while [ -n "$(invoked loader_policy $id)" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		if [ -n "$(invoked loader_policy $id)" ]; then fail $t "still listed after detach"; else pass $t; fi
	fi

	# bpftool <= 7.8 crashes printing a module-defined struct_ops, after
	# it attached and pinned the link: check the policy really works.
	t=bpftool_registers_system_wide_policy
	mkdir -p /sys/fs/bpf/bpftool
	/usr/sbin/bpftool struct_ops register $P /sys/fs/bpf/bpftool >/tmp/bpftool.out 2>&1
	rc=$?
	echo "# bpftool struct_ops register exited with $rc"
	if ! ls /sys/fs/bpf/bpftool/loader_policy >/dev/null 2>&1; then
		fail $t "no link pinned at /sys/fs/bpf/bpftool/loader_policy (exit $rc: $(head -c 300 /tmp/bpftool.out))"
	else
		before=$(invoked loader_policy 0)
		mkdir -p $CG/bpftool_cg
		memcg_oom bpftool_cg
		after=$(invoked loader_policy 0)
		if [ "${after:-0}" -gt "${before:-0}" ]; then pass $t; else fail $t "system-wide policy not invoked (before=$before after=$after)"; fi
		rm -f /sys/fs/bpf/bpftool/loader_policy
	fi
	rmdir $CG/loader_cg $CG/bpftool_cg 2>/dev/null
}

# The sample PSI policy through the loader: watch the children of /guard,
# squeeze /guard/svc, see the policy declare an OOM there.
psi_loader_test() {
	G=/bpf-oom/tests/psi_mem_guard.bpf.o
	t=loader_attaches_psi_policy
	mkdir -p $CG/guard
	echo +memory >$CG/guard/cgroup.subtree_control
	mkdir -p $CG/guard/svc
	echo 16777216 >$CG/guard/svc/memory.high
	echo 0 >$CG/guard/svc/memory.swap.max 2>/dev/null
	svc=$(stat -c %i $CG/guard/svc)
	out=$($L attach -D parent_cgroup_id=/guard $G 2>&1)
	if [ $? -ne 0 ] || [ ! -e /sys/fs/bpf/bpf-oom/psi-psi_mem_guard ]; then
		fail $t "attach: $out"
	elif ! $L list | grep -q "^[0-9]* */guard/svc *memory *yes *100000 *1000000"; then
		fail $t "list does not show a memory full trigger on /guard/svc: $($L list)"
	else
		# the log is never cleared (earlier warnings must stay visible):
		# look only past a marker of our own
		echo "bpf-oom-test: psi-guard start" >/dev/kmsg
		# 200 MiB under a 16 MiB memory.high, no swap: throttled, stalling
		sh -c "echo \$\$ >$CG/guard/svc/cgroup.procs; exec dd if=/dev/zero of=/dev/null bs=200M count=1" 2>/dev/null
		rc=$?
		kills=$(sed -n 's/^oom_kill //p' $CG/guard/svc/memory.events)
		if [ $rc -ne 137 ]; then
			fail $t "the squeezed dd was not killed (exit $rc)"
		elif [ "$kills" != 1 ]; then
			fail $t "oom_kill in /guard/svc: expected 1, got $kills"
		elif ! dmesg | sed -n '/bpf-oom-test: psi-guard start/,$p' |
			grep -q "bpf_out_of_memory: constraint=CONSTRAINT_BPF_PSI_MEM, order=0, oom_memcg=/guard/svc"; then
			fail $t "no bpf_out_of_memory line for /guard/svc in the kernel log"
		else
			pass $t
		fi
	fi

	t=loader_psi_knob_errors
	out1=$($L attach -D no_such_knob=1 $G 2>&1); rc1=$?
	out2=$($L attach -D threshold_us=lots $G 2>&1); rc2=$?
	out3=$($L attach -c /guard $G 2>&1); rc3=$?
	case "$rc1:$out1" in
	1:*"has no read-only global of that name"*) ;;
	*) fail $t "unknown knob: expected exit 1 and 'no read-only global', got $rc1: $out1"; rc1=x ;;
	esac
	case "$rc2:$out2" in
	1:*"lots is not a number or a cgroup path"*) ;;
	*) fail $t "bad value: expected exit 1 and 'not a number', got $rc2: $out2"; rc2=x ;;
	esac
	case "$rc3:$out3" in
	1:*"is a bpf_psi_ops policy: it is not attached to a cgroup"*) ;;
	*) fail $t "-c with a PSI policy: expected exit 1 and an explanation, got $rc3: $out3"; rc3=x ;;
	esac
	[ "$rc1$rc2$rc3" = 111 ] && pass $t

	t=loader_detaches_psi_policy
	out=$($L detach -m psi_mem_guard 2>&1)
	i=0
	while [ "$(sed -n 's/^triggers //p' /proc/bpf_oom/psi)" != 0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	n=$(sed -n 's/^triggers //p' /proc/bpf_oom/psi)
	if [ -e /sys/fs/bpf/bpf-oom/psi-psi_mem_guard ]; then
		fail $t "still pinned after detach: $out"
	elif [ "$n" != 0 ]; then
		fail $t "$n PSI trigger(s) left after detach"
	else
		pass $t
	fi
	rmdir $CG/guard/svc $CG/guard 2>/dev/null

	# A policy with both halves (lmkd_like): both attached, listed, detached.
	t=loader_attaches_both_halves
	Y=/bpf-oom/tests/lmkd_like.bpf.o
	out=$($L attach -D dry_run=1 -D medium_adj=900 $Y 2>&1)
	rc=$?
	list=$($L list)
	if [ $rc -ne 0 ] || [ ! -e /sys/fs/bpf/bpf-oom/system ] ||
	   [ ! -e /sys/fs/bpf/bpf-oom/psi-lmkd_like_psi ]; then
		fail $t "attach: $out"
	elif ! echo "$list" | grep -q "^lmkd_like *system-wide" ||
	     ! echo "$list" | grep -q "^[0-9]* *system-wide *memory *no *70000 *1000000" ||
	     ! echo "$list" | grep -q "^[0-9]* *system-wide *memory *yes *700000 *1000000"; then
		fail $t "list does not show the OOM side and both PSI triggers: $list"
	else
		o1=$($L detach -s 2>&1); r1=$?
		o2=$($L detach -m lmkd_like_psi 2>&1); r2=$?
		if [ $r1$r2 != 00 ] || [ -e /sys/fs/bpf/bpf-oom/system ] ||
		   [ -e /sys/fs/bpf/bpf-oom/psi-lmkd_like_psi ]; then
			fail $t "detach: $o1 / $o2"
		elif ! echo "$o1" | grep -q "note: a PSI policy stays attached: psi-lmkd_like_psi (detach -m lmkd_like_psi)"; then
			fail $t "detach -s does not point at the PSI half left: $o1"
		else
			pass $t
		fi
	fi
	rm -f /sys/fs/bpf/bpf-oom/system /sys/fs/bpf/bpf-oom/psi-lmkd_like_psi

	# Both halves or neither: a PSI side that cannot attach takes the
	# OOM side back; one half alone, or a cgroup, is refused.
	t=loader_attaches_both_or_neither
	out1=$($L attach -D some_threshold_ms=2000 $Y 2>&1); rc1=$?
	out2=$($L attach -m lmkd_like_psi $Y 2>&1); rc2=$?
	mkdir -p $CG/halves
	out3=$($L attach -c /halves $Y 2>&1); rc3=$?
	rmdir $CG/halves
	case "$rc1:$out1" in
	1:*"its init failed: Invalid argument"*"detached lmkd_like again"*) ;;
	*) fail $t "a failing PSI side: expected exit 1, the init error and the OOM side detached, got $rc1: $out1"; rc1=x ;;
	esac
	case "$rc2:$out2" in
	1:*"lmkd_like_psi is one half of a policy"*) ;;
	*) fail $t "-m with one half: expected exit 1 and a refusal, got $rc2: $out2"; rc2=x ;;
	esac
	case "$rc3:$out3" in
	1:*"declares system-wide OOMs from its PSI side"*) ;;
	*) fail $t "-c with two halves: expected exit 1 and a refusal, got $rc3: $out3"; rc3=x ;;
	esac
	if [ -e /sys/fs/bpf/bpf-oom/system ] || [ -e /sys/fs/bpf/bpf-oom/psi-lmkd_like_psi ]; then
		fail $t "a refused attach left a pin behind: $(ls /sys/fs/bpf/bpf-oom)"; rc1=x
		rm -f /sys/fs/bpf/bpf-oom/system /sys/fs/bpf/bpf-oom/psi-lmkd_like_psi
	fi
	[ "$rc1$rc2$rc3" = 111 ] && pass $t

	# String and list knobs: the limits of the policy's arrays, said plainly.
	t=loader_list_knob_errors
	E=/bpf-oom/tests/earlyoom_like.bpf.o
	out1=$($L attach -D prefer_comm=a,b,c,d,e $E 2>&1); rc1=$?
	out2=$($L attach -D avoid_comm=abcdefghijklmnopq $E 2>&1); rc2=$?
	out3=$($L attach -D mem_min_percent=4294967296 $E 2>&1); rc3=$?
	case "$rc1:$out1" in
	1:*"-D prefer_comm: at most 4 values"*) ;;
	*) fail $t "5 names: expected exit 1 and 'at most 4 values', got $rc1: $out1"; rc1=x ;;
	esac
	case "$rc2:$out2" in
	1:*"is longer than 15 characters"*) ;;
	*) fail $t "a 17-character name: expected exit 1 and 'longer than 15', got $rc2: $out2"; rc2=x ;;
	esac
	case "$rc3:$out3" in
	1:*"4294967296 does not fit in its 4 byte(s)"*) ;;
	*) fail $t "2^32 for a u32: expected exit 1 and 'does not fit', got $rc3: $out3"; rc3=x ;;
	esac
	[ "$rc1$rc2$rc3" = 111 ] && pass $t

	# No CAP_BPF/CAP_SYS_ADMIN: a clear message, not a libbpf error.
	t=loader_missing_capability
	out=$(/bpf-oom/tests/run_without_caps $L attach $P 2>&1)
	rc=$?
	case "$rc:$out" in
	1:*"permission denied: BPF OOM policies need CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN"*) pass $t ;;
	*) fail $t "expected exit 1 and the capability message, got $rc: $out" ;;
	esac
}
