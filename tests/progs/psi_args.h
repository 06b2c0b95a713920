/* SPDX-License-Identifier: GPL-2.0 */
/*
 * psi_args.h - the argument cases psi_policies.bpf.c's "args" ops and
 * psi_note.bpf.c try, shared with tests/psi_ops.c, which checks each result
 * (arg_ret[], note_ret[]).
 */
#ifndef BPF_OOM_TEST_PSI_ARGS_H
#define BPF_OOM_TEST_PSI_ARGS_H

enum psi_arg_case {
	ARG_BAD_RESOURCE,		/* resource 7 */
	ARG_IRQ_SOME,			/* PSI_IRQ without BPF_PSI_FULL */
	ARG_IRQ_FULL,			/* valid only where the kernel accounts IRQ time */
	ARG_WINDOW_0,
	ARG_WINDOW_ABOVE_10S,
	ARG_WINDOW_1S,			/* not a multiple of 2 s: privileged only */
	ARG_THRESHOLD_0,
	ARG_THRESHOLD_ABOVE_WINDOW,
	ARG_NO_CGROUP,
	ARG_VALID_CGROUP,		/* some memory on io_cgroup_id, 2 s window */
	ARG_VALID_SYSTEM,		/* full cpu system-wide, 2 s window */
	OOM_BAD_FLAGS,			/* bpf_out_of_memory(NULL, 0, 2, "") */
	OOM_ORDER_NEGATIVE,		/* order -1 */
	OOM_ORDER_ABOVE_MAX,		/* order 11 (MAX_PAGE_ORDER is 10 on x86) */
	NR_ARGS,
};

/* bpf_psi_note_decision() calls in one handle_psi_event run, in this order */
enum psi_note_case {
	NOTE_ACTION_0,			/* action 0, reason no_candidate, a task */
	NOTE_ACTION_KILL,		/* a kill is recorded by the kill, never noted */
	NOTE_ACTION_ABOVE_MAX,		/* BPF_OOM_ACTION_MAX + 1 */
	NOTE_ACTION_WIDE,		/* 0x102: DRY_RUN in the record's 8 bits */
	NOTE_DECLINE_REASON_NONE,
	NOTE_DECLINE_REASON_DRY_RUN,
	NOTE_DECLINE_REASON_ABOVE_MAX,	/* BPF_OOM_REASON_MAX + 1 */
	NOTE_DECLINE_REASON_WIDE,	/* 0x10003: no_candidate in the record's 16 bits */
	NOTE_DRY_RUN_NO_TASK,		/* shadow mode names its victim */
	NOTE_DRY_RUN_REASON_NONE,
	NOTE_DRY_RUN_REASON_OTHER,	/* DRY_RUN for no_candidate */
	NOTE_DRY_RUN,			/* valid: the first record */
	NOTE_DECLINE,			/* valid, the same run: the second record */
	NR_NOTES,
};

#endif
