/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bpf-oom.h - what bpf-oom.c (the commands) shares with service.c (the
 * `service` command): messages, policies opened, loaded and attached, and
 * the names of a decision record's fields.
 */
#ifndef BPF_OOM_CMD_H
#define BPF_OOM_CMD_H

#include <bpf/libbpf.h>
#include <stdbool.h>
#include <stdio.h>

#define CGROUP_ROOT "/sys/fs/cgroup"
#define MODULE_BTF "/sys/kernel/btf/bpf_oom"
#define POLICIES "/proc/bpf_oom/policies"
#define RECORDS "/proc/bpf_oom/records"
#define MAX_DEFS 16
#define SERVICE_CONFDIR "/etc/bpf-oom/policies.d"
#define SERVICE_JOURNAL "/run/systemd/journal/socket"

/* exit status */
enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_LOST = 3 };

extern bool verbose;
/*
 * How messages name a policy's options: "-D ", "-m", "-c" for attach;
 * "Set=", "Map=", "Cgroup=" for the service's configuration files.
 */
extern const char *knob_flag, *map_flag, *cgroup_flag;
/* Said before every message of fail() when set: the file a policy came from. */
extern const char *fail_context;

/* "bpf-oom: [CONTEXT: ]MESSAGE" on stderr; returns 1. */
__attribute__((format(printf, 1, 2)))
int fail(const char *fmt, ...);

/**
 * struct policy - one policy object, opened, loaded, attached
 * @obj_path: the .bpf.o
 * @cgid: the OOM half's target cgroup (0: system-wide)
 * @scope: "system-wide" or "cgroup PATH", for messages
 * @obj: the object (NULL once closed)
 * @oom: its bpf_oom_ops map, or NULL
 * @psi: its bpf_psi_ops map, or NULL
 * @l_oom: @oom's link once attached
 * @l_psi: @psi's link once attached
 */
struct policy {
	char obj_path[4096];
	unsigned long long cgid;
	char scope[4200];
	struct bpf_object *obj;
	struct bpf_map *oom, *psi;
	struct bpf_link *l_oom, *l_psi;
};

int policy_open(struct policy *p, const char *obj_path, const char *cgroup, const char *map_name,
		const char *const *defs, int nr_defs);
int policy_load(struct policy *p);
int policy_attach(struct policy *p);
void policy_close(struct policy *p);

/* The cgroup id of @path (absolute, or under CGROUP_ROOT); 0 with a message. */
unsigned long long cgroup_id_of(const char *path);
/* The path of cgroup @cgid under CGROUP_ROOT ("/" for the root), or NULL. */
const char *cgroup_path(unsigned long long cgid);
/* The .bpf.o for a policy name or path; NULL with a message. */
const char *resolve_policy(const char *arg, const char *dir_opt, char *buf, size_t len);

/* A decision record's fields by name (include/bpf_oom/record.h). */
const char *trigger_name(unsigned int t);
const char *action_name(unsigned int a);
const char *reason_name(unsigned int r);
const char *constraint_name(unsigned int c);

struct bpf_oom_record;
/* The record as one line of text on stdout (as bpf-oom events prints it). */
void print_record_text(const struct bpf_oom_record *r, long page_kb);

/* bpf-oom service: service.c */
int cmd_service(const char *confdir, const char *metrics, bool check);

#endif /* BPF_OOM_CMD_H */
