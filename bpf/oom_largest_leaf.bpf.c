// SPDX-License-Identifier: GPL-2.0
/*
 * oom_largest_leaf - on OOM, kill the biggest leaf memory cgroup.
 *
 * The policy of the upstream series' OOM selftest, as a sample. When a
 * memory cgroup (or the whole system) runs out of memory, it looks at every
 * leaf cgroup under the one that is out of memory (under the root for a
 * system-wide OOM), sizes each by the memory charged to it minus its page
 * cache (usage - NR_FILE_PAGES: cache can be reclaimed, anonymous memory
 * cannot), leaves out any cgroup holding a task with oom_score_adj -1000,
 * and kills every process of the largest one that is not already an OOM
 * victim. It returns 1 if it killed something, so the chain stops there;
 * otherwise the next policy up the chain, then the kernel, decides.
 *
 * Knob: decline_in_cgroups (rodata): when attached to a cgroup, return 0 so
 * that the OOM goes up the chain (what the upstream test does with its copy
 * attached to /oom_test).
 *
 * Where it fails:
 *  - only leaf cgroups are candidates: tasks sitting in an inner cgroup (or
 *    the root cgroup) are never chosen; if no leaf qualifies, the kernel
 *    decides;
 *  - page cache is treated as free to reclaim, which dirty or pinned file
 *    pages are not; shared memory is charged to whoever touched it first;
 *  - one -1000 task shields its whole cgroup, even when that cgroup is
 *    what fills memory;
 *  - at most MAX_LEAVES leaves are sized (the first ones in pre-order);
 *  - only the largest leaf is tried: if all its processes are already OOM
 *    victims, it declines and the kernel decides (it waits for them);
 *  - it kills whole cgroups: for a cgroup holding one big and many small
 *    processes, the kernel's per-task choice loses less work.
 *
 * Load it with bpf-oom attach (system-wide or on a cgroup) or, system-wide,
 * with bpftool struct_ops register (see the README for bpftool's crash).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf_oom/kfuncs.h>
#include <bpf_oom/oom.h>

char _license[] SEC("license") = "GPL";

#define MAX_LEAVES 1024
#define OOM_SCORE_ADJ_MIN (-1000)

const volatile bool decline_in_cgroups;

/* Kernel kfuncs this policy needs besides bpf-oom's. */
struct cgroup *bpf_cgroup_from_id(u64 cgid) __ksym;
void bpf_cgroup_release(struct cgroup *cgrp) __ksym;
void bpf_rcu_read_lock(void) __ksym;
void bpf_rcu_read_unlock(void) __ksym;

/* What it did, for whoever reads the map (the tests do). */
u64 invocations;
u64 processes_killed;
u64 last_victim_cgroup;

/*
 * Scratch for the OOM being handled (oom_lock serializes OOMs). Kept in
 * globals rather than registers: the verifier does not follow their values,
 * so the loops below converge instead of forking a state per value.
 */
static u64 leaf_id[MAX_LEAVES];
static s64 leaf_size[MAX_LEAVES];
static int nr_leaves;
static int best;
static s64 best_size;
static u64 killed_now;

/* Does the cgroup hold a task the OOM killer must never kill? */
static bool has_unkillable_task(struct cgroup *cgrp)
{
	struct task_struct *task;
	bool found = false;

	bpf_for_each(css_task, task, &cgrp->self, CSS_TASK_ITER_PROCS) {
		if (task->signal->oom_score_adj == OOM_SCORE_ADJ_MIN) {
			found = true;
			break;
		}
	}
	return found;
}

/* Kill every process of the cgroup that is not already an OOM victim. */
static void kill_cgroup(struct oom_control *oc, struct cgroup *cgrp)
{
	struct task_struct *task;

	killed_now = 0;
	bpf_for_each(css_task, task, &cgrp->self, CSS_TASK_ITER_PROCS) {
		if (bpf_task_is_oom_victim(task))
			continue;
		if (!bpf_oom_kill_process(oc, task, "BPF OOM policy oom_largest_leaf"))
			killed_now++;
	}
}

/* Size every leaf memcg under @root into leaf_id[]/leaf_size[]. */
static void collect_leaves(struct mem_cgroup *root)
{
	struct cgroup_subsys_state *pos;

	nr_leaves = 0;
	bpf_rcu_read_lock();
	bpf_for_each(css, pos, &root->css, BPF_CGROUP_ITER_DESCENDANTS_PRE) {
		struct mem_cgroup *memcg;
		int n = nr_leaves;

		if (pos->cgroup->nr_descendants)
			continue;
		if (n < 0 || n >= MAX_LEAVES)
			break;
		memcg = bpf_get_mem_cgroup(pos);
		if (!memcg)
			continue;
		leaf_size[n] = bpf_mem_cgroup_usage(memcg) -
			       bpf_mem_cgroup_page_state(memcg,
					bpf_core_enum_value(enum node_stat_item, NR_FILE_PAGES));
		bpf_put_mem_cgroup(memcg);
		leaf_id[n] = pos->cgroup->kn->id;
		nr_leaves = n + 1;
	}
	bpf_rcu_read_unlock();
}

/* Leaves holding a -1000 task are out of the running (size -1). */
static void drop_unkillable_leaves(void)
{
	int i;

	bpf_for(i, 0, nr_leaves) {
		struct cgroup *cgrp;

		if (i >= MAX_LEAVES)
			break;
		cgrp = bpf_cgroup_from_id(leaf_id[i]);
		if (!cgrp) {
			leaf_size[i] = -1;	/* removed meanwhile */
			continue;
		}
		if (has_unkillable_task(cgrp))
			leaf_size[i] = -1;
		bpf_cgroup_release(cgrp);
	}
}

static void pick_largest_leaf(void)
{
	int i;

	best = -1;
	best_size = -1;
	bpf_for(i, 0, nr_leaves) {
		if (i >= MAX_LEAVES)
			break;
		if (leaf_size[i] > best_size) {
			best_size = leaf_size[i];
			best = i;
		}
	}
}

SEC("struct_ops.s/handle_out_of_memory")
int BPF_PROG(handle_out_of_memory, struct bpf_oom_ctx *octx, struct oom_control *oc)
{
	struct mem_cgroup *oom_memcg = oc->memcg, *root;
	struct cgroup *cgrp;
	int i;

	invocations++;
	if (decline_in_cgroups && octx->cgroup_id)
		return 0;

	root = oom_memcg ? bpf_get_mem_cgroup(&oom_memcg->css) : bpf_get_root_mem_cgroup();
	if (!root)
		return 0;
	bpf_mem_cgroup_flush_stats(root);
	collect_leaves(root);
	bpf_put_mem_cgroup(root);

	drop_unkillable_leaves();
	pick_largest_leaf();
	i = best;
	barrier_var(i);		/* keep the bound check: the verifier needs it */
	if (i < 0 || i >= MAX_LEAVES)
		return 0;		/* no candidate: the kernel decides */
	cgrp = bpf_cgroup_from_id(leaf_id[i]);
	if (!cgrp)
		return 0;
	kill_cgroup(oc, cgrp);
	bpf_cgroup_release(cgrp);
	if (!killed_now)
		return 0;		/* all already dying: the kernel waits */
	processes_killed += killed_now;
	last_victim_cgroup = leaf_id[i];
	return 1;
}

SEC(".struct_ops.link")
struct bpf_oom_ops oom_largest_leaf = {
	.handle_out_of_memory = (void *)handle_out_of_memory,
	.name = "oom_largest_leaf",
};
