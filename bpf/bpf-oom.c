// SPDX-License-Identifier: GPL-2.0
/*
 * bpf-oom - attach, detach and watch BPF OOM and PSI policies of the
 * bpf_oom module (bpf-oom(8) is the manual).
 *
 *   bpf-oom attach [-c CGROUP] [-m MAP] [-D NAME=VALUE]... [-p PINDIR] [-P DIR] [-v] POLICY
 *   bpf-oom detach (-c CGROUP | -s | -m PSIMAP) [-p PINDIR]
 *   bpf-oom list [-j] [-a [-P DIR]]
 *   bpf-oom status [-j] [-p PINDIR]
 *   bpf-oom events [-j] [-n COUNT]
 *   bpf-oom service [-C CONFDIR] [-M METRICS_FILE] [--check] [-v]   (service.c)
 *   bpf-oom help [COMMAND] | --help | --version
 *
 * POLICY is a path to a .bpf.o (it contains '/' or ends in ".o"), or the
 * name of one in the policy directory: DIR/POLICY.bpf.o, where DIR is -P,
 * else $BPF_OOM_POLICY_DIR, else the directory `make install` put the
 * sample policies in (BPF_OOM_POLICYDIR, /usr/lib/bpf-oom/policies).
 *
 * The object holds a bpf_oom_ops policy (attached system-wide, or to
 * CGROUP), a bpf_psi_ops policy (attached as such: its triggers say what it
 * watches; pinned as "psi-<MAP>"), or one of each: a policy with two halves
 * (lmkd_like, earlyoom_like: the PSI side declares system-wide OOMs that
 * its OOM side decides), attached both or neither, system-wide only, and
 * detached with detach -s and detach -m PSIMAP. -D sets a read-only global
 * of the policy (its knobs) before load: an integer that fits it, a cgroup
 * path (the cgroup's id), a string for a char array, a comma-separated list
 * for an array.
 *
 * Upstream attaches a bpf_oom_ops to a cgroup through the cgroup fd of
 * link_create, which stock kernels drop for struct_ops (bpf-oom refuses
 * such a link_create with -EOPNOTSUPP rather than attaching system-wide);
 * bpf-oom reads the target from the ops' cgroup_id member instead, and
 * attach -c sets it before load. Attaching needs CAP_SYS_ADMIN. The link is
 * pinned (PINDIR, default /sys/fs/bpf/bpf-oom, as "system" or
 * "cgroup-<id>"), so the policy outlives the command; detach removes the
 * pin, which drops the link and detaches the policy at once.
 *
 * list and status read the module's /proc/bpf_oom files (policies, psi,
 * records, victims; their layouts are the seq_printf()s of module/); with
 * -j each prints one JSON document.
 *
 * events follows the decision records of every attached policy (the
 * module's tracepoint bpf_oom:bpf_oom_decision, copied into a BPF ring
 * buffer by tool/events.bpf.c): one line per record, or one JSON object per
 * line with -j; -n stops after COUNT records; SIGINT and SIGTERM stop it
 * cleanly. Records the ring buffer had no room for are counted and reported.
 *
 * service attaches the policies of a configuration directory and holds them
 * (bpf-oom.service runs it): service.c, which shares policy_open(),
 * policy_load() and policy_attach() with attach (bpf-oom.h).
 *
 * Exit status: 0 success; 1 the operation failed (the message says why and
 * what to do); 2 usage error; 3 events lost records.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <bpf_oom/record.h>
#include "bpf-oom-events.skel.h"
#include "bpf-oom.h"

/* Set by the Makefiles: the package version (dkms.conf) and `make install`'s policy directory. */
#ifndef BPF_OOM_VERSION
#define BPF_OOM_VERSION "unknown"
#endif
#ifndef BPF_OOM_POLICYDIR
#define BPF_OOM_POLICYDIR "/usr/lib/bpf-oom/policies"
#endif

#define CGROUP2_SUPER_MAGIC 0x63677270
#define MODULE_SYSFS "/sys/module/bpf_oom"
#define PSI_TRIGGERS "/proc/bpf_oom/psi"
#define VICTIMS "/proc/bpf_oom/victims"
#define PIN_DIR "/sys/fs/bpf/bpf-oom"

bool verbose;
const char *knob_flag = "-D ", *map_flag = "-m", *cgroup_flag = "-c";
const char *fail_context;
/* The verifier refused a kernel task pointer to a module kfunc (see below). */
static bool task_type_mismatch;

int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("bpf-oom: ", stderr);
	if (fail_context)
		fprintf(stderr, "%s: ", fail_context);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* libbpf speaks only with -v; the verifier's log is read for one known case. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char *msg = NULL;
	va_list copy;
	int n;

	va_copy(copy, ap);
	n = vasprintf(&msg, fmt, copy);
	va_end(copy);
	if (n > 0 && strstr(msg, "expected pointer to STRUCT task_struct but"))
		task_type_mismatch = true;
	if (n > 0 && verbose && (level != LIBBPF_DEBUG || getenv("LIBBPF_DEBUG")))
		fputs(msg, stderr);
	free(msg);
	return n;
}

/* ---- commands, usage and help ------------------------------------------ */

struct command {
	const char *name;
	const char *synopsis;	/* after "usage: bpf-oom " */
	const char *summary;	/* one line, for bpf-oom --help */
	const char *help;	/* what COMMAND --help adds: description and options */
	int (*run)(const struct command *cmd, int argc, char **argv);
};

static int run_attach(const struct command *cmd, int argc, char **argv);
static int run_detach(const struct command *cmd, int argc, char **argv);
static int run_list(const struct command *cmd, int argc, char **argv);
static int run_status(const struct command *cmd, int argc, char **argv);
static int run_events(const struct command *cmd, int argc, char **argv);
static int run_service(const struct command *cmd, int argc, char **argv);

static const struct command commands[] = {
	{ "attach", "attach [-c CGROUP] [-m MAP] [-D NAME=VALUE]... [-p PINDIR] [-P DIR] [-v] POLICY",
	  "attach a policy, system-wide or to a cgroup",
	  "Attach a BPF policy: its bpf_oom_ops system-wide or to CGROUP, its bpf_psi_ops\n"
	  "(whose triggers say what it watches), or both halves of a two-half policy\n"
	  "(system-wide only; both or neither). The link is pinned under PINDIR, so the\n"
	  "policy stays attached after the command exits. POLICY is a path to a .bpf.o\n"
	  "(it contains '/' or ends in .o) or the name of one in the policy directory\n"
	  "(DIR/POLICY.bpf.o). Needs root (CAP_SYS_ADMIN, CAP_BPF, CAP_PERFMON).\n"
	  "\n"
	  "  -c, --cgroup CGROUP      attach the OOM policy to this cgroup v2 (a path,\n"
	  "                           absolute or under " CGROUP_ROOT "); default: system-wide\n"
	  "  -m, --map MAP            the struct_ops map to attach, if the object has several\n"
	  "  -D, --define NAME=VALUE  set a knob (a const volatile global) before load: an\n"
	  "                           integer (it must fit), a cgroup path (its id), a string,\n"
	  "                           or a comma-separated list for an array (up to 16 -D)\n"
	  "  -p, --pin-dir PINDIR     where the links are pinned (default " PIN_DIR ")\n"
	  "  -P, --policy-dir DIR     where POLICY names are looked up (default\n"
	  "                           $BPF_OOM_POLICY_DIR, else " BPF_OOM_POLICYDIR ")\n"
	  "  -v, --verbose            libbpf's messages, with the verifier's log\n"
	  "  -h, --help               this help\n",
	  run_attach },
	{ "detach", "detach (-c CGROUP | -s | -m PSIMAP) [-p PINDIR]",
	  "detach a policy",
	  "Detach a policy attached by bpf-oom attach: remove its pinned link, which\n"
	  "detaches it at once.\n"
	  "\n"
	  "  -c, --cgroup CGROUP   the OOM policy attached to CGROUP\n"
	  "  -s, --system          the system-wide OOM policy (the PSI half of a two-half\n"
	  "                        policy stays attached: detach it with -m; it is named)\n"
	  "  -m, --map PSIMAP      the PSI policy whose struct_ops map is PSIMAP\n"
	  "  -p, --pin-dir PINDIR  where the links are pinned (default " PIN_DIR ")\n"
	  "  -h, --help            this help\n",
	  run_detach },
	{ "list", "list [-j] [-a [-P DIR]]",
	  "list the attached policies (-a: the installed ones)",
	  "List the attached OOM policies (where, since when, how often invoked and how\n"
	  "often they resolved the OOM), the decision-record counters, and the PSI\n"
	  "triggers of the attached PSI policies with their event counts. With -a, the\n"
	  "policies installed in the policy directory instead: name, halves (oom, psi)\n"
	  "and knobs. Reading the attached policies needs root.\n"
	  "\n"
	  "  -j, --json             one JSON document\n"
	  "  -a, --available        the installed policies\n"
	  "  -P, --policy-dir DIR   the policy directory for -a (default\n"
	  "                         $BPF_OOM_POLICY_DIR, else " BPF_OOM_POLICYDIR ")\n"
	  "  -h, --help             this help\n",
	  run_list },
	{ "status", "status [-j] [-p PINDIR]",
	  "the module, the kernel, the policies and the counters",
	  "Whether the bpf_oom module is loaded and its version, the running kernel, the\n"
	  "attached OOM policies and PSI triggers, the decision-record counters, the\n"
	  "OOM victim counters, and the links pinned under PINDIR. Exits 1 if the module\n"
	  "is not loaded (after saying so) or a counter cannot be read. Needs root.\n"
	  "\n"
	  "  -j, --json            one JSON document\n"
	  "  -p, --pin-dir PINDIR  where bpf-oom attach pins links (default " PIN_DIR ")\n"
	  "  -h, --help            this help\n",
	  run_status },
	{ "events", "events [-j] [-n COUNT]",
	  "follow the policies' decision records",
	  "Follow the decision records of every attached policy (the tracepoint\n"
	  "bpf_oom:bpf_oom_decision): one line per record, until SIGINT or SIGTERM.\n"
	  "Records lost because the ring buffer was full are reported as they happen\n"
	  "and at exit, and make the exit status 3.\n"
	  "\n"
	  "  -j, --json         one JSON object per line\n"
	  "  -n, --count COUNT  stop after COUNT records\n"
	  "  -h, --help         this help\n",
	  run_events },
	{ "service", "service [-C CONFDIR] [-M METRICS_FILE] [--check] [-v]",
	  "attach the configured policies and watch them (bpf-oom.service)",
	  "Attach every policy configured in CONFDIR (*.conf, bpf-oom.conf(5)) and hold\n"
	  "them attached until SIGTERM or SIGINT, which detach them all. Everything is\n"
	  "loaded before anything is attached; if one policy fails, none stays attached\n"
	  "and the exit status is 1. SIGHUP reloads the configuration without a window\n"
	  "(a failed reload keeps the running policies). Decision records go to the\n"
	  "journal as structured fields (POLICY=, ACTION=, VICTIM_PID=, ...), through\n"
	  "$BPF_OOM_JOURNAL_SOCKET, else " SERVICE_JOURNAL ";\n"
	  "without a journal, one line each on standard output. Speaks systemd's\n"
	  "notification protocol ($NOTIFY_SOCKET). See bpf-oom.conf(5).\n"
	  "\n"
	  "  -C, --config-dir CONFDIR    the configuration (default " SERVICE_CONFDIR ")\n"
	  "  -M, --metrics METRICS_FILE  keep Prometheus text-format metrics in this file\n"
	  "                              (written if its directory exists)\n"
	  "      --check                 parse and load every policy, attach nothing\n"
	  "  -v, --verbose               libbpf's messages, with the verifier's log\n"
	  "  -h, --help                  this help\n",
	  run_service },
};

#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NR_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void print_usage_lines(FILE *f)
{
	size_t i;

	for (i = 0; i < NR_COMMANDS; i++)
		fprintf(f, "%s bpf-oom %s\n", i ? "      " : "usage:", commands[i].synopsis);
	fprintf(f, "       bpf-oom help [COMMAND] | --help | --version\n");
}

static int help_top(void)
{
	size_t i;

	print_usage_lines(stdout);
	printf("\nAttach, detach and watch BPF OOM and PSI policies of the bpf_oom module.\n\n"
	       "Commands:\n");
	for (i = 0; i < NR_COMMANDS; i++)
		printf("  %-8s %s\n", commands[i].name, commands[i].summary);
	printf("  %-8s %s\n", "help", "a command's usage and options (also: bpf-oom COMMAND --help)");
	printf("\nExit status: 0 success, 1 the operation failed, 2 usage error,\n"
	       "3 events lost records. See bpf-oom(8).\n");
	return EXIT_OK;
}

static int help_command(const struct command *cmd)
{
	printf("usage: bpf-oom %s\n\n%s", cmd->synopsis, cmd->help);
	return EXIT_OK;
}

/* A usage error of @cmd (NULL: of bpf-oom itself): what, the usage, exit 2. */
__attribute__((format(printf, 2, 3)))
static int usage_error(const struct command *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bpf-oom%s%s: ", cmd ? " " : "", cmd ? cmd->name : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cmd)
		fprintf(stderr, "usage: bpf-oom %s\nTry 'bpf-oom %s --help'.\n", cmd->synopsis,
			cmd->name);
	else
		fprintf(stderr, "Try 'bpf-oom --help'.\n");
	return EXIT_USAGE;
}

/*
 * The option getopt_long() refused: unknown, or missing its argument
 * (optstrings start with ':'), as a usage error.
 */
static int bad_option(const struct command *cmd, int opt, char **argv)
{
	const char *arg = argv[optind - 1];
	char shortopt[3] = { '-', (char)optopt, 0 };

	if (opt == ':')
		return usage_error(cmd, "option '%s' needs an argument",
				   strncmp(arg, "--", 2) ? shortopt : arg);
	if (optopt)
		return usage_error(cmd, "unknown option '-%c'", optopt);
	return usage_error(cmd, "unknown option '%s'", arg);
}

/* ---- attach and detach ---------------------------------------------------- */

/* The cgroup id (the cgroupfs inode) of @path; 0 with a message on error. */
unsigned long long cgroup_id_of(const char *path)
{
	char full[4096];
	struct statfs sfs;
	struct stat st;

	if (path[0] == '/' && strncmp(path, CGROUP_ROOT, strlen(CGROUP_ROOT)))
		snprintf(full, sizeof(full), "%s%s", CGROUP_ROOT, path);
	else if (path[0] != '/')
		snprintf(full, sizeof(full), "%s/%s", CGROUP_ROOT, path);
	else
		snprintf(full, sizeof(full), "%s", path);
	if (stat(full, &st) || statfs(full, &sfs)) {
		fail("cgroup %s: %s", full, strerror(errno));
		return 0;
	}
	if (sfs.f_type != CGROUP2_SUPER_MAGIC || !S_ISDIR(st.st_mode)) {
		fail("%s is not a cgroup v2 directory", full);
		return 0;
	}
	return st.st_ino;
}

static void pin_path(char *buf, size_t len, const char *dir, unsigned long long cgid,
		     const char *psi_map)
{
	if (psi_map)
		snprintf(buf, len, "%s/psi-%s", dir, psi_map);
	else if (cgid)
		snprintf(buf, len, "%s/cgroup-%llu", dir, cgid);
	else
		snprintf(buf, len, "%s/system", dir);
}

/* Byte offset of member @name in the struct type @id, or -1. */
static int member_offset(const struct btf *btf, int id, const char *name)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	const struct btf_member *m;
	int i;

	if (!t || !btf_is_struct(t))
		return -1;
	for (i = 0, m = btf_members(t); i < btf_vlen(t); i++, m++)
		if (!strcmp(btf__name_by_offset(btf, m->name_off), name))
			return btf_member_bit_offset(t, i) / 8;
	return -1;
}

/* Whether @t is char[N] (a string knob) or char[M][N] (a list of them). */
static bool is_string_array(const struct btf *btf, const struct btf_type *t)
{
	const struct btf_type *e;

	while (btf_is_array(t)) {
		e = btf__type_by_id(btf, btf__resolve_type(btf, btf_array(t)->type));
		if (!e)
			return false;
		if (btf_is_int(e))	/* char, not u8/s8/bool */
			return e->size == 1 && !strcmp(btf__name_by_offset(btf, e->name_off), "char");
		t = e;
	}
	return false;
}

/*
 * A string knob: char[N] takes one string, char[M][N] a comma-separated
 * list of up to M; each must leave room for its NUL. 0, or 1 with a message.
 */
static int set_strings(const char *name, const char *value, const struct btf *btf,
		       const struct btf_type *t, char *dst, size_t size)
{
	const struct btf_type *e = btf__type_by_id(btf, btf__resolve_type(btf, btf_array(t)->type));
	size_t n = btf_array(t)->nelems, len = size, count = 1, i = 0;
	bool list = btf_is_array(e);	/* char[M][N] */
	const char *p = value;

	if (list) {
		count = n;
		len = btf_array(e)->nelems;
	}
	if (!len || len * count > size)
		return fail("%s%s: unexpected layout", knob_flag, name);
	memset(dst, 0, size);
	while (*p) {
		const char *end = list ? strchrnul(p, ',') : p + strlen(p);

		if (i == count)
			return fail("%s%s: at most %zu values", knob_flag, name, count);
		if ((size_t)(end - p) >= len)
			return fail("%s%s: '%.*s' is longer than %zu characters", knob_flag, name,
				    (int)(end - p), p, len - 1);
		memcpy(dst + i++ * len, p, end - p);
		p = *end ? end + 1 : end;
	}
	return 0;
}

/*
 * One knob value for an integer of @size bytes: a number that fits it
 * (signed or unsigned), or a cgroup path (its id). 0, or 1 with a message.
 */
static int knob_value(const char *name, const char *s, size_t size, unsigned long long *v)
{
	char *end;

	if (s[0] == '/' || strchr(s, '/')) {
		*v = cgroup_id_of(s);
		return *v ? 0 : 1;
	}
	errno = 0;
	if (s[0] == '-') {
		long long x = strtoll(s, &end, 0);

		*v = x;
		if (!errno && size < 8 && x < -(1LL << (size * 8 - 1)))
			errno = ERANGE;
	} else {
		*v = strtoull(s, &end, 0);
		if (!errno && size < 8 && *v >> (size * 8))
			errno = ERANGE;
	}
	if (errno == ERANGE)
		return fail("%s%s: %s does not fit in its %zu byte(s)", knob_flag, name, s, size);
	if (errno || end == s || *end)
		return fail("%s%s: %s is not a number or a cgroup path", knob_flag, name, s);
	return 0;
}

/*
 * -D NAME=VALUE: write VALUE into the read-only global NAME (in .rodata,
 * before load). An array of integers takes a comma-separated list (the
 * rest stays 0). Returns 0, or 1 with a message.
 */
static int set_knob(struct bpf_object *obj, const char *def)
{
	const struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec, *var, *t;
	const char *eq = strchr(def, '=');
	unsigned long long v;
	struct bpf_map *rodata;
	char name[128];
	size_t size;
	char *data;
	int i;

	if (!eq || eq == def || (size_t)(eq - def) >= sizeof(name))
		return fail("%s%s: expected NAME=VALUE", knob_flag, def);
	snprintf(name, sizeof(name), "%.*s", (int)(eq - def), def);
	rodata = bpf_object__find_map_by_name(obj, ".rodata");
	data = rodata ? bpf_map__initial_value(rodata, &size) : NULL;
	sec = data && btf ? btf__type_by_id(btf, bpf_map__btf_value_type_id(rodata)) : NULL;
	if (!sec || !btf_is_datasec(sec))
		return fail("%s%s: the policy has no read-only globals", knob_flag, name);
	for (i = 0, vs = btf_var_secinfos(sec); i < btf_vlen(sec); i++, vs++) {
		var = btf__type_by_id(btf, vs->type);
		if (strcmp(btf__name_by_offset(btf, var->name_off), name))
			continue;
		if (vs->offset + vs->size > size)
			return fail("%s%s: unexpected layout", knob_flag, name);
		t = btf__type_by_id(btf, btf__resolve_type(btf, var->type));
		if (t && btf_is_array(t) && is_string_array(btf, t))
			return set_strings(name, eq + 1, btf, t, data + vs->offset, vs->size);
		if (t && btf_is_array(t)) {
			const struct btf_array *a = btf_array(t);
			long esz = btf__resolve_size(btf, a->type);
			char list[1024], *tok, *save;
			unsigned int n = 0;

			if (esz <= 0 || esz > (long)sizeof(v) || vs->offset + vs->size > size)
				return fail("%s%s: not an array of integers", knob_flag, name);
			snprintf(list, sizeof(list), "%s", eq + 1);
			memset(data + vs->offset, 0, vs->size);
			for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				if (n == a->nelems)
					return fail("%s%s: at most %u values", knob_flag, name, a->nelems);
				if (knob_value(name, tok, esz, &v))
					return 1;
				memcpy(data + vs->offset + n++ * esz, &v, esz);
			}
			return 0;
		}
		if (vs->size > sizeof(v) || vs->offset + vs->size > size)
			return fail("%s%s: not an integer variable", knob_flag, name);
		if (knob_value(name, eq + 1, vs->size, &v))
			return 1;
		/* little-endian: the low bytes hold the value */
		memcpy(data + vs->offset, &v, vs->size);
		return 0;
	}
	return fail("%s%s: the policy has no read-only global of that name", knob_flag, name);
}

static bool is_ops_type(const struct btf *btf, const struct bpf_map *map, const char *type)
{
	const struct btf_type *t = btf__type_by_id(btf, bpf_map__btf_value_type_id(map));

	return t && !strcmp(btf__name_by_offset(btf, t->name_off), type);
}

/* Attach one half of @p; the link, or NULL with a message. */
static struct bpf_link *attach_half(const struct policy *p, struct bpf_map *map, bool psi)
{
	struct bpf_link *link = bpf_map__attach_struct_ops(map);
	int err;

	if (link)
		return link;
	err = errno;
	if (err == EBUSY && !psi)
		fail("%s already has a bpf_oom_ops policy attached: detach it first (%s)", p->scope,
		     strerror(err));
	else if (err == ENOENT && !psi)
		fail("attaching to %s: the cgroup is gone", p->scope);
	else if (psi)
		fail("attaching %s: its init failed: %s (the kernel log says why)", bpf_map__name(map),
		     strerror(err));
	else if (err == EPERM)
		fail("attaching: permission denied (run as root)");
	else
		fail("attaching to %s: %s (the kernel log says why)", p->scope, strerror(err));
	errno = err;
	return NULL;
}

/*
 * The struct_ops map of type @kind that -m names, or the only one; NULL if
 * none (*@nr: how many there are).
 */
static struct bpf_map *find_ops(struct bpf_object *obj, const char *kind, const char *map_name,
				int *nr)
{
	struct bpf_map *map, *found = NULL;

	*nr = 0;
	bpf_object__for_each_map(map, obj) {
		if (bpf_map__type(map) != BPF_MAP_TYPE_STRUCT_OPS ||
		    !is_ops_type(bpf_object__btf(obj), map, kind) ||
		    (map_name && strcmp(bpf_map__name(map), map_name)))
			continue;
		if (!(*nr)++)
			found = map;
	}
	return found;
}

/*
 * Open @obj_path as the policy @p: its struct_ops maps (a bpf_oom_ops, a
 * bpf_psi_ops, or one of each), the knobs @defs set, the OOM half's target
 * (@cgroup, NULL: system-wide). Nothing is loaded yet. 0, or 1 with a
 * message (then @p holds nothing).
 */
int policy_open(struct policy *p, const char *obj_path, const char *cgroup, const char *map_name,
		const char *const *defs, int nr_defs)
{
	struct bpf_map *map;
	int off, nr_oom, nr_psi, i;
	size_t size;
	void *data;

	memset(p, 0, sizeof(*p));
	snprintf(p->obj_path, sizeof(p->obj_path), "%s", obj_path);
	if (access(MODULE_BTF, F_OK))
		return fail("the bpf_oom module is not loaded (%s missing): modprobe bpf_oom",
			    MODULE_BTF);
	if (cgroup) {
		p->cgid = cgroup_id_of(cgroup);
		if (!p->cgid)
			return 1;
		snprintf(p->scope, sizeof(p->scope), "cgroup %s", cgroup);
	} else {
		snprintf(p->scope, sizeof(p->scope), "system-wide");
	}

	p->obj = bpf_object__open_file(obj_path, NULL);
	if (!p->obj) {
		p->obj = NULL;
		return fail("cannot open %s: %s", obj_path, strerror(errno));
	}

	/* the policy: the maps -m names, or the object's one of each kind */
	p->oom = find_ops(p->obj, "bpf_oom_ops", map_name, &nr_oom);
	p->psi = find_ops(p->obj, "bpf_psi_ops", map_name, &nr_psi);
	if (!p->oom && !p->psi) {
		fail("%s has no bpf_oom_ops or bpf_psi_ops map%s%s", obj_path,
		     map_name ? " named " : "", map_name ?: "");
		goto err;
	}
	if (nr_oom > 1 || nr_psi > 1) {
		fail("%s has %d %s maps: choose one with %s", obj_path, nr_oom > 1 ? nr_oom : nr_psi,
		     nr_oom > 1 ? "bpf_oom_ops" : "bpf_psi_ops", map_flag);
		goto err;
	}
	bpf_object__for_each_map(map, p->obj)
		if (bpf_map__type(map) == BPF_MAP_TYPE_STRUCT_OPS && map != p->oom && map != p->psi)
			bpf_map__set_autocreate(map, false);
	if (p->psi && !p->oom && p->cgid) {
		fail("%s is a bpf_psi_ops policy: it is not attached to a cgroup, its triggers say which cgroups it watches (see its knobs, %s)",
		     bpf_map__name(p->psi), knob_flag);
		goto err;
	}
	if (p->psi && p->oom && p->cgid) {
		fail("%s declares system-wide OOMs from its PSI side, which only a system-wide OOM side sees: attach it without %s",
		     obj_path, cgroup_flag);
		goto err;
	}
	if (map_name) {
		int all_oom, all_psi;

		/*
		 * One half of a two-half policy alone: a PSI side whose
		 * declared OOMs go to the kernel, or an OOM side without its
		 * clock. Refused.
		 */
		find_ops(p->obj, "bpf_oom_ops", NULL, &all_oom);
		find_ops(p->obj, "bpf_psi_ops", NULL, &all_psi);
		if (all_oom == 1 && all_psi == 1) {
			fail("%s is one half of a policy with a bpf_oom_ops and a bpf_psi_ops side: attach %s without %s, which attaches both",
			     map_name, obj_path, map_flag);
			goto err;
		}
	}
	for (i = 0; i < nr_defs; i++)
		if (set_knob(p->obj, defs[i]))
			goto err;

	/* set the target cgroup (of the OOM side) */
	if (p->oom && p->cgid) {
		off = member_offset(bpf_object__btf(p->obj), bpf_map__btf_value_type_id(p->oom),
				    "cgroup_id");
		data = bpf_map__initial_value(p->oom, &size);
		if (off < 0 || !data || off + sizeof(__u64) > size) {
			fail("%s: its bpf_oom_ops has no cgroup_id member (built against another bpf_oom_ops type?); rebuild it against bpf-oom's vmlinux.h to attach it to a cgroup",
			     obj_path);
			goto err;
		}
		memcpy((char *)data + off, &p->cgid, sizeof(p->cgid));
	}
	return 0;
err:
	policy_close(p);
	return 1;
}

/* Load @p (the verifier checks its programs). 0, or 1 with a message. */
int policy_load(struct policy *p)
{
	int err = bpf_object__load(p->obj);

	if (!err)
		return 0;
	if (err == -EPERM)
		fail("loading %s: permission denied: BPF OOM policies need CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN (run as root)",
		     p->obj_path);
	else if (task_type_mismatch)
		fail("loading %s: the verifier refused a task pointer to a bpf-oom kfunc: the bpf_oom module was built with private copies of struct task_struct in its BTF (built without scripts/pahole-dedup.sh? README, Known limits)",
		     p->obj_path);
	else
		fail("loading %s: %s (run with -v for the verifier log)", p->obj_path,
		     strerror(-err));
	return 1;
}

/*
 * Attach both halves of the loaded policy @p, or neither: the OOM side
 * first, since the PSI side may declare OOMs from its init on. 0, or 1
 * with a message (and errno set).
 */
int policy_attach(struct policy *p)
{
	int err;

	if (p->oom) {
		p->l_oom = attach_half(p, p->oom, false);
		if (!p->l_oom)
			return 1;
	}
	if (p->psi) {
		p->l_psi = attach_half(p, p->psi, true);
		if (!p->l_psi) {
			err = errno;
			if (p->l_oom)
				fprintf(stderr, "bpf-oom: detached %s again: the policy's PSI side did not attach\n",
					bpf_map__name(p->oom));
			bpf_link__destroy(p->l_oom);
			p->l_oom = NULL;
			errno = err;
			return 1;
		}
	}
	return 0;
}

/* Drop @p's links (which detaches what no pin holds) and its object. */
void policy_close(struct policy *p)
{
	bpf_link__destroy(p->l_psi);
	bpf_link__destroy(p->l_oom);
	bpf_object__close(p->obj);
	p->l_psi = p->l_oom = NULL;
	p->obj = NULL;
	p->oom = p->psi = NULL;
}

/* Pin @link of @p's half @map; 0, or 1 with a message. */
static int pin_half(const struct policy *p, struct bpf_link *link, struct bpf_map *map, bool psi,
		    const char *pindir, char *pin, size_t pin_len)
{
	int err;

	if (mkdir(pindir, 0700) && errno != EEXIST)
		return fail("cannot create %s: %s (is bpffs mounted at /sys/fs/bpf?)", pindir,
			    strerror(errno));
	pin_path(pin, pin_len, pindir, p->cgid, psi ? bpf_map__name(map) : NULL);
	err = bpf_link__pin(link, pin);
	if (err)
		return fail("cannot pin the link at %s: %s", pin, strerror(-err));
	if (psi)
		printf("attached bpf_psi_ops %s (%s), pinned at %s\n", bpf_map__name(map),
		       p->obj_path, pin);
	else
		printf("attached %s (%s) to %s, pinned at %s\n", bpf_map__name(map), p->obj_path,
		       p->scope, pin);
	return 0;
}

/*
 * attach: a bpf_oom_ops policy, a bpf_psi_ops one, or a policy with both
 * halves (a PSI side that declares OOMs and an OOM side that chooses: both
 * are attached, or neither), pinned so that they outlive the command.
 */
static int cmd_attach(const char *obj_path, const char *cgroup, const char *map_name,
		      const char *pindir, const char *const *defs, int nr_defs)
{
	char pin_oom[4096] = "", pin_psi[4096];
	struct policy p;
	int ret = 1;

	if (policy_open(&p, obj_path, cgroup, map_name, defs, nr_defs))
		return 1;
	if (policy_load(&p) || policy_attach(&p))
		goto out;
	if (p.l_oom && pin_half(&p, p.l_oom, p.oom, false, pindir, pin_oom, sizeof(pin_oom)))
		goto out;
	if (p.l_psi && pin_half(&p, p.l_psi, p.psi, true, pindir, pin_psi, sizeof(pin_psi))) {
		if (p.l_oom && unlink(pin_oom))
			fprintf(stderr, "bpf-oom: the PSI side was not pinned, and %s stays attached: cannot remove %s: %s\n",
				bpf_map__name(p.oom), pin_oom, strerror(errno));
		else if (p.l_oom)
			fprintf(stderr, "bpf-oom: detached %s again: the policy's PSI side was not pinned\n",
				bpf_map__name(p.oom));
		goto out;
	}
	ret = 0;
out:
	policy_close(&p);	/* the pins keep what was pinned attached */
	return ret;
}

static int cmd_detach(const char *cgroup, bool system, const char *psi_map, const char *pindir)
{
	unsigned long long cgid = 0;
	char pin[4096];

	if (cgroup) {
		cgid = cgroup_id_of(cgroup);
		if (!cgid)
			return 1;
	}
	pin_path(pin, sizeof(pin), pindir, cgid, psi_map);
	if (unlink(pin))
		return fail("no policy pinned at %s: %s", pin, strerror(errno));
	printf("detached the policy pinned at %s\n", pin);
	/*
	 * A two-half policy (lmkd_like, earlyoom_like) is two pins: the PSI
	 * side's declared OOMs go to the kernel once its OOM side is gone.
	 */
	if (system) {
		DIR *dir = opendir(pindir);
		struct dirent *d;

		while (dir && (d = readdir(dir)))
			if (!strncmp(d->d_name, "psi-", 4))
				printf("note: a PSI policy stays attached: %s (detach -m %s)\n", d->d_name,
				       d->d_name + 4);
		if (dir)
			closedir(dir);
	}
	return 0;
}

/* ---- JSON ---------------------------------------------------------------- */

/* The length of the valid UTF-8 sequence at @s (at most @left bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
	size_t n, i;
	unsigned int cp;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
	if (n > left)
		return 0;
	cp = s[0] & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * @s (at most @len bytes, NUL-terminated or not) as a JSON string: UTF-8
 * passes through, control characters and quotes are escaped, an invalid
 * byte (a comm is any bytes) becomes U+FFFD.
 */
static void json_str(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, n;

	putchar('"');
	for (i = 0; i < len && u[i]; i++) {
		if (u[i] == '"' || u[i] == '\\') {
			printf("\\%c", u[i]);
		} else if (u[i] < 0x20 || u[i] == 0x7f) {
			printf("\\u%04x", u[i]);
		} else if (u[i] < 0x80) {
			putchar(u[i]);
		} else if ((n = utf8_len(u + i, strnlen(s + i, len - i)))) {
			fwrite(u + i, 1, n, stdout);
			i += n - 1;
		} else {
			fputs("\\ufffd", stdout);
		}
	}
	putchar('"');
}

/* A NUL-terminated string, or null for NULL. */
static void json_cstr(const char *s)
{
	if (s)
		json_str(s, strlen(s));
	else
		fputs("null", stdout);
}

/* ---- what the module reports: /proc/bpf_oom ----------------------------- */

/* cgroup id -> path */
static unsigned long long find_id;
static char found_path[4096];

static int find_cgroup(const char *path, const struct stat *st, int type,
		       struct FTW *ftw __attribute__((unused)))
{
	if (type == FTW_D && st->st_ino == find_id) {
		snprintf(found_path, sizeof(found_path), "%s",
			 path[strlen(CGROUP_ROOT)] ? path + strlen(CGROUP_ROOT) : "/");
		return 1;
	}
	return 0;
}

/* The path of cgroup @cgid under CGROUP_ROOT ("/" for the root), or NULL. */
const char *cgroup_path(unsigned long long cgid)
{
	if (!cgid)
		return NULL;
	find_id = cgid;
	found_path[0] = 0;
	nftw(CGROUP_ROOT, find_cgroup, 64, FTW_PHYS | FTW_MOUNT);
	return found_path[0] ? found_path : NULL;
}

/* Where a policy or trigger is attached, for people: "system-wide", a path, or the id. */
static const char *describe_cgroup(unsigned long long cgid)
{
	static char buf[64];
	const char *path;

	if (!cgid)
		return "system-wide";
	path = cgroup_path(cgid);
	if (path)
		return path;
	snprintf(buf, sizeof(buf), "cgroup id %llu", cgid);
	return buf;
}

/* A line of /proc/bpf_oom/policies (module/oom_ops.c) */
struct policy_row {
	char name[128];
	unsigned long long cgid;
	long long since;	/* CLOCK_REALTIME seconds */
	long invoked, handled;
};

/* A line of /proc/bpf_oom/psi (module/psi_ops.c) */
struct psi_row {
	unsigned int ops, resource, full, threshold_us, window_us;
	long long since;
	unsigned long long cgid;
	long events;
};

/* "key value" pairs: /proc/bpf_oom/records, the first line of /proc/bpf_oom/victims */
struct pairs {
	int n;
	struct {
		char key[32];
		char value[32];
	} kv[16];
};

struct state {
	struct policy_row *policies;
	int nr_policies;
	int policies_err;	/* errno reading them; 0: read */
	struct psi_row *psi;
	int nr_psi;
	long nr_triggers;	/* the module's own count ("triggers N") */
	int psi_err;
	struct pairs records;
	int records_err;
	struct pairs victims;
	int victims_err;
};

static int read_policies(struct state *s)
{
	char line[512];
	struct policy_row r, *p;
	FILE *f = fopen(POLICIES, "re");

	if (!f)
		return s->policies_err = errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%127s %llu %lld %ld %ld", r.name, &r.cgid, &r.since, &r.invoked,
			   &r.handled) != 5 || r.name[0] == '#')
			continue;
		p = realloc(s->policies, (s->nr_policies + 1) * sizeof(*p));
		if (!p) {
			fclose(f);
			return s->policies_err = ENOMEM;
		}
		s->policies = p;
		s->policies[s->nr_policies++] = r;
	}
	fclose(f);
	return 0;
}

static int read_psi(struct state *s)
{
	char line[512];
	struct psi_row r, *p;
	FILE *f = fopen(PSI_TRIGGERS, "re");

	if (!f)
		return s->psi_err = errno;
	s->nr_triggers = -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "triggers %ld", &s->nr_triggers) == 1)
			continue;
		if (sscanf(line, "%u %lld %llu %u %u %u %u %ld", &r.ops, &r.since, &r.cgid,
			   &r.resource, &r.full, &r.threshold_us, &r.window_us, &r.events) != 8)
			continue;
		p = realloc(s->psi, (s->nr_psi + 1) * sizeof(*p));
		if (!p) {
			fclose(f);
			return s->psi_err = ENOMEM;
		}
		s->psi = p;
		s->psi[s->nr_psi++] = r;
	}
	fclose(f);
	return 0;
}

/* The "key value" pairs of @path (of its first line only if @first_line); 0 or errno. */
static int read_pairs(const char *path, bool first_line, struct pairs *pr)
{
	char line[512], *tok, *save;
	const char *key = NULL;
	FILE *f = fopen(path, "re");

	pr->n = 0;
	if (!f)
		return errno;
	while (fgets(line, sizeof(line), f)) {
		for (tok = strtok_r(line, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
			if (!key) {
				key = tok;
				continue;
			}
			if (pr->n < (int)(sizeof(pr->kv) / sizeof(pr->kv[0]))) {
				snprintf(pr->kv[pr->n].key, sizeof(pr->kv[0].key), "%s", key);
				snprintf(pr->kv[pr->n].value, sizeof(pr->kv[0].value), "%s", tok);
				pr->n++;
			}
			key = NULL;
		}
		key = NULL;
		if (first_line)
			break;
	}
	fclose(f);
	return 0;
}

/* Read what the module reports; the errors are kept per file. */
static void read_state(struct state *s)
{
	memset(s, 0, sizeof(*s));
	read_policies(s);
	read_psi(s);
	s->records_err = read_pairs(RECORDS, false, &s->records);
	s->victims_err = read_pairs(VICTIMS, true, &s->victims);
}

static void free_state(struct state *s)
{
	free(s->policies);
	free(s->psi);
}

/* Why a /proc/bpf_oom file could not be read, and what to do; 1. */
static int read_failed(const char *path, int err)
{
	if (err == EACCES || err == EPERM)
		return fail("cannot read %s: %s (run as root)", path, strerror(err));
	if (err == ENOENT && access(MODULE_SYSFS, F_OK))
		return fail("cannot read %s: the bpf_oom module is not loaded: modprobe bpf_oom", path);
	return fail("cannot read %s: %s", path, strerror(err));
}

static const char *psi_resource_name(unsigned int r)
{
	static const char *const res[] = { "io", "memory", "cpu", "irq" };

	return r < 4 ? res[r] : "unknown";
}

static void print_policies_text(const struct state *s)
{
	char since_s[64];
	struct tm tm;
	int i;

	printf("%-24s %-32s %-20s %8s %8s\n", "POLICY", "ATTACHED TO", "SINCE", "INVOKED",
	       "HANDLED");
	for (i = 0; i < s->nr_policies; i++) {
		const struct policy_row *r = &s->policies[i];
		time_t t = r->since;

		strftime(since_s, sizeof(since_s), "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
		printf("%-24s %-32s %-20s %8ld %8ld\n", r->name, describe_cgroup(r->cgid), since_s,
		       r->invoked, r->handled);
	}
}

static void print_psi_text(const struct state *s)
{
	int i;

	printf("%-6s %-32s %-8s %-4s %12s %12s %8s\n", "PSI", "WATCHES", "RESOURCE", "FULL",
	       "THRESHOLD_US", "WINDOW_US", "EVENTS");
	for (i = 0; i < s->nr_psi; i++) {
		const struct psi_row *r = &s->psi[i];

		printf("%-6u %-32s %-8s %-4s %12u %12u %8ld\n", r->ops, describe_cgroup(r->cgid),
		       psi_resource_name(r->resource), r->full ? "yes" : "no", r->threshold_us,
		       r->window_us, r->events);
	}
}

/* "k1 v1, k2 v2, ..." */
static void print_pairs_text(const struct pairs *pr)
{
	int i;

	for (i = 0; i < pr->n; i++)
		printf("%s%s %s", i ? ", " : "", pr->kv[i].key, pr->kv[i].value);
	putchar('\n');
}

static void json_policies(const struct state *s)
{
	int i;

	if (s->policies_err) {
		fputs("null", stdout);
		return;
	}
	putchar('[');
	for (i = 0; i < s->nr_policies; i++) {
		const struct policy_row *r = &s->policies[i];

		printf("%s{\"name\":", i ? "," : "");
		json_str(r->name, sizeof(r->name));
		printf(",\"system_wide\":%s,\"cgroup_id\":%llu,\"cgroup_path\":",
		       r->cgid ? "false" : "true", r->cgid);
		json_cstr(cgroup_path(r->cgid));
		printf(",\"since\":%lld,\"invoked\":%ld,\"handled\":%ld}", r->since, r->invoked,
		       r->handled);
	}
	putchar(']');
}

static void json_psi(const struct state *s)
{
	int i;

	if (s->psi_err) {
		fputs("null", stdout);
		return;
	}
	printf("{\"triggers\":%ld,\"list\":[", s->nr_triggers);
	for (i = 0; i < s->nr_psi; i++) {
		const struct psi_row *r = &s->psi[i];

		printf("%s{\"ops\":%u,\"since\":%lld,\"cgroup_id\":%llu,\"cgroup_path\":", i ? "," : "",
		       r->ops, r->since, r->cgid);
		json_cstr(cgroup_path(r->cgid));
		printf(",\"resource\":\"%s\",\"full\":%s,\"threshold_us\":%u,\"window_us\":%u,"
		       "\"events\":%ld}",
		       psi_resource_name(r->resource), r->full ? "true" : "false", r->threshold_us,
		       r->window_us, r->events);
	}
	fputs("]}", stdout);
}

/* An object of the pairs; a value that is an integer stays a number. */
static void json_pairs(const struct pairs *pr, int err)
{
	int i;

	if (err) {
		fputs("null", stdout);
		return;
	}
	putchar('{');
	for (i = 0; i < pr->n; i++) {
		const char *v = pr->kv[i].value, *d = v + (v[0] == '-');
		bool number = *d && strspn(d, "0123456789") == strlen(d) && (d[0] != '0' || !d[1]);

		if (i)
			putchar(',');
		json_cstr(pr->kv[i].key);
		putchar(':');
		if (number)
			fputs(v, stdout);
		else
			json_cstr(v);
	}
	putchar('}');
}

/* list: the attached policies, the record counters, the PSI triggers */
static int cmd_list(bool json)
{
	struct state s;
	int ret = EXIT_OK;

	if (access(MODULE_SYSFS, F_OK))
		return fail("the bpf_oom module is not loaded (%s missing): modprobe bpf_oom",
			    MODULE_SYSFS);
	read_state(&s);
	if (s.policies_err) {
		ret = read_failed(POLICIES, s.policies_err);
		goto out;
	}
	if (json) {
		fputs("{\"policies\":", stdout);
		json_policies(&s);
		fputs(",\"psi\":", stdout);
		json_psi(&s);
		fputs(",\"records\":", stdout);
		json_pairs(&s.records, s.records_err);
		fputs("}\n", stdout);
		goto out;
	}
	print_policies_text(&s);
	if (!s.records_err) {
		const char *episodes = "?", *emitted = "?", *dropped = "?";
		int i;

		for (i = 0; i < s.records.n; i++) {
			if (!strcmp(s.records.kv[i].key, "episodes"))
				episodes = s.records.kv[i].value;
			else if (!strcmp(s.records.kv[i].key, "emitted"))
				emitted = s.records.kv[i].value;
			else if (!strcmp(s.records.kv[i].key, "dropped"))
				dropped = s.records.kv[i].value;
		}
		printf("\nOOM episodes %s, decision records %s, dropped %s (more than 8 policies in one chain)\n",
		       episodes, emitted, dropped);
	}
	if (!s.psi_err) {
		putchar('\n');
		print_psi_text(&s);
	}
out:
	free_state(&s);
	return ret;
}

/* How many entries the pin directory has, sorted into *@pins; 0 with *@err set if unreadable. */
static int scan_pins(const char *pindir, struct dirent ***pins, int *err)
{
	int n = scandir(pindir, pins, NULL, alphasort), i, j;

	*err = 0;
	if (n < 0) {
		*err = errno;
		*pins = NULL;
		return 0;
	}
	for (i = j = 0; i < n; i++) {
		if ((*pins)[i]->d_name[0] == '.')
			free((*pins)[i]);
		else
			(*pins)[j++] = (*pins)[i];
	}
	return j;
}

/* status: the module, the kernel, the policies, the counters, the pins */
static int cmd_status(bool json, const char *pindir)
{
	bool loaded = !access(MODULE_SYSFS, F_OK), btf = !access(MODULE_BTF, F_OK);
	char version[64] = "", *nl;
	struct dirent **pins = NULL;
	int nr_pins = 0, pins_err = 0, ret = EXIT_OK, i;
	struct utsname uts;
	struct state s;
	FILE *f;

	memset(&s, 0, sizeof(s));
	uname(&uts);
	/* MODULE_VERSION (module/main.c) makes /sys/module/bpf_oom/version */
	f = fopen(MODULE_SYSFS "/version", "re");
	if (f) {
		if (!fgets(version, sizeof(version), f))
			version[0] = 0;
		fclose(f);
		nl = strchr(version, '\n');
		if (nl)
			*nl = 0;
	}
	if (loaded) {
		read_state(&s);
		nr_pins = scan_pins(pindir, &pins, &pins_err);
	}

	if (json) {
		fputs("{\"kernel\":", stdout);
		json_cstr(uts.release);
		printf(",\"module\":{\"loaded\":%s,\"version\":", loaded ? "true" : "false");
		json_cstr(version[0] ? version : NULL);
		printf(",\"btf\":%s},\"policies\":", btf ? "true" : "false");
		if (loaded)
			json_policies(&s);
		else
			fputs("null", stdout);
		fputs(",\"psi\":", stdout);
		if (loaded)
			json_psi(&s);
		else
			fputs("null", stdout);
		fputs(",\"records\":", stdout);
		json_pairs(&s.records, loaded ? s.records_err : ENOENT);
		fputs(",\"victims\":", stdout);
		json_pairs(&s.victims, loaded ? s.victims_err : ENOENT);
		fputs(",\"pin_dir\":", stdout);
		json_cstr(pindir);
		fputs(",\"pins\":", stdout);
		if (!loaded || (pins_err && pins_err != ENOENT)) {
			fputs("null", stdout);
		} else {
			putchar('[');
			for (i = 0; i < nr_pins; i++) {
				if (i)
					putchar(',');
				json_cstr(pins[i]->d_name);
			}
			putchar(']');
		}
		fputs("}\n", stdout);
	} else {
		printf("kernel:           %s\n", uts.release);
		if (!loaded) {
			printf("module:           bpf_oom not loaded\n");
		} else {
			printf("module:           bpf_oom %s loaded, BTF %s\n",
			       version[0] ? version : "(no version)",
			       btf ? MODULE_BTF : "missing");
			if (s.policies_err)
				printf("OOM policies:     unreadable (%s)\n", strerror(s.policies_err));
			else if (!s.nr_policies)
				printf("OOM policies:     none attached\n");
			else
				printf("OOM policies:     %d attached\n", s.nr_policies);
			if (s.psi_err)
				printf("PSI triggers:     unreadable (%s)\n", strerror(s.psi_err));
			else
				printf("PSI triggers:     %ld\n", s.nr_triggers);
			printf("decision records: ");
			if (s.records_err)
				printf("unreadable (%s)\n", strerror(s.records_err));
			else
				print_pairs_text(&s.records);
			printf("OOM victims:      ");
			if (s.victims_err)
				printf("unreadable (%s)\n", strerror(s.victims_err));
			else
				print_pairs_text(&s.victims);
			printf("pinned links:     %s:", pindir);
			if (pins_err && pins_err != ENOENT)
				printf(" unreadable (%s)", strerror(pins_err));
			else if (!nr_pins)
				printf(" none");
			for (i = 0; i < nr_pins; i++)
				printf("%s %s", i ? "," : "", pins[i]->d_name);
			putchar('\n');
			if (s.nr_policies) {
				putchar('\n');
				print_policies_text(&s);
			}
			if (s.nr_psi) {
				putchar('\n');
				print_psi_text(&s);
			}
		}
	}
	fflush(stdout);

	/* what failed, and what to do */
	if (!loaded)
		ret = fail("the bpf_oom module is not loaded (%s missing): modprobe bpf_oom",
			   MODULE_SYSFS);
	else if (s.policies_err)
		ret = read_failed(POLICIES, s.policies_err);
	else if (s.psi_err)
		ret = read_failed(PSI_TRIGGERS, s.psi_err);
	else if (s.records_err)
		ret = read_failed(RECORDS, s.records_err);
	else if (s.victims_err)
		ret = read_failed(VICTIMS, s.victims_err);
	else if (pins_err && pins_err != ENOENT)
		ret = read_failed(pindir, pins_err);
	for (i = 0; i < nr_pins; i++)
		free(pins[i]);
	free(pins);
	free_state(&s);
	return ret;
}

/* ---- the policy directory ---------------------------------------------- */

/* -P, else $BPF_OOM_POLICY_DIR, else the built-in one; *@from says which. */
static const char *policy_dir(const char *opt, const char **from)
{
	const char *env = getenv("BPF_OOM_POLICY_DIR");

	if (opt) {
		*from = "-P";
		return opt;
	}
	if (env && *env) {
		*from = "BPF_OOM_POLICY_DIR";
		return env;
	}
	*from = "the built-in default";
	return BPF_OOM_POLICYDIR;
}

/*
 * The object to attach for @arg: @arg itself if it is a path (a '/' in it,
 * or ending in ".o"), else DIR/@arg.bpf.o, which must exist. NULL with a
 * message.
 */
const char *resolve_policy(const char *arg, const char *dir_opt, char *buf, size_t len)
{
	size_t n = strlen(arg);
	const char *from, *dir;
	struct stat st;

	if (strchr(arg, '/') || (n >= 2 && !strcmp(arg + n - 2, ".o")))
		return arg;
	dir = policy_dir(dir_opt, &from);
	if (!n) {
		fail("an empty policy name");
		return NULL;
	}
	snprintf(buf, len, "%s/%s.bpf.o", dir, arg);
	if (!access(buf, F_OK))
		return buf;
	if (stat(dir, &st))
		fail("no policy named %s: the policy directory %s (%s) cannot be read: %s; install the policies there (make -C bpf install), choose another directory (-P DIR or BPF_OOM_POLICY_DIR), or give the path of a .bpf.o",
		     arg, dir, from, strerror(errno));
	else
		fail("no policy named %s in %s (%s; searched for %s): 'bpf-oom list --available' lists the policies there; choose another directory (-P DIR or BPF_OOM_POLICY_DIR), or give the path of a .bpf.o",
		     arg, dir, from, buf);
	return NULL;
}

static int is_bpf_object(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 6 && !strcmp(d->d_name + n - 6, ".bpf.o");
}

struct available {
	char name[256];
	const char *oom_maps[4], *psi_maps[4];
	int nr_oom, nr_psi;
	const char *knobs[32];
	int nr_knobs;
};

/* What @obj offers: its struct_ops maps by kind, its knobs (the global read-only variables). */
static void describe_object(struct bpf_object *obj, struct available *a)
{
	const struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *vs;
	const struct btf_type *t;
	struct bpf_map *map;
	__u32 id, nr;
	int i;

	bpf_object__for_each_map(map, obj) {
		if (bpf_map__type(map) != BPF_MAP_TYPE_STRUCT_OPS)
			continue;
		if (is_ops_type(btf, map, "bpf_oom_ops") && a->nr_oom < 4)
			a->oom_maps[a->nr_oom++] = bpf_map__name(map);
		else if (is_ops_type(btf, map, "bpf_psi_ops") && a->nr_psi < 4)
			a->psi_maps[a->nr_psi++] = bpf_map__name(map);
	}
	nr = btf ? btf__type_cnt(btf) : 0;
	for (id = 1; id < nr; id++) {
		t = btf__type_by_id(btf, id);
		if (!btf_is_datasec(t) || strcmp(btf__name_by_offset(btf, t->name_off), ".rodata"))
			continue;
		for (i = 0, vs = btf_var_secinfos(t); i < btf_vlen(t); i++, vs++) {
			const struct btf_type *var = btf__type_by_id(btf, vs->type);

			if (btf_is_var(var) && btf_var(var)->linkage == BTF_VAR_GLOBAL_ALLOCATED &&
			    a->nr_knobs < 32)
				a->knobs[a->nr_knobs++] = btf__name_by_offset(btf, var->name_off);
		}
	}
}

/* list --available: the policies of the policy directory */
static int cmd_available(const char *dir_opt, bool json)
{
	const char *from, *dir = policy_dir(dir_opt, &from);
	struct dirent **ents;
	int n, i, j, shown = 0, ret = EXIT_OK;

	n = scandir(dir, &ents, is_bpf_object, alphasort);
	if (n < 0)
		return fail("cannot read the policy directory %s (%s): %s; install the policies there (make -C bpf install) or choose another directory (-P DIR or BPF_OOM_POLICY_DIR)",
			    dir, from, strerror(errno));
	if (json) {
		fputs("{\"policy_dir\":", stdout);
		json_cstr(dir);
		fputs(",\"policies\":[", stdout);
	} else {
		printf("policy directory %s (%s)\n%-24s %-10s %s\n", dir, from, "POLICY", "OPS", "KNOBS");
	}
	for (i = 0; i < n; i++) {
		struct available a = { 0 };
		struct bpf_object *obj;
		char path[4096];
		int err;

		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		snprintf(a.name, sizeof(a.name), "%.*s", (int)(strlen(ents[i]->d_name) - 6),
			 ents[i]->d_name);
		obj = bpf_object__open_file(path, NULL);
		if (!obj) {
			err = errno;
			fflush(stdout);
			ret = fail("cannot open %s: %s (not a BPF object?)", path, strerror(err));
			continue;
		}
		describe_object(obj, &a);
		if (!a.nr_oom && !a.nr_psi) {	/* not a policy (a helper program) */
			bpf_object__close(obj);
			continue;
		}
		if (json) {
			printf("%s{\"name\":", shown ? "," : "");
			json_cstr(a.name);
			fputs(",\"path\":", stdout);
			json_cstr(path);
			fputs(",\"bpf_oom_ops\":[", stdout);
			for (j = 0; j < a.nr_oom; j++) {
				if (j)
					putchar(',');
				json_cstr(a.oom_maps[j]);
			}
			fputs("],\"bpf_psi_ops\":[", stdout);
			for (j = 0; j < a.nr_psi; j++) {
				if (j)
					putchar(',');
				json_cstr(a.psi_maps[j]);
			}
			fputs("],\"knobs\":[", stdout);
			for (j = 0; j < a.nr_knobs; j++) {
				if (j)
					putchar(',');
				json_cstr(a.knobs[j]);
			}
			fputs("]}", stdout);
		} else {
			char ops[32];

			snprintf(ops, sizeof(ops), "%s%s%s", a.nr_oom ? "oom" : "",
				 a.nr_oom && a.nr_psi ? "+" : "", a.nr_psi ? "psi" : "");
			if (a.nr_oom > 1 || a.nr_psi > 1)
				snprintf(ops + strlen(ops), sizeof(ops) - strlen(ops), "(%d)",
					 a.nr_oom + a.nr_psi);
			printf("%-24s %-10s", a.name, ops);
			for (j = 0; j < a.nr_knobs; j++)
				printf(" %s", a.knobs[j]);
			if (!a.nr_knobs)
				printf(" -");
			putchar('\n');
		}
		shown++;
		bpf_object__close(obj);
	}
	if (json)
		fputs("]}\n", stdout);
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return ret;
}

/* ---- events ------------------------------------------------------------ */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct events_ctx {
	bool json;
	long want;		/* stop after this many records; 0: never */
	long got;
	long bad;		/* records of a layout this command does not know */
	long page_kb;
};

const char *trigger_name(unsigned int t)
{
	switch (t) {
	case BPF_OOM_TRIGGER_MEMCG_OOM: return "memcg_oom";
	case BPF_OOM_TRIGGER_GLOBAL_OOM: return "global_oom";
	case BPF_OOM_TRIGGER_PSI: return "psi";
	}
	return "unknown";
}

const char *action_name(unsigned int a)
{
	switch (a) {
	case BPF_OOM_ACTION_KILL: return "kill";
	case BPF_OOM_ACTION_DRY_RUN: return "dry_run";
	case BPF_OOM_ACTION_DECLINE: return "decline";
	}
	return "unknown";
}

const char *reason_name(unsigned int r)
{
	static const char *const names[] = {
		[BPF_OOM_REASON_NONE] = "none",
		[BPF_OOM_REASON_UNSPECIFIED] = "unspecified",
		[BPF_OOM_REASON_DRY_RUN] = "dry_run",
		[BPF_OOM_REASON_NO_CANDIDATE] = "no_candidate",
		[BPF_OOM_REASON_NOT_IN_SCOPE] = "not_in_scope",
		[BPF_OOM_REASON_KILL_FAILED] = "kill_failed",
		[BPF_OOM_REASON_MIN_INTERVAL] = "min_interval",
		[BPF_OOM_REASON_BELOW_THRESHOLD] = "below_threshold",
		[BPF_OOM_REASON_VICTIM_PENDING] = "victim_pending",
		[BPF_OOM_REASON_NOT_SUSTAINED] = "not_sustained",
	};

	return r < sizeof(names) / sizeof(names[0]) && names[r] ? names[r] : "unknown";
}

/* enum oom_constraint of include/linux/oom.h */
const char *constraint_name(unsigned int c)
{
	static const char *const names[] = { "none", "cpuset", "memory_policy", "memcg" };

	return c < 4 ? names[c] : "unknown";
}

static void json_task(const char *key, const struct bpf_oom_record_task *t, bool set, long page_kb)
{
	printf(",\"%s\":", key);
	if (!set) {
		fputs("null", stdout);
		return;
	}
	printf("{\"pid\":%u,\"tgid\":%u,\"comm\":", t->pid, t->tgid);
	json_str(t->comm, sizeof(t->comm));
	printf(",\"cgroup_id\":%llu,\"rss_kb\":%llu,\"swap_kb\":%llu,\"oom_score_adj\":%d}",
	       (unsigned long long)t->cgroup_id, (unsigned long long)t->rss_pages * page_kb,
	       (unsigned long long)t->swap_pages * page_kb, t->oom_score_adj);
}

static void print_json(const struct bpf_oom_record *r, long page_kb)
{
	bool victim = r->action == BPF_OOM_ACTION_KILL || r->action == BPF_OOM_ACTION_DRY_RUN ||
		      r->victim.pid;

	printf("{\"version\":%u,\"episode\":%llu,\"time_ns\":%llu,\"policy\":", r->version,
	       (unsigned long long)r->episode, (unsigned long long)r->time_ns);
	json_str(r->policy, sizeof(r->policy));
	printf(",\"attach_cgroup_id\":%llu,\"trigger\":\"%s\",\"gfp_mask\":%u,\"order\":%d,"
	       "\"constraint\":\"%s\"",
	       (unsigned long long)r->attach_cgroup_id, trigger_name(r->trigger), r->gfp_mask,
	       r->order, constraint_name(r->constraint));
	if (r->psi_window_us)
		printf(",\"psi\":{\"resource\":%u,\"full\":%s,\"threshold_us\":%u,\"window_us\":%u}",
		       r->psi_resource & ~0x80000000u, r->psi_resource & 0x80000000u ? "true" : "false",
		       r->psi_threshold_us, r->psi_window_us);
	printf(",\"domain_cgroup_id\":%llu,\"domain_path\":", (unsigned long long)r->domain_cgroup_id);
	json_str(r->domain_path, sizeof(r->domain_path));
	printf(",\"domain_path_truncated\":%s,\"action\":\"%s\",\"reason\":\"%s\",\"kills\":%u",
	       r->flags & BPF_OOM_RECORD_PATH_TRUNCATED ? "true" : "false",
	       action_name(r->action), reason_name(r->reason),
	       /* version 1 had no count: one kill, one process */
	       r->version < 2 && r->action == BPF_OOM_ACTION_KILL ? 1 : r->kills);
	json_task("victim", &r->victim, victim, page_kb);
	json_task("kernel_victim", &r->kernel_victim, r->flags & BPF_OOM_RECORD_KERNEL_VICTIM,
		  page_kb);
	printf(",\"duration_ns\":%llu}\n", (unsigned long long)r->duration_ns);
}

static void print_task(const char *key, const struct bpf_oom_record_task *t, long page_kb)
{
	printf(" %s=%.*s[%u] rss=%llukB swap=%llukB adj=%d cgroup=%llu", key,
	       (int)sizeof(t->comm), t->comm, t->tgid,
	       (unsigned long long)t->rss_pages * page_kb,
	       (unsigned long long)t->swap_pages * page_kb, t->oom_score_adj,
	       (unsigned long long)t->cgroup_id);
}

void print_record_text(const struct bpf_oom_record *r, long page_kb)
{
	char when[64];
	time_t secs = r->time_ns / 1000000000ULL;
	struct tm tm;

	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime_r(&secs, &tm));
	printf("%s.%03llu episode %llu %.*s (%s): %s %.*s, %s", when,
	       (unsigned long long)(r->time_ns / 1000000ULL % 1000), (unsigned long long)r->episode,
	       (int)sizeof(r->policy), r->policy,
	       r->attach_cgroup_id ? "cgroup" : "system-wide", trigger_name(r->trigger),
	       (int)sizeof(r->domain_path), r->domain_path, action_name(r->action));
	if (r->reason != BPF_OOM_REASON_NONE)
		printf(" (%s)", reason_name(r->reason));
	if (r->victim.pid)
		print_task("victim", &r->victim, page_kb);
	if (r->kills > 1)
		printf(" (and %u more processes)", r->kills - 1);
	if (r->flags & BPF_OOM_RECORD_KERNEL_VICTIM)
		print_task("kernel killed", &r->kernel_victim, page_kb);
	printf(", %.1f us\n", r->duration_ns / 1000.0);
}

static int on_record(void *data, void *rec, size_t size)
{
	struct events_ctx *ec = data;
	const struct bpf_oom_record *r = rec;

	/* -n: the rest of this poll's batch is not wanted (a positive return does not stop it) */
	if (ec->want && ec->got >= ec->want)
		return 0;
	/* fields are only ever appended (record.h): a newer module's prefix is ours */
	if (size < sizeof(*r) || r->version < 1 || r->size < sizeof(*r)) {
		ec->bad++;
		return 0;
	}
	if (ec->json)
		print_json(r, ec->page_kb);
	else
		print_record_text(r, ec->page_kb);
	fflush(stdout);
	ec->got++;
	return 0;
}

static int cmd_events(bool json, long want)
{
	struct events_ctx ec = { .json = json, .want = want, .page_kb = sysconf(_SC_PAGESIZE) / 1024 };
	struct ring_buffer *rb = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned long long reported = 0;
	struct events *skel;
	int err, ret = 0;

	if (access(MODULE_BTF, R_OK))
		return fail("the bpf_oom module is not loaded (%s: %s): load it first (modprobe bpf_oom)",
			    MODULE_BTF, strerror(errno));
	skel = events__open_and_load();
	if (!skel)
		return fail("cannot load the events program: %s (needs CAP_BPF and CAP_PERFMON, or root)",
			    strerror(errno));
	err = events__attach(skel);
	if (err) {
		ret = fail("cannot attach to the tracepoint bpf_oom_decision: %s (a bpf_oom module without decision records?)",
			   strerror(-err));
		goto out;
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.records), on_record, &ec, NULL);
	if (!rb) {
		ret = fail("cannot open the ring buffer: %s", strerror(errno));
		goto out;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fprintf(stderr, "bpf-oom: following decision records (SIGINT to stop)\n");
	while (!stop) {
		err = ring_buffer__poll(rb, 200);
		if (err == -EINTR)
			continue;
		if (err < 0) {
			ret = fail("reading the ring buffer: %s", strerror(-err));
			break;
		}
		if (skel->bss->dropped != reported) {
			reported = skel->bss->dropped;
			fprintf(stderr, "bpf-oom: %llu record(s) lost so far: the ring buffer was full\n",
				reported);
		}
		if (ec.want && ec.got >= ec.want)
			break;
	}
	/* what is still queued */
	if (!ret && !(ec.want && ec.got >= ec.want))
		ring_buffer__consume(rb);
	fprintf(stderr, "bpf-oom: %llu record(s) seen, %llu lost (ring buffer full), %ld of an unknown layout\n",
		(unsigned long long)skel->bss->seen, (unsigned long long)skel->bss->dropped, ec.bad);
	if (!ret && (skel->bss->dropped || ec.bad))
		ret = 3;
out:
	ring_buffer__free(rb);
	events__destroy(skel);
	return ret;
}

/* ---- option parsing ------------------------------------------------------ */

static int run_attach(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cgroup", required_argument, NULL, 'c' },
		{ "map", required_argument, NULL, 'm' },
		{ "define", required_argument, NULL, 'D' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "policy-dir", required_argument, NULL, 'P' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cgroup = NULL, *map = NULL, *pindir = PIN_DIR, *dir = NULL, *obj;
	const char *defs[MAX_DEFS];
	char path[4096];
	int opt, nr_defs = 0;

	while ((opt = getopt_long(argc, argv, ":c:m:D:p:P:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': cgroup = optarg; break;
		case 'm': map = optarg; break;
		case 'D':
			if (nr_defs == MAX_DEFS)
				return usage_error(cmd, "at most %d -D options", MAX_DEFS);
			defs[nr_defs++] = optarg;
			break;
		case 'p': pindir = optarg; break;
		case 'P': dir = optarg; break;
		case 'v': verbose = true; break;
		case 'h': return help_command(cmd);
		default: return bad_option(cmd, opt, argv);
		}
	}
	if (optind != argc - 1)
		return usage_error(cmd, optind == argc ? "which policy? (a name or a path)" :
				   "one policy at a time");
	obj = resolve_policy(argv[optind], dir, path, sizeof(path));
	if (!obj)
		return EXIT_FAILED;
	return cmd_attach(obj, cgroup, map, pindir, defs, nr_defs);
}

static int run_detach(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cgroup", required_argument, NULL, 'c' },
		{ "system", no_argument, NULL, 's' },
		{ "map", required_argument, NULL, 'm' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cgroup = NULL, *map = NULL, *pindir = PIN_DIR;
	bool system = false;
	int opt;

	while ((opt = getopt_long(argc, argv, ":c:sm:p:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': cgroup = optarg; break;
		case 's': system = true; break;
		case 'm': map = optarg; break;
		case 'p': pindir = optarg; break;
		case 'h': return help_command(cmd);
		default: return bad_option(cmd, opt, argv);
		}
	}
	if (optind != argc)
		return usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (!!cgroup + system + !!map != 1)
		return usage_error(cmd, "which policy? give exactly one of -c CGROUP, -s, -m PSIMAP");
	return cmd_detach(cgroup, system, map, pindir);
}

static int run_list(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "available", no_argument, NULL, 'a' },
		{ "policy-dir", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false, available = false;
	const char *dir = NULL;
	int opt;

	while ((opt = getopt_long(argc, argv, ":jaP:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j': json = true; break;
		case 'a': available = true; break;
		case 'P': dir = optarg; break;
		case 'h': return help_command(cmd);
		default: return bad_option(cmd, opt, argv);
		}
	}
	if (optind != argc)
		return usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (dir && !available)
		return usage_error(cmd, "-P is for list --available");
	return available ? cmd_available(dir, json) : cmd_list(json);
}

static int run_status(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pindir = PIN_DIR;
	bool json = false;
	int opt;

	while ((opt = getopt_long(argc, argv, ":jp:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j': json = true; break;
		case 'p': pindir = optarg; break;
		case 'h': return help_command(cmd);
		default: return bad_option(cmd, opt, argv);
		}
	}
	if (optind != argc)
		return usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	return cmd_status(json, pindir);
}

static int run_events(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "count", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	long count = 0;
	char *end;
	int opt;

	while ((opt = getopt_long(argc, argv, ":jn:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j': json = true; break;
		case 'n':
			errno = 0;
			count = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || count <= 0)
				return usage_error(cmd, "-n %s: expected a positive number of records",
						   optarg);
			break;
		case 'h': return help_command(cmd);
		default: return bad_option(cmd, opt, argv);
		}
	}
	if (optind != argc)
		return usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	return cmd_events(json, count);
}

static int run_service(const struct command *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config-dir", required_argument, NULL, 'C' },
		{ "metrics", required_argument, NULL, 'M' },
		{ "check", no_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *confdir = SERVICE_CONFDIR, *metrics = NULL;
	bool check = false;
	int opt;

	while ((opt = getopt_long(argc, argv, ":C:M:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'C': confdir = optarg; break;
		case 'M': metrics = optarg; break;
		case 'k': check = true; break;
		case 'v': verbose = true; break;
		case 'h': return help_command(cmd);
		default: return bad_option(cmd, opt, argv);
		}
	}
	if (optind != argc)
		return usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	return cmd_service(confdir, metrics, check);
}

int main(int argc, char **argv)
{
	const struct command *cmd;

	libbpf_set_print(libbpf_print);
	if (argc < 2) {
		print_usage_lines(stderr);
		fprintf(stderr, "Try 'bpf-oom --help'.\n");
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return help_top();
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("bpf-oom %s\n", BPF_OOM_VERSION);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "help")) {
		if (argc == 2)
			return help_top();
		cmd = find_command(argv[2]);
		if (!cmd)
			return usage_error(NULL, "help: no command '%s'", argv[2]);
		if (argc > 3)
			return usage_error(NULL, "help: one command at a time");
		return help_command(cmd);
	}
	if (argv[1][0] == '-')
		return usage_error(NULL, "unknown option '%s' (options follow the command)", argv[1]);
	cmd = find_command(argv[1]);
	if (!cmd)
		return usage_error(NULL, "unknown command '%s'", argv[1]);
	/* the command's own options, from argv[2] on */
	optind = 1;
	return cmd->run(cmd, argc - 1, argv + 1);
}
