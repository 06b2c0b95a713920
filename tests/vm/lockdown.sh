# SPDX-License-Identifier: GPL-2.0
#
# lockdown.sh - the last test of a VM run (sourced after suite.sh, and in
# make check-debug after the soak and kmemleak): it locks the kernel down,
# which cannot be undone (no unsigned module loads after it, debugfs closes).
#
# Debian under UEFI Secure Boot runs locked down in "integrity" mode
# (kernel_lockdown(7)): the module loads before that here (on such a
# machine it is signed with DKMS's MOK key and loads under it), then a
# policy is attached and decides a memcg OOM, its record read by bpf-oom
# events. (In "confidentiality" mode BPF may not read kernel memory and most
# policies do not load: README, Known limits.)
t=lockdown_integrity_policy_kills
err=
mountpoint -q /sys/kernel/security || mount -t securityfs securityfs /sys/kernel/security
LK=/sys/kernel/security/lockdown
if ! insmod $ko 2>/tmp/insmod.err; then
	err="insmod: $(cat /tmp/insmod.err)"
elif [ "$(cat $LK 2>&1)" != "[none] integrity confidentiality" ]; then
	err="$LK: expected the lockdown LSM, not locked down, got: $(cat $LK 2>&1)"
elif ! echo integrity >$LK; then
	err="cannot lock the kernel down (integrity)"
elif [ "$(cat $LK)" != "none [integrity] confidentiality" ]; then
	err="after locking down: $LK says $(cat $LK)"
else
	mkdir $CG/lockdown
	out=$(BPF_OOM_POLICY_DIR=/bpf-oom/tests $L attach -c /lockdown oom_largest_task 2>&1) ||
		err="attach under lockdown: $out"
fi
if [ -z "$err" ]; then
	events_one_memcg_oom lockdown lk
	if [ $dd_rc != 137 ]; then
		err="dd in /lockdown was not killed (exit $dd_rc)"
	elif [ $ev_rc != 0 ] || [ "$(echo "$line" | wc -l)" != 1 ] ||
	     ! echo "$line" | grep -q " oom_largest_task (cgroup): memcg_oom /lockdown, kill victim=dd\[$dd\] "; then
		err="events -n 1 (exit $ev_rc): expected the policy's kill of dd[$dd], got: $line $(cat /tmp/lk_events.err)"
	elif [ "$(dmesg | grep -c "BPF OOM policy oom_largest_task: Killed process $dd (dd)")" != 1 ] ||
	     [ "$(dmesg | grep -c "Killed process $dd ")" != 1 ]; then
		err="the kernel log does not show exactly one kill of $dd, by the policy"
	fi
	$L detach -c /lockdown >/dev/null
	rmdir $CG/lockdown
	unload || err="${err:+$err; }rmmod under lockdown: $(cat /tmp/rmmod.err)"
fi
if [ -n "$err" ]; then fail $t "$err"; else pass $t; fi
