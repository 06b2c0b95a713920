// SPDX-License-Identifier: GPL-2.0
/*
 * oom_policies.bpf.c - small bpf_oom_ops policies for the OOM tests.
 *
 * Each struct_ops map is one policy; a test attaches the ones it needs
 * (system-wide, or to a cgroup through the cgroup_id member) and reads what
 * they saw from .bss. Every policy counts its calls per attachment slot:
 * calls[0] for system-wide, calls[1] for any cgroup.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf_oom/kfuncs.h>
#include <bpf_oom/oom.h>
#include <bpf_oom/record.h>

char _license[] SEC("license") = "GPL";

struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
void bpf_task_release(struct task_struct *p) __ksym;

/* kill_pid: the task to kill, and what happened */
int target_pid;
int kill_ret = 1;		/* 1 = not called */
u64 saw_global;			/* OOMs with oc->memcg == NULL */
u64 last_ctx_cgroup_id = ~0ULL;

int note_after_kill = 1;	/* bpf_oom_note_decision() after a kill; 1 = not called */

/* note: bpf_oom_note_decision() with bad and good arguments, in one run */
#define NOTE_CALLS 9
int note_ret[NOTE_CALLS] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };

u64 kill_calls[2], decline_calls[2], claim_calls[2], note_calls[2];
u64 offline_cgroup_id;
u64 offline_ctx_cgroup_id;
u64 offline_calls;

static void count(u64 *calls, struct bpf_oom_ctx *octx)
{
	calls[octx->cgroup_id ? 1 : 0]++;
	last_ctx_cgroup_id = octx->cgroup_id;
}

/* Kills target_pid; returns 1 if that worked. */
SEC("struct_ops.s/handle_out_of_memory")
int BPF_PROG(kill_pid_oom, struct bpf_oom_ctx *octx, struct oom_control *oc)
{
	struct task_struct *task;

	count(kill_calls, octx);
	if (!oc->memcg)
		saw_global++;
	task = bpf_task_from_pid(target_pid);
	if (!task)
		return 0;
	kill_ret = bpf_oom_kill_process(oc, task, "bpf-oom test policy kill_pid");
	bpf_task_release(task);
	if (!kill_ret)
		note_after_kill = bpf_oom_note_decision(oc, NULL, BPF_OOM_ACTION_DECLINE,
							BPF_OOM_REASON_NO_CANDIDATE);
	return 1;
}

/*
 * Declines every OOM, saying why, after trying bpf_oom_note_decision()
 * with each kind of bad argument (the test expects the errnos).
 */
SEC("struct_ops.s/handle_out_of_memory")
int BPF_PROG(note_oom, struct bpf_oom_ctx *octx, struct oom_control *oc)
{
	count(note_calls, octx);
	if (note_ret[6] != 1)
		return 0;	/* the first OOM only */
	note_ret[0] = bpf_oom_note_decision(oc, NULL, 0, BPF_OOM_REASON_NO_CANDIDATE);
	note_ret[1] = bpf_oom_note_decision(oc, NULL, BPF_OOM_ACTION_KILL, BPF_OOM_REASON_NONE);
	note_ret[2] = bpf_oom_note_decision(oc, NULL, BPF_OOM_ACTION_MAX + 1,
					    BPF_OOM_REASON_NO_CANDIDATE);
	note_ret[3] = bpf_oom_note_decision(oc, NULL, BPF_OOM_ACTION_DECLINE, BPF_OOM_REASON_NONE);
	note_ret[4] = bpf_oom_note_decision(oc, NULL, BPF_OOM_ACTION_DECLINE,
					    BPF_OOM_REASON_MAX + 1);
	note_ret[5] = bpf_oom_note_decision(oc, NULL, BPF_OOM_ACTION_DRY_RUN, BPF_OOM_REASON_DRY_RUN);
	note_ret[8] = bpf_oom_note_decision(oc, NULL, BPF_OOM_ACTION_DECLINE, BPF_OOM_REASON_DRY_RUN);
	note_ret[6] = bpf_oom_note_decision(oc, NULL, BPF_OOM_ACTION_DECLINE,
					    BPF_OOM_REASON_NO_CANDIDATE);
	note_ret[7] = bpf_oom_note_decision(oc, NULL, BPF_OOM_ACTION_DECLINE,
					    BPF_OOM_REASON_MIN_INTERVAL);
	return 0;
}

/* Declines every OOM. */
SEC("struct_ops.s/handle_out_of_memory")
int BPF_PROG(decline_oom, struct bpf_oom_ctx *octx, struct oom_control *oc)
{
	count(decline_calls, octx);
	return 0;
}

/* Claims to have handled every OOM without freeing anything. */
SEC("struct_ops.s/handle_out_of_memory")
int BPF_PROG(claim_oom, struct bpf_oom_ctx *octx, struct oom_control *oc)
{
	count(claim_calls, octx);
	return 1;
}

SEC("struct_ops.s/handle_cgroup_offline")
void BPF_PROG(record_offline, struct bpf_oom_ctx *octx, u64 cgroup_id)
{
	offline_calls++;
	offline_cgroup_id = cgroup_id;
	offline_ctx_cgroup_id = octx->cgroup_id;
}

SEC(".struct_ops.link")
struct bpf_oom_ops kill_pid = {
	.handle_out_of_memory = (void *)kill_pid_oom,
	.handle_cgroup_offline = (void *)record_offline,
	.name = "test_kill_pid",
};

SEC(".struct_ops.link")
struct bpf_oom_ops decline = {
	.handle_out_of_memory = (void *)decline_oom,
	.handle_cgroup_offline = (void *)record_offline,
	.name = "test_decline",
};

SEC(".struct_ops.link")
struct bpf_oom_ops note = {
	.handle_out_of_memory = (void *)note_oom,
	.name = "test_note",
};

SEC(".struct_ops.link")
struct bpf_oom_ops claim = {
	.handle_out_of_memory = (void *)claim_oom,
	.name = "test_claim",
};

/* Invalid: handle_out_of_memory is mandatory. */
SEC(".struct_ops.link")
struct bpf_oom_ops no_handler = {
	.handle_cgroup_offline = (void *)record_offline,
	.name = "test_no_handler",
};
