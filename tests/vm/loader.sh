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
