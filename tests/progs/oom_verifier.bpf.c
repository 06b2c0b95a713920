// SPDX-License-Identifier: GPL-2.0
/*
 * oom_verifier.bpf.c - the OOM kfuncs belong to bpf_oom_ops programs.
 *
 * Each program calls an OOM kfunc from somewhere else and must be rejected;
 * userspace loads them one at a time.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf_oom/kfuncs.h>

char _license[] SEC("license") = "GPL";

struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
void bpf_task_release(struct task_struct *p) __ksym;

/* A syscall program: no OOM to act on. */
SEC("?syscall")
int victim_from_syscall(void *ctx)
{
	struct task_struct *task = bpf_task_from_pid(1);
	int ret;

	if (!task)
		return 0;
	ret = bpf_task_is_oom_victim(task);
	bpf_task_release(task);
	return ret;
}

/* The same, without the OOM kfunc: must load (the control). */
SEC("?syscall")
int control_from_syscall(void *ctx)
{
	struct task_struct *task = bpf_task_from_pid(1);
	int ret;

	if (!task)
		return 0;
	ret = task->pid;
	bpf_task_release(task);
	return ret;
}

/* A tracing program on the kernel's own victim selection. */
SEC("?fentry/oom_badness")
int BPF_PROG(victim_from_tracing, struct task_struct *p, unsigned long totalpages)
{
	return bpf_task_is_oom_victim(p);
}
