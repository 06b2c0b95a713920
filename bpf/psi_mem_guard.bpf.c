// SPDX-License-Identifier: GPL-2.0
/*
 * psi_mem_guard - declare an OOM in a cgroup that stalls on memory.
 *
 * The upstream series' PSI test policy, generalized. Every child of one
 * parent cgroup (say, each service under system.slice) is watched with a
 * memory "full" pressure trigger: when all of a child's tasks together spend
 * more than threshold_us of a window_us window stalled on memory (reclaim,
 * throttling above memory.high, refaults), the trigger fires and the policy
 * declares an OOM in that child with bpf_out_of_memory(). The kernel then
 * handles it like any memcg OOM: attached bpf_oom_ops policies first, else
 * its OOM killer picks a victim inside that child, with the usual report,
 * counters and memory.oom.group. A userspace daemon doing the same (oomd)
 * can itself stall under the very pressure it watches; this runs in the
 * kernel, on bpf-oom's workqueue.
 *
 * Knobs (rodata, set with bpf-oom attach -D NAME=VALUE):
 *   parent_cgroup_id  the parent whose children are watched (a cgroup path
 *                     given to -D is turned into its id); 0: the root
 *   threshold_us      stall time per window that fires (default 100 ms)
 *   window_us         the window (default 1 s; windows that are not a
 *                     multiple of 2 s need CAP_SYS_RESOURCE at attach)
 *   dry_run           only count what it would do (would_declare, last_*)
 *
 * Children created later are watched from handle_cgroup_online; removed
 * ones lose their trigger with the cgroup.
 *
 * Where it fails:
 *  - only direct children are watched, and at most MAX_WATCH of those that
 *    exist at attach; a pressure hot spot deeper down shows up in its
 *    ancestor child, where the kernel then picks the victim among all its
 *    tasks;
 *  - "full" pressure needs every task of the child stalled at once: a child
 *    with one busy, unaffected task never fires, however much the others
 *    stall ("some" pressure would, at the price of false alarms);
 *  - a memcg OOM in a child that is under its limits may find nothing worth
 *    killing: the kernel then kills nothing and the trigger fires again,
 *    once per window, until the pressure goes;
 *  - thresholds are per child: many children stalling a little each (the
 *    whole machine short of memory) fire nothing; watch the system-wide
 *    pressure for that.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf_oom/kfuncs.h>
#include <bpf_oom/oom.h>
#include <bpf_oom/psi.h>

char _license[] SEC("license") = "GPL";

#define MAX_WATCH 64
#define ENOENT 2

struct cgroup *bpf_cgroup_from_id(u64 cgid) __ksym;
void bpf_cgroup_release(struct cgroup *cgrp) __ksym;
void bpf_rcu_read_lock(void) __ksym;
void bpf_rcu_read_unlock(void) __ksym;

const volatile u64 parent_cgroup_id;
const volatile u32 threshold_us = 100000;
const volatile u32 window_us = 1000000;
const volatile bool dry_run;

/* What it did, for whoever reads the map. */
u64 watched;			/* triggers created */
u64 watch_errors;		/* triggers that could not be created */
int last_watch_error;
u64 declared;			/* OOMs declared */
u64 would_declare;		/* dry run: OOMs it would have declared */
u64 last_cgroup_id;		/* where it last declared (or would have) */
int last_ret;			/* bpf_out_of_memory()'s last result */

/* writable, as the verifier checks this argument as memory it may write */
const char constraint[] = "CONSTRAINT_BPF_PSI_MEM";

/* children found at init, outside the RCU section that found them */
static u64 children[MAX_WATCH];
static u32 nr_children;

static void watch(struct bpf_psi *bpf_psi, u64 cgroup_id)
{
	int err = bpf_psi_create_trigger(bpf_psi, cgroup_id, PSI_MEM | BPF_PSI_FULL,
					 threshold_us, window_us);

	if (err) {
		watch_errors++;
		last_watch_error = err;
	} else {
		watched++;
	}
}

static u64 parent_id(void)
{
	/* the root cgroup of the default hierarchy has id 1 */
	return parent_cgroup_id ?: 1;
}

SEC("struct_ops.s/init")
int BPF_PROG(guard_init, struct bpf_psi *bpf_psi)
{
	struct cgroup_subsys_state *pos;
	struct cgroup *parent;
	int level;
	u32 i;

	parent = bpf_cgroup_from_id(parent_id());
	if (!parent)
		return -ENOENT;
	level = parent->level;
	bpf_rcu_read_lock();
	/* pre-order walk of the subtree, keeping the children (6.12 has no children-only order) */
	bpf_for_each(css, pos, &parent->self, BPF_CGROUP_ITER_DESCENDANTS_PRE) {
		if (pos->cgroup->level != level + 1)
			continue;
		if (nr_children >= MAX_WATCH)
			break;
		children[nr_children & (MAX_WATCH - 1)] = pos->cgroup->kn->id;
		nr_children++;
	}
	bpf_rcu_read_unlock();
	bpf_cgroup_release(parent);

	/* triggers sleep to create: outside the RCU section */
	bpf_for(i, 0, nr_children) {
		barrier_var(i);
		if (i < MAX_WATCH)
			watch(bpf_psi, children[i]);
	}
	return 0;
}

SEC("struct_ops.s/handle_cgroup_online")
void BPF_PROG(guard_online, struct bpf_psi *bpf_psi, u64 cgroup_id)
{
	struct cgroup *cgrp = bpf_cgroup_from_id(cgroup_id);
	bool child;

	if (!cgrp)
		return;
	child = cgrp->level > 0 &&
		BPF_CORE_READ(cgrp, self.parent, cgroup, kn, id) == parent_id();
	bpf_cgroup_release(cgrp);
	if (child)
		watch(bpf_psi, cgroup_id);
}

SEC("struct_ops.s/handle_psi_event")
void BPF_PROG(guard_event, struct bpf_psi *bpf_psi, struct psi_trigger *t)
{
	u64 cgroup_id = bpf_psi_trigger_cgroup_id(t);
	struct mem_cgroup *memcg;
	struct cgroup *cgrp;

	last_cgroup_id = cgroup_id;
	if (dry_run) {
		would_declare++;
		return;
	}
	cgrp = bpf_cgroup_from_id(cgroup_id);
	if (!cgrp)
		return;
	memcg = bpf_get_mem_cgroup(&cgrp->self);
	if (memcg) {
		last_ret = bpf_out_of_memory(memcg, 0, BPF_OOM_FLAGS_WAIT_ON_OOM_LOCK, constraint);
		declared++;
		bpf_put_mem_cgroup(memcg);
	}
	bpf_cgroup_release(cgrp);
}

SEC(".struct_ops.link")
struct bpf_psi_ops psi_mem_guard = {
	.init = (void *)guard_init,
	.handle_psi_event = (void *)guard_event,
	.handle_cgroup_online = (void *)guard_online,
};
