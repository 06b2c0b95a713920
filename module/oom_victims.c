// SPDX-License-Identifier: GPL-2.0
/*
 * oom_victims.c - one OOM, one kill: no second kill while the memory of the
 * first is still on its way out.
 *
 * The stock kernel's only guard against killing twice for one shortage is
 * in select_bad_process(): oom_evaluate_task() aborts the selection (and
 * out_of_memory() returns true, "memory is coming") when it meets an OOM
 * victim whose mm is not yet marked MMF_OOM_SKIP. That guard only works
 * while the victim is still visible to the scan, and traced on Debian's
 * kernels (tests/oom_precision.c, BPF_OOM_TRACE=1) it is not, for a while:
 *
 *  - 7.x (from upstream a72f73c4dd9b, "cgroup: Don't expose dead tasks in
 *    cgroup", 6.19): css_task_iter skips a process once PF_EXITING is set
 *    and signal->live dropped to 0, early in do_exit(), before exit_mm().
 *    mem_cgroup_scan_tasks() iterates that way, so a memcg OOM loses sight
 *    of its victim for the whole of exit_mmap(). Seen on 7.3.4: the victim
 *    (pid 150, 29 MB anon) enters exit_mmap(); 10 ms later the next memcg
 *    OOM still finds the memcg at its limit, oom_evaluate_task() is called
 *    for the three other hogs only, and the kernel kills one; the victim's
 *    tlb_finish_mmu(), which frees and uncharges its pages, comes 42 ms
 *    after it entered exit_mmap().
 *  - 6.12 and 7.x: exit_mmap() sets MMF_OOM_SKIP right after
 *    unmap_vmas(), but the unmapped pages sit in the mmu_gather (up to 10000
 *    pages per batch chain) until tlb_finish_mmu() after free_pgtables(),
 *    and only then are they uncharged. An OOM in that window sees the
 *    victim with MMF_OOM_SKIP and picks another. It is narrow on 6.12; a
 *    policy that declines first (it sees the victim dying) lengthens each
 *    OOM call and makes the kernel's selection land in it more often.
 *
 * So bpf-oom keeps its own record of victims, independent of what the
 * task iterator shows: every task the kernel marks as an OOM victim
 * (mark_oom_victim(), tracepoint oom:mark_victim: kills by policies, by the
 * kernel's fallback, memory.oom.group members, and the "current is exiting
 * anyway" shortcuts) is held here, with its mm (mmgrab()) and its memory
 * cgroup, until its memory is really out:
 *
 *  - exited: the mm has no users and exit_mmap() has finished (the maple
 *    tree is destroyed at its very end, after tlb_finish_mmu() and the VMAs'
 *    removal: mm/mmap.c of 6.12.117 and 7.3.4); or
 *  - reaped: MMF_OOM_SKIP is set while the mm still has users, which only
 *    the OOM reaper (done, or given up after its retries) or
 *    __oom_kill_process() (mm pinned by init) do - exit_mmap() runs only
 *    once there are no users; or
 *  - the bound: victim_wait_ms (default 3000 ms: the kernel's reaper waits
 *    OOM_REAPER_DELAY = 2 s, then tries MAX_OOM_REAP_RETRIES = 10 times
 *    100 ms apart, so a stuck victim is normally "reaped" by then; the bound
 *    only matters when even the reaper cannot conclude).
 *
 * While a policy is attached, bpf_oom_victim_pending() runs at the upstream
 * hook point of every OOM (before the policies and before the kernel's
 * fallback): if a victim whose memory cgroup lies inside the OOM's domain
 * (the OOM'ing memcg's subtree; everything for a system-wide OOM) is still
 * pending, the OOM returns "memory is coming" without killing, exactly
 * what the stock guard does while it can see the victim. A victim that
 * frees nothing (its memory pinned in tmpfs/shmem, say) is done as soon as
 * it has exited, and the next OOM kills again at once. A sysrq OOM (order
 * -1) always kills, as in the kernel.
 *
 * Context: the tracepoint probe may run with preemption disabled (6.12;
 * 7.x runs it under SRCU-fast, preemptible), on PREEMPT_RT too, so it
 * allocates nothing and takes only a raw spinlock: victims live in a fixed
 * table. If it is full, an OOM whose domain may hold one of the victims
 * that found no slot waits until the bound has passed since the last of
 * them (never a kill we could not account for); their domain is kept as
 * the closest memcg holding them all.
 *
 * Known cost of waiting for the very end of exit_mmap() rather than the
 * kernel's MMF_OOM_SKIP: free_pgtables() takes i_mmap_rwsem for each file
 * mapping; a task faulting a shared hugetlb mapping allocates an accounted
 * page table while holding it for reading (huge_pmd_share()). If that
 * allocation hits a memcg OOM in the victim's domain, the two wait for each
 * other until victim_wait_ms breaks it. The probe is called by the tracepoint
 * machinery through a pointer; its address is taken, so it keeps its ENDBR
 * (IBT-safe).
 */
#include <linux/jiffies.h>
#include <linux/maple_tree.h>
#include <linux/memcontrol.h>
#include <linux/mm_types.h>
#include <linux/module.h>
#include <linux/oom.h>
#include <linux/proc_fs.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/tracepoint.h>
#include <linux/workqueue.h>
#include <trace/events/oom.h>

#include "compat.h"
#include "bpf_oom.h"

#define BPF_OOM_MAX_VICTIMS	64
#define BPF_OOM_VICTIM_WAIT_MAX_MS 60000

static unsigned int victim_wait_ms = 3000;

/* 0 (never wait) to 60 s; anything else is -EINVAL and changes nothing */
static int bpf_oom_victim_wait_ms_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 0, BPF_OOM_VICTIM_WAIT_MAX_MS);
}

static const struct kernel_param_ops bpf_oom_victim_wait_ms_ops = {
	.set = bpf_oom_victim_wait_ms_set,
	.get = param_get_uint,
};
module_param_cb(victim_wait_ms, &bpf_oom_victim_wait_ms_ops, &victim_wait_ms, 0644);
MODULE_PARM_DESC(victim_wait_ms,
		 "longest time an OOM waits for an earlier victim's memory before killing again (ms, 0-60000, default 3000)");

/**
 * struct bpf_oom_victim - a victim whose memory may still be on its way out
 * @mm: its address space, mmgrab()ed; NULL for a free slot
 * @memcg: its memory cgroup, with a css reference; NULL if unknown
 * @killed: when it was marked (jiffies)
 * @pid: its pid, for the log
 * @comm: its name, for the log
 * @announced: the "waiting for" line was printed
 */
struct bpf_oom_victim {
	struct mm_struct *mm;
	struct mem_cgroup *memcg;
	unsigned long killed;
	pid_t pid;
	char comm[TASK_COMM_LEN];
	bool announced;
};

enum bpf_oom_victim_state {
	BPF_OOM_VICTIM_PENDING,
	BPF_OOM_VICTIM_EXITED,
	BPF_OOM_VICTIM_REAPED,
	BPF_OOM_VICTIM_EXPIRED,
};

static const char *const bpf_oom_victim_state_names[] = {
	[BPF_OOM_VICTIM_PENDING] = "pending",
	[BPF_OOM_VICTIM_EXITED] = "exited",
	[BPF_OOM_VICTIM_REAPED] = "reaped",
	[BPF_OOM_VICTIM_EXPIRED] = "expired",
};

static DEFINE_RAW_SPINLOCK(bpf_oom_victims_lock);
static struct bpf_oom_victim bpf_oom_victims[BPF_OOM_MAX_VICTIMS];
/*
 * Victims that found no free slot (a memory.oom.group kill of more than
 * BPF_OOM_MAX_VICTIMS processes, say): an OOM whose domain may hold one of
 * them waits until @until, the bound after the last of them. @memcg is the
 * closest memcg holding them all (css reference); @anywhere if unknown.
 */
static struct {
	unsigned long until;		/* jiffies, | 1; 0: no overflow */
	struct mem_cgroup *memcg;
	bool anywhere;
} bpf_oom_victims_overflow;
static struct tracepoint *bpf_oom_tp_mark_victim;
/* Drops the records of victims that are done, once no OOM asks any more. */
static struct delayed_work bpf_oom_victims_prune_work;
/*
 * The prune work's own unbound queue: Linux 7.x marks system_unbound_wq
 * deprecated and logs a warning for the first work queued on it
 * (__queue_work(), __WQ_DEPRECATED). A queue of our own needs no choice
 * between that and its replacement, system_dfl_wq, per kernel.
 */
static struct workqueue_struct *bpf_oom_victims_wq;

/* For /proc/bpf_oom/victims: what the rule did since the module loaded. */
static atomic_long_t bpf_oom_stat_marked, bpf_oom_stat_waits, bpf_oom_stat_overflows;
static atomic_long_t bpf_oom_stat_done[ARRAY_SIZE(bpf_oom_victim_state_names)];

static unsigned long bpf_oom_victim_wait(void)
{
	return msecs_to_jiffies(READ_ONCE(victim_wait_ms));
}

static enum bpf_oom_victim_state bpf_oom_victim_state(const struct bpf_oom_victim *v,
						       unsigned long now)
{
	struct mm_struct *mm = v->mm;
	bool skip = bpf_oom_mm_flag_test(MMF_OOM_SKIP, mm);

	/*
	 * mm_users never rises again once it is 0: seen non-zero after the
	 * flag, the flag was set while the mm had users, not by exit_mmap().
	 */
	smp_rmb();
	if (atomic_read(&mm->mm_users)) {
		if (skip)
			return BPF_OOM_VICTIM_REAPED;
	} else if (!rcu_access_pointer(mm->mm_mt.ma_root)) {
		/* __mt_destroy() at the end of exit_mmap() */
		return BPF_OOM_VICTIM_EXITED;
	}
	if (time_after_eq(now, v->killed + bpf_oom_victim_wait()))
		return BPF_OOM_VICTIM_EXPIRED;
	return BPF_OOM_VICTIM_PENDING;
}

static void bpf_oom_victim_release(struct bpf_oom_victim *v)
{
	if (v->memcg)
		css_put(&v->memcg->css);
	if (v->mm)
		mmdrop(v->mm);
}

/*
 * Add a victim without a slot, of @memcg (our reference, taken over; NULL:
 * unknown), to the overflow. Context: bpf_oom_victims_lock held. References
 * to drop once unlocked are left in @put.
 */
static void bpf_oom_victims_overflow_add(struct mem_cgroup *memcg, struct mem_cgroup *put[2])
{
	typeof(bpf_oom_victims_overflow) *o = &bpf_oom_victims_overflow;
	struct mem_cgroup *lca;

	o->until = (jiffies + bpf_oom_victim_wait()) | 1;
	if (!o->memcg && !o->anywhere) {
		o->memcg = memcg;
		o->anywhere = !memcg;
		return;
	}
	if (o->anywhere) {
		put[0] = memcg;
		return;
	}
	if (!memcg) {
		o->anywhere = true;
		put[0] = o->memcg;
		o->memcg = NULL;
		return;
	}
	/* the closest ancestor holding both (a child pins its parent) */
	for (lca = o->memcg; lca && !mem_cgroup_is_descendant(memcg, lca);
	     lca = parent_mem_cgroup(lca))
		;
	put[0] = memcg;
	if (lca == o->memcg)
		return;
	if (lca)
		css_get(&lca->css);
	else
		o->anywhere = true;	/* another hierarchy */
	put[1] = o->memcg;
	o->memcg = lca;
}

/* May the overflow hold a victim inside @oc's domain? Context: lock held. */
static bool bpf_oom_victims_overflow_in_domain(const struct oom_control *oc)
{
	typeof(bpf_oom_victims_overflow) *o = &bpf_oom_victims_overflow;

	if (!o->until)
		return false;
	if (o->anywhere || !o->memcg || !oc->memcg)
		return true;
	/* all of them below o->memcg: some may be in oc->memcg's subtree */
	return mem_cgroup_is_descendant(o->memcg, oc->memcg) ||
	       mem_cgroup_is_descendant(oc->memcg, o->memcg);
}

/* TP_PROTO(struct task_struct *task, uid_t uid); see the top of the file. */
static void bpf_oom_probe_mark_victim(void *data, struct task_struct *task, uid_t uid)
{
	struct mm_struct *mm = READ_ONCE(task->signal->oom_mm);
	struct mem_cgroup *memcg, *put[2] = { NULL, NULL };
	struct bpf_oom_victim *v, *slot = NULL;
	unsigned long flags;

	if (!mm)
		return;
	bpf_oom_episode_mark_victim(task, mm);
	rcu_read_lock();
	memcg = mem_cgroup_from_task(task);
	if (memcg && !css_tryget(&memcg->css))
		memcg = NULL;
	rcu_read_unlock();

	raw_spin_lock_irqsave(&bpf_oom_victims_lock, flags);
	for (v = bpf_oom_victims; v < bpf_oom_victims + BPF_OOM_MAX_VICTIMS; v++) {
		if (v->mm == mm)
			goto unlock;		/* the same process again */
		if (!v->mm && !slot)
			slot = v;
	}
	if (slot) {
		mmgrab(mm);
		slot->mm = mm;
		slot->memcg = memcg;
		memcg = NULL;
		slot->killed = jiffies;
		slot->pid = task->pid;
		/* not get_task_comm(): 6.12's takes task_lock, which may be held */
		strscpy_pad(slot->comm, task->comm, sizeof(slot->comm));
		slot->announced = false;
		atomic_long_inc(&bpf_oom_stat_marked);
	} else {
		bpf_oom_victims_overflow_add(memcg, put);
		memcg = NULL;
		atomic_long_inc(&bpf_oom_stat_overflows);
	}
unlock:
	raw_spin_unlock_irqrestore(&bpf_oom_victims_lock, flags);
	if (memcg)
		css_put(&memcg->css);
	if (put[0])
		css_put(&put[0]->css);
	if (put[1])
		css_put(&put[1]->css);
	/*
	 * Not mod_delayed_work(): marks closer together than the delay would
	 * push the prune back forever. The work queues itself again while
	 * records remain. The workqueue's locks are raw: fine from here, on RT
	 * too.
	 */
	queue_delayed_work(bpf_oom_victims_wq, &bpf_oom_victims_prune_work, bpf_oom_victim_wait() + 1);
}

/* Is @v's memory charged inside the domain of @oc? */
static bool bpf_oom_victim_in_domain(const struct bpf_oom_victim *v, const struct oom_control *oc)
{
	if (!oc->memcg || !v->memcg)
		return true;
	return mem_cgroup_is_descendant(v->memcg, oc->memcg);
}

/*
 * Drop the records of victims that are done, one at a time: their
 * references are released outside the raw lock (mmdrop() and css_put() may
 * free, which PREEMPT_RT does not allow under it). Also ends an overflow
 * whose time is up. Return: whether records (or an overflow) remain.
 */
static bool bpf_oom_victims_prune(void)
{
	struct bpf_oom_victim done;
	enum bpf_oom_victim_state state;
	struct mem_cgroup *put;
	unsigned long now, flags;
	bool left;
	int i;

	for (;;) {
		memset(&done, 0, sizeof(done));
		put = NULL;
		left = false;
		now = jiffies;
		raw_spin_lock_irqsave(&bpf_oom_victims_lock, flags);
		for (i = 0; i < BPF_OOM_MAX_VICTIMS; i++) {
			struct bpf_oom_victim *v = &bpf_oom_victims[i];

			if (!v->mm)
				continue;
			state = bpf_oom_victim_state(v, now);
			if (state == BPF_OOM_VICTIM_PENDING) {
				left = true;
				continue;
			}
			done = *v;
			v->mm = NULL;
			v->memcg = NULL;
			break;
		}
		if (bpf_oom_victims_overflow.until) {
			if (time_after_eq(now, bpf_oom_victims_overflow.until)) {
				put = bpf_oom_victims_overflow.memcg;
				memset(&bpf_oom_victims_overflow, 0, sizeof(bpf_oom_victims_overflow));
			} else {
				left = true;
			}
		}
		raw_spin_unlock_irqrestore(&bpf_oom_victims_lock, flags);
		if (put)
			css_put(&put->css);
		if (!done.mm)
			return left;
		atomic_long_inc(&bpf_oom_stat_done[state]);
		if (state == BPF_OOM_VICTIM_EXPIRED)
			pr_warn("OOM victim %s[%d] still holds its memory after %u ms: no longer waiting for it (victim_wait_ms)\n",
				done.comm, done.pid, jiffies_to_msecs(now - done.killed));
		bpf_oom_victim_release(&done);
	}
}

/**
 * bpf_oom_victim_pending() - is an earlier kill's memory still on its way out?
 * @oc: the OOM about to be handled
 *
 * Context: process context, oom_lock held (the out_of_memory() shim, at the
 * upstream hook point). Drops the records of victims that are done.
 * Return: true if a victim inside @oc's domain is still pending: the OOM
 * must not kill again (out_of_memory() then returns true, and the
 * allocation retries, as after the stock killer's abort). Always false for
 * a sysrq OOM.
 */
bool bpf_oom_victim_pending(struct oom_control *oc)
{
	struct bpf_oom_victim *v, pending = {};
	unsigned long flags;
	bool wait = false;
	char path[128];

	if (oc->order == -1)
		return false;
	bpf_oom_victims_prune();

	raw_spin_lock_irqsave(&bpf_oom_victims_lock, flags);
	for (v = bpf_oom_victims; v < bpf_oom_victims + BPF_OOM_MAX_VICTIMS; v++) {
		/* what prune() left is pending, or became done since */
		if (v->mm && bpf_oom_victim_in_domain(v, oc)) {
			wait = true;
			/* a copy for the log line: no references */
			pending = *v;
			v->announced = true;
			break;
		}
	}
	if (!wait && bpf_oom_victims_overflow_in_domain(oc))
		wait = true;		/* a victim we could not record */
	raw_spin_unlock_irqrestore(&bpf_oom_victims_lock, flags);
	if (!wait)
		return false;

	atomic_long_inc(&bpf_oom_stat_waits);
	if (pending.mm && !pending.announced) {
		strscpy(path, "the system", sizeof(path));
		if (oc->memcg)
			cgroup_path(oc->memcg->css.cgroup, path, sizeof(path));
		pr_info("OOM in %s: not killing again, %s[%d] (killed %u ms ago) is still freeing its memory\n",
			path, pending.comm, pending.pid, jiffies_to_msecs(jiffies - pending.killed));
	}
	return true;
}

static void bpf_oom_victims_prune_fn(struct work_struct *work)
{
	/* each record is done by its bound at the latest */
	if (bpf_oom_victims_prune())
		queue_delayed_work(bpf_oom_victims_wq, &bpf_oom_victims_prune_work,
				   bpf_oom_victim_wait() + 1);
}

/* ---- /proc/bpf_oom/victims -------------------------------------------- */

static int bpf_oom_victims_show(struct seq_file *m, void *unused)
{
	unsigned long now = jiffies, flags;
	struct bpf_oom_victim *v;

	seq_printf(m, "marked %ld waits %ld exited %ld reaped %ld expired %ld overflows %ld wait_ms %u\n",
		   atomic_long_read(&bpf_oom_stat_marked), atomic_long_read(&bpf_oom_stat_waits),
		   atomic_long_read(&bpf_oom_stat_done[BPF_OOM_VICTIM_EXITED]),
		   atomic_long_read(&bpf_oom_stat_done[BPF_OOM_VICTIM_REAPED]),
		   atomic_long_read(&bpf_oom_stat_done[BPF_OOM_VICTIM_EXPIRED]),
		   atomic_long_read(&bpf_oom_stat_overflows), READ_ONCE(victim_wait_ms));
	seq_puts(m, "# pid comm cgroup_id age_ms state\n");
	/* seq_printf() only formats into the buffer: fine under the lock */
	raw_spin_lock_irqsave(&bpf_oom_victims_lock, flags);
	for (v = bpf_oom_victims; v < bpf_oom_victims + BPF_OOM_MAX_VICTIMS; v++) {
		if (!v->mm)
			continue;
		seq_printf(m, "%d %s %llu %u %s\n", v->pid, v->comm,
			   v->memcg ? cgroup_id(v->memcg->css.cgroup) : 0,
			   jiffies_to_msecs(now - v->killed),
			   bpf_oom_victim_state_names[bpf_oom_victim_state(v, now)]);
	}
	raw_spin_unlock_irqrestore(&bpf_oom_victims_lock, flags);
	return 0;
}

static void bpf_oom_find_mark_victim(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "mark_victim"))
		bpf_oom_tp_mark_victim = tp;
}

/**
 * bpf_oom_victims_init() - start recording OOM victims
 * @procdir: /proc/bpf_oom, for the victims file
 *
 * Return: 0; -ENOENT if the kernel lacks the oom:mark_victim tracepoint;
 * -ENOMEM; or the errno of the probe registration.
 */
int bpf_oom_victims_init(struct proc_dir_entry *procdir)
{
	int err;

	/* The probe's prototype is the tracepoint's (a compile-time check). */
	(void)sizeof(register_trace_mark_victim(bpf_oom_probe_mark_victim, NULL));

	INIT_DELAYED_WORK(&bpf_oom_victims_prune_work, bpf_oom_victims_prune_fn);
	for_each_kernel_tracepoint(bpf_oom_find_mark_victim, NULL);
	if (!bpf_oom_tp_mark_victim) {
		pr_err("kernel tracepoint oom:mark_victim not found: this kernel is not supported\n");
		return -ENOENT;
	}
	bpf_oom_victims_wq = alloc_workqueue("bpf_oom_victims", WQ_UNBOUND, 0);
	if (!bpf_oom_victims_wq)
		return -ENOMEM;
	if (!proc_create_single("victims", 0400, procdir, bpf_oom_victims_show)) {
		destroy_workqueue(bpf_oom_victims_wq);
		return -ENOMEM;
	}
	err = tracepoint_probe_register(bpf_oom_tp_mark_victim, bpf_oom_probe_mark_victim, NULL);
	if (err) {
		pr_err("cannot attach to tracepoint oom:mark_victim: %d\n", err);
		remove_proc_entry("victims", procdir);
		destroy_workqueue(bpf_oom_victims_wq);
	}
	return err;
}

/**
 * bpf_oom_victims_exit() - stop recording and drop every record
 * @procdir: /proc/bpf_oom
 */
void bpf_oom_victims_exit(struct proc_dir_entry *procdir)
{
	int i;

	tracepoint_probe_unregister(bpf_oom_tp_mark_victim, bpf_oom_probe_mark_victim, NULL);
	tracepoint_synchronize_unregister();
	cancel_delayed_work_sync(&bpf_oom_victims_prune_work);
	destroy_workqueue(bpf_oom_victims_wq);
	remove_proc_entry("victims", procdir);
	/* no probe, no OOM (the shim is gone) and no reader left: no lock */
	for (i = 0; i < BPF_OOM_MAX_VICTIMS; i++) {
		bpf_oom_victim_release(&bpf_oom_victims[i]);
		bpf_oom_victims[i].mm = NULL;
		bpf_oom_victims[i].memcg = NULL;
	}
	if (bpf_oom_victims_overflow.memcg)
		css_put(&bpf_oom_victims_overflow.memcg->css);
	memset(&bpf_oom_victims_overflow, 0, sizeof(bpf_oom_victims_overflow));
}
