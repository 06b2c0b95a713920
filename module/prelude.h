/* SPDX-License-Identifier: GPL-2.0 */
/*
 * prelude.h - force-included first into every compilation unit by Kbuild.
 *
 * The log prefix: every message of the module starts with "bpf_oom: ".
 *
 * Complete types: module BTF must reuse vmlinux's types: a kfunc taking a struct
 * task_struct * only accepts the kernel's own task_struct. pahole dedups
 * module types against vmlinux only when every compilation unit sees the
 * same complete types. Two structs reached from task_struct are complete in
 * some units and only forward-declared in others (uts_namespace,
 * cgroup_namespace); that mix made the module BTF for 7.3 carry private
 * copies of task_struct and everything around it, and the verifier then
 * refused the kernel's task pointers ("expected pointer to STRUCT
 * task_struct but R2 has a pointer to STRUCT task_struct"). Debian's own
 * 7.3 modules show the same copies. Give every unit the complete types;
 * the test oom_module_btf_reuses_kernel_types checks the result. (On
 * Debian 7.3 that is not enough: see the README, Known limits.)
 */
#ifndef _BPF_OOM_PRELUDE_H
#define _BPF_OOM_PRELUDE_H

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cgroup.h>
#include <linux/utsname.h>

/*
 * Keep the module's .BTF_ids section 4-byte aligned. <linux/btf_ids.h>
 * emits each id as ".zero 4" with no alignment directive, so the section's
 * alignment is 1 and the module loader may place it at any byte (vmlinux's
 * linker script aligns its own copy; a module has none). x86 loads from a
 * misaligned address correctly. arm64 code reads a lone BTF_ID_LIST entry
 * with an "ldr wN, [xM, #:lo12:sym]" whose relocation
 * (R_AARCH64_LDST32_ABS_LO12_NC, arch/arm64/kernel/module.c) stores the
 * offset divided by 4: the low two bits are dropped and the load reads up to
 * three bytes before the id. On Debian's 6.12 arm64 kernel that turned the
 * bpf_oom_ops type id 59 into 59 << 8 and broke the per-ops kfunc filter.
 * One empty, aligned contribution per object file aligns the whole section;
 * every entry is a multiple of 4 bytes, so each id stays aligned.
 */
asm(".pushsection .BTF_ids,\"a\"\n\t.balign 4\n\t.popsection");

#endif /* _BPF_OOM_PRELUDE_H */
