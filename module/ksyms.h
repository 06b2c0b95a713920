/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ksyms.h - resolving and calling kernel symbols the kernel does not export.
 *
 * Functions are called only through static calls: the kernel patches every
 * static_call() site of the module into a direct call to the resolved
 * address. An indirect call through a plain function pointer would fault on
 * CPUs with IBT, because Debian's kernels seal the ENDBR of every function
 * whose address the kernel itself never takes (environment.md: 6.12's
 * out_of_memory starts with a NOP where the ENDBR was). Data is read through
 * resolved pointers, which IBT does not police.
 *
 * arm64 (no HAVE_STATIC_CALL): the generic static call is an indirect call
 * through the key. Debian's arm64 kernels have no BTI in the kernel itself
 * (ARM64_BTI_KERNEL needs clang), so nothing polices it; compat.h refuses a
 * kernel that has it.
 */
#ifndef _BPF_OOM_KSYMS_H
#define _BPF_OOM_KSYMS_H

#include <linux/static_call.h>
#include <linux/stringify.h>
#include <linux/types.h>

/**
 * struct bpf_oom_ksym - one kernel symbol the module needs
 * @name: exact symbol name (a .isra/.constprop clone is never accepted: its
 *        calling convention may differ from the prototype we call it with)
 * @data: for a data symbol, where to store its address; else NULL
 * @key:  for a function, the static call that will call it; else NULL
 * @tramp: the static call's trampoline (STATIC_CALL_TRAMP_ADDR)
 */
struct bpf_oom_ksym {
	const char *name;
	void **data;
	struct static_call_key *key;
	void *tramp;
};

/* A data symbol: @ptr receives its address. @sym may be a macro. */
#define BPF_OOM_KSYM_DATA(sym, ptr) \
	{ .name = __stringify(sym), .data = (void **)&(ptr) }

/*
 * The static call @call for the kernel function @sym, typed by the kernel's
 * own declaration of @sym (its header): every static_call(@call)(...) is
 * checked against it at build time, so a kernel that changes the prototype
 * fails the build instead of being called wrongly. No reference to @sym is
 * emitted (typeof). It must not be called before bpf_oom_ksyms_resolve()
 * has set it (a NULL static call's sites are NOPs, which return garbage for
 * a non-void function): every table is resolved before the hook, kfunc or
 * struct_ops that uses it is registered, and module init fails if @sym is
 * missing.
 * For a static kernel function (no header), define a stub with the
 * prototype copied from its source and DEFINE_STATIC_CALL() instead, and
 * add it to scripts/kernel-features.sh's BTF check.
 */
#define BPF_OOM_DEFINE_KSYM_CALL(call, sym) DEFINE_STATIC_CALL_NULL(call, sym)

/* A function, called through static call @call. */
#define BPF_OOM_KSYM_CALL(sym, call) \
	{ .name = __stringify(sym), .key = &STATIC_CALL_KEY(call), \
	  .tramp = STATIC_CALL_TRAMP_ADDR(call) }

int bpf_oom_ksyms_init(void);
unsigned long bpf_oom_ksym_lookup(const char *name);
bool bpf_oom_ksym_in_vmlinux(const char *name);
int bpf_oom_ksyms_resolve(const struct bpf_oom_ksym *syms, size_t count);
struct proc_dir_entry;
int bpf_oom_ksyms_proc_init(struct proc_dir_entry *procdir);

#endif /* _BPF_OOM_KSYMS_H */
