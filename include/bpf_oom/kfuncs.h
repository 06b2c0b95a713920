/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kfuncs.h - the kfuncs bpf-oom provides, one prototype for both sides.
 *
 * The prototypes are those of upstream Linux (the memcg kfuncs as merged in
 * 7.0, mm/bpf_memcontrol.c), so a BPF program written for upstream builds
 * against bpf-oom unchanged. libbpf binds each kfunc by name: to vmlinux when
 * the running kernel has it (7.0 and later for the memcg kfuncs), otherwise to
 * the bpf_oom module's copy.
 *
 * In BPF programs include it after vmlinux.h and <bpf/bpf_helpers.h>; every
 * kfunc is declared __weak, so bpf_ksym_exists() can test for it. In the
 * module it only declares the functions.
 */
#ifndef _BPF_OOM_KFUNCS_H
#define _BPF_OOM_KFUNCS_H

#ifdef __KERNEL__
#include <linux/types.h>
#define __bpf_oom_ksym
struct mem_cgroup;
struct cgroup_subsys_state;
struct oom_control;
struct task_struct;
struct bpf_psi;
struct psi_trigger;
enum vm_event_item;
enum memcg_memory_event;
#else
#define __bpf_oom_ksym __ksym __weak
#endif

/* memcg kfuncs (upstream: mm/bpf_memcontrol.c, Linux 7.0) */
struct mem_cgroup *bpf_get_root_mem_cgroup(void) __bpf_oom_ksym;
struct mem_cgroup *bpf_get_mem_cgroup(struct cgroup_subsys_state *css) __bpf_oom_ksym;
void bpf_put_mem_cgroup(struct mem_cgroup *memcg) __bpf_oom_ksym;
unsigned long bpf_mem_cgroup_vm_events(struct mem_cgroup *memcg,
				       enum vm_event_item event) __bpf_oom_ksym;
unsigned long bpf_mem_cgroup_memory_events(struct mem_cgroup *memcg,
					   enum memcg_memory_event event) __bpf_oom_ksym;
unsigned long bpf_mem_cgroup_usage(struct mem_cgroup *memcg) __bpf_oom_ksym;
unsigned long bpf_mem_cgroup_page_state(struct mem_cgroup *memcg, int idx) __bpf_oom_ksym;
void bpf_mem_cgroup_flush_stats(struct mem_cgroup *memcg) __bpf_oom_ksym;

/* OOM kfuncs (upstream v2: mm/oom_kill.c); bpf_oom_ops programs only */
int bpf_oom_kill_process(struct oom_control *oc, struct task_struct *task,
			 const char *message__str) __bpf_oom_ksym;
bool bpf_task_is_oom_victim(struct task_struct *task) __bpf_oom_ksym;
/*
 * bpf-oom extension (not upstream): record a dry-run choice or a decline
 * (include/bpf_oom/record.h); test with bpf_ksym_exists() before calling.
 */
int bpf_oom_note_decision(struct oom_control *oc, struct task_struct *task__nullable,
			  u32 action, u32 reason) __bpf_oom_ksym;

/* bpf_psi_ops programs only (upstream v2: mm/oom_kill.c, kernel/sched/bpf_psi.c) */
/*
 * bpf-oom: the text is a read-only string the verifier checks whole (a
 * string literal or a const char[]), never NULL: "" means CONSTRAINT_BPF.
 * Upstream v2 takes any pointer or NULL (constraint_text__nullable).
 */
int bpf_out_of_memory(struct mem_cgroup *memcg__nullable, int order, u64 flags,
		      const char *constraint_text__str) __bpf_oom_ksym;
int bpf_psi_create_trigger(struct bpf_psi *bpf_psi, u64 cgroup_id, u32 resource,
			   u32 threshold_us, u32 window_us) __bpf_oom_ksym;
/* bpf-oom extension: stock kernels' struct psi_trigger has no cgroup_id */
u64 bpf_psi_trigger_cgroup_id(struct psi_trigger *t) __bpf_oom_ksym;
/* bpf-oom extension (not upstream): a PSI policy's dry-run choice or decline */
int bpf_psi_note_decision(struct bpf_psi *bpf_psi, struct psi_trigger *t,
			  struct task_struct *task__nullable, u32 action, u32 reason) __bpf_oom_ksym;

#endif /* _BPF_OOM_KFUNCS_H */
