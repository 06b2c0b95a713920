// SPDX-License-Identifier: GPL-2.0
/*
 * oom_largest_task - on OOM, kill the largest task of the largest leaf cgroup.
 *
 * What it does: sizes every leaf memory cgroup of the OOM's domain (the
 * memcg that ran out, or the whole system) by what killing it would give
 * back (usage - page cache), takes the largest, and kills the one process
 * in it with the highest score by the kernel's own rule (oom_badness():
 * size, oom_score_adj, -1000 never). The kill goes through the kernel's
 * oom_kill_process(), so a cgroup with memory.oom.group set loses all its
 * processes, as it would to the kernel. A leaf with nothing killable (all
 * -1000, or already dying) is passed over for the next largest.
 *
 * When to use it: when the cgroup tree says who is to blame but the unit
 * of loss should stay one process: a terminal scope of a thousand shells
 * and one runaway build loses the build, not the shells (systemd #25853,
 * where a cgroup-level killer takes the whole scope); a service that asks
 * for all-or-nothing (memory.oom.group=1) still gets it.
 *
 * Where it fails:
 *  - processes outside leaf cgroups (in an inner cgroup, or the root
 *    cgroup in a global OOM) are never chosen; a cgroup whose children do
 *    not enable the memory controller is not a leaf, though their memory
 *    is charged to it; with no leaf candidate it declines and the kernel
 *    decides;
 *  - page cache is taken as free, as the size of a leaf; shared memory
 *    counts for whoever touched it first;
 *  - the largest leaf may be large because of many small processes: its
 *    largest process may free little, and the next OOM picks again;
 *  - at most BPF_OOM_MAX_MEMCGS leaves are sized (the first in pre-order);
 *  - OOMs constrained by a cpuset or a memory policy are left to the kernel.
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

#define TRIES 8	/* leaves tried, largest first, before declining */

/* What it did, for whoever reads the map (the tests do). */
u64 invocations;	/* OOMs seen */
u64 kills;		/* OOMs it resolved by a kill */
u64 declines;		/* OOMs it left to the kernel (dry_run included) */
s32 last_pid;		/* the last process chosen, 0: none */
u64 last_leaf;		/* the cgroup id of its leaf */
s64 last_leaf_size;	/* that leaf's size, bytes */

static struct bpf_oom_choice choice;	/* (a global: see policy.h) */

SEC("struct_ops.s/handle_out_of_memory")
int BPF_PROG(handle_out_of_memory, struct bpf_oom_ctx *octx, struct oom_control *oc)
{
	struct bpf_oom_choice *c = &choice;
	struct mem_cgroup *memcg = oc->memcg, *root;
	struct task_struct *victim;
	u32 reason = BPF_OOM_REASON_NO_CANDIDATE;
	bool truncated;
	int leaf, try, killed;
	u32 n;

	invocations++;
	last_pid = 0;
	if (bpf_oom_leave_constrained(oc)) {
		declines++;
		return 0;
	}
	root = memcg ? bpf_get_mem_cgroup(&memcg->css) : bpf_get_root_mem_cgroup();
	if (!root)
		goto decline;
	n = bpf_oom_memcg_leaves(root, &truncated);
	bpf_put_mem_cgroup(root);

	bpf_oom_choice_init(c, rss_precise < 0 ? bpf_oom_kernel_rss_precise() : rss_precise);
	bpf_for(try, 0, TRIES) {
		leaf = bpf_oom_largest_leaf(n);
		barrier_var(leaf);	/* keep the bound check: the verifier needs it */
		if (leaf < 0 || leaf >= BPF_OOM_MAX_MEMCGS)
			break;
		bpf_oom_consider_memcg(c, bpf_oom__scan_ids[leaf], oc);
		if (c->abort) {
			/* a victim is still exiting: the kernel waits */
			reason = BPF_OOM_REASON_VICTIM_PENDING;
			goto decline;
		}
		if (c->pid) {
			last_leaf = bpf_oom__scan_ids[leaf];
			last_leaf_size = bpf_oom__scan_sizes[leaf];
			break;
		}
		bpf_oom__scan_sizes[leaf] = -1;	/* nothing killable: the next */
	}
	last_pid = c->pid;
	victim = bpf_oom_choice_task(c);
	if (!victim)
		goto decline;
	killed = bpf_oom_act(oc, victim, dry_run, "BPF OOM policy oom_largest_task");
	if (killed)
		kills++;
	else
		declines++;
	return killed;
decline:
	bpf_oom_record_decline(oc, NULL, reason);
	declines++;
	return 0;
}

SEC(".struct_ops.link")
struct bpf_oom_ops oom_largest_task = {
	.handle_out_of_memory = (void *)handle_out_of_memory,
	.name = "oom_largest_task",
};
