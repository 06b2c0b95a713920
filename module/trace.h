/* SPDX-License-Identifier: GPL-2.0 */
/*
 * trace.h - bpf-oom's tracepoint: bpf_oom:bpf_oom_decision, one event per
 * decision record (include/bpf_oom/record.h). perf and bpftrace users read
 * the fields below; BPF programs (raw_tp "bpf_oom_decision": there is no
 * BTF for tp_btf, see trace_events.c) get the whole record as the first
 * argument.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM bpf_oom

#if !defined(_BPF_OOM_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _BPF_OOM_TRACE_H

#include <linux/tracepoint.h>
#include <bpf_oom/record.h>

#define bpf_oom_show_trigger(t)						\
	__print_symbolic(t,						\
			 { BPF_OOM_TRIGGER_MEMCG_OOM, "memcg_oom" },	\
			 { BPF_OOM_TRIGGER_GLOBAL_OOM, "global_oom" },	\
			 { BPF_OOM_TRIGGER_PSI, "psi" })

#define bpf_oom_show_action(a)						\
	__print_symbolic(a,						\
			 { BPF_OOM_ACTION_KILL, "kill" },		\
			 { BPF_OOM_ACTION_DRY_RUN, "dry_run" },		\
			 { BPF_OOM_ACTION_DECLINE, "decline" })

#define bpf_oom_show_reason(r)						\
	__print_symbolic(r,						\
			 { BPF_OOM_REASON_NONE, "none" },		\
			 { BPF_OOM_REASON_UNSPECIFIED, "unspecified" },	\
			 { BPF_OOM_REASON_DRY_RUN, "dry_run" },		\
			 { BPF_OOM_REASON_NO_CANDIDATE, "no_candidate" },	\
			 { BPF_OOM_REASON_NOT_IN_SCOPE, "not_in_scope" },	\
			 { BPF_OOM_REASON_KILL_FAILED, "kill_failed" },	\
			 { BPF_OOM_REASON_MIN_INTERVAL, "min_interval" },	\
			 { BPF_OOM_REASON_BELOW_THRESHOLD, "below_threshold" },	\
			 { BPF_OOM_REASON_VICTIM_PENDING, "victim_pending" },	\
			 { BPF_OOM_REASON_NOT_SUSTAINED, "not_sustained" })

TRACE_EVENT(bpf_oom_decision,

	TP_PROTO(const struct bpf_oom_record *rec),

	TP_ARGS(rec),

	TP_STRUCT__entry(
		__field(u64, episode)
		__field(u8, trigger)
		__field(u8, action)
		__field(u16, reason)
		__field(u32, kills)
		__field(u64, domain_cgroup_id)
		__field(u32, victim_pid)
		__field(u64, victim_rss_pages)
		__field(u32, kernel_victim_pid)
		__field(u64, duration_ns)
		__array(char, victim_comm, BPF_OOM_RECORD_COMM_LEN)
		__array(char, kernel_victim_comm, BPF_OOM_RECORD_COMM_LEN)
		__string(policy, rec->policy)
		__string(domain, rec->domain_path)
	),

	TP_fast_assign(
		__entry->episode = rec->episode;
		__entry->trigger = rec->trigger;
		__entry->action = rec->action;
		__entry->reason = rec->reason;
		__entry->kills = rec->kills;
		__entry->domain_cgroup_id = rec->domain_cgroup_id;
		__entry->victim_pid = rec->victim.pid;
		__entry->victim_rss_pages = rec->victim.rss_pages;
		__entry->kernel_victim_pid = rec->kernel_victim.pid;
		__entry->duration_ns = rec->duration_ns;
		memcpy(__entry->victim_comm, rec->victim.comm, BPF_OOM_RECORD_COMM_LEN);
		memcpy(__entry->kernel_victim_comm, rec->kernel_victim.comm,
		       BPF_OOM_RECORD_COMM_LEN);
		__assign_str(policy);
		__assign_str(domain);
	),

	TP_printk("episode=%llu policy=%s trigger=%s action=%s reason=%s domain=%s victim=%d(%.16s) kills=%u rss_pages=%llu kernel_victim=%d(%.16s) duration_ns=%llu",
		  __entry->episode, __get_str(policy), bpf_oom_show_trigger(__entry->trigger),
		  bpf_oom_show_action(__entry->action), bpf_oom_show_reason(__entry->reason),
		  __get_str(domain), __entry->victim_pid, __entry->victim_comm, __entry->kills,
		  __entry->victim_rss_pages, __entry->kernel_victim_pid,
		  __entry->kernel_victim_comm, __entry->duration_ns)
);

#endif /* _BPF_OOM_TRACE_H */

/* out of tree: the header is found through -I$(src)/module */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
