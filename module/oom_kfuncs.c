// SPDX-License-Identifier: GPL-2.0
/*
 * oom_kfuncs.c - the OOM kfuncs of upstream v2, for bpf_oom_ops programs.
 *
 * Registered for struct_ops programs with a filter that admits only
 * bpf_oom_ops programs: the verifier rejects them anywhere else.
 */
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/oom.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>

#include "compat.h"
#include "ksyms.h"
#include "bpf_oom.h"
#include <bpf_oom/kfuncs.h>

static struct task_struct *bpf_oom_find_lock_task_mm_stub(struct task_struct *p)
{
	return NULL;
}

DEFINE_STATIC_CALL(bpf_oom_find_lock_task_mm, bpf_oom_find_lock_task_mm_stub);

static const struct bpf_oom_ksym oom_kfunc_ksyms[] = {
	BPF_OOM_KSYM_CALL(find_lock_task_mm, bpf_oom_find_lock_task_mm),
};

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
 * the OOM counts as having freed memory, so a non-zero return of the handler
 * ends the chain.
 *
 * Return: 0; -EPERM for init or a kernel thread; -EINVAL if @oc is not the
 * OOM being handled, or @task is going away: exited (a zombie) or already
 * reaped, so killing it frees nothing (the OOM then falls through to the
 * next handler or the kernel's OOM killer).
 *
 * Safety: bpf_oom_ops handle_out_of_memory programs only (filter), which run
 * under oom_lock; may sleep (KF_SLEEPABLE); @oc and @task trusted.
 */
__bpf_kfunc int bpf_oom_kill_process(struct oom_control *oc, struct task_struct *task,
				     const char *message__str)
{
	struct bpf_oom_run *run = bpf_oom_run_of(oc);

	if (!run)
		return -EINVAL;
	/* oom_unkillable_task() of mm/oom_kill.c */
	if (is_global_init(task) || (task->flags & PF_KTHREAD))
		return -EPERM;
	if (!bpf_oom_task_can_free(task))
		return -EINVAL;
	/* oom_kill_process() drops this reference */
	task = tryget_task_struct(task);
	if (!task)
		return -EINVAL;

	if (run->cgroup_id)
		pr_warn_ratelimited("oom_policy=%s (cgroup %llu): killing %s[%d]\n",
				    run->policy_name, run->cgroup_id, task->comm, task->pid);
	else
		pr_warn_ratelimited("oom_policy=%s (system-wide): killing %s[%d]\n",
				    run->policy_name, task->comm, task->pid);
	oc->chosen = task;
	bpf_oom_kill_process_call(oc, message__str);
	oc->chosen = NULL;
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

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(bpf_oom_kfunc_ids)
BTF_ID_FLAGS(func, bpf_oom_kill_process, KF_SLEEPABLE | KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, bpf_task_is_oom_victim, KF_TRUSTED_ARGS)
BTF_KFUNCS_END(bpf_oom_kfunc_ids)

/*
 * 6.12 allows a module one kfunc set per program type (a second
 * registration WARNs), so every struct_ops kfunc of bpf-oom lives in this
 * set and this filter says which program may call which.
 */
static int bpf_oom_kfunc_filter(const struct bpf_prog *prog, u32 kfunc_id)
{
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
