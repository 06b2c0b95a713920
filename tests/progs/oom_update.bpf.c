// SPDX-License-Identifier: GPL-2.0
/*
 * oom_update.bpf.c - two bpf_oom_ops policies, A and B, for the link update
 * tests (BPF_LINK_UPDATE replacing one by the other in place).
 *
 * Both kill the task whose allocation ran out of memory (the current task,
 * in the tests a child allocating past its cgroup's memory.max) and record
 * which of them decided: calls, kills and failed kills per policy, and the
 * pid of every victim, so a test can match each "oom_policy=NAME ...
 * killing" line of the kernel log with the program that really ran.
 * Index 0 is A, 1 is B.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf_oom/kfuncs.h>
#include <bpf_oom/oom.h>

char _license[] SEC("license") = "GPL";

#define UPD_MAX_VICTIMS 512

u64 calls[2], kills[2], failures[2];
int last_err[2];
u32 victims[2][UPD_MAX_VICTIMS];

/* Kill the current task for policy @who (a constant: inlined). */
static __always_inline int kill_current(int who, struct oom_control *oc)
{
	struct task_struct *task = bpf_get_current_task_btf();
	u32 pid = task->pid;
	u64 n;
	int err;

	/* runs under oom_lock: one handler at a time, plain counters do */
	calls[who]++;
	err = bpf_oom_kill_process(oc, task, "bpf-oom test policy (link update)");
	if (err) {
		failures[who]++;
		last_err[who] = err;
		return 0;
	}
	n = kills[who]++;
	if (n < UPD_MAX_VICTIMS)
		victims[who][n] = pid;
	return 1;
}

SEC("struct_ops.s/handle_out_of_memory")
int BPF_PROG(upd_a_oom, struct bpf_oom_ctx *octx, struct oom_control *oc)
{
	return kill_current(0, oc);
}

SEC("struct_ops.s/handle_out_of_memory")
int BPF_PROG(upd_b_oom, struct bpf_oom_ctx *octx, struct oom_control *oc)
{
	return kill_current(1, oc);
}

SEC(".struct_ops.link")
struct bpf_oom_ops upd_a = {
	.handle_out_of_memory = (void *)upd_a_oom,
	.name = "test_upd_a",
};

SEC(".struct_ops.link")
struct bpf_oom_ops upd_b = {
	.handle_out_of_memory = (void *)upd_b_oom,
	.name = "test_upd_b",
};
