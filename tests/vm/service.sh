# SPDX-License-Identifier: GPL-2.0
#
# service.sh - bpf-oom service, driven directly (the test VM has no
# systemd): svc_sink stands in for the journal's socket and for
# $NOTIFY_SOCKET, writing each datagram it receives to a file of its own
# (run by suite.sh with the module loaded; pass/fail come from there).
L=/bpf-oom/tests/bpf-oom
T=/bpf-oom/tests
SINK=/bpf-oom/tests/svc_sink
CG=/sys/fs/cgroup
SV=/tmp/svc

# the attached OOM policies: "name cgroup_id" lines, sorted
attached() {
	awk '$1 !~ /^#/ { print $1, $2 }' /proc/bpf_oom/policies | sort
}

# wait up to $2 tenths of a second for file $1
wait_file() {
	i=0
	while [ ! -e "$1" ] && [ $i -lt "$2" ]; do sleep 0.1; i=$((i + 1)); done
	[ -e "$1" ]
}

# field $2 of journal datagram file $1 (KEY=VALUE lines)
jfield() {
	sed -n "s/^$2=//p" "$1"
}

# a JSON number or string member $2 of the one-line object in file $1 (the
# first at that name: victim before kernel_victim)
jsonv() {
	sed -n "s/.*\"$2\":\"\{0,1\}\([^\",}]*\).*/\1/p" "$1" | head -n 1
}

# start the sinks: journal datagrams in $SV/j, notifications in $SV/n (with a
# snapshot of /proc/bpf_oom/policies taken as each arrives)
sinks_start() {
	rm -rf $SV/j $SV/n
	mkdir -p $SV/j $SV/n $SV/metrics
	$SINK $SV/journal.sock $SV/j & JSINK=$!
	$SINK $SV/notify.sock $SV/n /proc/bpf_oom/policies & NSINK=$!
	wait_file $SV/journal.sock 50 && wait_file $SV/notify.sock 50
}

sinks_stop() {
	kill $JSINK $NSINK 2>/dev/null
	wait $JSINK $NSINK 2>/dev/null
}

# bpf-oom service -C $1 in the background (SVC: its pid), output in $SV/out, $SV/err
service_start() {
	BPF_OOM_POLICY_DIR=$T BPF_OOM_JOURNAL_SOCKET=$SV/journal.sock NOTIFY_SOCKET=$SV/notify.sock \
		$L service -C "$1" -M $SV/metrics/bpf-oom.prom >$SV/out 2>$SV/err &
	SVC=$!
}

# a memcg OOM in /svc_cg: a 64 MiB dd under 16 MiB; its pid appended to $1
svc_oom() {
	sh -c "echo \$\$ >>$1; echo \$\$ >$CG/svc_cg/cgroup.procs; exec dd if=/dev/zero of=/dev/null bs=64M count=1" 2>/dev/null
}

# A configuration error of one kind: exit 1, the message naming the file
# (and line) and the cause, no READY=1, nothing attached afterwards.
# bad_config TEST EXPECTED-STDERR-LINES (fixed strings, each a whole line) FILE CONTENT...
bad_config() {
	t=$1 want=$2
	shift 2
	rm -rf $SV/bad
	mkdir -p $SV/bad
	while [ $# -ge 2 ]; do printf '%s\n' "$2" >"$SV/bad/$1"; shift 2; done
	rm -f $SV/n/*
	BPF_OOM_POLICY_DIR=$T NOTIFY_SOCKET=$SV/notify.sock timeout 120 $L service -C $SV/bad \
		>$SV/bad.out 2>$SV/bad.err
	rc=$?
	now=$(attached)
	if [ $rc != 1 ]; then
		fail $t "expected exit 1, got $rc: $(cat $SV/bad.err)"
	elif missing=$(printf '%s\n' "$want" | while IFS= read -r l; do
			grep -qxF -- "$l" $SV/bad.err || echo "$l"; done) && [ -n "$missing" ]; then
		fail $t "expected the line(s) '$missing', got: $(cat $SV/bad.err)"
	elif [ -n "$(ls $SV/n)" ]; then
		fail $t "a notification was sent: $(cat $SV/n/*)"
	elif [ -n "$now" ]; then
		fail $t "still attached after exit 1: $now"
	else
		pass $t
	fi
}

service_test() {
	mkdir -p $CG/svc_cg $CG/svc_watch $SV/conf
	echo 16777216 >$CG/svc_cg/memory.max
	echo 0 >$CG/svc_cg/memory.swap.max 2>/dev/null
	id=$(stat -c %i $CG/svc_cg)
	sinks_start || { fail service_starts_ready_after_attach "the sinks did not start"; return; }
	C=$SV/conf
	printf '# the test cgroup\n[Policy]\nPolicy=oom_largest_task\nCgroup=/svc_cg\n' >$C/10-cg.conf
	printf 'Policy = oomd_like\n; watches a cgroup nothing uses, in shadow mode\nSet=cgroup=/svc_watch\nSet=dry_run=1\n' >$C/20-system.conf
	printf 'Policy=oom_kernel_default\n' >$C/30-ignored.conf.example

	# Both attached before READY=1: the sink's snapshot of
	# /proc/bpf_oom/policies taken as READY=1 arrived has both.
	t=service_starts_ready_after_attach
	t0=$(date +%s)
	service_start $C
	wait_file $SV/n/1 1200
	t1=$(date +%s)
	echo "# bpf-oom service: READY after $((t1 - t0)) s"
	snap=$(awk '$1 !~ /^#/ { print $1, $2 }' $SV/n/1.snap 2>/dev/null | sort)
	if [ ! -e $SV/n/1 ]; then
		fail $t "no notification within 120 s: $(cat $SV/err)"
	elif [ "$(cat $SV/n/1)" != "READY=1
STATUS=attached 2 policies" ]; then
		fail $t "the first notification is not READY=1 with the status: $(cat $SV/n/1)"
	elif [ "$snap" != "oom_largest_task $id
oomd_like 0" ]; then
		fail $t "attached at READY=1: expected oom_largest_task on $id and oomd_like system-wide, got: $snap"
	elif [ "$(cat $SV/out)" != "bpf-oom: $C/10-cg.conf: attached oom_largest_task to cgroup /svc_cg
bpf-oom: $C/20-system.conf: attached oomd_like to system-wide" ]; then
		fail $t "unexpected standard output: $(cat $SV/out)"
	else
		pass $t
	fi

	# One memcg OOM: one journal datagram, its fields the record's as
	# bpf-oom events --json prints it.
	t=service_journal_record_fields
	$L events -j -n 1 >$SV/ev.json 2>$SV/ev.err &
	ev=$!
	wait_file_grep() { i=0; while ! grep -q "$2" "$1" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done; }
	wait_file_grep $SV/ev.err "following decision records"
	rm -f $SV/pids
	svc_oom $SV/pids
	dd=$(cat $SV/pids)
	wait_file $SV/j/1 100
	i=0
	while kill -0 $ev 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	kill $ev 2>/dev/null
	wait $ev
	sleep 1	# a second datagram would be here by now
	j=$SV/j/1
	err=
	[ "$(ls $SV/j | wc -l)" = 1 ] || err="expected 1 datagram, got $(ls $SV/j | wc -l)"
	for kv in "POLICY=oom_largest_task" "SCOPE=/svc_cg" "ACTION=kill" "REASON=none" \
		"TRIGGER=memcg_oom" "KILLS=1" "VICTIM_PID=$dd" "VICTIM_TID=$dd" "VICTIM_COMM=dd" \
		"VICTIM_CGROUP=/svc_cg" "VICTIM_CGROUP_ID=$id" "ATTACH_CGROUP_ID=$id" \
		"DOMAIN=/svc_cg" "DOMAIN_CGROUP_ID=$id" "SYSLOG_IDENTIFIER=bpf-oom" "PRIORITY=4" \
		"CONSTRAINT=memcg" "RECORD_VERSION=2" \
		"EPISODE=$(jsonv $SV/ev.json episode)" "RECORD_TIME_NS=$(jsonv $SV/ev.json time_ns)" \
		"DURATION_NS=$(jsonv $SV/ev.json duration_ns)" "ORDER=$(jsonv $SV/ev.json order)" \
		"VICTIM_RSS_KB=$(jsonv $SV/ev.json rss_kb)" "VICTIM_SWAP_KB=$(jsonv $SV/ev.json swap_kb)" \
		"VICTIM_OOM_SCORE_ADJ=$(jsonv $SV/ev.json oom_score_adj)" \
		"GFP_MASK=$(printf '0x%x' "$(jsonv $SV/ev.json gfp_mask)")" \
		"MESSAGE=oom_largest_task (/svc_cg): memcg_oom /svc_cg, kill: killed dd[$dd]"; do
		k=${kv%%=*}
		[ "$(jfield $j $k)" = "${kv#*=}" ] || err="${err:+$err; }$k: expected '${kv#*=}', got '$(jfield $j $k)'"
	done
	grep -q '"victim":{"pid":'"$dd," $SV/ev.json || err="${err:+$err; }events -j did not see the kill of $dd: $(cat $SV/ev.json)"
	grep -q "^KERNEL_VICTIM_" $j && err="${err:+$err; }kernel victim fields in a kill record"
	n=$(grep -c . $j)
	[ "$n" = 27 ] || err="${err:+$err; }expected 27 fields, got $n"
	if [ -n "$err" ]; then fail $t "$err; datagram: $(cat $j)"; else pass $t; fi

	# The metrics file counts it; parsed whole.
	t=service_metrics_count
	wait_file_grep $SV/metrics/bpf-oom.prom 'action="kill"} 1'
	mdrop=$(sed -n 's/^dropped //p' /proc/bpf_oom/records)
	sed '/^# /d' $SV/metrics/bpf-oom.prom >$SV/metrics.got
	cat >$SV/metrics.want <<EOF
bpf_oom_decisions_total{policy="oom_largest_task",scope="/svc_cg",action="kill"} 1
bpf_oom_decisions_total{policy="oom_largest_task",scope="/svc_cg",action="dry_run"} 0
bpf_oom_decisions_total{policy="oom_largest_task",scope="/svc_cg",action="decline"} 0
bpf_oom_decisions_total{policy="oomd_like",scope="system",action="kill"} 0
bpf_oom_decisions_total{policy="oomd_like",scope="system",action="dry_run"} 0
bpf_oom_decisions_total{policy="oomd_like",scope="system",action="decline"} 0
bpf_oom_kills_total{policy="oom_largest_task",scope="/svc_cg"} 1
bpf_oom_kills_total{policy="oomd_like",scope="system"} 0
bpf_oom_shadow_disagreements_total{policy="oom_largest_task",scope="/svc_cg"} 0
bpf_oom_shadow_disagreements_total{policy="oomd_like",scope="system"} 0
bpf_oom_policy_attached{policy="oom_largest_task",scope="/svc_cg"} 1
bpf_oom_policy_attached{policy="oomd_like",scope="system"} 1
bpf_oom_policies_attached 2
bpf_oom_records_total 1
bpf_oom_records_dropped_total{where="ring_buffer"} 0
bpf_oom_records_dropped_total{where="unknown_layout"} 0
bpf_oom_records_dropped_total{where="module"} $mdrop
bpf_oom_reloads_total{result="ok"} 0
bpf_oom_reloads_total{result="failed"} 0
EOF
	help=$(grep -c '^# HELP ' $SV/metrics/bpf-oom.prom)
	types=$(grep -c '^# TYPE ' $SV/metrics/bpf-oom.prom)
	if ! cmp -s $SV/metrics.want $SV/metrics.got; then
		fail $t "metrics differ from the expected (< expected, > got): $(diff $SV/metrics.want $SV/metrics.got | grep '^[<>]')"
	elif [ "$help:$types" != 9:9 ]; then
		fail $t "expected 9 HELP and 9 TYPE lines, got $help and $types"
	elif ls $SV/metrics | grep -qv '^bpf-oom.prom$'; then
		fail $t "a temporary file stays beside the metrics: $(ls $SV/metrics)"
	else
		pass $t
	fi

	# A broken configuration on SIGHUP: the error (file:line) logged, the
	# running set untouched, RELOADING=1 then READY=1 with a status saying so.
	t=service_reload_broken_config_keeps_set
	cp $C/10-cg.conf $SV/10-cg.conf.good
	printf 'Policy=oom_largest_task\nCgroup=/svc_cg\nSett=dry_run=1\n' >$C/10-cg.conf
	before=$(attached)
	kill -HUP $SVC
	wait_file $SV/n/3 600
	after=$(attached)
	if [ ! -e $SV/n/3 ]; then
		fail $t "no READY=1 after the reload: $(cat $SV/n/* 2>/dev/null) $(cat $SV/err)"
	elif ! grep -qx "RELOADING=1" $SV/n/2 || ! grep -qxE "MONOTONIC_USEC=[1-9][0-9]*" $SV/n/2; then
		fail $t "the reload did not start with RELOADING=1 and MONOTONIC_USEC=: $(cat $SV/n/2)"
	elif [ "$(cat $SV/n/3)" != "READY=1
STATUS=reload failed (see the log); attached 2 policies" ]; then
		fail $t "unexpected notification after the failed reload: $(cat $SV/n/3)"
	elif ! grep -qxF "bpf-oom: $C/10-cg.conf:3: unknown key 'Sett' (the keys are Policy, Cgroup, Map and Set)" $SV/err ||
	     ! grep -qxF "bpf-oom: reload failed: the 2 running policies stay attached as they were" $SV/err; then
		fail $t "the error is not logged as expected: $(cat $SV/err)"
	elif [ "$after" != "$before" ] || [ "$(echo "$after" | wc -l)" != 2 ]; then
		fail $t "the running set changed: before $before, after $after"
	elif ! kill -0 $SVC; then
		fail $t "the service exited"
	else
		pass $t
	fi
	cp $SV/10-cg.conf.good $C/10-cg.conf

	# SIGHUP with a changed knob on a kept target: the policy is
	# replaced in place (BPF_LINK_UPDATE). OOMs run in a loop across the
	# reload: every one is decided by the policy (a kill record for each
	# killed dd), none by the kernel alone.
	t=service_reload_changed_knob_no_window
	printf 'Policy=oom_largest_task\nCgroup=/svc_cg\nSet=rss_precise=1\n' >$C/10-cg.conf
	echo "bpf-oom-test: service reload start" >/dev/kmsg
	rm -f $SV/pids $SV/stop
	nj=$(ls $SV/j | wc -l)
	kills0=$(sed -n 's/^oom_kill //p' $CG/svc_cg/memory.events)
	(while [ ! -e $SV/stop ]; do svc_oom $SV/pids; done) &
	loop=$!
	wait_file $SV/pids 100
	sleep 1
	kill -HUP $SVC
	wait_file $SV/n/5 600
	sleep 2	# a few OOMs more under the new policy
	touch $SV/stop
	wait $loop
	sleep 1
	kills=$(( $(sed -n 's/^oom_kill //p' $CG/svc_cg/memory.events) - kills0 ))
	npids=$(wc -l <$SV/pids)
	err=
	if [ ! -e $SV/n/5 ] || [ "$(cat $SV/n/5)" != "READY=1
STATUS=attached 2 policies" ]; then
		err="the reload did not end with READY=1, attached 2: $(cat $SV/n/5 2>/dev/null); $(tail -n 3 $SV/err)"
	elif ! grep -qxF "bpf-oom: reloaded: 2 policies: 1 kept, 1 replaced in place, 0 attached to new targets, 0 targets left" $SV/err; then
		err="the reload did not replace one policy in place: $(tail -n 3 $SV/err)"
	fi
	[ "$kills" = "$npids" ] || err="${err:+$err; }$npids dd started, $kills OOM kills in /svc_cg"
	for p in $(cat $SV/pids); do
		f=$(grep -lx "VICTIM_PID=$p" $SV/j/* 2>/dev/null)
		if [ -z "$f" ]; then
			err="${err:+$err; }dd $p: no decision record (killed by the kernel alone?)"
		elif [ "$(jfield $f POLICY):$(jfield $f ACTION)" != oom_largest_task:kill ]; then
			err="${err:+$err; }dd $p: $(jfield $f POLICY) $(jfield $f ACTION)"
		fi
	done
	[ "$(( $(ls $SV/j | wc -l) - nj ))" = "$npids" ] || err="${err:+$err; }$npids OOMs, $(( $(ls $SV/j | wc -l) - nj )) records"
	dmesg | sed -n '/bpf-oom-test: service reload start/,$p' | grep -q "the kernel OOM killer decides" &&
		err="${err:+$err; }the kernel log has an OOM the policies left to the kernel"
	# the module's .update says how many OOMs the old ops handled; the new
	# ops' own count starts at 0: both must have decided some
	repl=$(dmesg | sed -n '/bpf-oom-test: service reload start/,$p' |
		grep "bpf_oom: policy oom_largest_task replaced by oom_largest_task on ")
	old_handled=$(echo "$repl" | sed -n 's/.*, handled \([0-9]*\))$/\1/p')
	new_handled=$(awk -v id=$id '$1 == "oom_largest_task" && $2 == id { print $5 }' /proc/bpf_oom/policies)
	if [ "$(echo "$repl" | grep -c .)" != 1 ]; then
		err="${err:+$err; }expected one 'replaced by' line in the kernel log, got: $repl"
	elif [ "${old_handled:-0}" -lt 1 ] || [ "${new_handled:-0}" -lt 1 ]; then
		err="${err:+$err; }OOMs on both sides of the swap expected: the old ops handled ${old_handled:-?}, the new ${new_handled:-?}"
	fi
	[ "$(attached)" = "oom_largest_task $id
oomd_like 0" ] || err="${err:+$err; }attached after the reload: $(attached)"
	echo "# $npids OOMs across the reload: ${old_handled:-?} before the swap, ${new_handled:-?} after"
	if [ -n "$err" ]; then fail $t "$err"; else pass $t; fi

	# A cgroup a knob names, removed and created again under the same path:
	# another cgroup (another id). The Set= line is the same text, but the
	# reload replaces that policy, so the knob names the live cgroup.
	t=service_reload_recreated_cgroup_swaps
	rmdir $CG/svc_watch && mkdir $CG/svc_watch
	kill -HUP $SVC
	wait_file $SV/n/7 600
	last=$(grep "^bpf-oom: reloaded: " $SV/err | tail -n 1)
	if [ ! -e $SV/n/7 ] || [ "$(cat $SV/n/7)" != "READY=1
STATUS=attached 2 policies" ]; then
		fail $t "the reload did not end with READY=1, attached 2: $(cat $SV/n/7 2>/dev/null); $(tail -n 3 $SV/err)"
	elif [ "$last" != "bpf-oom: reloaded: 2 policies: 1 kept, 1 replaced in place, 0 attached to new targets, 0 targets left" ]; then
		fail $t "expected oomd_like replaced in place, oom_largest_task kept; got: $last"
	elif [ "$(attached)" != "oom_largest_task $id
oomd_like 0" ]; then
		fail $t "attached after the reload: $(attached)"
	else
		pass $t
	fi

	# SIGTERM: everything detached, STOPPING=1, exit 0, the gauge 0.
	t=service_sigterm_detaches
	kill -TERM $SVC
	wait $SVC
	rc=$?
	last=$SV/n/$(ls $SV/n | grep -v snap | sort -n | tail -n 1)
	if [ $rc != 0 ]; then
		fail $t "expected exit 0, got $rc: $(tail -n 3 $SV/err)"
	elif [ -n "$(attached)" ]; then
		fail $t "still attached after the service exited: $(attached)"
	elif [ "$(cat $last)" != "STOPPING=1
STATUS=detaching 2 policies" ]; then
		fail $t "the last notification is not STOPPING=1: $(cat $last)"
	elif ! grep -qx "bpf_oom_policies_attached 0" $SV/metrics/bpf-oom.prom; then
		fail $t "the metrics still count attached policies: $(grep attached $SV/metrics/bpf-oom.prom)"
	else
		pass $t
	fi

	# Two files with the same PSI-only policy: two instances; a reload keeps
	# each (one running instance stands for one file), and the stop closes
	# each once (exit 0, nothing left).
	t=service_reload_twin_files_kept_apart
	mkdir -p $SV/twin
	printf 'Policy=psi_mem_guard\nSet=dry_run=1\n' >$SV/twin/10-a.conf
	printf 'Policy=psi_mem_guard\nSet=dry_run=1\n' >$SV/twin/20-b.conf
	sinks_stop
	sinks_start	# notifications numbered from 1 again
	service_start $SV/twin
	wait_file $SV/n/1 1200
	kill -HUP $SVC
	wait_file $SV/n/3 600
	kill -TERM $SVC
	wait $SVC
	rc=$?
	last=$(grep "^bpf-oom: reloaded: " $SV/err | tail -n 1)
	if [ "$(cat $SV/n/1 2>/dev/null)" != "READY=1
STATUS=attached 2 policies" ]; then
		fail $t "no READY=1 with 2 policies: $(cat $SV/n/1 2>/dev/null); $(tail -n 3 $SV/err)"
	elif [ "$last" != "bpf-oom: reloaded: 2 policies: 2 kept, 0 replaced in place, 0 attached to new targets, 0 targets left" ]; then
		fail $t "expected both kept; got: $last"
	elif [ $rc != 0 ]; then
		fail $t "expected exit 0 after SIGTERM, got $rc: $(tail -n 3 $SV/err)"
	elif ! $L status --json | grep -q '"psi":{"triggers":0,"list":\[\]}'; then
		fail $t "PSI triggers left after the service exited: $($L status --json)"
	else
		pass $t
	fi

	# --check: loads everything, attaches nothing; a second system-wide
	# OOM policy is refused before any attach.
	t=service_check_loads_attaches_nothing
	out1=$(BPF_OOM_POLICY_DIR=$T $L service --check -C $C 2>&1); rc1=$?
	now1=$(attached)
	printf 'Policy=oom_kernel_default\n' >$C/30-second.conf
	out2=$(BPF_OOM_POLICY_DIR=$T $L service --check -C $C 2>&1); rc2=$?
	rm $C/30-second.conf
	if [ "$rc1:$out1" != "0:bpf-oom: $C: 2 policies, every one loads (nothing attached: --check)" ] || [ -n "$now1" ]; then
		fail $t "a good configuration: expected exit 0 and nothing attached, got $rc1: $out1 / $now1"
	elif [ "$rc2:$out2" != "1:bpf-oom: $C/30-second.conf: policy oom_kernel_default: system-wide already has policy oomd_like from $C/20-system.conf (one bpf_oom_ops policy per target): Device or resource busy" ]; then
		fail $t "two system-wide policies: expected exit 1 and EBUSY, got $rc2: $out2"
	else
		pass $t
	fi

	# Configuration errors at start: exit 1, file and cause named, nothing attached.
	B=$SV/bad
	bad_config service_refuses_unknown_key \
		"bpf-oom: $B/10-a.conf:2: unknown key 'Cgroupe' (the keys are Policy, Cgroup, Map and Set)" \
		10-a.conf "Policy=oom_largest_task
Cgroupe=/svc_cg"
	bad_config service_refuses_relative_policy_path \
		"bpf-oom: $B/10-a.conf:1: Policy=policies/x.bpf.o: a relative path: give an absolute path, or the name of an installed policy" \
		10-a.conf "Policy=policies/x.bpf.o"
	bad_config service_refuses_missing_policy_key \
		"bpf-oom: $B/20-b.conf: no Policy= line: which policy to attach?" \
		10-a.conf "Policy=oom_largest_task" 20-b.conf "Cgroup=/svc_cg"
	bad_config service_refuses_unknown_policy \
		"bpf-oom: $B/10-a.conf: policy no_such_policy: no policy named no_such_policy in $T (BPF_OOM_POLICY_DIR; searched for $T/no_such_policy.bpf.o): 'bpf-oom list --available' lists the policies there; choose another directory (-P DIR or BPF_OOM_POLICY_DIR), or give the path of a .bpf.o" \
		10-a.conf "Policy=no_such_policy"
	bad_config service_refuses_bad_knob_value \
		"bpf-oom: $B/10-a.conf: policy oom_largest_task: Set=rss_precise: lots is not a number or a cgroup path" \
		10-a.conf "Policy=oom_largest_task
Set=rss_precise=lots"
	bad_config service_refuses_missing_cgroup \
		"bpf-oom: $B/20-b.conf: policy oom_largest_task: cgroup /sys/fs/cgroup/no_such_cgroup: No such file or directory" \
		10-a.conf "Policy=oomd_like" 20-b.conf "Policy=oom_largest_task
Cgroup=/no_such_cgroup"
	# the third attach fails (EBUSY from the kernel): the two before it are detached again
	bad_config service_second_system_policy_busy_detaches_all \
		"bpf-oom: $B/30-c.conf: policy oomd_like: system-wide already has a bpf_oom_ops policy attached: detach it first (Device or resource busy)
bpf-oom: detached the 2 policies attached before it: nothing is attached" \
		10-a.conf "Policy=oom_largest_task
Cgroup=/svc_cg" 20-b.conf "Policy=oom_kernel_default" 30-c.conf "Policy=oomd_like"

	sinks_stop
	rmdir $CG/svc_cg $CG/svc_watch 2>/dev/null
}
