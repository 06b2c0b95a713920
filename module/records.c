// SPDX-License-Identifier: GPL-2.0
/*
 * records.c - decision records (include/bpf_oom/record.h), a bpf-oom
 * extension: upstream v2 only names the policy in the OOM report.
 *
 * An OOM episode is one out_of_memory() call that reaches the policies
 * (the shim, past the pending-victim guard). It gets a number, printed as
 * "episode N" in bpf-oom's kernel log line next to the kernel's OOM report.
 * Each policy run of the episode fills one record: the module knows the
 * OOM (trigger, gfp mask, order, constraint, domain), the policy, how long
 * it ran and whom it killed (bpf_oom_kill_process()); a policy that kills
 * nothing says why, or what it would have killed in shadow mode, with the
 * extension kfunc bpf_oom_note_decision(). If no policy killed, the kernel's
 * OOM killer decides next, and the victim it marks (tracepoint
 * oom:mark_victim, from the same task) is added to every record of the
 * episode. Then the records go out, one tracepoint event each
 * (bpf_oom:bpf_oom_decision), in the order the policies ran.
 *
 * All of it runs under oom_lock, which serializes out_of_memory(): one
 * episode at a time, held in a static buffer. At most
 * BPF_OOM_EPISODE_RECORDS policies of one chain get a record; further runs
 * are counted as dropped (/proc/bpf_oom/records), never lost silently.
 *
 * The mark_victim probe may run with preemption disabled and the victim's
 * task_lock held (__oom_kill_process()): it only copies fields, reading the
 * mm the kernel pinned in signal->oom_mm.
 */
#include <linux/cgroup.h>
#include <linux/ktime.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/oom.h>
#include <linux/proc_fs.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/string.h>

#include "compat.h"
#include "bpf_oom.h"
#include <bpf_oom/record.h>

#define BPF_OOM_EPISODE_RECORDS 8

/**
 * struct bpf_oom_episode - the OOM episode being handled (oom_lock)
 * @task: the task running it; NULL between episodes
 * @id: its number
 * @nr: records filled
 * @kernel_phase: the kernel's out_of_memory() runs as the fallback
 * @have_kernel_victim: @kernel_victim is set
 * @kernel_victim: the first task the kernel marked as a victim meanwhile
 * @common: what every record of the episode shares
 * @recs: the records, in the order the policies ran
 */
struct bpf_oom_episode {
	struct task_struct *task;
	u64 id;
	unsigned int nr;
	unsigned long marks;	/* oom:mark_victim events so far */
	bool kernel_phase;
	bool have_kernel_victim;
	struct bpf_oom_record_task kernel_victim;
	struct bpf_oom_record common;
	struct bpf_oom_record recs[BPF_OOM_EPISODE_RECORDS];
};

static struct bpf_oom_episode bpf_oom_ep;
static atomic64_t bpf_oom_episodes = ATOMIC64_INIT(0);
static atomic_long_t bpf_oom_records_emitted = ATOMIC_LONG_INIT(0);
static atomic_long_t bpf_oom_records_dropped = ATOMIC_LONG_INIT(0);

static bool bpf_oom_in_episode(void)
{
	return READ_ONCE(bpf_oom_ep.task) == current;
}

static void bpf_oom_record_task_fill(struct bpf_oom_record_task *rt, struct task_struct *task,
				     struct mm_struct *mm)
{
	rt->pid = task->pid;
	rt->tgid = task->tgid;
	rt->oom_score_adj = READ_ONCE(task->signal->oom_score_adj);
	rcu_read_lock();
	rt->cgroup_id = cgroup_id(task_dfl_cgroup(task));
	rcu_read_unlock();
	/*
	 * Exact per-CPU sums (a raw spinlock, fine here): what the process
	 * holds, whether the running kernel's report sums (7.x) or not.
	 */
	if (mm) {
		rt->rss_pages = percpu_counter_sum_positive(&mm->rss_stat[MM_FILEPAGES]) +
				percpu_counter_sum_positive(&mm->rss_stat[MM_ANONPAGES]) +
				percpu_counter_sum_positive(&mm->rss_stat[MM_SHMEMPAGES]);
		rt->swap_pages = percpu_counter_sum_positive(&mm->rss_stat[MM_SWAPENTS]);
	}
	/* not get_task_comm(): 6.12's takes task_lock, which may be held */
	strscpy_pad(rt->comm, task->comm, sizeof(rt->comm));
}

/**
 * bpf_oom_episode_begin() - an OOM reaches the policies
 * @oc: the OOM (constraint, totalpages computed)
 * @declared: it was declared by bpf_out_of_memory(), not an allocation
 *
 * Context: oom_lock held.
 */
void bpf_oom_episode_begin(struct oom_control *oc, bool declared)
{
	struct bpf_oom_episode *ep = &bpf_oom_ep;
	struct bpf_oom_record *c = &ep->common;

	memset(c, 0, sizeof(*c));
	c->version = BPF_OOM_RECORD_VERSION;
	c->size = sizeof(*c);
	c->trigger = oc->memcg ? BPF_OOM_TRIGGER_MEMCG_OOM : BPF_OOM_TRIGGER_GLOBAL_OOM;
	c->gfp_mask = (__force u32)oc->gfp_mask;
	c->order = oc->order;
	c->constraint = oc->constraint;
	if (declared && bpf_psi_current_cause(c))
		c->trigger = BPF_OOM_TRIGGER_PSI;
	if (oc->memcg) {
		struct cgroup *cgrp = oc->memcg->css.cgroup;
		int len;

		c->domain_cgroup_id = cgroup_id(cgrp);
		len = cgroup_path(cgrp, c->domain_path, sizeof(c->domain_path));
		/* cgroup_path() returns what it wrote: a full buffer means cut */
		if (len >= (int)sizeof(c->domain_path) - 1)
			c->flags |= BPF_OOM_RECORD_PATH_TRUNCATED;
	} else {
		strscpy(c->domain_path, "/", sizeof(c->domain_path));
	}

	ep->id = atomic64_inc_return(&bpf_oom_episodes);
	c->episode = ep->id;
	ep->nr = 0;
	ep->kernel_phase = false;
	ep->have_kernel_victim = false;
	memset(&ep->kernel_victim, 0, sizeof(ep->kernel_victim));
	WRITE_ONCE(ep->task, current);
}

/**
 * bpf_oom_episode_id() - the number of the episode being handled
 *
 * Return: it, or 0 outside an episode.
 */
u64 bpf_oom_episode_id(void)
{
	return bpf_oom_in_episode() ? bpf_oom_ep.id : 0;
}

/**
 * bpf_oom_episode_kernel_phase() - no policy killed: the kernel decides next
 *
 * Context: oom_lock held, by the task running the episode.
 */
void bpf_oom_episode_kernel_phase(void)
{
	if (bpf_oom_in_episode())
		bpf_oom_ep.kernel_phase = true;
}

/**
 * bpf_oom_episode_mark_victim() - the kernel marked @task as an OOM victim
 * @task: the victim
 * @mm: its mm, pinned in @task->signal->oom_mm
 *
 * Context: the oom:mark_victim probe; may be atomic, @task's task_lock may
 * be held. Only the first victim of the kernel's fallback counts (the
 * others of a memory.oom.group kill follow it).
 */
void bpf_oom_episode_mark_victim(struct task_struct *task, struct mm_struct *mm)
{
	struct bpf_oom_episode *ep = &bpf_oom_ep;

	if (!bpf_oom_in_episode())
		return;
	ep->marks++;
	if (!ep->kernel_phase || ep->have_kernel_victim)
		return;
	bpf_oom_record_task_fill(&ep->kernel_victim, task, mm);
	ep->have_kernel_victim = true;
}

/**
 * bpf_oom_episode_marks() - OOM victims marked so far in this episode
 *
 * Return: the count of oom:mark_victim events of the episode current runs
 * (0 outside one): the difference across a kill is how many processes it
 * took (more than one with memory.oom.group).
 *
 * Context: the task running the episode (oom_lock held).
 */
unsigned long bpf_oom_episode_marks(void)
{
	return bpf_oom_in_episode() ? bpf_oom_ep.marks : 0;
}

/**
 * bpf_oom_episode_end() - emit the episode's records
 *
 * Context: oom_lock held, by the task running the episode.
 */
void bpf_oom_episode_end(void)
{
	struct bpf_oom_episode *ep = &bpf_oom_ep;
	unsigned int i;

	if (!bpf_oom_in_episode())
		return;
	for (i = 0; i < ep->nr; i++) {
		struct bpf_oom_record *rec = &ep->recs[i];

		if (ep->have_kernel_victim) {
			rec->kernel_victim = ep->kernel_victim;
			rec->flags |= BPF_OOM_RECORD_KERNEL_VICTIM;
		}
		bpf_oom_record_emit(rec);
	}
	WRITE_ONCE(ep->task, NULL);
}

/**
 * bpf_oom_record_prepare() - start a record outside an OOM episode
 * @rec: the record
 * @trigger: BPF_OOM_TRIGGER_*
 * @policy: the policy's name
 */
void bpf_oom_record_prepare(struct bpf_oom_record *rec, u8 trigger, const char *policy)
{
	memset(rec, 0, sizeof(*rec));
	rec->version = BPF_OOM_RECORD_VERSION;
	rec->size = sizeof(*rec);
	rec->trigger = trigger;
	strscpy_pad(rec->policy, policy, sizeof(rec->policy));
	rec->time_ns = ktime_get_real_ns();
}

/**
 * bpf_oom_record_emit() - hand a record to the tracepoint, at once
 * @rec: the record
 */
void bpf_oom_record_emit(const struct bpf_oom_record *rec)
{
	bpf_oom_trace_decision(rec);
	atomic_long_inc(&bpf_oom_records_emitted);
}

/**
 * bpf_oom_record_open() - a record for a policy run of the current episode
 * @policy: the policy's name
 * @attach_cgroup_id: where it is attached (0: system-wide)
 *
 * Return: the record, or NULL outside an episode or when the episode has
 * no room left (counted as dropped).
 */
struct bpf_oom_record *bpf_oom_record_open(const char *policy, u64 attach_cgroup_id)
{
	struct bpf_oom_episode *ep = &bpf_oom_ep;
	struct bpf_oom_record *rec;

	if (!bpf_oom_in_episode())
		return NULL;
	if (ep->nr == BPF_OOM_EPISODE_RECORDS) {
		atomic_long_inc(&bpf_oom_records_dropped);
		return NULL;
	}
	rec = &ep->recs[ep->nr++];
	*rec = ep->common;
	strscpy_pad(rec->policy, policy, sizeof(rec->policy));
	rec->attach_cgroup_id = attach_cgroup_id;
	rec->time_ns = ktime_get_real_ns();
	return rec;
}

/**
 * bpf_oom_record_close() - the policy returned
 * @rec: its record (may be NULL)
 * @duration_ns: how long it ran
 *
 * A policy that neither killed nor said why declined, "unspecified".
 */
void bpf_oom_record_close(struct bpf_oom_record *rec, u64 duration_ns)
{
	if (!rec)
		return;
	rec->duration_ns = duration_ns;
	if (!rec->action) {
		rec->action = BPF_OOM_ACTION_DECLINE;
		rec->reason = BPF_OOM_REASON_UNSPECIFIED;
	}
}

/**
 * bpf_oom_record_decide() - fill in the decision of a policy run
 * @rec: its record (may be NULL: dropped)
 * @action: BPF_OOM_ACTION_*
 * @reason: BPF_OOM_REASON_*
 * @task: the victim (or the task the decision is about), or NULL
 *
 * Context: process context, the policy's run; may take @task's task_lock.
 */
void bpf_oom_record_decide(struct bpf_oom_record *rec, u8 action, u16 reason,
			   struct task_struct *task)
{
	struct task_struct *t;

	if (!rec)
		return;
	rec->action = action;
	rec->reason = reason;
	rec->kills = 0;		/* a kill adds the processes it took */
	memset(&rec->victim, 0, sizeof(rec->victim));
	if (!task)
		return;
	t = bpf_oom_lock_task_mm(task);
	bpf_oom_record_task_fill(&rec->victim, task, t ? t->mm : NULL);
	if (t)
		task_unlock(t);
}

static int bpf_oom_records_show(struct seq_file *m, void *v)
{
	seq_printf(m, "version %d\nepisodes %lld\nemitted %ld\ndropped %ld\n",
		   BPF_OOM_RECORD_VERSION, (long long)atomic64_read(&bpf_oom_episodes),
		   atomic_long_read(&bpf_oom_records_emitted),
		   atomic_long_read(&bpf_oom_records_dropped));
	return 0;
}

/**
 * bpf_oom_records_init() - /proc/bpf_oom/records (the counters)
 * @procdir: /proc/bpf_oom
 *
 * Return: 0 or -ENOMEM.
 */
int bpf_oom_records_init(struct proc_dir_entry *procdir)
{
	if (!proc_create_single("records", 0444, procdir, bpf_oom_records_show))
		return -ENOMEM;
	return 0;
}
