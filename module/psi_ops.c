// SPDX-License-Identifier: GPL-2.0
/*
 * psi_ops.c - the bpf_psi_ops struct_ops and bpf_psi_create_trigger().
 *
 * Upstream v2 adds a third kind of PSI trigger to kernel/sched/psi.c, owned
 * by a BPF struct_ops. A module cannot change psi.c, but the kernel's own
 * trigger code already does almost everything needed, so bpf-oom uses it
 * rather than a copy:
 *
 *  - psi_trigger_create() parses "some|full <threshold_us> <window_us>",
 *    applies the kernel's limits (window <= 10 s, threshold <= window, 2 s
 *    multiples for the unprivileged, "full" only for IRQ), and hooks the
 *    trigger into the group's aggregator exactly as a write to a pressure
 *    file does: same window accounting, same one-event-per-window rate
 *    limit, privileged triggers on the group's RT "psimon" poller,
 *    unprivileged ones on the 2 s averages worker;
 *  - with no kernfs file (of == NULL) the kernel signals an event by
 *    setting t->event and waking t->event_wait. bpf-oom puts its own
 *    wait-queue entry there, whose wake function only queues the trigger's
 *    work on the bpf_psi workqueue (WQ_MEM_RECLAIM | WQ_UNBOUND |
 *    WQ_HIGHPRI): the BPF handler never runs inside the aggregator;
 *  - psi_trigger_destroy() unhooks and frees it.
 *
 * psi_trigger_create() takes the privilege from file->f_cred: that is the
 * only member of @file it reads (checked in 6.12.107, 6.12.117 and 7.3.4,
 * where psi_trigger_poll(), which we never call, is the only other user),
 * and it tests the raw CAP_SYS_RESOURCE bit of cap_effective, which a task
 * in a user namespace may hold without any privilege over the host. So
 * bpf-oom decides once, at attach: capable(CAP_SYS_RESOURCE) of the
 * attaching task (the initial user namespace, LSMs asked), and gives every
 * trigger of that attachment, whichever context creates it (init in the
 * attaching task, the other handlers in kernel workers), a copy of the
 * attacher's credentials with exactly that bit set or cleared
 * (bpf_psi->cred), passed in a zeroed struct file.
 *
 * IBT: psi_trigger_create(), psi_trigger_destroy() and (7.x)
 * psi_trigger_create_rtpoll_worker() are not exported and are called
 * through static calls (ksyms.h), which the kernel patches into direct
 * calls. bpf_psi_wake() is called by the kernel's __wake_up_common()
 * through a pointer, and so are our work functions: the compiler gives
 * every address-taken function an ENDBR. BPF programs are called through
 * their struct_ops trampolines, which start with ENDBR.
 *
 * Lifetimes: a trigger holds a reference on its cgroup (which keeps the
 * cgroup's psi_group alive: psi_cgroup_free() runs only when the cgroup is
 * released) and is destroyed, in this order, by detaching its wait entry,
 * cancelling (waiting for) its work, and psi_trigger_destroy(); then the
 * cgroup reference is dropped. Detaching an ops does that for all of its
 * triggers after no cgroup event can reach it, so when unreg returns no
 * handler of the ops runs or can run.
 */
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/capability.h>
#include <linux/cgroup.h>
#include <linux/cred.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/llist.h>
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/psi.h>
#include <linux/rculist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/srcu.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "compat.h"
#include "ksyms.h"
#include "bpf_oom.h"
#include <bpf_oom/psi.h>
#include <bpf_oom/record.h>

/**
 * struct bpf_psi - one attached bpf_psi_ops (upstream's name and role)
 * @ops: the kernel copy of the ops, owned by its struct_ops map
 * @lock: protects @triggers and @dying
 * @triggers: its triggers (struct bpf_psi_trigger), RCU for the rmdir probe
 * @dying: set by unreg: no new trigger
 * @node: in bpf_psi_list while attached (RCU)
 * @offline_work: destroys the triggers of removed cgroups
 * @since: attach time (CLOCK_REALTIME seconds)
 * @id: attachment number, for /proc/bpf_oom/psi
 * @cred: what psi_trigger_create() checks for its triggers (see the top)
 */
struct bpf_psi {
	struct bpf_psi_ops *ops;
	struct mutex lock;
	struct list_head triggers;
	bool dying;
	struct list_head node;
	struct work_struct offline_work;
	time64_t since;
	u32 id;
	const struct cred *cred;
};

/**
 * struct bpf_psi_trigger - a kernel PSI trigger owned by a bpf_psi
 * @t: the kernel's trigger
 * @bpf_psi: its owner
 * @cgrp: its cgroup, referenced; NULL for a system-wide trigger
 * @cgroup_id: @cgrp's id, 0 for system-wide
 * @resource: as passed to bpf_psi_create_trigger() (with BPF_PSI_FULL)
 * @threshold_us: as passed
 * @window_us: as passed
 * @wait: our entry on @t->event_wait
 * @work: runs handle_psi_event
 * @node: in @bpf_psi->triggers (RCU: the rmdir probe walks it)
 * @gone: in a private list once off @node, until destroyed (@node itself
 *	may still be followed by a probe until a grace period has passed)
 * @offline: its cgroup was removed (set by the rmdir probe)
 * @events: how often handle_psi_event ran for it
 * @event_start: when the running handle_psi_event started (ns), for records
 * @rcu: for the rmdir probe's walk
 */
struct bpf_psi_trigger {
	struct psi_trigger *t;
	struct bpf_psi *bpf_psi;
	struct cgroup *cgrp;
	u64 cgroup_id;
	u32 resource;
	u32 threshold_us;
	u32 window_us;
	struct wait_queue_entry wait;
	struct work_struct work;
	struct list_head node;
	struct list_head gone;
	bool offline;
	atomic_long_t events;
	u64 event_start;
	struct rcu_head rcu;
};

/* Attached ops; online events walk it under bpf_psi_srcu. */
static DEFINE_MUTEX(bpf_psi_list_lock);
static LIST_HEAD(bpf_psi_list);
DEFINE_STATIC_SRCU(bpf_psi_srcu);
/* Attached ops that define handle_cgroup_online: the mkdir probe's test. */
static atomic_t bpf_psi_nr_online;
/* Live triggers of all ops, for /proc/bpf_oom/psi and the leak tests. */
static atomic_t bpf_psi_nr_triggers;
static atomic_t bpf_psi_last_id;
static struct workqueue_struct *bpf_psi_wq;

/* cgroup_mkdir events waiting for handle_cgroup_online */
struct bpf_psi_online {
	struct llist_node node;
	struct cgroup *cgrp;	/* referenced */
};
static LLIST_HEAD(bpf_psi_online_events);
static void bpf_psi_online_workfn(struct work_struct *work);
static DECLARE_WORK(bpf_psi_online_work, bpf_psi_online_workfn);

/* Same numbering trick as bpf_oom_ops: see bpf_oom_btf_id_static(). */
BTF_ID_LIST_SINGLE(bpf_psi_ops_btf_ids, struct, bpf_psi_ops)

/* ---- the kernel's trigger functions ----------------------------------- */

static struct psi_group *ksym_psi_system;

/* Typed by <linux/psi.h>: a prototype change fails the build. */
BPF_OOM_DEFINE_KSYM_CALL(bpf_psi_trigger_create, psi_trigger_create);
BPF_OOM_DEFINE_KSYM_CALL(bpf_psi_trigger_destroy, psi_trigger_destroy);
#ifdef BPF_OOM_PSI_RTPOLL_WORKER
BPF_OOM_DEFINE_KSYM_CALL(bpf_psi_create_rtpoll_worker, psi_trigger_create_rtpoll_worker);
#endif

static const struct bpf_oom_ksym psi_ksyms[] = {
	BPF_OOM_KSYM_DATA(psi_system, ksym_psi_system),
	BPF_OOM_KSYM_CALL(psi_trigger_create, bpf_psi_trigger_create),
	BPF_OOM_KSYM_CALL(psi_trigger_destroy, bpf_psi_trigger_destroy),
#ifdef BPF_OOM_PSI_RTPOLL_WORKER
	BPF_OOM_KSYM_CALL(psi_trigger_create_rtpoll_worker, bpf_psi_create_rtpoll_worker),
#endif
};

/*
 * The kernel's trigger creation: psi_trigger_create(), and on 7.x the
 * group's RT poller afterwards, as psi_write() and pressure_write() do.
 */
static struct psi_trigger *bpf_psi_kernel_trigger_create(struct psi_group *group, char *buf,
							 enum psi_res res, struct file *file)
{
#ifdef BPF_OOM_PSI_RTPOLL_WORKER
	bool need_rtpoll_worker;
	struct psi_trigger *t;
	int err;

	t = static_call(bpf_psi_trigger_create)(group, buf, res, file, NULL, &need_rtpoll_worker);
	if (IS_ERR(t) || !need_rtpoll_worker)
		return t;
	err = static_call(bpf_psi_create_rtpoll_worker)(group);
	if (err) {
		static_call(bpf_psi_trigger_destroy)(t);
		return ERR_PTR(err);
	}
	return t;
#else
	return static_call(bpf_psi_trigger_create)(group, buf, res, file, NULL);
#endif
}

/* ---- events ------------------------------------------------------------ */

/*
 * The wake function on t->event_wait. Context: the PSI aggregator (the
 * psimon kthread or the averages worker) under the wait queue's spinlock,
 * or psi_trigger_destroy(). Only queues the work.
 */
static int bpf_psi_wake(struct wait_queue_entry *wait, unsigned int mode, int sync, void *key)
{
	struct bpf_psi_trigger *trig = container_of(wait, struct bpf_psi_trigger, wait);

	queue_work(bpf_psi_wq, &trig->work);
	return 0;
}

static void bpf_psi_event_workfn(struct work_struct *work)
{
	struct bpf_psi_trigger *trig = container_of(work, struct bpf_psi_trigger, work);
	struct bpf_psi *bpf_psi = trig->bpf_psi;

	/*
	 * Consume the event as psi_trigger_poll() does; a wakeup without one
	 * (trigger destruction) is not an event. The aggregator sets it again
	 * for the next window, which queues the work again.
	 */
	if (cmpxchg(&trig->t->event, 1, 0) != 1)
		return;
	atomic_long_inc(&trig->events);
	trig->event_start = ktime_get_ns();
	bpf_psi->ops->handle_psi_event(bpf_psi, trig->t);
}

/**
 * bpf_psi_current_cause() - the PSI event the current task is handling
 * @rec: the record whose psi_* fields to fill in
 *
 * For bpf_out_of_memory(): an OOM declared from handle_psi_event runs in
 * the trigger's work item, so current_work() names the trigger.
 *
 * Return: true if the current task runs handle_psi_event (@rec filled).
 */
bool bpf_psi_current_cause(struct bpf_oom_record *rec)
{
	struct work_struct *work = current_work();
	struct bpf_psi_trigger *trig;

	if (!work || work->func != bpf_psi_event_workfn)
		return false;
	/* the work item runs: its trigger is not freed before it returns */
	trig = container_of(work, struct bpf_psi_trigger, work);
	rec->psi_resource = trig->resource;
	rec->psi_threshold_us = trig->threshold_us;
	rec->psi_window_us = trig->window_us;
	return true;
}

/* ---- triggers ---------------------------------------------------------- */

/* Destroy a trigger no list holds any more. Context: may sleep; no locks. */
static void bpf_psi_trigger_free(struct bpf_psi_trigger *trig)
{
	remove_wait_queue(&trig->t->event_wait, &trig->wait);
	/* A running handle_psi_event finishes first. */
	cancel_work_sync(&trig->work);
	static_call(bpf_psi_trigger_destroy)(trig->t);
	if (trig->cgrp)
		cgroup_put(trig->cgrp);
	atomic_dec(&bpf_psi_nr_triggers);
	/* the rmdir probe may still be looking at it */
	kfree_rcu(trig, rcu);
}

/* The PSI group of @cgroup_id, referencing the cgroup in *@cgrpp. */
static struct psi_group *bpf_psi_group_get(u64 cgroup_id, struct cgroup **cgrpp)
{
	struct psi_group *group;
	struct cgroup *cgrp;

	*cgrpp = NULL;
	if (!cgroup_id)
		return ksym_psi_system;
	cgrp = cgroup_get_from_id(cgroup_id);
	if (IS_ERR(cgrp))
		return ERR_CAST(cgrp);
	if (!(READ_ONCE(cgrp->self.flags) & CSS_ONLINE)) {
		cgroup_put(cgrp);
		return ERR_PTR(-ENOENT);
	}
	/* cgroup_psi() of <linux/psi.h>, whose psi_system is not exported */
	group = cgroup_ino(cgrp) == 1 ? ksym_psi_system : cgrp->psi;
	if (!group) {
		/* booted with cgroup_disable=pressure */
		cgroup_put(cgrp);
		return ERR_PTR(-EOPNOTSUPP);
	}
	*cgrpp = cgrp;
	return group;
}

__bpf_kfunc_start_defs();

/**
 * bpf_psi_create_trigger - create a PSI trigger owned by a bpf_psi_ops
 * @bpf_psi: the ops' handle, as passed to its programs
 * @cgroup_id: the cgroup whose pressure to watch; 0 = system-wide
 * @resource: PSI_IO, PSI_MEM, PSI_CPU (or PSI_IRQ where the kernel
 *	accounts IRQ time), OR-ed with BPF_PSI_FULL for "full", else "some"
 * @threshold_us: stall time within a window that fires the trigger
 * @window_us: the window
 *
 * The trigger is the kernel's own (psi_trigger_create()), as if the
 * calling task had written "some|full <threshold_us> <window_us>" to the
 * cgroup's (or /proc/pressure's) pressure file: same accounting, at most
 * one event per window, RT polling only if the task that attached the ops
 * had CAP_SYS_RESOURCE (capable(), in the initial user namespace).
 * Each event runs the ops' handle_psi_event on the bpf_psi workqueue. The
 * trigger lives until the ops is detached or its cgroup is removed.
 *
 * Return: 0; -EINVAL for an unknown resource, "some" for PSI_IRQ, a window
 * of 0 or above 10 s, a window not a multiple of 2 s when the attaching
 * task lacked CAP_SYS_RESOURCE, or a threshold of 0 or above the window;
 * -ENOENT if there is no such cgroup (or it is being removed);
 * -EOPNOTSUPP if PSI is disabled (psi=0, cgroup_disable=pressure);
 * -ENODEV if the ops is being detached; -ENOMEM.
 *
 * Safety: bpf_psi_ops programs only (kfunc filter); sleeps
 * (KF_SLEEPABLE); @bpf_psi is trusted (a program argument).
 */
__bpf_kfunc int bpf_psi_create_trigger(struct bpf_psi *bpf_psi, u64 cgroup_id, u32 resource,
				       u32 threshold_us, u32 window_us)
{
	bool full = resource & BPF_PSI_FULL;
	u32 res = resource & ~BPF_PSI_FULL;
	struct bpf_psi_trigger *trig;
	struct psi_group *group;
	struct psi_trigger *t;
	struct cgroup *cgrp;
	struct file *file;
	char buf[32];
	int err;

	if (res >= NR_PSI_RESOURCES)
		return -EINVAL;
	group = bpf_psi_group_get(cgroup_id, &cgrp);
	if (IS_ERR(group))
		return PTR_ERR(group);
	trig = kzalloc(sizeof(*trig), GFP_KERNEL);
	file = kzalloc(sizeof(*file), GFP_KERNEL);
	if (!trig || !file) {
		err = -ENOMEM;
		goto err_free;
	}
	/* The kernel checks every limit; the text is exactly its input. */
	snprintf(buf, sizeof(buf), "%s %u %u", full ? "full" : "some", threshold_us, window_us);
	file->f_cred = bpf_psi->cred;
	t = bpf_psi_kernel_trigger_create(group, buf, res, file);
	kfree(file);
	file = NULL;
	if (IS_ERR(t)) {
		err = PTR_ERR(t);
		goto err_free;
	}
	trig->t = t;
	trig->bpf_psi = bpf_psi;
	trig->cgrp = cgrp;
	trig->cgroup_id = cgroup_id;
	trig->resource = resource;
	trig->threshold_us = threshold_us;
	trig->window_us = window_us;
	INIT_WORK(&trig->work, bpf_psi_event_workfn);
	init_waitqueue_func_entry(&trig->wait, bpf_psi_wake);
	add_wait_queue(&t->event_wait, &trig->wait);
	atomic_inc(&bpf_psi_nr_triggers);

	mutex_lock(&bpf_psi->lock);
	if (bpf_psi->dying) {
		mutex_unlock(&bpf_psi->lock);
		bpf_psi_trigger_free(trig);
		return -ENODEV;
	}
	list_add_tail_rcu(&trig->node, &bpf_psi->triggers);
	/*
	 * A cgroup removed between the lookup and the list insertion was
	 * missed by the rmdir probe: treat it as offline now. Pairs with the
	 * barrier in bpf_psi_cgroup_rmdir() (CSS_ONLINE is cleared first).
	 * Under the lock: once unreg has set dying, nothing queues the
	 * offline work again.
	 */
	smp_mb();
	if (cgrp && !(READ_ONCE(cgrp->self.flags) & CSS_ONLINE)) {
		WRITE_ONCE(trig->offline, true);
		queue_work(bpf_psi_wq, &bpf_psi->offline_work);
	}
	mutex_unlock(&bpf_psi->lock);
	return 0;

err_free:
	kfree(file);
	kfree(trig);
	if (cgrp)
		cgroup_put(cgrp);
	return err;
}

/**
 * bpf_psi_trigger_cgroup_id - the cgroup a trigger watches (bpf-oom extension)
 * @t: the trigger handle_psi_event was called with
 *
 * Upstream v2 adds a cgroup_id member to struct psi_trigger; stock kernels'
 * struct has none, and CO-RE resolves t->cgroup_id against the kernel's
 * type, so a policy reads it through this kfunc instead (see
 * include/bpf_oom/psi.h). The kernel's own members give the rest: state
 * (resource and "full"), threshold and win.size (in ns).
 *
 * Return: the cgroup id passed to bpf_psi_create_trigger(), 0 for a
 * system-wide trigger.
 *
 * Safety: bpf_psi_ops programs only (filter); @t trusted, so it can only
 * be the trigger handle_psi_event received: one of bpf-oom's, whose wait
 * queue holds our entry. Does not sleep.
 */
__bpf_kfunc u64 bpf_psi_trigger_cgroup_id(struct psi_trigger *t)
{
	struct wait_queue_entry *wait;
	unsigned long flags;
	u64 id = 0;

	spin_lock_irqsave(&t->event_wait.lock, flags);
	list_for_each_entry(wait, &t->event_wait.head, entry) {
		if (wait->func == bpf_psi_wake) {
			id = container_of(wait, struct bpf_psi_trigger, wait)->cgroup_id;
			break;
		}
	}
	spin_unlock_irqrestore(&t->event_wait.lock, flags);
	return id;
}

/**
 * bpf_psi_note_decision - record what a PSI policy decided (bpf-oom extension)
 * @bpf_psi: the handler's first argument
 * @t: the trigger handle_psi_event was called with
 * @task__nullable: for BPF_OOM_ACTION_DRY_RUN the task the policy would
 *	have killed (required); for BPF_OOM_ACTION_DECLINE optional
 * @action: BPF_OOM_ACTION_DRY_RUN or BPF_OOM_ACTION_DECLINE
 *	(include/bpf_oom/record.h)
 * @reason: BPF_OOM_REASON_DRY_RUN for DRY_RUN; for DECLINE another
 *	BPF_OOM_REASON_*, not NONE
 *
 * Emits one decision record (records.c) with trigger "psi": the trigger's
 * resource, threshold, window and cgroup as the domain, the policy's
 * bpf_psi_ops.name, episode 0 (no OOM), the time since handle_psi_event
 * started. A kill needs no note: a PSI policy kills by declaring an OOM
 * (bpf_out_of_memory()), whose episode has its own records, with this
 * trigger as their cause. Not in upstream v2: test for it with
 * bpf_ksym_exists().
 *
 * Return: 0; -EINVAL if @t is not the trigger of @bpf_psi whose event the
 * caller is handling, or @action and @reason are out of range, do not go
 * together, or DRY_RUN has no task.
 *
 * Safety: bpf_psi_ops programs only (filter); in handle_psi_event, on the
 * trigger's own work item (current_work() proves it); may take @task's
 * task_lock; arguments trusted.
 */
__bpf_kfunc int bpf_psi_note_decision(struct bpf_psi *bpf_psi, struct psi_trigger *t,
				      struct task_struct *task__nullable, u32 action, u32 reason)
{
	struct work_struct *work = current_work();
	struct bpf_psi_trigger *trig;
	struct bpf_oom_record rec;
	int len;

	if (!work || work->func != bpf_psi_event_workfn)
		return -EINVAL;
	/* the work item runs: its trigger is not freed before it returns */
	trig = container_of(work, struct bpf_psi_trigger, work);
	if (trig->bpf_psi != bpf_psi || trig->t != t)
		return -EINVAL;
	if (action == BPF_OOM_ACTION_DRY_RUN &&
	    (!task__nullable || reason != BPF_OOM_REASON_DRY_RUN))
		return -EINVAL;
	if (action == BPF_OOM_ACTION_DECLINE &&
	    (reason == BPF_OOM_REASON_NONE || reason == BPF_OOM_REASON_DRY_RUN ||
	     reason > BPF_OOM_REASON_MAX))
		return -EINVAL;
	if (action != BPF_OOM_ACTION_DRY_RUN && action != BPF_OOM_ACTION_DECLINE)
		return -EINVAL;

	bpf_oom_record_prepare(&rec, BPF_OOM_TRIGGER_PSI, bpf_psi->ops->name);
	rec.psi_resource = trig->resource;
	rec.psi_threshold_us = trig->threshold_us;
	rec.psi_window_us = trig->window_us;
	rec.domain_cgroup_id = trig->cgroup_id;
	if (trig->cgrp) {
		len = cgroup_path(trig->cgrp, rec.domain_path, sizeof(rec.domain_path));
		if (len >= (int)sizeof(rec.domain_path) - 1)
			rec.flags |= BPF_OOM_RECORD_PATH_TRUNCATED;
	} else {
		strscpy(rec.domain_path, "/", sizeof(rec.domain_path));
	}
	bpf_oom_record_decide(&rec, action, reason, task__nullable);
	rec.duration_ns = ktime_get_ns() - trig->event_start;
	bpf_oom_record_emit(&rec);
	return 0;
}

__bpf_kfunc_end_defs();

/* ---- cgroup events ----------------------------------------------------- */

/**
 * bpf_psi_cgroup_mkdir() - a cgroup was created (cgroup_mkdir tracepoint)
 * @cgrp: the cgroup
 *
 * Context: atomic (a tracepoint probe, cgroup_mutex and a spinlock held).
 * Queues handle_cgroup_online for the ops that define it.
 */
void bpf_psi_cgroup_mkdir(struct cgroup *cgrp)
{
	struct bpf_psi_online *ev;

	if (!atomic_read(&bpf_psi_nr_online))
		return;
	ev = kmalloc(sizeof(*ev), GFP_ATOMIC | __GFP_NOWARN);
	if (!ev) {
		pr_warn_ratelimited("out of memory: handle_cgroup_online not called for cgroup %llu\n",
				    cgroup_id(cgrp));
		return;
	}
	cgroup_get(cgrp);
	ev->cgrp = cgrp;
	llist_add(&ev->node, &bpf_psi_online_events);
	queue_work(bpf_psi_wq, &bpf_psi_online_work);
}

/*
 * The mkdir probe runs just before cgroup_mkdir() activates the new
 * cgroup's kernfs directory, and lookups by id (cgroup_get_from_id(),
 * bpf_cgroup_from_id()) fail until then: give it that moment, so that
 * handlers can use the id. The test is kernfs's own (__kernfs_active()).
 */
static void bpf_psi_wait_active(struct cgroup *cgrp)
{
	int i;

	for (i = 0; i < 1000; i++) {
		if (atomic_read(&cgrp->kn->active) >= 0 ||
		    !(READ_ONCE(cgrp->self.flags) & CSS_ONLINE))
			return;
		usleep_range(100, 200);
	}
}

static void bpf_psi_online_workfn(struct work_struct *work)
{
	struct llist_node *events = llist_reverse_order(llist_del_all(&bpf_psi_online_events));
	struct bpf_psi_online *ev, *next;
	struct bpf_psi *bpf_psi;
	int idx;

	llist_for_each_entry_safe(ev, next, events, node) {
		bpf_psi_wait_active(ev->cgrp);
		idx = srcu_read_lock(&bpf_psi_srcu);
		list_for_each_entry_srcu(bpf_psi, &bpf_psi_list, node,
					 srcu_read_lock_held(&bpf_psi_srcu))
			if (bpf_psi->ops->handle_cgroup_online)
				bpf_psi->ops->handle_cgroup_online(bpf_psi, cgroup_id(ev->cgrp));
		srcu_read_unlock(&bpf_psi_srcu, idx);
		cgroup_put(ev->cgrp);
		kfree(ev);
	}
}

/**
 * bpf_psi_cgroup_rmdir() - a cgroup was removed (cgroup_rmdir tracepoint)
 * @cgroup_id: its id
 *
 * Context: atomic. Marks the triggers on that cgroup and queues their ops'
 * offline work, which calls handle_cgroup_offline and destroys them.
 */
void bpf_psi_cgroup_rmdir(u64 cgroup_id)
{
	struct bpf_psi_trigger *trig;
	struct bpf_psi *bpf_psi;
	bool found;

	smp_mb();	/* pairs with bpf_psi_create_trigger() */
	rcu_read_lock();
	list_for_each_entry_rcu(bpf_psi, &bpf_psi_list, node) {
		found = false;
		list_for_each_entry_rcu(trig, &bpf_psi->triggers, node) {
			if (trig->cgroup_id == cgroup_id) {
				WRITE_ONCE(trig->offline, true);
				found = true;
			}
		}
		if (found)
			queue_work(bpf_psi_wq, &bpf_psi->offline_work);
	}
	rcu_read_unlock();
}

static void bpf_psi_offline_workfn(struct work_struct *work)
{
	struct bpf_psi *bpf_psi = container_of(work, struct bpf_psi, offline_work);
	struct bpf_psi_trigger *trig, *tmp, *other;
	LIST_HEAD(gone);

	mutex_lock(&bpf_psi->lock);
	list_for_each_entry_safe(trig, tmp, &bpf_psi->triggers, node) {
		if (READ_ONCE(trig->offline)) {
			list_del_rcu(&trig->node);
			list_add_tail(&trig->gone, &gone);
		}
	}
	mutex_unlock(&bpf_psi->lock);

	/*
	 * One call per removed cgroup, before its triggers go (upstream's
	 * order). unreg cancels this work before it frees the ops.
	 */
	list_for_each_entry(trig, &gone, gone) {
		bool first = true;

		list_for_each_entry(other, &gone, gone) {
			if (other == trig)
				break;
			if (other->cgroup_id == trig->cgroup_id)
				first = false;
		}
		if (first && bpf_psi->ops->handle_cgroup_offline)
			bpf_psi->ops->handle_cgroup_offline(bpf_psi, trig->cgroup_id);
	}
	list_for_each_entry_safe(trig, tmp, &gone, gone) {
		list_del(&trig->gone);
		bpf_psi_trigger_free(trig);
	}
}

/* ---- attach and detach ------------------------------------------------ */

/* Destroy every trigger of @bpf_psi and refuse new ones. */
static void bpf_psi_destroy_triggers(struct bpf_psi *bpf_psi)
{
	struct bpf_psi_trigger *trig, *tmp;
	LIST_HEAD(gone);

	mutex_lock(&bpf_psi->lock);
	bpf_psi->dying = true;
	list_for_each_entry_safe(trig, tmp, &bpf_psi->triggers, node) {
		list_del_rcu(&trig->node);
		list_add_tail(&trig->gone, &gone);
	}
	mutex_unlock(&bpf_psi->lock);
	list_for_each_entry_safe(trig, tmp, &gone, gone) {
		list_del(&trig->gone);
		bpf_psi_trigger_free(trig);
	}
}

/* The attacher's credentials, CAP_SYS_RESOURCE as capable() says. */
static const struct cred *bpf_psi_trigger_cred(void)
{
	bool privileged = capable(CAP_SYS_RESOURCE);
	struct cred *cred = prepare_creds();

	if (!cred)
		return NULL;
	if (privileged)
		cap_raise(cred->cap_effective, CAP_SYS_RESOURCE);
	else
		cap_lower(cred->cap_effective, CAP_SYS_RESOURCE);
	return cred;
}

static void bpf_psi_free(struct bpf_psi *bpf_psi)
{
	if (bpf_psi->cred)
		put_cred(bpf_psi->cred);
	kfree(bpf_psi);
}

/*
 * A cgroup removed while init ran, after its trigger's own CSS_ONLINE test
 * but before the ops was on bpf_psi_list, was missed by the rmdir probe:
 * look again now that it is listed (pairs with the barrier in
 * bpf_psi_cgroup_rmdir(): CSS_ONLINE is cleared before the probe runs).
 */
static void bpf_psi_recheck_offline(struct bpf_psi *bpf_psi)
{
	struct bpf_psi_trigger *trig;
	bool offline = false;

	smp_mb();
	mutex_lock(&bpf_psi->lock);
	list_for_each_entry(trig, &bpf_psi->triggers, node) {
		if (trig->cgrp && !(READ_ONCE(trig->cgrp->self.flags) & CSS_ONLINE)) {
			WRITE_ONCE(trig->offline, true);
			offline = true;
		}
	}
	if (offline)
		queue_work(bpf_psi_wq, &bpf_psi->offline_work);
	mutex_unlock(&bpf_psi->lock);
}

static int bpf_psi_ops_reg(void *kdata, struct bpf_link *link)
{
	struct bpf_psi_ops *ops = kdata;
	struct bpf_psi *bpf_psi;
	int ret;

	ret = bpf_oom_attach_check("bpf_psi_ops");
	if (ret)
		return ret;
	bpf_psi = kzalloc(sizeof(*bpf_psi), GFP_KERNEL);
	if (!bpf_psi)
		return -ENOMEM;
	bpf_psi->cred = bpf_psi_trigger_cred();
	if (!bpf_psi->cred) {
		kfree(bpf_psi);
		return -ENOMEM;
	}
	bpf_psi->ops = ops;
	bpf_psi->since = ktime_get_real_seconds();
	bpf_psi->id = atomic_inc_return(&bpf_psi_last_id);
	mutex_init(&bpf_psi->lock);
	INIT_LIST_HEAD(&bpf_psi->triggers);
	INIT_LIST_HEAD(&bpf_psi->node);
	INIT_WORK(&bpf_psi->offline_work, bpf_psi_offline_workfn);

	/* One attachment per ops: a second link on the same map is refused. */
	mutex_lock(&bpf_psi_list_lock);
	if (ops->bpf_psi) {
		mutex_unlock(&bpf_psi_list_lock);
		bpf_psi_free(bpf_psi);
		return -EBUSY;
	}
	ops->bpf_psi = bpf_psi;
	mutex_unlock(&bpf_psi_list_lock);

	/*
	 * init runs before the ops is listed: no cgroup event reaches it yet,
	 * and the rmdir probe cannot see its triggers either, which
	 * bpf_psi_recheck_offline() covers once it is listed.
	 */
	ret = ops->init(bpf_psi);
	if (ret) {
		pr_err("bpf_psi_ops %u: init failed (%d): not attached\n", bpf_psi->id, ret);
		bpf_psi_destroy_triggers(bpf_psi);
		cancel_work_sync(&bpf_psi->offline_work);
		WRITE_ONCE(ops->bpf_psi, NULL);
		bpf_psi_free(bpf_psi);
		return ret < 0 ? ret : -EINVAL;
	}

	mutex_lock(&bpf_psi_list_lock);
	list_add_tail_rcu(&bpf_psi->node, &bpf_psi_list);
	if (ops->handle_cgroup_online)
		atomic_inc(&bpf_psi_nr_online);
	mutex_unlock(&bpf_psi_list_lock);
	bpf_psi_recheck_offline(bpf_psi);
	pr_info("bpf_psi_ops %u attached\n", bpf_psi->id);
	return 0;
}

static void bpf_psi_ops_unreg(void *kdata, struct bpf_link *link)
{
	struct bpf_psi_ops *ops = kdata;
	struct bpf_psi *bpf_psi = ops->bpf_psi;

	if (!bpf_psi)
		return;
	mutex_lock(&bpf_psi_list_lock);
	list_del_rcu(&bpf_psi->node);
	if (ops->handle_cgroup_online)
		atomic_dec(&bpf_psi_nr_online);
	mutex_unlock(&bpf_psi_list_lock);
	/* No online handler runs it, no rmdir probe finds it... */
	synchronize_srcu(&bpf_psi_srcu);
	synchronize_rcu();
	/*
	 * ...no trigger is left, no event handler runs or can create one
	 * (dying), so nothing queues the offline work again...
	 */
	bpf_psi_destroy_triggers(bpf_psi);
	/* ...and a queued one has finished (it finds no trigger any more). */
	cancel_work_sync(&bpf_psi->offline_work);
	pr_info("bpf_psi_ops %u detached\n", bpf_psi->id);
	WRITE_ONCE(ops->bpf_psi, NULL);
	bpf_psi_free(bpf_psi);
}

/* ---- struct_ops plumbing ---------------------------------------------- */

/* CFI stubs: their prototypes are what the BPF trampolines are typed as. */
static int bpf_psi_ops__init(struct bpf_psi *bpf_psi)
{
	return 0;
}

static void bpf_psi_ops__handle_psi_event(struct bpf_psi *bpf_psi, struct psi_trigger *t)
{
}

static void bpf_psi_ops__handle_cgroup_online(struct bpf_psi *bpf_psi, u64 cgroup_id)
{
}

static void bpf_psi_ops__handle_cgroup_offline(struct bpf_psi *bpf_psi, u64 cgroup_id)
{
}

static struct bpf_psi_ops bpf_psi_ops_cfi_stubs = {
	.init = bpf_psi_ops__init,
	.handle_psi_event = bpf_psi_ops__handle_psi_event,
	.handle_cgroup_online = bpf_psi_ops__handle_cgroup_online,
	.handle_cgroup_offline = bpf_psi_ops__handle_cgroup_offline,
};

static int bpf_psi_ops_init(struct btf *btf)
{
	return 0;
}

/* Every member may sleep: nothing to refuse per member. */
static int bpf_psi_ops_check_member(const struct btf_type *t,
				    const struct btf_member *member,
				    const struct bpf_prog *prog)
{
	bpf_oom_btf_learn_id_delta(prog, bpf_psi_ops_btf_ids[0]);
	return 0;
}

static int bpf_psi_ops_init_member(const struct btf_type *t,
				   const struct btf_member *member,
				   void *kdata, const void *udata)
{
	u32 moff = __btf_member_bit_offset(t, member) / 8;

	const struct bpf_psi_ops *uops = udata;
	struct bpf_psi_ops *ops = kdata;

	switch (moff) {
	case offsetof(struct bpf_psi_ops, bpf_psi):
		/* private: the kernel sets it at attach */
		ops->bpf_psi = NULL;
		return 1;
	case offsetof(struct bpf_psi_ops, name):
		if (strnlen(uops->name, sizeof(uops->name)) == sizeof(uops->name)) {
			pr_err("bpf_psi_ops.name is not NUL-terminated\n");
			return -EINVAL;
		}
		strscpy_pad(ops->name, uops->name[0] ? uops->name : "bpf_psi_policy",
			    sizeof(ops->name));
		return 1;
	}
	return 0;
}

static int bpf_psi_ops_validate(void *kdata)
{
	struct bpf_psi_ops *ops = kdata;

	if (!ops->init || !ops->handle_psi_event) {
		pr_err("bpf_psi_ops: init and handle_psi_event are mandatory\n");
		return -EINVAL;
	}
	return 0;
}

static struct bpf_struct_ops bpf_psi_struct_ops = {
	.verifier_ops = &bpf_oom_verifier_ops,
	.init = bpf_psi_ops_init,
	.check_member = bpf_psi_ops_check_member,
	.init_member = bpf_psi_ops_init_member,
	.reg = bpf_psi_ops_reg,
	.unreg = bpf_psi_ops_unreg,
	.validate = bpf_psi_ops_validate,
	.cfi_stubs = &bpf_psi_ops_cfi_stubs,
	.owner = THIS_MODULE,
	.name = "bpf_psi_ops",
};

/**
 * bpf_psi_prog_is_psi_ops() - is @prog a bpf_psi_ops program?
 * @prog: a struct_ops program being verified
 */
bool bpf_psi_prog_is_psi_ops(const struct bpf_prog *prog)
{
	return bpf_oom_prog_is_ops(prog, bpf_psi_ops_btf_ids[0]);
}

/* ---- /proc/bpf_oom/psi ------------------------------------------------ */

static int bpf_psi_show(struct seq_file *m, void *v)
{
	struct bpf_psi_trigger *trig;
	struct bpf_psi *bpf_psi;

	seq_printf(m, "triggers %d\n", atomic_read(&bpf_psi_nr_triggers));
	seq_puts(m, "# ops since cgroup_id resource full threshold_us window_us events\n");
	mutex_lock(&bpf_psi_list_lock);
	list_for_each_entry(bpf_psi, &bpf_psi_list, node) {
		mutex_lock(&bpf_psi->lock);
		list_for_each_entry(trig, &bpf_psi->triggers, node)
			seq_printf(m, "%u %lld %llu %u %u %u %u %ld\n", bpf_psi->id, bpf_psi->since,
				   trig->cgroup_id, trig->resource & ~BPF_PSI_FULL,
				   !!(trig->resource & BPF_PSI_FULL), trig->threshold_us,
				   trig->window_us, atomic_long_read(&trig->events));
		mutex_unlock(&bpf_psi->lock);
	}
	mutex_unlock(&bpf_psi_list_lock);
	return 0;
}

/**
 * bpf_psi_ops_register() - register the bpf_psi_ops struct_ops
 * @procdir: /proc/bpf_oom, for the trigger list
 *
 * Return: 0; -ENOENT naming a missing kernel symbol; or a negative errno.
 */
int bpf_psi_ops_register(struct proc_dir_entry *procdir)
{
	int err;

	err = bpf_oom_ksyms_resolve(psi_ksyms, ARRAY_SIZE(psi_ksyms));
	if (err)
		return err;
	bpf_psi_wq = alloc_workqueue("bpf_psi_wq", WQ_MEM_RECLAIM | WQ_UNBOUND | WQ_HIGHPRI, 0);
	if (!bpf_psi_wq)
		return -ENOMEM;
	if (!proc_create_single("psi", 0400, procdir, bpf_psi_show)) {
		destroy_workqueue(bpf_psi_wq);
		return -ENOMEM;
	}
	err = register_bpf_struct_ops(&bpf_psi_struct_ops, bpf_psi_ops);
	if (err) {
		pr_err("cannot register struct_ops bpf_psi_ops: %d\n", err);
		remove_proc_entry("psi", procdir);
		destroy_workqueue(bpf_psi_wq);
	}
	return err;
}

/**
 * bpf_psi_ops_unregister() - undo bpf_psi_ops_register()
 * @procdir: /proc/bpf_oom
 *
 * Only reached with nothing attached (every map holds a module reference)
 * and the cgroup probes gone; pending online events are dropped.
 */
void bpf_psi_ops_unregister(struct proc_dir_entry *procdir)
{
	struct bpf_psi_online *ev, *next;

	remove_proc_entry("psi", procdir);
	flush_work(&bpf_psi_online_work);
	destroy_workqueue(bpf_psi_wq);
	llist_for_each_entry_safe(ev, next, llist_del_all(&bpf_psi_online_events), node) {
		cgroup_put(ev->cgrp);
		kfree(ev);
	}
	/* kfree_rcu() callbacks of freed triggers must not outlive the module */
	rcu_barrier();
}
