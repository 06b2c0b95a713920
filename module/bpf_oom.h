/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bpf_oom.h - what the parts of the module tell each other. main.c only
 * sequences the init and exit functions declared here.
 */
#ifndef _BPF_OOM_H
#define _BPF_OOM_H

#include <linux/jump_label.h>
#include <linux/types.h>

struct bpf_oom_record;
struct bpf_prog;
struct bpf_verifier_ops;
struct cgroup;
struct mm_struct;
struct oom_control;
struct proc_dir_entry;
struct task_struct;

/* memcg_kfuncs.c */
int bpf_oom_memcg_kfuncs_init(void);

/* oom_ops.c: the bpf_oom_ops struct_ops and the policy chain */

/**
 * struct bpf_oom_run - the OOM a policy is handling, for its kfuncs
 * @oc: the OOM
 * @policy_name: the running policy's name
 * @cgroup_id: where it is attached (0: system-wide)
 * @memory_freed: set by bpf_oom_kill_process(); a handler's non-zero return
 *	only counts with it
 * @decided: a kill or bpf_oom_note_decision() filled in @rec's decision
 * @rec: the run's decision record (records.c); NULL if dropped
 */
struct bpf_oom_run {
	struct oom_control *oc;
	const char *policy_name;
	u64 cgroup_id;
	bool memory_freed;
	bool decided;
	struct bpf_oom_record *rec;
};

DECLARE_STATIC_KEY_FALSE(bpf_oom_policies_attached);
extern const struct bpf_verifier_ops bpf_oom_verifier_ops;
int bpf_oom_ops_register(struct proc_dir_entry *procdir);
void bpf_oom_ops_unregister(struct proc_dir_entry *procdir);
bool bpf_oom_handle(struct oom_control *oc);
struct bpf_oom_run *bpf_oom_run_of(struct oom_control *oc);
void bpf_oom_cgroup_rmdir(u64 cgroup_id);
int bpf_oom_attach_check(const char *what);
void bpf_oom_btf_learn_id_delta(const struct bpf_prog *prog, u32 static_id);
bool bpf_oom_prog_is_ops(const struct bpf_prog *prog, u32 static_id);
bool bpf_oom_prog_is_oom_ops(const struct bpf_prog *prog);
u32 bpf_oom_btf_id_static(u32 id);

/* psi_ops.c: the bpf_psi_ops struct_ops and its triggers */
bool bpf_psi_current_cause(struct bpf_oom_record *rec);
int bpf_psi_ops_register(struct proc_dir_entry *procdir);
void bpf_psi_ops_unregister(struct proc_dir_entry *procdir);
bool bpf_psi_prog_is_psi_ops(const struct bpf_prog *prog);
void bpf_psi_cgroup_mkdir(struct cgroup *cgrp);
void bpf_psi_cgroup_rmdir(u64 cgroup_id);

/*
 * oom_kfuncs.c: bpf_oom_kill_process(), bpf_task_is_oom_victim(),
 * bpf_out_of_memory(), and the one struct_ops kfunc set with the PSI kfuncs
 */
int bpf_oom_kfuncs_init(void);
struct task_struct *bpf_oom_lock_task_mm(struct task_struct *task);

/* oom_shim.c: the out_of_memory() hook */
int bpf_oom_shim_init(void);
void bpf_oom_shim_exit(void);
void bpf_oom_kill_process_call(struct oom_control *oc, const char *message);
struct mutex *bpf_oom_lock(void);
bool bpf_oom_out_of_memory_call(struct oom_control *oc);

/* oom_victims.c: no second kill while an earlier victim's memory is on its way out */
int bpf_oom_victims_init(struct proc_dir_entry *procdir);
void bpf_oom_victims_exit(struct proc_dir_entry *procdir);
bool bpf_oom_victim_pending(struct oom_control *oc);

/* records.c: decision records, one per policy run of an OOM episode */
int bpf_oom_records_init(struct proc_dir_entry *procdir);
void bpf_oom_episode_begin(struct oom_control *oc, bool declared);
u64 bpf_oom_episode_id(void);
void bpf_oom_episode_kernel_phase(void);
void bpf_oom_episode_mark_victim(struct task_struct *task, struct mm_struct *mm);
unsigned long bpf_oom_episode_marks(void);
void bpf_oom_episode_end(void);
void bpf_oom_record_prepare(struct bpf_oom_record *rec, u8 trigger, const char *policy);
void bpf_oom_record_emit(const struct bpf_oom_record *rec);
struct bpf_oom_record *bpf_oom_record_open(const char *policy, u64 attach_cgroup_id);
void bpf_oom_record_close(struct bpf_oom_record *rec, u64 duration_ns);
void bpf_oom_record_decide(struct bpf_oom_record *rec, u8 action, u16 reason,
			   struct task_struct *task);

/* trace_events.c: the tracepoint bpf_oom:bpf_oom_decision */
void bpf_oom_trace_decision(const struct bpf_oom_record *rec);

/* cgroup_events.c: cgroup creation and removal, for the cgroup handlers */
int bpf_oom_cgroup_events_init(void);
void bpf_oom_cgroup_events_exit(void);

#endif /* _BPF_OOM_H */
