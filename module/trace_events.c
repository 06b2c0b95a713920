// SPDX-License-Identifier: GPL-2.0
/*
 * trace_events.c - defines the tracepoint bpf_oom:bpf_oom_decision
 * (trace.h).
 *
 * Built without debug information (Kbuild: the tracepoint's code makes
 * Debian 13's pahole keep a private struct task_struct in the module's
 * BTF), so it has no BTF of its own: the trace event does not ask
 * resolve_btfids for ids no BTF can give (Linux >= 7.x lists the event's
 * BPF dispatcher and record struct in events/.../btf_ids; ours reads
 * ENOENT). BPF programs attach with raw_tp; the record's type
 * (struct bpf_oom_record) is in the module's BTF through records.c.
 */
#include <linux/module.h>
#include <linux/trace_events.h>

#include "bpf_oom.h"

#undef CONFIG_DEBUG_INFO_BTF
#define CREATE_TRACE_POINTS
#include "trace.h"

/**
 * bpf_oom_trace_decision() - fire bpf_oom:bpf_oom_decision for a record
 * @rec: the record; only read during the call
 */
void bpf_oom_trace_decision(const struct bpf_oom_record *rec)
{
	trace_bpf_oom_decision(rec);
}
