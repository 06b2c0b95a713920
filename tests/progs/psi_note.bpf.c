// SPDX-License-Identifier: GPL-2.0
/*
 * psi_note.bpf.c - bpf_psi_note_decision() from a real handle_psi_event.
 *
 * note: one memory trigger on note_cgroup_id. The first event's run calls
 *	the kfunc with every argument it must refuse, then makes two good
 *	notes: a dry run naming note_target_pid, and a decline (each result
 *	in note_ret[], the cases in psi_args.h). Later events are only
 *	counted. Alone in its object, so that a test can break its name
 *	without failing the load of other policies.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf_oom/kfuncs.h>
#include <bpf_oom/psi.h>
#include <bpf_oom/record.h>
#include "psi_args.h"

char _license[] SEC("license") = "GPL";

struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
void bpf_task_release(struct task_struct *p) __ksym;

u64 note_cgroup_id;		/* set by userspace: the trigger's cgroup */
int note_target_pid;		/* set by userspace: the task the notes name */
u64 note_init_calls;
u64 note_events;		/* handle_psi_event runs */
int note_ret[NR_NOTES] = { [0 ... NR_NOTES - 1] = 1 };	/* 1: not called */

SEC("struct_ops.s/init")
int BPF_PROG(note_init, struct bpf_psi *bpf_psi)
{
	note_init_calls++;
	return bpf_psi_create_trigger(bpf_psi, note_cgroup_id, PSI_MEM, 50000, 500000);
}

SEC("struct_ops.s/handle_psi_event")
void BPF_PROG(note_event, struct bpf_psi *bpf_psi, struct psi_trigger *t)
{
	struct task_struct *task;
	int *r = note_ret;

	/* one trigger, whose work item never runs twice at once */
	if (note_events++)
		return;
	task = bpf_task_from_pid(note_target_pid);
	if (!task)
		return;
	r[NOTE_ACTION_0] = bpf_psi_note_decision(bpf_psi, t, task, 0,
						 BPF_OOM_REASON_NO_CANDIDATE);
	r[NOTE_ACTION_KILL] = bpf_psi_note_decision(bpf_psi, t, task, BPF_OOM_ACTION_KILL,
						    BPF_OOM_REASON_NONE);
	r[NOTE_ACTION_ABOVE_MAX] = bpf_psi_note_decision(bpf_psi, t, task, BPF_OOM_ACTION_MAX + 1,
							 BPF_OOM_REASON_NO_CANDIDATE);
	r[NOTE_ACTION_WIDE] = bpf_psi_note_decision(bpf_psi, t, task,
						    0x100 | BPF_OOM_ACTION_DRY_RUN,
						    BPF_OOM_REASON_DRY_RUN);
	r[NOTE_DECLINE_REASON_NONE] = bpf_psi_note_decision(bpf_psi, t, NULL,
							    BPF_OOM_ACTION_DECLINE,
							    BPF_OOM_REASON_NONE);
	r[NOTE_DECLINE_REASON_DRY_RUN] = bpf_psi_note_decision(bpf_psi, t, NULL,
							       BPF_OOM_ACTION_DECLINE,
							       BPF_OOM_REASON_DRY_RUN);
	r[NOTE_DECLINE_REASON_ABOVE_MAX] = bpf_psi_note_decision(bpf_psi, t, NULL,
								 BPF_OOM_ACTION_DECLINE,
								 BPF_OOM_REASON_MAX + 1);
	r[NOTE_DECLINE_REASON_WIDE] = bpf_psi_note_decision(bpf_psi, t, NULL,
							    BPF_OOM_ACTION_DECLINE,
							    0x10000 | BPF_OOM_REASON_NO_CANDIDATE);
	r[NOTE_DRY_RUN_NO_TASK] = bpf_psi_note_decision(bpf_psi, t, NULL, BPF_OOM_ACTION_DRY_RUN,
							BPF_OOM_REASON_DRY_RUN);
	r[NOTE_DRY_RUN_REASON_NONE] = bpf_psi_note_decision(bpf_psi, t, task,
							    BPF_OOM_ACTION_DRY_RUN,
							    BPF_OOM_REASON_NONE);
	r[NOTE_DRY_RUN_REASON_OTHER] = bpf_psi_note_decision(bpf_psi, t, task,
							     BPF_OOM_ACTION_DRY_RUN,
							     BPF_OOM_REASON_NO_CANDIDATE);
	r[NOTE_DRY_RUN] = bpf_psi_note_decision(bpf_psi, t, task, BPF_OOM_ACTION_DRY_RUN,
						BPF_OOM_REASON_DRY_RUN);
	r[NOTE_DECLINE] = bpf_psi_note_decision(bpf_psi, t, NULL, BPF_OOM_ACTION_DECLINE,
						BPF_OOM_REASON_MIN_INTERVAL);
	bpf_task_release(task);
}

SEC(".struct_ops.link")
struct bpf_psi_ops note = {
	.init = (void *)note_init,
	.handle_psi_event = (void *)note_event,
	.name = "test_psi_note",
};
