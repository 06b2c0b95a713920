// SPDX-License-Identifier: GPL-2.0
/*
 * soak_policy.bpf.c - the soak's acting policy: in the largest leaf memcg
 * of the OOM's domain, kill the task with the most anonymous memory (its
 * mm's MM_ANONPAGES counter, without the per-CPU deltas: close enough to
 * tell a growing worker from a 2 MiB bystander) that is neither an OOM
 * victim nor -1000. (Not total_vm: every soak child is a fork of the same
 * parent and maps the same 80-odd MiB it never touches.) Like the kernel's choice, but
 * decided in BPF, so that the soak exercises policy kills and the kernel's
 * fallback (when it declines) side by side.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf_oom/kfuncs.h>
#include <bpf_oom/oom.h>

char _license[] SEC("license") = "GPL";

#define MAX_LEAVES 256

struct cgroup *bpf_cgroup_from_id(u64 cgid) __ksym;
void bpf_cgroup_release(struct cgroup *cgrp) __ksym;
void bpf_rcu_read_lock(void) __ksym;
void bpf_rcu_read_unlock(void) __ksym;

/* OOMs of this memcg are left to the kernel (its fallback gets exercised too) */
const volatile u64 decline_cgroup_id;

u64 invocations, kills, declines;

/* scratch, in globals: see bpf/oom_largest_leaf.bpf.c */
static u64 best_id;
static s64 best_size;
static int best_pid;
static s64 best_rss;

static void find_largest_leaf(struct mem_cgroup *root)
{
	struct cgroup_subsys_state *pos;
	int n = 0;

	best_id = 0;
	best_size = -1;
	bpf_rcu_read_lock();
	bpf_for_each(css, pos, &root->css, BPF_CGROUP_ITER_DESCENDANTS_PRE) {
		struct mem_cgroup *memcg;
		s64 size;

		if (pos->cgroup->nr_descendants)
			continue;
		if (++n > MAX_LEAVES)
			break;
		memcg = bpf_get_mem_cgroup(pos);
		if (!memcg)
			continue;
		size = bpf_mem_cgroup_usage(memcg);
		bpf_put_mem_cgroup(memcg);
		if (size > best_size) {
			best_size = size;
			best_id = pos->cgroup->kn->id;
		}
	}
	bpf_rcu_read_unlock();
}

static void find_largest_task(struct cgroup *cgrp)
{
	struct task_struct *task;

	best_pid = 0;
	best_rss = -1;
	bpf_for_each(css_task, task, &cgrp->self, CSS_TASK_ITER_PROCS) {
		s64 rss;

		if (bpf_task_is_oom_victim(task) || task->signal->oom_score_adj == -1000)
			continue;
		rss = BPF_CORE_READ(task, mm, rss_stat[MM_ANONPAGES].count);
		if (rss > best_rss) {
			best_rss = rss;
			best_pid = task->pid;
		}
	}
}

struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
void bpf_task_release(struct task_struct *p) __ksym;

SEC("struct_ops.s/handle_out_of_memory")
int BPF_PROG(handle_out_of_memory, struct bpf_oom_ctx *octx, struct oom_control *oc)
{
	struct mem_cgroup *oom_memcg = oc->memcg, *root;
	struct task_struct *task;
	struct cgroup *cgrp;
	int ret;

	invocations++;
	if (oom_memcg && decline_cgroup_id && oom_memcg->css.cgroup->kn->id == decline_cgroup_id)
		goto decline;
	/* one load of oc->memcg, null-checked: the verifier follows that */
	root = oom_memcg ? bpf_get_mem_cgroup(&oom_memcg->css) : bpf_get_root_mem_cgroup();
	if (!root)
		return 0;
	find_largest_leaf(root);
	bpf_put_mem_cgroup(root);
	cgrp = best_id ? bpf_cgroup_from_id(best_id) : NULL;
	if (!cgrp)
		goto decline;
	find_largest_task(cgrp);
	bpf_cgroup_release(cgrp);
	task = best_pid ? bpf_task_from_pid(best_pid) : NULL;
	if (!task)
		goto decline;
	ret = bpf_oom_kill_process(oc, task, "bpf-oom soak policy");
	bpf_task_release(task);
	if (ret)
		goto decline;
	kills++;
	return 1;
decline:
	declines++;
	return 0;
}

SEC(".struct_ops.link")
struct bpf_oom_ops soak_policy = {
	.handle_out_of_memory = (void *)handle_out_of_memory,
	.name = "soak_policy",
};
