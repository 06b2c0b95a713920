/* SPDX-License-Identifier: GPL-2.0 */
/*
 * psi_args.h - the argument cases psi_policies.bpf.c's "args" ops tries,
 * shared with tests/psi_ops.c, which checks each result (arg_ret[]).
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

#endif
