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

#endif /* _BPF_OOM_PRELUDE_H */
