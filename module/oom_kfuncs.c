// SPDX-License-Identifier: GPL-2.0
/*
 * oom_kfuncs.c - the OOM kfuncs of upstream v2, and the one kfunc set of
 * bpf-oom's struct_ops.
 *
 * bpf_oom_kill_process() and bpf_task_is_oom_victim() are for bpf_oom_ops
 * programs, bpf_out_of_memory() and the PSI kfuncs (psi_ops.c) for
 * bpf_psi_ops programs. All are registered for struct_ops programs in one
 * set, with a filter that admits each only where it belongs: the verifier
 * rejects them anywhere else.
 */
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/cgroup.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/module.h>
#include <linux/oom.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "ksyms.h"
#include "bpf_oom.h"
#include <bpf_oom/kfuncs.h>
#include <bpf_oom/oom.h>
#include <bpf_oom/record.h>

BPF_OOM_DEFINE_KSYM_CALL(bpf_oom_find_lock_task_mm, find_lock_task_mm);

static const struct bpf_oom_ksym oom_kfunc_ksyms[] = {
	BPF_OOM_KSYM_CALL(find_lock_task_mm, bpf_oom_find_lock_task_mm),
};

/**
 * bpf_oom_lock_task_mm() - the kernel's find_lock_task_mm()
 * @task: a process's task
 *
 * Return: a thread of @task's process that still has an mm, with its
 * task_lock held; NULL if none has.
 */
struct task_struct *bpf_oom_lock_task_mm(struct task_struct *task)
{
	return static_call(bpf_oom_find_lock_task_mm)(task);
}

/*
 * Whether killing @task can free memory: some thread still has an mm, and
 * the OOM reaper has not given up on it (MMF_OOM_SKIP) - the tests
 * oom_evaluate_task() applies to candidates. Killing a zombie or a reaped
 * victim frees nothing; counting it as freed would let a policy that keeps
 * choosing it hold off the kernel's OOM killer forever.
 */
static bool bpf_oom_task_can_free(struct task_struct *task)
{
	struct task_struct *t = static_call(bpf_oom_find_lock_task_mm)(task);
	bool ok;

	if (!t)
		return false;
	ok = !bpf_oom_mm_flag_test(MMF_OOM_SKIP, t->mm);
	task_unlock(t);
	return ok;
}

/*
 * Is @task inside the OOM's domain: for a memcg OOM, in @oc->memcg's
 * subtree (what mem_cgroup_scan_tasks() walks)? Killing outside frees
 * nothing where memory is short: the charge would fail again and take
 * another task with it.
 */
static bool bpf_oom_task_in_domain(struct oom_control *oc, struct task_struct *task)
{
	struct mem_cgroup *memcg;
	bool in;

	if (!oc->memcg)
		return true;
	rcu_read_lock();
	memcg = mem_cgroup_from_task(task);
	in = memcg && mem_cgroup_is_descendant(memcg, oc->memcg);
	rcu_read_unlock();
	return in;
}

__bpf_kfunc_start_defs();

/**
 * bpf_oom_kill_process - kill a task the way the OOM killer does
 * @oc: the OOM being handled (the handler's argument)
 * @task: the victim
 * @message__str: the reason in the kernel log ("Memory cgroup out of
 *	memory" and the like), a constant string
 *
 * Calls the kernel's own oom_kill_process(): the OOM report (rate limited)
 * with the policy's name just before it, the memcg and global OOM-kill
 * counters, the OOM reaper, memory.oom.group. An already exiting task is
 * only given access to reserves and reaped, as the kernel does. On success
 * the OOM counts as having freed memory and the chain ends with this
 * handler, whatever it returns (upstream: only if it returns non-zero).
 * A handler may call it again in the same run, for more processes of one
 * decision (a whole cgroup): one record, the first victim, all counted.
 *
 * Unlike upstream v2, a policy can only kill what the kernel's OOM killer
 * could: a task inside the OOM's domain (for a memcg OOM, in oc->memcg's
 * subtree) whose oom_score_adj is not -1000 (OOM_SCORE_ADJ_MIN, which the
 * kernel promises never to OOM-kill).
 *
 * Return: 0; -EPERM for init, a kernel thread, a task outside the OOM's
 * memory cgroup, or one with oom_score_adj -1000 (nothing is killed and the
 * OOM is not handled); -EINVAL if @oc is not the OOM being handled, or
 * killing @task frees nothing: it exited (a zombie), was already reaped, is
 * already an OOM victim, or is a vfork child sharing its parent's memory
 * (the OOM then falls through to the next handler or the kernel's OOM
 * killer).
 *
 * Safety: bpf_oom_ops handle_out_of_memory programs only (filter), which run
 * under oom_lock; may sleep (KF_SLEEPABLE); @oc and @task trusted.
 */
__bpf_kfunc int bpf_oom_kill_process(struct oom_control *oc, struct task_struct *task,
				     const char *message__str)
{
	struct bpf_oom_run *run = bpf_oom_run_of(oc);
	unsigned long marks;

	if (!run)
		return -EINVAL;
	/* oom_unkillable_task() of mm/oom_kill.c */
	if (is_global_init(task) || (task->flags & PF_KTHREAD))
		return -EPERM;
	if (!bpf_oom_task_in_domain(oc, task))
		return -EPERM;
	/* oom_badness() of mm/oom_kill.c: never -1000; a vfork child frees nothing */
	if (READ_ONCE(task->signal->oom_score_adj) == OOM_SCORE_ADJ_MIN)
		return -EPERM;
	/*
	 * Killing an OOM victim again frees nothing new; a policy runs only
	 * once the victims of its domain are done (oom_victims.c).
	 */
	if (in_vfork(task) || tsk_is_oom_victim(task) || !bpf_oom_task_can_free(task))
		return -EINVAL;
	/* oom_kill_process() drops this reference */
	task = tryget_task_struct(task);
	if (!task)
		return -EINVAL;

	/* one line per kill, as the kernel's "Killed process": not rate limited */
	if (run->cgroup_id)
		pr_warn("oom_policy=%s (cgroup %llu): killing %s[%d], episode %llu\n",
			run->policy_name, run->cgroup_id, task->comm, task->pid,
			bpf_oom_episode_id());
	else
		pr_warn("oom_policy=%s (system-wide): killing %s[%d], episode %llu\n",
			run->policy_name, task->comm, task->pid, bpf_oom_episode_id());
	/*
	 * The record shows the victim as it was before the kill; more kills
	 * in the same run (a policy killing a whole cgroup) are the same
	 * decision: the first victim stays, @kills counts every process the
	 * kills made OOM victims (memory.oom.group members included).
	 */
	if (!run->rec || run->rec->action != BPF_OOM_ACTION_KILL)
		bpf_oom_record_decide(run->rec, BPF_OOM_ACTION_KILL, BPF_OOM_REASON_NONE, task);
	run->decided = true;
	marks = bpf_oom_episode_marks();
	oc->chosen = task;
	bpf_oom_kill_process_call(oc, message__str);
	oc->chosen = NULL;
	if (run->rec)
		run->rec->kills += bpf_oom_episode_marks() - marks;
	run->memory_freed = true;
	return 0;
}

/**
 * bpf_task_is_oom_victim - whether a task is already an OOM victim
 * @task: the task
 *
 * Return: tsk_is_oom_victim(@task): its process was chosen by an OOM kill
 * (by the kernel or a policy) and has not finished exiting.
 *
 * Safety: bpf_oom_ops programs only (filter); @task trusted. Does not sleep.
 */
__bpf_kfunc bool bpf_task_is_oom_victim(struct task_struct *task)
{
	return tsk_is_oom_victim(task);
}

/**
 * bpf_oom_note_decision - say what a policy decided instead of killing
 * @oc: the OOM being handled (the handler's argument)
 * @task__nullable: the task the decision is about: for BPF_OOM_ACTION_DRY_RUN
 *	the victim the policy would have killed (required); for
 *	BPF_OOM_ACTION_DECLINE optional (the candidate it gave up on)
 * @action: BPF_OOM_ACTION_DRY_RUN or BPF_OOM_ACTION_DECLINE
 *	(include/bpf_oom/record.h)
 * @reason: BPF_OOM_REASON_DRY_RUN for DRY_RUN; for DECLINE another
 *	BPF_OOM_REASON_*, not NONE
 *
 * A bpf-oom extension, not in upstream v2 (policies test for it with
 * bpf_ksym_exists(), see include/bpf_oom/policy.h): fills in the decision
 * record of this policy run (records.c). A kill needs no note: the module
 * records bpf_oom_kill_process() itself, and a kill after a note replaces
 * it. A run that neither kills nor notes is recorded as a decline with
 * reason "unspecified". In shadow mode the record of the episode also gets
 * the victim the kernel's OOM killer then chose.
 *
 * Return: 0 (also when the record was dropped: /proc/bpf_oom/records);
 * -EINVAL if @oc is not the OOM being handled, @action or @reason is out of
 * range or they do not go together, or DRY_RUN has no task; -EALREADY if
 * this run already killed or noted a decision.
 *
 * Safety: bpf_oom_ops handle_out_of_memory programs only (filter), under
 * oom_lock; takes @task's task_lock; @oc and @task__nullable trusted.
 */
__bpf_kfunc int bpf_oom_note_decision(struct oom_control *oc,
				      struct task_struct *task__nullable, u32 action, u32 reason)
{
	struct bpf_oom_run *run = bpf_oom_run_of(oc);

	if (!run)
		return -EINVAL;
	if (action != BPF_OOM_ACTION_DRY_RUN && action != BPF_OOM_ACTION_DECLINE)
		return -EINVAL;
	if (reason == BPF_OOM_REASON_NONE || reason > BPF_OOM_REASON_MAX)
		return -EINVAL;
	/* shadow mode names its victim and says so; a decline gives another reason */
	if (action == BPF_OOM_ACTION_DRY_RUN &&
	    (!task__nullable || reason != BPF_OOM_REASON_DRY_RUN))
		return -EINVAL;
	if (action == BPF_OOM_ACTION_DECLINE && reason == BPF_OOM_REASON_DRY_RUN)
		return -EINVAL;
	if (run->decided)
		return -EALREADY;
	bpf_oom_record_decide(run->rec, action, reason, task__nullable);
	run->decided = true;
	return 0;
}

/**
 * bpf_out_of_memory - declare an OOM and let the kernel handle it
 * @memcg__nullable: the memory cgroup out of memory; NULL: the whole system
 * @order: the allocation order the OOM is for, 0..MAX_PAGE_ORDER
 * @flags: BPF_OOM_FLAGS_WAIT_ON_OOM_LOCK to wait (killable) for oom_lock;
 *	without it a busy oom_lock fails the call
 * @constraint_text__str: what the OOM is about, shown with the report
 *	("": "CONSTRAINT_BPF"); at most 63 characters are used. A read-only
 *	string (a string literal or a const char[]) that the verifier checks
 *	whole, NUL included. Upstream v2 takes any pointer or NULL
 *	(constraint_text__nullable), of which the verifier checks one byte
 *	while the kernel reads on: bpf-oom refuses that at load.
 *
 * Runs the kernel's out_of_memory() under oom_lock as an allocation of
 * @order in @memcg (or anywhere) that found no memory would: attached
 * bpf_oom_ops policies first, then the kernel's OOM killer, with its report
 * and counters. A system-wide OOM is declared as a GFP_KERNEL allocation
 * (upstream v2 leaves gfp_mask 0, and out_of_memory() then returns without
 * killing); a memcg one with gfp_mask 0, as upstream. The stock kernel's
 * report line reads the kernel's own constraint (CONSTRAINT_MEMCG or
 * CONSTRAINT_NONE); the text is printed in bpf-oom's line just before it.
 * Like a real system-wide OOM, one that finds nothing to kill panics the
 * kernel ("System is deadlocked on memory"); a memcg one does not.
 *
 * Return: 1 if memory was or will be freed, 0 if not; -EINVAL for unknown
 * flags or an order outside 0..MAX_PAGE_ORDER; -EBUSY if oom_lock is held
 * and BPF_OOM_FLAGS_WAIT_ON_OOM_LOCK is not set; -EINTR if a fatal signal
 * came while waiting for it.
 *
 * Safety: bpf_psi_ops programs only (filter). Never from a bpf_oom_ops
 * handler, which runs under oom_lock: the verifier rejects it there. May
 * sleep (KF_SLEEPABLE); @memcg__nullable trusted or NULL.
 */
__bpf_kfunc int bpf_out_of_memory(struct mem_cgroup *memcg__nullable, int order, u64 flags,
				  const char *constraint_text__str)
{
	struct oom_control oc = {
		.memcg = memcg__nullable,
		.order = order,
		.gfp_mask = memcg__nullable ? 0 : GFP_KERNEL,
	};
	struct mutex *lock = bpf_oom_lock();
	char text[64] = "CONSTRAINT_BPF";
	int ret;

	if (flags & ~BPF_OOM_FLAGS_WAIT_ON_OOM_LOCK)
		return -EINVAL;
	if (order < 0 || order > MAX_PAGE_ORDER)
		return -EINVAL;
	/* the verifier checked it is NUL-terminated inside a read-only map */
	if (constraint_text__str[0])
		strscpy(text, constraint_text__str, sizeof(text));

	if (flags & BPF_OOM_FLAGS_WAIT_ON_OOM_LOCK) {
		if (mutex_lock_killable(lock))
			return -EINTR;
	} else if (!mutex_trylock(lock)) {
		return -EBUSY;
	}
	if (memcg__nullable) {
		char path[128];

		cgroup_path(memcg__nullable->css.cgroup, path, sizeof(path));
		pr_warn("bpf_out_of_memory: constraint=%s, order=%d, oom_memcg=%s\n",
			text, order, path);
	} else {
		pr_warn("bpf_out_of_memory: constraint=%s, order=%d, system-wide\n", text, order);
	}
	ret = bpf_oom_out_of_memory_call(&oc);
	mutex_unlock(lock);
	return ret;
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(bpf_oom_kfunc_ids)
BTF_ID_FLAGS(func, bpf_oom_kill_process, KF_SLEEPABLE | KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, bpf_task_is_oom_victim, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, bpf_oom_note_decision, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, bpf_out_of_memory, KF_SLEEPABLE | KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, bpf_psi_create_trigger, KF_SLEEPABLE | KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, bpf_psi_trigger_cgroup_id, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, bpf_psi_note_decision, KF_SLEEPABLE | KF_TRUSTED_ARGS)
BTF_KFUNCS_END(bpf_oom_kfunc_ids)

/* The kfuncs for bpf_psi_ops programs; all others are bpf_oom_ops'. */
BTF_ID_LIST(bpf_psi_kfunc_btf_ids)
BTF_ID(func, bpf_out_of_memory)
BTF_ID(func, bpf_psi_create_trigger)
BTF_ID(func, bpf_psi_trigger_cgroup_id)
BTF_ID(func, bpf_psi_note_decision)

/*
 * 6.12 allows a module one kfunc set per program type (a second
 * registration WARNs), so every struct_ops kfunc of bpf-oom lives in this
 * set and this filter says which program may call which. The verifier
 * passes ids in the running kernel's numbering of our BTF, the lists hold
 * them as built: bpf_oom_btf_id_static() maps one to the other.
 */
static int bpf_oom_kfunc_filter(const struct bpf_prog *prog, u32 kfunc_id)
{
	u32 id = bpf_oom_btf_id_static(kfunc_id);
	bool psi_kfunc = id && (id == bpf_psi_kfunc_btf_ids[0] || id == bpf_psi_kfunc_btf_ids[1] ||
				id == bpf_psi_kfunc_btf_ids[2] || id == bpf_psi_kfunc_btf_ids[3]);

	if (psi_kfunc)
		return bpf_psi_prog_is_psi_ops(prog) ? 0 : -EACCES;
	return bpf_oom_prog_is_oom_ops(prog) ? 0 : -EACCES;
}

static const struct btf_kfunc_id_set bpf_oom_kfunc_set = {
	.owner = THIS_MODULE,
	.set = &bpf_oom_kfunc_ids,
	.filter = bpf_oom_kfunc_filter,
};

/**
 * bpf_oom_kfuncs_init() - register the OOM kfuncs for struct_ops programs
 *
 * Return: 0 or a negative errno.
 */
int bpf_oom_kfuncs_init(void)
{
	int err;

	err = bpf_oom_ksyms_resolve(oom_kfunc_ksyms, ARRAY_SIZE(oom_kfunc_ksyms));
	if (err)
		return err;
	err = register_btf_kfunc_id_set(BPF_PROG_TYPE_STRUCT_OPS, &bpf_oom_kfunc_set);
	if (err)
		pr_err("cannot register the OOM kfuncs: %d\n", err);
	return err;
}
