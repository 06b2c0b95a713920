/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - every kernel-version difference bpf-oom copes with, in one place.
 *
 * Tested by feature wherever the kernel lets us (a macro, or the kernel's own
 * BTF through generated/features.h), by version only where nothing else tells.
 * Each entry says which kernel changed what, so it can be dropped once the
 * oldest supported kernel (6.12) has moved past it.
 */
#ifndef _BPF_OOM_COMPAT_H
#define _BPF_OOM_COMPAT_H

#include <linux/btf.h>
#include <linux/version.h>


/*
 * generated/features.h is written at build time by scripts/kernel-features.sh
 * from the BTF of the kernel being built for (the headers' vmlinux). It
 * defines BPF_OOM_KERNEL_HAS_<kfunc> to 1 for every kfunc that kernel
 * already provides, 0 otherwise.
 */
#include "generated/features.h"

/* 6.9: module-defined struct_ops; 6.12 is the oldest stock LTS we support. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0)
#error "bpf-oom needs Linux 6.12 or later"
#endif

/*
 * arm64 has no HAVE_STATIC_CALL: a static call there is the generic one, an
 * indirect call (blr) through the key. On a kernel with branch target
 * identification (ARM64_BTI_KERNEL, which only clang-built kernels can
 * enable, not Debian's GCC-built ones) a blr into a static function the
 * kernel only calls directly, which has no BTI landing pad, faults. Such a
 * kernel is refused rather than trusted untested.
 */
#if defined(CONFIG_ARM64_BTI_KERNEL) && !defined(CONFIG_HAVE_STATIC_CALL)
#error "bpf-oom: arm64 kernels with CONFIG_ARM64_BTI_KERNEL are not supported: kernel functions it calls indirectly may lack BTI landing pads"
#endif

/*
 * KF_TRUSTED_ARGS: gone by 7.3, where every kfunc pointer argument is
 * trusted by default. Defining it to 0 there keeps one flag table.
 */
#ifndef KF_TRUSTED_ARGS
#define KF_TRUSTED_ARGS 0
#endif

/*
 * The cpuset test of constrained_alloc(): cpuset_node_allowed() in 6.12,
 * renamed cpuset_current_node_allowed() (same prototype) by 7.x, when the
 * old name was reused for a different function.
 */
#if BPF_OOM_KERNEL_HAS_cpuset_current_node_allowed
#define BPF_OOM_CPUSET_NODE_ALLOWED cpuset_current_node_allowed
#else
#define BPF_OOM_CPUSET_NODE_ALLOWED cpuset_node_allowed
#endif

/* 6.18 turned mm->flags into a bitmap reached through mm_flags_*() helpers. */
#ifdef NUM_MM_FLAG_BITS
#define bpf_oom_mm_flag_test(flag, mm) mm_flags_test(flag, mm)
#else
#define bpf_oom_mm_flag_test(flag, mm) test_bit(flag, &(mm)->flags)
#endif

/*
 * psi_trigger_create(): older kernels (6.12.107 among them) start the
 * group's RT poller ("psimon") for a privileged trigger themselves. Newer
 * ones (7.3, and 6.12.117 through a stable backport) only report the need
 * through an out-parameter @need_rtpoll_worker, and the caller starts the
 * poller with psi_trigger_create_rtpoll_worker() once it has dropped its
 * locks (kernel/sched/psi.c, psi_write()). Tested by that function's
 * presence in the kernel's BTF; the call itself is typed by <linux/psi.h>
 * (ksyms.h), so a wrong guess fails the build.
 */
#if BPF_OOM_KERNEL_HAS_psi_trigger_create_rtpoll_worker
#define BPF_OOM_PSI_RTPOLL_WORKER 1
#endif

#endif /* _BPF_OOM_COMPAT_H */
