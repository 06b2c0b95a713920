/* SPDX-License-Identifier: GPL-2.0 */
/*
 * record.h - bpf-oom's decision records: one per decision a policy makes.
 *
 * Not part of upstream v2 (which only prints "oom_policy=<name>" in the OOM
 * report): a bpf-oom extension. The module fills one record per policy run
 * of an OOM episode (kill, dry run, decline) and one per decision a PSI
 * policy reports with bpf_psi_note_decision(), and hands each to the tracepoint bpf_oom:bpf_oom_decision, whose
 * first argument is a const struct bpf_oom_record *. `bpf-oom events` copies
 * each into a BPF ring buffer; perf and bpftrace see the tracepoint's
 * fields directly.
 *
 * The layout is fixed for a given BPF_OOM_RECORD_VERSION: fields are only
 * ever added at the end (with a new version), and @size says how much of
 * the record the module filled. Readers check @version and @size.
 *
 * BPF programs get struct bpf_oom_record from a vmlinux.h dumped from the
 * module's BTF, and only the constants from this header.
 */
#ifndef _BPF_OOM_RECORD_H
#define _BPF_OOM_RECORD_H

#define BPF_OOM_RECORD_VERSION		2	/* 2: @kills (padding in 1) */

/* what started the decision (record.trigger) */
#define BPF_OOM_TRIGGER_MEMCG_OOM	1	/* a memory cgroup hit its limit */
#define BPF_OOM_TRIGGER_GLOBAL_OOM	2	/* the system ran out of memory */
#define BPF_OOM_TRIGGER_PSI		3	/* a PSI event (handle_psi_event) */

/* what the policy did (record.action) */
#define BPF_OOM_ACTION_KILL		1	/* killed @victim (bpf_oom_kill_process) */
#define BPF_OOM_ACTION_DRY_RUN		2	/* would have killed @victim: shadow mode */
#define BPF_OOM_ACTION_DECLINE		3	/* chose to kill nothing, see @reason */
#define BPF_OOM_ACTION_MAX		3

/* why (record.reason); policies pass them to bpf_oom_note_decision() */
#define BPF_OOM_REASON_NONE		0	/* kills: none needed */
#define BPF_OOM_REASON_UNSPECIFIED	1	/* returned without killing or saying why */
#define BPF_OOM_REASON_DRY_RUN		2	/* shadow mode (dry_run knob) */
#define BPF_OOM_REASON_NO_CANDIDATE	3	/* nothing eligible in its scope */
#define BPF_OOM_REASON_NOT_IN_SCOPE	4	/* the OOM is not one it handles */
#define BPF_OOM_REASON_KILL_FAILED	5	/* bpf_oom_kill_process() failed */
#define BPF_OOM_REASON_MIN_INTERVAL	6	/* too soon after its last kill */
#define BPF_OOM_REASON_BELOW_THRESHOLD	7	/* memory and pressure within limits */
#define BPF_OOM_REASON_VICTIM_PENDING	8	/* an earlier victim is still exiting */
#define BPF_OOM_REASON_NOT_SUSTAINED	9	/* over the limit, not yet for long enough */
#define BPF_OOM_REASON_MAX		9

/* record.flags */
#define BPF_OOM_RECORD_KERNEL_VICTIM	(1U << 0)	/* @kernel_victim is set */
#define BPF_OOM_RECORD_PATH_TRUNCATED	(1U << 1)	/* @domain_path was cut */

#define BPF_OOM_RECORD_NAME_LEN		64	/* = BPF_OOM_NAME_MAX_LEN */
#define BPF_OOM_RECORD_PATH_LEN		256
#define BPF_OOM_RECORD_COMM_LEN		16	/* = TASK_COMM_LEN */

#if defined(__KERNEL__) || !defined(__bpf__)
#include <linux/types.h>

/**
 * struct bpf_oom_record_task - a task as the record shows it
 * @pid: thread id (in the initial pid namespace)
 * @tgid: process id
 * @oom_score_adj: its process's oom_score_adj
 * @cgroup_id: its cgroup v2 cgroup's id (0 if unknown)
 * @rss_pages: resident pages (anon + file + shmem), exact per-CPU sums
 * @swap_pages: swapped-out pages, likewise
 * @comm: its command name
 */
struct bpf_oom_record_task {
	__u32 pid;
	__u32 tgid;
	__s32 oom_score_adj;
	__u32 __pad;
	__u64 cgroup_id;
	__u64 rss_pages;
	__u64 swap_pages;
	char comm[BPF_OOM_RECORD_COMM_LEN];
};

/**
 * struct bpf_oom_record - one decision
 * @version: BPF_OOM_RECORD_VERSION
 * @size: sizeof(struct bpf_oom_record) of the module that wrote it
 * @trigger: BPF_OOM_TRIGGER_*
 * @action: BPF_OOM_ACTION_*
 * @reason: BPF_OOM_REASON_*
 * @flags: BPF_OOM_RECORD_*
 * @kills: for a KILL, how many processes the policy's kills of this run
 *	made OOM victims (oom:mark_victim): more than one for a policy that
 *	kills a whole cgroup (oomd_like) or a kill that takes a
 *	memory.oom.group with it; @victim is the first. 0 otherwise (and in
 *	version 1 records).
 * @episode: the OOM episode (one out_of_memory() call that reached the
 *	policies; the number the module prints as "episode N" next to the
 *	kernel's OOM report); 0 for a PSI policy's decision, which is no OOM
 * @time_ns: when the decision was made (CLOCK_REALTIME, ns)
 * @duration_ns: how long the policy's handler ran (ns)
 * @attach_cgroup_id: where the policy is attached (0: system-wide)
 * @gfp_mask: the failed allocation's gfp mask (OOM triggers; 0 for PSI)
 * @order: its order (-1: a sysrq OOM; 0 for PSI)
 * @constraint: the kernel's enum oom_constraint for the OOM (0 for PSI)
 * @psi_resource: for a PSI decision, and for an OOM a PSI policy declared
 *	(bpf_out_of_memory() from handle_psi_event), the resource of the
 *	trigger that fired (PSI_MEM, ... | BPF_PSI_FULL); 0 otherwise
 * @psi_threshold_us: its threshold
 * @psi_window_us: its window
 * @domain_cgroup_id: the OOM's memory cgroup (a PSI decision: the
 *	trigger's cgroup); 0 for the whole system
 * @domain_path: its path ("/" for the whole system)
 * @victim: the policy's victim (KILL, DRY_RUN; zero otherwise)
 * @kernel_victim: the task the kernel's OOM killer marked as its victim in
 *	the same episode when no policy killed (flag
 *	BPF_OOM_RECORD_KERNEL_VICTIM): in shadow mode, what happened instead
 *	of @victim. Usually a kill; for a task already exiting the kernel
 *	only marks it (task_will_free_mem()), which it shows the same way.
 * @policy: the policy's name
 */
struct bpf_oom_record {
	__u16 version;
	__u16 size;
	__u8 trigger;
	__u8 action;
	__u16 reason;
	__u32 flags;
	__u32 kills;
	__u64 episode;
	__u64 time_ns;
	__u64 duration_ns;
	__u64 attach_cgroup_id;
	__u32 gfp_mask;
	__s32 order;
	__u32 constraint;
	__u32 psi_resource;
	__u32 psi_threshold_us;
	__u32 psi_window_us;
	__u64 domain_cgroup_id;
	struct bpf_oom_record_task victim;
	struct bpf_oom_record_task kernel_victim;
	char policy[BPF_OOM_RECORD_NAME_LEN];
	char domain_path[BPF_OOM_RECORD_PATH_LEN];
};
#endif /* __KERNEL__ || !__bpf__ */

#endif /* _BPF_OOM_RECORD_H */
