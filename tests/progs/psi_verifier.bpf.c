// SPDX-License-Identifier: GPL-2.0
/*
 * psi_verifier.bpf.c - each struct_ops gets only its own kfuncs.
 *
 * Every map here must be refused by the verifier, except the controls;
 * userspace creates one map at a time.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf_oom/kfuncs.h>
#include <bpf_oom/oom.h>
#include <bpf_oom/psi.h>

char _license[] SEC("license") = "GPL";

/* bpf_out_of_memory() from an OOM handler: it would wait for oom_lock,
 * which the handler's caller holds. */
SEC("struct_ops.s/handle_out_of_memory")
int BPF_PROG(oom_declares_oom, struct bpf_oom_ctx *octx, struct oom_control *oc)
{
	return bpf_out_of_memory(NULL, 0, BPF_OOM_FLAGS_WAIT_ON_OOM_LOCK, "");
}

SEC(".struct_ops.link")
struct bpf_oom_ops oom_calls_out_of_memory = {
	.handle_out_of_memory = (void *)oom_declares_oom,
};

/* A PSI trigger from an OOM handler. */
SEC("struct_ops.s/handle_out_of_memory")
int BPF_PROG(oom_creates_trigger, struct bpf_oom_ctx *octx, struct oom_control *oc)
{
	return bpf_psi_create_trigger(NULL, 0, PSI_MEM, 100000, 1000000);
}

SEC(".struct_ops.link")
struct bpf_oom_ops oom_calls_create_trigger = {
	.handle_out_of_memory = (void *)oom_creates_trigger,
};

/* An OOM kfunc from a PSI program. */
SEC("struct_ops.s/init")
int BPF_PROG(psi_kills, struct bpf_psi *bpf_psi)
{
	return bpf_oom_kill_process(NULL, NULL, "no");
}

SEC("struct_ops.s/handle_psi_event")
void BPF_PROG(psi_event_nop, struct bpf_psi *bpf_psi, struct psi_trigger *t)
{
}

SEC(".struct_ops.link")
struct bpf_psi_ops psi_calls_kill_process = {
	.init = (void *)psi_kills,
	.handle_psi_event = (void *)psi_event_nop,
};

/* The control: the same PSI ops with its own kfunc must load. */
SEC("struct_ops.s/init")
int BPF_PROG(psi_creates_trigger, struct bpf_psi *bpf_psi)
{
	return bpf_psi_create_trigger(bpf_psi, 0, PSI_MEM, 100000, 2000000);
}

SEC(".struct_ops.link")
struct bpf_psi_ops psi_control = {
	.init = (void *)psi_creates_trigger,
	.handle_psi_event = (void *)psi_event_nop,
};

/*
 * bpf_out_of_memory()'s constraint text: a read-only string the verifier
 * checks whole. A string literal loads (the control); a writable array,
 * which the kernel could read past what the verifier checked, and NULL are
 * refused.
 */
SEC("struct_ops.s/handle_psi_event")
void BPF_PROG(psi_text_literal, struct bpf_psi *bpf_psi, struct psi_trigger *t)
{
	bpf_out_of_memory(NULL, 0, 0, "CONSTRAINT_BPF_TEST");
}

SEC(".struct_ops.link")
struct bpf_psi_ops psi_text_control = {
	.init = (void *)psi_creates_trigger,
	.handle_psi_event = (void *)psi_text_literal,
};

char writable_text[16] = "CONSTRAINT_RW";

SEC("struct_ops.s/handle_psi_event")
void BPF_PROG(psi_text_writable, struct bpf_psi *bpf_psi, struct psi_trigger *t)
{
	bpf_out_of_memory(NULL, 0, 0, writable_text);
}

SEC(".struct_ops.link")
struct bpf_psi_ops psi_text_rw = {
	.init = (void *)psi_creates_trigger,
	.handle_psi_event = (void *)psi_text_writable,
};

SEC("struct_ops.s/handle_psi_event")
void BPF_PROG(psi_text_null, struct bpf_psi *bpf_psi, struct psi_trigger *t)
{
	bpf_out_of_memory(NULL, 0, 0, NULL);
}

SEC(".struct_ops.link")
struct bpf_psi_ops psi_text_nullptr = {
	.init = (void *)psi_creates_trigger,
	.handle_psi_event = (void *)psi_text_null,
};

/* A non-sleepable init cannot create triggers (they sleep). */
SEC("struct_ops/init")
int BPF_PROG(psi_creates_trigger_atomic, struct bpf_psi *bpf_psi)
{
	return bpf_psi_create_trigger(bpf_psi, 0, PSI_MEM, 100000, 2000000);
}

SEC(".struct_ops.link")
struct bpf_psi_ops psi_atomic_init = {
	.init = (void *)psi_creates_trigger_atomic,
	.handle_psi_event = (void *)psi_event_nop,
};

/* Syscall programs may not declare OOMs. */
SEC("?syscall")
int syscall_declares_oom(void *ctx)
{
	return bpf_out_of_memory(NULL, 0, 0, "");
}
