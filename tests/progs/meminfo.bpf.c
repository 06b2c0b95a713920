// SPDX-License-Identifier: GPL-2.0
/*
 * meminfo.bpf.c - include/bpf_oom/policy.h's view of system memory, read in
 * a syscall program for the test to compare with /proc/meminfo.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf_oom/kfuncs.h>
#include <bpf_oom/policy.h>

char _license[] SEC("license") = "GPL";

long mem_available, mem_total, swap_free, swap_total;
unsigned long wmark_low;

SEC("syscall")
int read_meminfo(void *ctx)
{
	wmark_low = bpf_oom__wmark_low();
	mem_available = bpf_oom_mem_available();
	mem_total = bpf_oom_mem_total();
	swap_free = bpf_oom_swap_free();
	swap_total = bpf_oom_swap_total();
	return 0;
}
