// SPDX-License-Identifier: GPL-2.0
/*
 * oom_kernel_default - the kernel's own OOM victim choice, made in BPF.
 *
 * What it does: on every OOM it scores each candidate the way the kernel's
 * OOM killer does (select_bad_process() and oom_badness() of mm/oom_kill.c:
 * rss + swap + page tables, oom_score_adj in thousandths of the OOM domain,
 * -1000 never, init and kernel threads never, an earlier victim still
 * exiting stops the choice) over the same tasks (the memory cgroup subtree
 * of a memcg OOM, every process of a global one) and kills the task with
 * the highest score through the kernel's own oom_kill_process() (report,
 * counters, memory.oom.group, the OOM reaper).
 *
 * When to use it: as the baseline every other policy is measured against,
 * and in shadow mode (dry_run) to watch a policy layer with nothing
 * changed: it records what it would kill and lets the kernel kill, so the
 * two choices of one OOM can be compared; it is also the place to start
 * writing a policy that only adjusts the kernel's rule.
 *
 * Where it fails (differs from the kernel):
 *  - OOMs constrained by a cpuset or a memory policy (oc->constraint) are
 *    left to the kernel: it declines them, since it cannot tell which tasks
 *    may use the constrained nodes (oom_cpuset_eligible());
 *  - RSS is read as the running kernel reads it, chosen by kernel version
 *    (include/bpf_oom/policy.h); set rss_precise to override;
 *  - between its choice and its kill a task may exit: it then declines
 *    and the kernel chooses again.
 *
 * Knobs (rodata, set before load):
 *   dry_run      record the choice, kill nothing: the kernel decides
 *   rss_precise  -1: as the kernel (default); 0: central counts; 1: per-CPU sums
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf_oom/kfuncs.h>
#include <bpf_oom/oom.h>
#include <bpf_oom/policy.h>

char _license[] SEC("license") = "GPL";

const volatile bool dry_run;
const volatile int rss_precise = -1;

#define CHOICES 64	/* the last choices kept for readers (a ring) */

/* What it did, for whoever reads the map (the tests do). */
u64 invocations;	/* OOMs seen */
u64 kills;		/* OOMs it resolved by a kill */
u64 declines;		/* OOMs it left to the kernel (dry_run included) */
u64 nr_choices;		/* choices made; the last CHOICES are below */
bool rss_precise_used;	/* the last choice read exact per-CPU sums */
s32 choice_pid[CHOICES];	/* the process chosen, 0: none */
s64 choice_points[CHOICES];	/* its score */
u32 choice_candidates[CHOICES];	/* tasks scored */
u64 choice_memcg[CHOICES];	/* the OOM domain's cgroup id, 0: global */
u32 choice_nr_tied[CHOICES];	/* processes with the same score */
s32 choice_tied[CHOICES][BPF_OOM_TIES];	/* the first of them */

/*
 * The scan's state: a global, whose value the verifier does not follow
 * (on the stack, every combination of its fields would be a state to
 * verify through the nested scan loops). oom_lock serializes OOMs.
 */
static struct bpf_oom_choice choice;

SEC("struct_ops.s/handle_out_of_memory")
int BPF_PROG(handle_out_of_memory, struct bpf_oom_ctx *octx, struct oom_control *oc)
{
	struct bpf_oom_choice *c = &choice;
	struct task_struct *victim;
	struct mem_cgroup *memcg;
	int killed;
	u64 n;
	u32 i;

	invocations++;
	if (bpf_oom_leave_constrained(oc)) {
		declines++;
		return 0;
	}
	bpf_oom_choice_init(c, rss_precise < 0 ? bpf_oom_kernel_rss_precise() : rss_precise);
	bpf_oom_select(c, oc);
	rss_precise_used = c->precise;

	n = nr_choices;
	i = n % CHOICES;
	choice_pid[i] = c->pid;
	choice_points[i] = c->points;
	choice_candidates[i] = c->candidates;
	memcg = oc->memcg;
	choice_memcg[i] = memcg ? memcg->css.cgroup->kn->id : 0;
	choice_nr_tied[i] = c->nr_tied;
	__builtin_memcpy(choice_tied[i], c->tied, sizeof(c->tied));
	/* the slot is written: count it (a reader goes by the count) */
	barrier();
	nr_choices = n + 1;

	if (!c->pid) {
		/* an earlier victim still exiting, or no candidate */
		bpf_oom_record_decline(oc, NULL, c->abort ? BPF_OOM_REASON_VICTIM_PENDING :
							   BPF_OOM_REASON_NO_CANDIDATE);
		declines++;
		return 0;
	}
	victim = bpf_oom_choice_task(c);
	if (!victim) {
		/* it exited between the scan and now */
		bpf_oom_record_decline(oc, NULL, BPF_OOM_REASON_NO_CANDIDATE);
		declines++;
		return 0;
	}
	/* shadow mode: recorded, and the record gets the kernel's victim as well */
	killed = bpf_oom_act(oc, victim, dry_run, "BPF OOM policy oom_kernel_default");
	if (killed)
		kills++;
	else
		declines++;
	return killed;
}

SEC(".struct_ops.link")
struct bpf_oom_ops oom_kernel_default = {
	.handle_out_of_memory = (void *)handle_out_of_memory,
	.name = "oom_kernel_default",
};
