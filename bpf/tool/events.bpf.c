// SPDX-License-Identifier: GPL-2.0
/*
 * events.bpf.c - the BPF half of `bpf-oom events`: copies every decision
 * record the module emits (tracepoint bpf_oom:bpf_oom_decision, first
 * argument a const struct bpf_oom_record *) into a ring buffer.
 *
 * A raw tracepoint: it needs no BTF of the event (the module's trace event
 * file has none, see module/trace_events.c). The record's layout is
 * bpf-oom's own (include/bpf_oom/record.h; struct bpf_oom_record reaches
 * vmlinux.h from the module's BTF), checked by the reader through its
 * version and size fields. A full ring buffer loses the record, never
 * silently: `dropped` counts it, and the command reports the count.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf_oom/record.h>

char _license[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);	/* some 450 records */
} records SEC(".maps");

__u64 seen;	/* records the tracepoint delivered */
__u64 dropped;	/* of which the ring buffer had no room for */

SEC("raw_tp/bpf_oom_decision")
int copy_record(struct bpf_raw_tracepoint_args *ctx)
{
	struct bpf_oom_record *rec;

	__sync_fetch_and_add(&seen, 1);
	rec = bpf_ringbuf_reserve(&records, sizeof(*rec), 0);
	if (!rec) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	if (bpf_probe_read_kernel(rec, sizeof(*rec), (const void *)ctx->args[0])) {
		bpf_ringbuf_discard(rec, 0);
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	bpf_ringbuf_submit(rec, 0);
	return 0;
}
