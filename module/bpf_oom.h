/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bpf_oom.h - what the parts of the module tell each other. main.c only
 * sequences the init and exit functions declared here.
 */
#ifndef _BPF_OOM_H
#define _BPF_OOM_H

int bpf_oom_memcg_kfuncs_init(void);

#endif /* _BPF_OOM_H */
