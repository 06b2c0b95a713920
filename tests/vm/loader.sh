# SPDX-License-Identifier: GPL-2.0
#
# loader.sh - the bpf-oom command and bpftool attach real policies (run by
# suite.sh with the module loaded; pass/fail come from there).
L=/bpf-oom/tests/bpf-oom
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

# bpf-oom events -n 1 (output in /tmp/$2_events.out and .err) following one
# memcg OOM in cgroup $1: a 64 MiB dd under 16 MiB, no swap. Sets dd (its
# pid), dd_rc (its exit status), ev_rc (events' exit status) and line (what
# events printed).
events_one_memcg_oom() {
	$L events -n 1 >/tmp/$2_events.out 2>/tmp/$2_events.err &
	ev=$!
	i=0
	while ! grep -q "following decision records" /tmp/$2_events.err && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	echo 16777216 >$CG/$1/memory.max
	echo 0 >$CG/$1/memory.swap.max 2>/dev/null
	sh -c "echo \$\$ >/tmp/$2_dd.pid; echo \$\$ >$CG/$1/cgroup.procs; exec dd if=/dev/zero of=/dev/null bs=64M count=1" 2>/dev/null
	dd_rc=$?
	dd=$(cat /tmp/$2_dd.pid)
	i=0
	while kill -0 $ev 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	kill $ev 2>/dev/null
	wait $ev
	ev_rc=$?
	line=$(cat /tmp/$2_events.out)
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

	# oomd_like by name, its cgroups by path: the watched one gets the
	# trigger (60 % "full" of 10 s), a missing path in a list is refused.
	t=loader_attaches_oomd_like_by_paths
	mkdir -p $CG/ow/a $CG/ow/b
	out1=$(BPF_OOM_POLICY_DIR=/bpf-oom/tests $L attach -D cgroup=/ow -D omit=/ow/a,/ow/gone oomd_like 2>&1); rc1=$?
	out2=$(BPF_OOM_POLICY_DIR=/bpf-oom/tests $L attach -D cgroup=/ow -D omit=/ow/a -D avoid=/ow/b oomd_like 2>&1); rc2=$?
	list=$($L list)
	case "$rc1:$out1" in
	1:*"cgroup /sys/fs/cgroup/ow/gone: No such file or directory"*) ;;
	*) fail $t "a missing cgroup in omit: expected exit 1 and ENOENT, got $rc1: $out1"; rc1=x ;;
	esac
	if [ "$rc1" = 1 ]; then
		if [ $rc2 -ne 0 ] || [ ! -e /sys/fs/bpf/bpf-oom/system ] ||
		   [ ! -e /sys/fs/bpf/bpf-oom/psi-oomd_like_psi ]; then
			fail $t "attach: $rc2: $out2"
		elif ! echo "$list" | grep -q "^oomd_like *system-wide" ||
		     ! echo "$list" | grep -q "^[0-9]* */ow *memory *yes *6000000 *10000000"; then
			fail $t "list does not show the OOM side and the trigger on /ow: $list"
		else
			pass $t
		fi
	fi
	$L detach -s >/dev/null 2>&1
	$L detach -m oomd_like_psi >/dev/null 2>&1
	rmdir $CG/ow/a $CG/ow/b $CG/ow

	# No CAP_BPF/CAP_SYS_ADMIN: a clear message, not a libbpf error.
	t=loader_missing_capability
	out=$(/bpf-oom/tests/run_without_caps $L attach $P 2>&1)
	rc=$?
	case "$rc:$out" in
	1:*"permission denied: BPF OOM policies need CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN"*) pass $t ;;
	*) fail $t "expected exit 1 and the capability message, got $rc: $out" ;;
	esac
}

# json_ok: exit 0 if stdin is exactly one JSON value (RFC 8259's grammar),
# else print where it is not and exit 1. The VM has no jq: a recursive
# descent parser in (busybox) awk. cmd_test checks that it refuses bad
# documents before trusting it with good ones.
json_ok() {
	awk '
	function bad(m) { if (!err) err = m " at byte " p; return 0 }
	function ws() { while (p <= n && index(" \t\r\n", substr(s, p, 1))) p++ }
	function value(  c) {
		ws()
		if (p > n) return bad("a value expected")
		c = substr(s, p, 1)
		if (c == "{") return object()
		if (c == "[") return array()
		if (c == "\"") return string()
		if (substr(s, p, 4) == "true" || substr(s, p, 4) == "null") { p += 4; return 1 }
		if (substr(s, p, 5) == "false") { p += 5; return 1 }
		return number()
	}
	function object(  c) {
		p++
		ws()
		if (substr(s, p, 1) == "}") { p++; return 1 }
		while (1) {
			ws()
			if (substr(s, p, 1) != "\"") return bad("a member name expected")
			if (!string()) return 0
			ws()
			if (substr(s, p, 1) != ":") return bad("\":\" expected")
			p++
			if (!value()) return 0
			ws()
			c = substr(s, p, 1)
			if (c == ",") { p++; continue }
			if (c == "}") { p++; return 1 }
			return bad("\",\" or \"}\" expected")
		}
	}
	function array(  c) {
		p++
		ws()
		if (substr(s, p, 1) == "]") { p++; return 1 }
		while (1) {
			if (!value()) return 0
			ws()
			c = substr(s, p, 1)
			if (c == ",") { p++; continue }
			if (c == "]") { p++; return 1 }
			return bad("\",\" or \"]\" expected")
		}
	}
	function string(  c) {
		p++
		while (p <= n) {
			c = substr(s, p, 1)
			if (c == "\"") { p++; return 1 }
			if (c == "\\") {
				c = substr(s, p + 1, 1)
				if (c == "u") {
					if (substr(s, p + 2, 4) !~ /^[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]$/)
						return bad("a bad \\u escape")
					p += 6
					continue
				}
				if (c == "" || !index("\"\\/bfnrt", c)) return bad("a bad escape")
				p += 2
				continue
			}
			if (index(ctl, c)) return bad("a control character in a string")
			p++
		}
		return bad("an unterminated string")
	}
	function number() {
		if (!match(substr(s, p), /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/))
			return bad("a value expected")
		p += RLENGTH
		return 1
	}
	BEGIN { for (i = 1; i < 32; i++) ctl = ctl sprintf("%c", i) }
	{ s = s $0 "\n" }
	END {
		n = length(s)
		p = 1
		if (value()) {
			ws()
			if (p <= n) bad("trailing characters")
		}
		if (err) { print "invalid JSON: " err; exit 1 }
	}'
}

# The bpf-oom command itself: policies by name from the policy directory,
# status and list (text and JSON), events in text mode on a real OOM,
# help and usage errors. One policy (oom_kernel_default in shadow mode, on
# /cmd_cg) serves them all.
cmd_test() {
	T=/bpf-oom/tests	# the tests' policy directory
	ver=$(cat /sys/module/bpf_oom/version)
	wait_ms=$(cat /sys/module/bpf_oom/parameters/victim_wait_ms)
	mkdir -p $CG/cmd_cg
	id=$(stat -c %i $CG/cmd_cg)
	# what status says with nothing attached (the counters vary: N)
	counters_n() {
		sed -E 's/(episodes|emitted|marked|waits|exited|reaped|expired|overflows) [0-9]+/\1 N/g'
	}
	st0=$($L status); st0_rc=$?
	st0=$(echo "$st0" | counters_n)
	js0=$($L status --json); js0_rc=$?

	t=cmd_attach_by_name
	out1=$(BPF_OOM_POLICY_DIR=$T $L attach -c /cmd_cg -D dry_run=1 oom_kernel_default 2>&1); rc1=$?
	out2=$(BPF_OOM_POLICY_DIR=$T $L attach no_such_policy 2>&1); rc2=$?
	out3=$(unset BPF_OOM_POLICY_DIR; $L attach no_such_policy 2>&1); rc3=$?
	out4=$(BPF_OOM_POLICY_DIR=/nonexistent $L list --available -P $T 2>&1); rc4=$?
	if [ "$rc1:$out1" != "0:attached oom_kernel_default ($T/oom_kernel_default.bpf.o) to cgroup /cmd_cg, pinned at /sys/fs/bpf/bpf-oom/cgroup-$id" ]; then
		fail $t "attach by name: expected exit 0 and the attached line, got $rc1: $out1"
	elif [ "$rc2:$out2" != "1:bpf-oom: no policy named no_such_policy in $T (BPF_OOM_POLICY_DIR; searched for $T/no_such_policy.bpf.o): 'bpf-oom list --available' lists the policies there; choose another directory (-P DIR or BPF_OOM_POLICY_DIR), or give the path of a .bpf.o" ]; then
		fail $t "a missing name: expected exit 1 naming $T, got $rc2: $out2"
	elif [ "$rc3" != 1 ] || ! echo "$out3" | grep -qF "bpf-oom: no policy named no_such_policy: the policy directory /usr/lib/bpf-oom/policies (the built-in default) cannot be read: No such file or directory; install the policies there (make -C bpf install)"; then
		fail $t "a missing name, no BPF_OOM_POLICY_DIR: expected exit 1 naming the built-in directory, got $rc3: $out3"
	elif [ "$rc4" != 0 ] || [ "$(echo "$out4" | head -n 1)" != "policy directory $T (-P)" ] ||
	     ! echo "$out4" | grep -E "^lmkd_like +oom\+psi " | grep " some_threshold_ms" | grep -q " dry_run" ||
	     ! echo "$out4" | grep -E "^psi_mem_guard +psi " | grep -q " parent_cgroup_id" ||
	     echo "$out4" | grep -q "^bpf-oom-events"; then
		fail $t "list --available -P over BPF_OOM_POLICY_DIR: expected $T with lmkd_like (oom+psi) and psi_mem_guard, no bpf-oom-events, got $rc4: $out4"
	else
		pass $t
	fi

	t=cmd_status_without_and_with_policy
	st1=$($L status); st1_rc=$?
	st1=$(echo "$st1" | counters_n)
	js1=$($L status --json); js1_rc=$?
	lj1=$($L list --json); lj1_rc=$?
	head="kernel:           $(uname -r)
module:           bpf_oom $ver loaded, BTF /sys/kernel/btf/bpf_oom"
	counters="decision records: version 2, episodes N, emitted N, dropped 0
OOM victims:      marked N, waits N, exited N, reaped N, expired N, overflows N, wait_ms $wait_ms"
	want0="$head
OOM policies:     none attached
PSI triggers:     0
$counters
pinned links:     /sys/fs/bpf/bpf-oom: none"
	want1="$head
OOM policies:     1 attached
PSI triggers:     0
$counters
pinned links:     /sys/fs/bpf/bpf-oom: cgroup-$id"
	if [ "$st0_rc:$st0" != "0:$want0" ]; then
		fail $t "nothing attached: expected exit 0 and
$want0
got $st0_rc:
$st0"
	elif [ "$st1_rc:$(echo "$st1" | head -n 8)" != "0:$want1" ] ||
	     ! echo "$st1" | sed -n 9p | grep -q "^POLICY *ATTACHED TO *SINCE *INVOKED *HANDLED$" ||
	     ! echo "$st1" | sed -n 10p | grep -qE "^oom_kernel_default +/cmd_cg +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} +0 +0$" ||
	     [ "$(echo "$st1" | wc -l)" != 10 ]; then
		fail $t "one attached: expected exit 0 and
$want1
and a table row for oom_kernel_default on /cmd_cg, got $st1_rc:
$st1"
	else
		pass $t
	fi

	# One JSON document each, that a parser accepts, with the fields expected.
	t=cmd_json_documents_parse
	err=
	for bad in '{"a":1,}' '{"a":"x' '[1 2]' '{"a":01}' '{"a":"\x"}' '{} {}' '' "$(printf '{"a":"\001"}')"; do
		printf '%s\n' "$bad" | json_ok >/dev/null && err="the JSON check accepts $bad"
	done
	printf '%s\n' '{"a":[1,-2.5e3,true,false,null,"\u00e9\n"],"b":{}}' | json_ok >/dev/null ||
		err="the JSON check refuses a valid document"
	aj=$(BPF_OOM_POLICY_DIR=$T $L list --available --json); aj_rc=$?
	vstat0=$(echo "$js0" | json_ok) || err="${err:+$err; }status --json, nothing attached: $vstat0: $js0"
	vstat1=$(echo "$js1" | json_ok) || err="${err:+$err; }status --json: $vstat1: $js1"
	vlist1=$(echo "$lj1" | json_ok) || err="${err:+$err; }list --json: $vlist1: $lj1"
	vavail=$(echo "$aj" | json_ok) || err="${err:+$err; }list --available --json: $vavail: $aj"
	[ "$js0_rc$js1_rc$lj1_rc$aj_rc" = 0000 ] || err="${err:+$err; }exit status $js0_rc$js1_rc$lj1_rc$aj_rc, expected 0000"
	mod="\"module\":\\{\"loaded\":true,\"version\":\"$ver\",\"btf\":true\\}"
	pol="\"policies\":\\[\\{\"name\":\"oom_kernel_default\",\"system_wide\":false,\"cgroup_id\":$id,\"cgroup_path\":\"/cmd_cg\",\"since\":[0-9]+,\"invoked\":0,\"handled\":0\\}\\]"
	psi='"psi":\{"triggers":0,"list":\[\]\}'
	rec='"records":\{"version":2,"episodes":[0-9]+,"emitted":[0-9]+,"dropped":0\}'
	vic="\"victims\":\\{\"marked\":[0-9]+,\"waits\":[0-9]+,\"exited\":[0-9]+,\"reaped\":[0-9]+,\"expired\":[0-9]+,\"overflows\":[0-9]+,\"wait_ms\":$wait_ms\\}"
	echo "$js0" | grep -qxE "\\{\"kernel\":\"$(uname -r | sed 's/[.+]/\\&/g')\",$mod,\"policies\":\\[\\],$psi,$rec,$vic,\"pin_dir\":\"/sys/fs/bpf/bpf-oom\",\"pins\":\\[\\]\\}" ||
		err="${err:+$err; }status --json, nothing attached, not as expected: $js0"
	echo "$js1" | grep -qxE "\\{\"kernel\":\"[^\"]+\",$mod,$pol,$psi,$rec,$vic,\"pin_dir\":\"/sys/fs/bpf/bpf-oom\",\"pins\":\\[\"cgroup-$id\"\\]\\}" ||
		err="${err:+$err; }status --json, one attached, not as expected: $js1"
	echo "$lj1" | grep -qxE "\\{$pol,$psi,$rec\\}" ||
		err="${err:+$err; }list --json not as expected: $lj1"
	echo "$aj" | grep -qF "{\"name\":\"lmkd_like\",\"path\":\"$T/lmkd_like.bpf.o\",\"bpf_oom_ops\":[\"lmkd_like\"],\"bpf_psi_ops\":[\"lmkd_like_psi\"],\"knobs\":[" ||
		err="${err:+$err; }list --available --json has no lmkd_like with both halves: $aj"
	if [ -n "$err" ]; then fail $t "$err"; else pass $t; fi

	# events in text mode: one record of a real memcg OOM, then exit 0.
	t=cmd_events_text_record
	events_one_memcg_oom cmd_cg cmd
	ep=$(echo "$line" | sed -n 's/^.* episode \([0-9]*\) .*$/\1/p')
	want="^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3} episode [1-9][0-9]* oom_kernel_default \\(cgroup\\): memcg_oom /cmd_cg, dry_run \\(dry_run\\) victim=dd\\[$dd\\] rss=[1-9][0-9]*kB swap=0kB adj=0 cgroup=$id kernel killed=dd\\[$dd\\] rss=[1-9][0-9]*kB swap=0kB adj=0 cgroup=$id, [0-9]+\\.[0-9] us\$"
	if [ $ev_rc != 0 ]; then
		fail $t "events -n 1: expected exit 0 after one record, got $ev_rc (dd exited $dd_rc): $(cat /tmp/cmd_events.err) $line"
	elif [ $dd_rc != 137 ]; then
		fail $t "dd in /cmd_cg was not killed by the OOM (exit $dd_rc)"
	elif [ "$(echo "$line" | wc -l)" != 1 ] || ! echo "$line" | grep -qE "$want"; then
		fail $t "expected one line matching $want, got: $line"
	elif ! dmesg | grep -q "the kernel OOM killer decides (episode $ep)"; then
		fail $t "the record's episode $ep is not the kernel log's"
	else
		pass $t
	fi
	$L detach -c /cmd_cg >/dev/null
	rmdir $CG/cmd_cg

	# --help for each command, exit 0 and its own usage; usage errors exit 2.
	t=cmd_help_and_usage_errors
	err=
	for c in attach detach list status events service; do
		out=$($L $c --help); rc=$?
		[ $rc = 0 ] && [ "$(echo "$out" | head -n 1 | cut -d' ' -f1-3)" = "usage: bpf-oom $c" ] ||
			err="${err:+$err; }$c --help: exit $rc, first line '$(echo "$out" | head -n 1)'"
		[ "$($L help $c)" = "$out" ] || err="${err:+$err; }help $c differs from $c --help"
	done
	out=$($L --help); rc=$?
	[ $rc = 0 ] && [ "$(echo "$out" | grep -cE '^  (attach|detach|list|status|events|service|help) ')" = 7 ] ||
		err="${err:+$err; }--help: exit $rc, not the 7 commands: $out"
	out=$($L --version); rc=$?
	[ "$rc:$out" = "0:bpf-oom $ver" ] || err="${err:+$err; }--version: expected 'bpf-oom $ver', got $rc: $out"
	out=$($L attach --bogus oom_kernel_default 2>&1); rc=$?
	[ $rc = 2 ] && [ "$(echo "$out" | head -n 1)" = "bpf-oom attach: unknown option '--bogus'" ] ||
		err="${err:+$err; }attach --bogus: expected exit 2 and 'unknown option', got $rc: $out"
	out=$($L status -x 2>&1); rc=$?
	[ $rc = 2 ] && [ "$(echo "$out" | head -n 2)" = "bpf-oom status: unknown option '-x'
usage: bpf-oom status [-j] [-p PINDIR]" ] ||
		err="${err:+$err; }status -x: expected exit 2 and the usage, got $rc: $out"
	out=$($L detach 2>&1); rc=$?
	[ $rc = 2 ] || err="${err:+$err; }detach without a policy: expected exit 2, got $rc: $out"
	out=$($L no_such_command 2>&1); rc=$?
	[ $rc = 2 ] && [ "$(echo "$out" | head -n 1)" = "bpf-oom: unknown command 'no_such_command'" ] ||
		err="${err:+$err; }an unknown command: expected exit 2, got $rc: $out"
	if [ -n "$err" ]; then fail $t "$err"; else pass $t; fi
}

# status with the module unloaded: says so, with the fix, and exits 1.
cmd_without_module_test() {
	t=cmd_status_without_module
	out=$($L status 2>/tmp/cmd_status.err); rc=$?
	js=$($L status --json 2>/dev/null); jrc=$?
	want="bpf-oom: the bpf_oom module is not loaded (/sys/module/bpf_oom missing): modprobe bpf_oom"
	if [ "$rc:$out" != "1:kernel:           $(uname -r)
module:           bpf_oom not loaded" ] || [ "$(cat /tmp/cmd_status.err)" != "$want" ]; then
		fail $t "expected exit 1, 'not loaded' and '$want', got $rc: $out / $(cat /tmp/cmd_status.err)"
	elif [ $jrc != 1 ] || ! echo "$js" | json_ok >/dev/null ||
	     ! echo "$js" | grep -qF '"module":{"loaded":false,"version":null,"btf":false},"policies":null'; then
		fail $t "status --json: expected exit 1 and a JSON document with loaded false, got $jrc: $js"
	else
		pass $t
	fi
}
