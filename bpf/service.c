// SPDX-License-Identifier: GPL-2.0
/*
 * service.c - `bpf-oom service`: the configured policies, attached and
 * watched by one long-running process (bpf-oom.service; bpf-oom.conf(5) is
 * the configuration, bpf-oom(8) the command).
 *
 * Lifecycle: every configuration file is parsed and every policy opened and
 * loaded (verifier included) before anything is attached; then all are
 * attached or, if one fails, none (what was attached is detached again).
 * The links are held by this process's file descriptors, not pinned: when
 * it exits, for whatever reason, every policy it attached is detached.
 *
 * systemd: the sd_notify protocol is spoken by hand (a datagram to
 * $NOTIFY_SOCKET): READY=1 once everything is attached, RELOADING=1 with
 * MONOTONIC_USEC= then READY=1 around a reload (Type=notify-reload),
 * STOPPING=1 at exit. Decision records go to the journal's native socket
 * as structured fields (one datagram of KEY=VALUE lines per record), and
 * the counters to a Prometheus text file for node_exporter's textfile
 * collector, rewritten whole (temporary file + rename).
 *
 * SIGHUP reloads without a window: the new configuration is loaded whole
 * first (on any error the running set stays as it is); a target (the
 * system, or a cgroup) that keeps a bpf_oom_ops policy whose object or
 * knobs changed gets the new one through BPF_LINK_UPDATE on its link (the
 * module's bpf_oom_ops .update: the kernel swaps the ops under the link,
 * bpf_struct_ops_map_link_update()), new targets and PSI halves are
 * attached, and only then is what left the configuration detached.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <bpf_oom/record.h>
#include "bpf-oom-events.skel.h"
#include "bpf-oom.h"

#define METRICS_INTERVAL_S 15
#define LINE_MAX_LEN 4096

/* ---- configuration -------------------------------------------------------- */

/**
 * struct conf - one configuration file: one policy and where it goes
 * @file: its path
 * @policy: Policy= (a name in the policy directory, or a path)
 * @cgroup: Cgroup=, as a path under CGROUP_ROOT ("" for system-wide)
 * @map: Map= ("" for the object's only struct_ops map of each kind)
 * @defs: the Set= values (KNOB=VALUE)
 * @nr_defs: how many
 */
struct conf {
	char file[PATH_MAX];
	char policy[PATH_MAX];
	char cgroup[PATH_MAX];
	char map[256];
	char *defs[MAX_DEFS];
	int nr_defs;
};

/**
 * struct unit - a configured policy: its file, its object, its links
 * @c: the configuration it came from
 * @p: the policy, opened and loaded (attached once running); NULL when
 *	handed over to another unit
 * @sig: what it is, for a reload: the object's identity, target, map and
 *	knobs; equal signatures are the same policy, kept running as is
 * @oom_name: the bpf_oom_ops half's name ("" if none)
 * @psi_name: the bpf_psi_ops half's name ("" if none)
 * @same: during a reload, the running unit it equals (kept as is)
 */
struct unit {
	struct conf c;
	struct policy *p;
	char sig[PATH_MAX + 2048];
	char oom_name[BPF_OOM_RECORD_NAME_LEN];
	char psi_name[BPF_OOM_RECORD_NAME_LEN];
	struct unit *same;
};

struct set {
	struct unit *u;
	int n;
};

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		*--end = 0;
	return s;
}

/* Cgroup=: absolute, under CGROUP_ROOT or not; kept as the path below CGROUP_ROOT. */
static int set_cgroup(struct conf *c, const char *v, const char *where)
{
	size_t root = strlen(CGROUP_ROOT);

	if (v[0] != '/')
		return fail("%s: Cgroup=%s: expected an absolute path (a cgroup under %s)", where, v,
			    CGROUP_ROOT);
	if (!strncmp(v, CGROUP_ROOT, root) && (v[root] == '/' || !v[root]))
		v += root;
	snprintf(c->cgroup, sizeof(c->cgroup), "%s", *v ? v : "/");
	/* the root cgroup is the whole system: system-wide */
	if (!strcmp(c->cgroup, "/"))
		return fail("%s: Cgroup=/: the root cgroup is the whole system: leave Cgroup= out to attach system-wide",
			    where);
	return 0;
}

static void conf_free(struct conf *c)
{
	int i;

	for (i = 0; i < c->nr_defs; i++)
		free(c->defs[i]);
	c->nr_defs = 0;
}

/*
 * Parse @path into @c: Key=Value lines, "#" and ";" comments, blank lines,
 * an optional [Policy] section header. 0, or 1 with a message naming
 * FILE:LINE and the cause.
 */
static int conf_parse(const char *path, struct conf *c)
{
	bool have_policy = false, have_cgroup = false, have_map = false;
	char line[LINE_MAX_LEN + 2], where[PATH_MAX + 32];
	int lineno = 0, ret = 1;
	FILE *f;

	memset(c, 0, sizeof(*c));
	snprintf(c->file, sizeof(c->file), "%s", path);
	f = fopen(path, "re");
	if (!f)
		return fail("%s: cannot read it: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *s, *key, *val, *eq;

		lineno++;
		snprintf(where, sizeof(where), "%s:%d", path, lineno);
		if (strlen(line) > LINE_MAX_LEN && !strchr(line, '\n')) {
			fail("%s: a line longer than %d characters", where, LINE_MAX_LEN);
			goto out;
		}
		s = trim(line);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			if (strcmp(s, "[Policy]")) {
				fail("%s: unknown section %s (the only section is [Policy])", where, s);
				goto out;
			}
			continue;
		}
		eq = strchr(s, '=');
		if (!eq) {
			fail("%s: expected Key=Value, got '%s'", where, s);
			goto out;
		}
		*eq = 0;
		key = trim(s);
		val = trim(eq + 1);
		if (!strcmp(key, "Policy")) {
			if (have_policy) {
				fail("%s: a second Policy= (one policy per file)", where);
				goto out;
			}
			if (!*val) {
				fail("%s: Policy= is empty (a policy name or the path of a .bpf.o)",
				     where);
				goto out;
			}
			/* relative to what? the unit's and a shell's directories differ */
			if (*val != '/' && (strchr(val, '/') ||
					    (strlen(val) >= 2 && !strcmp(val + strlen(val) - 2, ".o")))) {
				fail("%s: Policy=%s: a relative path: give an absolute path, or the name of an installed policy",
				     where, val);
				goto out;
			}
			snprintf(c->policy, sizeof(c->policy), "%s", val);
			have_policy = true;
		} else if (!strcmp(key, "Cgroup")) {
			if (have_cgroup) {
				fail("%s: a second Cgroup= (one target per file)", where);
				goto out;
			}
			if (set_cgroup(c, val, where))
				goto out;
			have_cgroup = true;
		} else if (!strcmp(key, "Map")) {
			if (have_map || !*val) {
				fail("%s: %s", where, have_map ? "a second Map=" : "Map= is empty");
				goto out;
			}
			snprintf(c->map, sizeof(c->map), "%s", val);
			have_map = true;
		} else if (!strcmp(key, "Set")) {
			if (c->nr_defs == MAX_DEFS) {
				fail("%s: more than %d Set= lines", where, MAX_DEFS);
				goto out;
			}
			if (!strchr(val, '=') || val[0] == '=') {
				fail("%s: Set=%s: expected Set=KNOB=VALUE", where, val);
				goto out;
			}
			c->defs[c->nr_defs] = strdup(val);
			if (!c->defs[c->nr_defs]) {
				fail("%s: %s", where, strerror(ENOMEM));
				goto out;
			}
			c->nr_defs++;
		} else {
			fail("%s: unknown key '%s' (the keys are Policy, Cgroup, Map and Set)", where,
			     key);
			goto out;
		}
	}
	if (ferror(f)) {
		fail("%s: reading it: %s", path, strerror(errno));
		goto out;
	}
	if (!have_policy) {
		fail("%s: no Policy= line: which policy to attach?", path);
		goto out;
	}
	ret = 0;
out:
	if (ret)
		conf_free(c);
	fclose(f);
	return ret;
}

static int is_conf(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 && !strcmp(d->d_name + n - 5, ".conf");
}

/*
 * The configuration of @dir: its *.conf files in lexical order (bytewise:
 * the C locale), parsed into @s. A missing directory is an empty
 * configuration. 0, or 1 with a message.
 */
static int read_config(const char *dir, struct set *s)
{
	struct dirent **ents;
	int i, n, ret = 0;

	memset(s, 0, sizeof(*s));
	n = scandir(dir, &ents, is_conf, alphasort);
	if (n < 0) {
		if (errno == ENOENT) {
			fprintf(stderr, "bpf-oom: %s does not exist: no policy configured\n", dir);
			return 0;
		}
		return fail("%s: cannot read the directory: %s", dir, strerror(errno));
	}
	s->u = calloc(n ?: 1, sizeof(*s->u));
	if (!s->u)
		ret = fail("%s", strerror(ENOMEM));
	for (i = 0; i < n; i++) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		if (!ret && conf_parse(path, &s->u[s->n].c))
			ret = 1;
		else if (!ret)
			s->n++;
		free(ents[i]);
	}
	free(ents);
	return ret;
}

/* ---- policies: open and load, attach, close ------------------------------ */

/* Messages about @u name its file and policy: fail_context. */
static void unit_context(const struct unit *u)
{
	static char where[2 * PATH_MAX + 16];

	snprintf(where, sizeof(where), "%s: policy %s", u->c.file, u->c.policy);
	fail_context = where;
}

static void set_free(struct set *s)
{
	int i;

	for (i = 0; i < s->n; i++) {
		if (s->u[i].p) {
			policy_close(s->u[i].p);
			free(s->u[i].p);
		}
		conf_free(&s->u[i].c);
	}
	free(s->u);
	memset(s, 0, sizeof(*s));
}

/* The ops' name member of @map (the name records carry), else the map's name. */
static void ops_name(struct bpf_object *obj, struct bpf_map *map, char *buf, size_t len)
{
	const struct btf *btf = bpf_object__btf(obj);
	const struct btf_type *t = btf__type_by_id(btf, bpf_map__btf_value_type_id(map));
	const struct btf_member *m;
	size_t size;
	char *data = bpf_map__initial_value(map, &size);
	int i;

	snprintf(buf, len, "%s", bpf_map__name(map));
	if (!t || !data || !btf_is_struct(t))
		return;
	for (i = 0, m = btf_members(t); i < btf_vlen(t); i++, m++) {
		size_t off = btf_member_bit_offset(t, i) / 8;

		if (strcmp(btf__name_by_offset(btf, m->name_off), "name") || off >= size || !data[off])
			continue;
		snprintf(buf, len, "%.*s", (int)(size - off < len ? size - off : len - 1),
			 data + off);
	}
}

/* seconds on CLOCK_MONOTONIC: the metrics timer ignores clock steps */
static long mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/*
 * FNV-1a over the initial values of the object's read-only data maps, where
 * the knobs are, as set: a knob naming a cgroup holds its id, so a cgroup
 * recreated under the same path makes the same Set= line another policy.
 */
static unsigned long long rodata_hash(struct bpf_object *obj)
{
	unsigned long long h = 0xcbf29ce484222325ULL;
	const unsigned char *d;
	struct bpf_map *map;
	size_t n, i;

	bpf_object__for_each_map(map, obj) {
		if (!bpf_map__is_internal(map) || !strstr(bpf_map__name(map), ".rodata"))
			continue;
		d = bpf_map__initial_value(map, &n);
		for (i = 0; d && i < n; i++)
			h = (h ^ d[i]) * 0x100000001b3ULL;
	}
	return h;
}

/*
 * What makes @u the policy it is, for a reload: the object file (its
 * identity and modification time: a rebuilt object is another policy),
 * the target cgroup's id, the knobs' values as set, the map, and the
 * knobs' text.
 */
static int unit_signature(struct unit *u, const char *obj_path)
{
	struct stat st;
	size_t len;
	int i;

	if (stat(obj_path, &st))
		return fail("%s: %s", obj_path, strerror(errno));
	len = snprintf(u->sig, sizeof(u->sig), "%s %llu:%llu %lld %lld.%09ld|%llu|%llx|%s",
		       obj_path, (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
		       (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
		       u->p ? u->p->cgid : 0, u->p ? rodata_hash(u->p->obj) : 0ULL, u->c.map);
	for (i = 0; i < u->c.nr_defs && len < sizeof(u->sig); i++)
		len += snprintf(u->sig + len, sizeof(u->sig) - len, "|%s", u->c.defs[i]);
	return 0;
}

/*
 * Open @u's policy with its knobs and target (not loaded); 0, or 1 with a
 * message. @obj_path receives the object's path.
 */
static int unit_open(struct unit *u, char *obj_path, size_t len)
{
	const char *obj;
	int ret = 1;

	unit_context(u);
	obj = resolve_policy(u->c.policy, NULL, obj_path, len);
	if (!obj)
		goto out;
	if (obj != obj_path)
		snprintf(obj_path, len, "%s", obj);
	u->p = calloc(1, sizeof(*u->p));
	if (!u->p) {
		fail("%s", strerror(ENOMEM));
		goto out;
	}
	if (policy_open(u->p, obj_path, u->c.cgroup[0] ? u->c.cgroup : NULL,
			u->c.map[0] ? u->c.map : NULL, (const char *const *)u->c.defs,
			u->c.nr_defs)) {
		free(u->p);
		u->p = NULL;
		goto out;
	}
	if (u->p->oom)
		ops_name(u->p->obj, u->p->oom, u->oom_name, sizeof(u->oom_name));
	if (u->p->psi)
		ops_name(u->p->obj, u->p->psi, u->psi_name, sizeof(u->psi_name));
	ret = unit_signature(u, obj_path);
out:
	fail_context = NULL;
	return ret;
}

static int unit_load(struct unit *u)
{
	int ret;

	unit_context(u);
	ret = policy_load(u->p);
	fail_context = NULL;
	return ret;
}

/*
 * Two policies for one target (the system, or a cgroup): the kernel takes
 * one bpf_oom_ops per target, so the second could never attach. 0, or 1
 * with a message (EBUSY, as the attach would say).
 */
static int check_targets(const struct set *s)
{
	int i, j;

	for (i = 0; i < s->n; i++)
		for (j = 0; j < i; j++)
			if (s->u[i].p->oom && s->u[j].p->oom && s->u[i].p->cgid == s->u[j].p->cgid)
				return fail("%s: policy %s: %s already has policy %s from %s (one bpf_oom_ops policy per target): %s",
					    s->u[i].c.file, s->u[i].c.policy, s->u[i].p->scope,
					    s->u[j].c.policy, s->u[j].c.file, strerror(EBUSY));
	return 0;
}

/* ---- journal, stdout and metrics ------------------------------------------ */

/**
 * struct series - the counters of one policy (a half's name) at one scope
 * @policy: the record's policy name
 * @scope: "system", or the cgroup path it is attached to
 * @decisions: decisions by action (BPF_OOM_ACTION_*)
 * @kills: processes its kills made OOM victims (the records' kills)
 * @declines: declines by reason (BPF_OOM_REASON_*)
 * @disagreements: dry runs whose victim was not the kernel's
 */
struct series {
	char policy[BPF_OOM_RECORD_NAME_LEN];
	char scope[PATH_MAX];
	unsigned long long decisions[BPF_OOM_ACTION_MAX + 1];
	unsigned long long kills;
	unsigned long long declines[BPF_OOM_REASON_MAX + 1];
	unsigned long long disagreements;
};

static struct {
	const char *confdir;
	const char *metrics;		/* the file, NULL: none */
	bool metrics_off;		/* its directory is missing (said once) */
	struct set running;
	struct events *skel;
	struct series *series;
	int nr_series;
	unsigned long long bad;		/* records of an unknown layout */
	unsigned long long reloads_ok, reloads_failed;
	int journal;			/* the socket, -1: stdout */
	struct sockaddr_un journal_addr;
	socklen_t journal_len;
	bool journal_warned;
	long page_kb;
	bool dirty;			/* counters changed since the last write */
} svc = { .journal = -1 };

static struct series *series_of(const char *policy, const char *scope)
{
	struct series *s;
	int i;

	for (i = 0; i < svc.nr_series; i++)
		if (!strcmp(svc.series[i].policy, policy) && !strcmp(svc.series[i].scope, scope))
			return &svc.series[i];
	s = realloc(svc.series, (svc.nr_series + 1) * sizeof(*s));
	if (!s)
		return NULL;
	svc.series = s;
	s = &svc.series[svc.nr_series++];
	memset(s, 0, sizeof(*s));
	snprintf(s->policy, sizeof(s->policy), "%s", policy);
	snprintf(s->scope, sizeof(s->scope), "%s", scope);
	return s;
}

/* The scope label of a target: "system" or the configured cgroup path. */
static const char *unit_scope(const struct unit *u)
{
	return u->c.cgroup[0] ? u->c.cgroup : "system";
}

/* Where the record's policy is attached: "system", a configured cgroup, else its path or id. */
static const char *record_scope(const struct bpf_oom_record *r)
{
	static char buf[64];
	const char *path;
	int i;

	if (!r->attach_cgroup_id)
		return "system";
	for (i = 0; i < svc.running.n; i++)
		if (svc.running.u[i].p && svc.running.u[i].p->cgid == r->attach_cgroup_id)
			return unit_scope(&svc.running.u[i]);
	path = cgroup_path(r->attach_cgroup_id);
	if (path)
		return path;
	snprintf(buf, sizeof(buf), "cgroup id %llu", (unsigned long long)r->attach_cgroup_id);
	return buf;
}

/* A NUL-terminated copy of a fixed-size record string. */
static const char *rstr(const char *s, size_t len, char *buf)
{
	memcpy(buf, s, len);
	buf[len] = 0;
	return buf;
}

/*
 * One journal field into @buf (at *@off, at most @size): KEY=VALUE and a
 * newline, or, for a value with a newline in it, the native protocol's
 * binary form: KEY, newline, the value's length as 64-bit little-endian,
 * the value, newline.
 */
__attribute__((format(printf, 5, 6)))
static void field(char *buf, size_t size, size_t *off, const char *key, const char *fmt, ...)
{
	char val[PATH_MAX + 512];
	size_t klen = strlen(key), vlen;
	uint64_t le;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	vlen = strlen(val);
	if (!memchr(val, '\n', vlen)) {
		if (*off + klen + vlen + 2 <= size)
			*off += sprintf(buf + *off, "%s=%s\n", key, val);
		return;
	}
	if (*off + klen + 1 + 8 + vlen + 1 > size)
		return;
	memcpy(buf + *off, key, klen);
	buf[*off + klen] = '\n';
	*off += klen + 1;
	le = htole64(vlen);
	memcpy(buf + *off, &le, 8);
	*off += 8;
	memcpy(buf + *off, val, vlen);
	*off += vlen;
	buf[(*off)++] = '\n';
}

static void task_fields(char *buf, size_t size, size_t *off, const char *prefix,
			const struct bpf_oom_record_task *t)
{
	char key[64], comm[BPF_OOM_RECORD_COMM_LEN + 1];
	const char *path = cgroup_path(t->cgroup_id);

#define TASK_FIELD(name, fmt, ...) do { \
		snprintf(key, sizeof(key), "%s_%s", prefix, name); \
		field(buf, size, off, key, fmt, __VA_ARGS__); \
	} while (0)
	TASK_FIELD("PID", "%u", t->tgid);
	TASK_FIELD("TID", "%u", t->pid);
	TASK_FIELD("COMM", "%s", rstr(t->comm, sizeof(t->comm), comm));
	TASK_FIELD("CGROUP_ID", "%llu", (unsigned long long)t->cgroup_id);
	if (path)
		TASK_FIELD("CGROUP", "%s", path);
	TASK_FIELD("RSS_KB", "%llu", (unsigned long long)t->rss_pages * svc.page_kb);
	TASK_FIELD("SWAP_KB", "%llu", (unsigned long long)t->swap_pages * svc.page_kb);
	TASK_FIELD("OOM_SCORE_ADJ", "%d", t->oom_score_adj);
#undef TASK_FIELD
}

/* Whether a dry run chose another process than the one the kernel killed. */
static bool disagrees(const struct bpf_oom_record *r)
{
	return r->action == BPF_OOM_ACTION_DRY_RUN && (r->flags & BPF_OOM_RECORD_KERNEL_VICTIM) &&
	       r->kernel_victim.tgid != r->victim.tgid;
}

/* One record to the journal as structured fields; false if it could not be sent. */
static bool journal_record(const struct bpf_oom_record *r, const char *scope)
{
	static char buf[16384];
	char policy[BPF_OOM_RECORD_NAME_LEN + 1], domain[BPF_OOM_RECORD_PATH_LEN + 1];
	char comm[BPF_OOM_RECORD_COMM_LEN + 1], msg[1024];
	bool victim = r->action == BPF_OOM_ACTION_KILL || r->action == BPF_OOM_ACTION_DRY_RUN ||
		      r->victim.pid;
	size_t off = 0, n;

	rstr(r->policy, sizeof(r->policy), policy);
	rstr(r->domain_path, sizeof(r->domain_path), domain);
	n = snprintf(msg, sizeof(msg), "%s (%s): %s %s, %s", policy, scope,
		     trigger_name(r->trigger), domain, action_name(r->action));
	if (r->reason != BPF_OOM_REASON_NONE && n < sizeof(msg))
		n += snprintf(msg + n, sizeof(msg) - n, " (%s)", reason_name(r->reason));
	if (r->victim.pid && n < sizeof(msg))
		n += snprintf(msg + n, sizeof(msg) - n, ": %s %s[%u]",
			      r->action == BPF_OOM_ACTION_KILL ? "killed" : "victim",
			      rstr(r->victim.comm, sizeof(r->victim.comm), comm), r->victim.tgid);
	if (r->kills > 1 && n < sizeof(msg))
		n += snprintf(msg + n, sizeof(msg) - n, " and %u more", r->kills - 1);
	if ((r->flags & BPF_OOM_RECORD_KERNEL_VICTIM) && n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - n, "; the kernel killed %s[%u]",
			 rstr(r->kernel_victim.comm, sizeof(r->kernel_victim.comm), comm),
			 r->kernel_victim.tgid);

	field(buf, sizeof(buf), &off, "MESSAGE", "%s", msg);
	/* a kill is a warning, a shadow-mode choice a notice, a decline information */
	field(buf, sizeof(buf), &off, "PRIORITY", "%d",
	      r->action == BPF_OOM_ACTION_KILL ? 4 : r->action == BPF_OOM_ACTION_DRY_RUN ? 5 : 6);
	field(buf, sizeof(buf), &off, "SYSLOG_IDENTIFIER", "bpf-oom");
	field(buf, sizeof(buf), &off, "POLICY", "%s", policy);
	field(buf, sizeof(buf), &off, "SCOPE", "%s", scope);
	field(buf, sizeof(buf), &off, "ATTACH_CGROUP_ID", "%llu",
	      (unsigned long long)r->attach_cgroup_id);
	field(buf, sizeof(buf), &off, "TRIGGER", "%s", trigger_name(r->trigger));
	field(buf, sizeof(buf), &off, "ACTION", "%s", action_name(r->action));
	field(buf, sizeof(buf), &off, "REASON", "%s", reason_name(r->reason));
	field(buf, sizeof(buf), &off, "KILLS", "%u",
	      r->version < 2 && r->action == BPF_OOM_ACTION_KILL ? 1 : r->kills);
	field(buf, sizeof(buf), &off, "EPISODE", "%llu", (unsigned long long)r->episode);
	field(buf, sizeof(buf), &off, "DOMAIN", "%s", domain);
	field(buf, sizeof(buf), &off, "DOMAIN_CGROUP_ID", "%llu",
	      (unsigned long long)r->domain_cgroup_id);
	field(buf, sizeof(buf), &off, "CONSTRAINT", "%s", constraint_name(r->constraint));
	field(buf, sizeof(buf), &off, "GFP_MASK", "0x%x", r->gfp_mask);
	field(buf, sizeof(buf), &off, "ORDER", "%d", r->order);
	if (r->psi_window_us) {
		field(buf, sizeof(buf), &off, "PSI_RESOURCE", "%u", r->psi_resource & ~0x80000000u);
		field(buf, sizeof(buf), &off, "PSI_FULL", "%d", !!(r->psi_resource & 0x80000000u));
		field(buf, sizeof(buf), &off, "PSI_THRESHOLD_US", "%u", r->psi_threshold_us);
		field(buf, sizeof(buf), &off, "PSI_WINDOW_US", "%u", r->psi_window_us);
	}
	if (victim)
		task_fields(buf, sizeof(buf), &off, "VICTIM", &r->victim);
	if (r->flags & BPF_OOM_RECORD_KERNEL_VICTIM)
		task_fields(buf, sizeof(buf), &off, "KERNEL_VICTIM", &r->kernel_victim);
	if (r->action == BPF_OOM_ACTION_DRY_RUN && (r->flags & BPF_OOM_RECORD_KERNEL_VICTIM))
		field(buf, sizeof(buf), &off, "SHADOW_AGREES", "%d", !disagrees(r));
	field(buf, sizeof(buf), &off, "DURATION_NS", "%llu", (unsigned long long)r->duration_ns);
	field(buf, sizeof(buf), &off, "RECORD_TIME_NS", "%llu", (unsigned long long)r->time_ns);
	field(buf, sizeof(buf), &off, "RECORD_VERSION", "%u", r->version);

	return sendto(svc.journal, buf, off, MSG_NOSIGNAL, (struct sockaddr *)&svc.journal_addr,
		      svc.journal_len) == (ssize_t)off;
}

static int on_record(void *ctx, void *data, size_t size)
{
	const struct bpf_oom_record *r = data;
	char policy[BPF_OOM_RECORD_NAME_LEN + 1];
	const char *scope;
	struct series *s;

	(void)ctx;
	/* fields are only ever appended (record.h): a newer module's prefix is ours */
	if (size < sizeof(*r) || r->version < 1 || r->size < sizeof(*r)) {
		svc.bad++;
		svc.dirty = true;
		return 0;
	}
	scope = record_scope(r);
	s = series_of(rstr(r->policy, sizeof(r->policy), policy), scope);
	if (s) {
		if (r->action <= BPF_OOM_ACTION_MAX)
			s->decisions[r->action]++;
		if (r->action == BPF_OOM_ACTION_KILL)
			s->kills += r->version < 2 ? 1 : r->kills;
		if (r->action == BPF_OOM_ACTION_DECLINE && r->reason <= BPF_OOM_REASON_MAX)
			s->declines[r->reason]++;
		if (disagrees(r))
			s->disagreements++;
	}
	svc.dirty = true;
	if (svc.journal >= 0 && journal_record(r, scope))
		return 0;
	if (svc.journal >= 0 && !svc.journal_warned) {
		fprintf(stderr, "bpf-oom: cannot write to the journal (%s): %s; records go to standard output\n",
			svc.journal_addr.sun_path, strerror(errno));
		svc.journal_warned = true;
	}
	print_record_text(r, svc.page_kb);
	return 0;
}

/* The journal's native socket: $BPF_OOM_JOURNAL_SOCKET, else systemd's if it exists. */
static void journal_open(void)
{
	const char *path = getenv("BPF_OOM_JOURNAL_SOCKET");

	if (!path || !*path)
		path = SERVICE_JOURNAL;
	if (access(path, F_OK) || strlen(path) >= sizeof(svc.journal_addr.sun_path)) {
		fprintf(stderr, "bpf-oom: no journal socket at %s: decision records go to standard output\n",
			path);
		return;
	}
	svc.journal = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (svc.journal < 0) {
		fprintf(stderr, "bpf-oom: no journal: socket: %s\n", strerror(errno));
		return;
	}
	svc.journal_addr.sun_family = AF_UNIX;
	strcpy(svc.journal_addr.sun_path, path);
	svc.journal_len = offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
}

/* A Prometheus label value: backslash, double quote and newline escaped. */
static void label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void metric_labels(FILE *f, const char *name, const struct series *s)
{
	fprintf(f, "%s{policy=\"", name);
	label(f, s->policy);
	fputs("\",scope=\"", f);
	label(f, s->scope);
	fputc('"', f);
}

/* The module's own count of records it could not emit (/proc/bpf_oom/records). */
static long long module_dropped(void)
{
	char line[128];
	long long v = -1;
	FILE *f = fopen(RECORDS, "re");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "dropped %lld", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

/*
 * The metrics file, rewritten whole: FILE.tmp, then renamed over FILE (a
 * reader sees the old file or the new one). Only if FILE's directory
 * exists (node_exporter's textfile directory: the package's Recommends).
 */
static void write_metrics(bool attached)
{
	char tmp[PATH_MAX + 8], dir[PATH_MAX], *slash;
	long long mdropped;
	struct stat st;
	int i, j, fd;
	FILE *f;

	if (!svc.metrics || svc.metrics_off)
		return;
	/* a failed write is tried again by the 15 s timer, not at every poll */
	svc.dirty = false;
	snprintf(dir, sizeof(dir), "%s", svc.metrics);
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = 0;
	if (stat(slash ? dir : ".", &st) || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "bpf-oom: no metrics: %s is not a directory (node_exporter's textfile directory; install prometheus-node-exporter)\n",
			slash ? dir : ".");
		svc.metrics_off = true;
		return;
	}
	/*
	 * A new file of a random name (O_EXCL): the directory may be writable
	 * by another user (node_exporter's), who could plant a symlink under a
	 * fixed name. node_exporter reads only *.prom files.
	 */
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", svc.metrics);
	fd = mkostemp(tmp, O_CLOEXEC);
	f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f) {
		fprintf(stderr, "bpf-oom: cannot write %s: %s\n", tmp, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		return;
	}
	fputs("# HELP bpf_oom_decisions_total Decisions of a policy, by action (kill, dry_run, decline).\n"
	      "# TYPE bpf_oom_decisions_total counter\n", f);
	for (i = 0; i < svc.nr_series; i++)
		for (j = 1; j <= BPF_OOM_ACTION_MAX; j++) {
			metric_labels(f, "bpf_oom_decisions_total", &svc.series[i]);
			fprintf(f, ",action=\"%s\"} %llu\n", action_name(j),
				svc.series[i].decisions[j]);
		}
	fputs("# HELP bpf_oom_kills_total Processes a policy's kills made OOM victims.\n"
	      "# TYPE bpf_oom_kills_total counter\n", f);
	for (i = 0; i < svc.nr_series; i++) {
		metric_labels(f, "bpf_oom_kills_total", &svc.series[i]);
		fprintf(f, "} %llu\n", svc.series[i].kills);
	}
	fputs("# HELP bpf_oom_declines_total Declined decisions of a policy, by reason.\n"
	      "# TYPE bpf_oom_declines_total counter\n", f);
	for (i = 0; i < svc.nr_series; i++)
		for (j = 0; j <= BPF_OOM_REASON_MAX; j++) {
			if (!svc.series[i].declines[j])
				continue;
			metric_labels(f, "bpf_oom_declines_total", &svc.series[i]);
			fprintf(f, ",reason=\"%s\"} %llu\n", reason_name(j),
				svc.series[i].declines[j]);
		}
	fputs("# HELP bpf_oom_shadow_disagreements_total Dry runs (shadow mode) whose victim was not the process the kernel killed.\n"
	      "# TYPE bpf_oom_shadow_disagreements_total counter\n", f);
	for (i = 0; i < svc.nr_series; i++) {
		metric_labels(f, "bpf_oom_shadow_disagreements_total", &svc.series[i]);
		fprintf(f, "} %llu\n", svc.series[i].disagreements);
	}
	fputs("# HELP bpf_oom_policy_attached Whether the service holds this policy attached (1) or not (0).\n"
	      "# TYPE bpf_oom_policy_attached gauge\n", f);
	for (i = 0; i < svc.nr_series; i++) {
		int on = 0;

		for (j = 0; attached && j < svc.running.n; j++) {
			const struct unit *u = &svc.running.u[j];

			if ((!strcmp(u->oom_name, svc.series[i].policy) &&
			     !strcmp(unit_scope(u), svc.series[i].scope)) ||
			    (!strcmp(u->psi_name, svc.series[i].policy) &&
			     !strcmp("system", svc.series[i].scope)))
				on = 1;
		}
		metric_labels(f, "bpf_oom_policy_attached", &svc.series[i]);
		fprintf(f, "} %d\n", on);
	}
	fputs("# HELP bpf_oom_policies_attached Configured policies (files) the service holds attached.\n"
	      "# TYPE bpf_oom_policies_attached gauge\n", f);
	fprintf(f, "bpf_oom_policies_attached %d\n", attached ? svc.running.n : 0);
	fputs("# HELP bpf_oom_records_total Decision records the service received.\n"
	      "# TYPE bpf_oom_records_total counter\n", f);
	fprintf(f, "bpf_oom_records_total %llu\n",
		svc.skel ? (unsigned long long)svc.skel->bss->seen : 0ULL);
	fputs("# HELP bpf_oom_records_dropped_total Decision records lost: the service's ring buffer was full (ring_buffer), of a layout it does not know (unknown_layout), or the module could not emit them (module).\n"
	      "# TYPE bpf_oom_records_dropped_total counter\n", f);
	fprintf(f, "bpf_oom_records_dropped_total{where=\"ring_buffer\"} %llu\n",
		svc.skel ? (unsigned long long)svc.skel->bss->dropped : 0ULL);
	fprintf(f, "bpf_oom_records_dropped_total{where=\"unknown_layout\"} %llu\n", svc.bad);
	mdropped = module_dropped();
	if (mdropped >= 0)
		fprintf(f, "bpf_oom_records_dropped_total{where=\"module\"} %lld\n", mdropped);
	fputs("# HELP bpf_oom_reloads_total Configuration reloads (SIGHUP), by result.\n"
	      "# TYPE bpf_oom_reloads_total counter\n", f);
	fprintf(f, "bpf_oom_reloads_total{result=\"ok\"} %llu\n", svc.reloads_ok);
	fprintf(f, "bpf_oom_reloads_total{result=\"failed\"} %llu\n", svc.reloads_failed);
	if (fchmod(fileno(f), 0644) || fflush(f) || ferror(f)) {
		fprintf(stderr, "bpf-oom: cannot write %s: %s\n", tmp, strerror(errno));
		fclose(f);
		unlink(tmp);
		return;
	}
	fclose(f);
	if (rename(tmp, svc.metrics)) {
		fprintf(stderr, "bpf-oom: cannot rename %s to %s: %s\n", tmp, svc.metrics,
			strerror(errno));
		unlink(tmp);
		return;
	}
}

/* Zero series for what is attached, so that every attached policy shows in the metrics. */
static void series_for_running(void)
{
	int i;

	for (i = 0; i < svc.running.n; i++) {
		if (svc.running.u[i].oom_name[0])
			series_of(svc.running.u[i].oom_name, unit_scope(&svc.running.u[i]));
		if (svc.running.u[i].psi_name[0])
			series_of(svc.running.u[i].psi_name, "system");
	}
}

/* ---- systemd's notification protocol ---------------------------------------- */

/*
 * One datagram to $NOTIFY_SOCKET (a path, or "@name" for an abstract
 * socket), as sd_notify(3) describes the protocol; nothing without it.
 */
__attribute__((format(printf, 1, 2)))
static void notify(const char *fmt, ...)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char msg[512];
	socklen_t len;
	va_list ap;
	int fd, n;

	if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(addr.sun_path))
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return;
	memcpy(addr.sun_path, path, strlen(path));
	if (path[0] == '@')
		addr.sun_path[0] = 0;
	len = offsetof(struct sockaddr_un, sun_path) + strlen(path) + (path[0] == '/');
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || sendto(fd, msg, n, MSG_NOSIGNAL, (struct sockaddr *)&addr, len) != n)
		fprintf(stderr, "bpf-oom: cannot notify %s: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
}

static unsigned long long monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
}

/* ---- start, reload, stop ---------------------------------------------------- */

/*
 * The configuration of @dir, every policy opened and loaded, nothing
 * attached. Units equal to one of @running (by signature) are not loaded
 * again: they point to it (->same). 0, or 1 with a message (@s freed).
 */
static int load_config(const char *dir, struct set *s, const struct set *running)
{
	char obj_path[PATH_MAX];
	int i, j;

	if (read_config(dir, s))
		goto err;
	for (i = 0; i < s->n; i++) {
		struct unit *u = &s->u[i];

		if (unit_open(u, obj_path, sizeof(obj_path)))
			goto err;
		for (j = 0; running && j < running->n; j++) {
			int k;

			/* a running unit is kept for one new unit at most */
			for (k = 0; k < i && s->u[k].same != &running->u[j]; k++)
				;
			if (k == i && !strcmp(running->u[j].sig, u->sig) && running->u[j].p) {
				u->same = &running->u[j];
				break;
			}
		}
		if (!u->same && unit_load(u))
			goto err;
	}
	return 0;
err:
	set_free(s);
	return 1;
}

/* Attach every unit of @s, or none (a message says which failed and why). */
static int attach_all(struct set *s)
{
	int i, j;

	for (i = 0; i < s->n; i++) {
		unit_context(&s->u[i]);
		if (policy_attach(s->u[i].p)) {
			fail_context = NULL;
			for (j = 0; j < i; j++) {
				bpf_link__destroy(s->u[j].p->l_psi);
				bpf_link__destroy(s->u[j].p->l_oom);
				s->u[j].p->l_psi = s->u[j].p->l_oom = NULL;
			}
			if (i)
				fprintf(stderr, "bpf-oom: detached the %d policies attached before it: nothing is attached\n",
					i);
			return 1;
		}
		fail_context = NULL;
		printf("bpf-oom: %s: attached %s to %s\n", s->u[i].c.file, s->u[i].c.policy,
		       s->u[i].p->scope);
	}
	return 0;
}

/* The running unit whose OOM half holds the target of @u's, other than a kept one. */
static struct unit *same_target(struct set *running, const struct unit *u)
{
	int i;

	for (i = 0; i < running->n; i++) {
		struct unit *o = &running->u[i];

		if (o->p && o->p->l_oom && o->p->cgid == u->p->cgid)
			return o;
	}
	return NULL;
}

/*
 * SIGHUP: the new configuration replaces the running one without a window
 * in which a kept target has no policy. On any failure the running set
 * stays as it was and the error is logged. 0 or 1.
 */
static int reload(void)
{
	struct set next, *cur = &svc.running;
	struct unit **from = NULL;	/* per next unit: the running unit whose link it took */
	int i, kept = 0, updated = 0, attached = 0, detached = 0, err;

	notify("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading the configuration",
	       monotonic_usec());
	fprintf(stderr, "bpf-oom: reloading %s\n", svc.confdir);
	if (load_config(svc.confdir, &next, cur))
		goto failed;
	/* hand the kept policies over first: a same-target check sees them */
	for (i = 0; i < next.n; i++) {
		if (next.u[i].same) {
			policy_close(next.u[i].p);
			free(next.u[i].p);
			next.u[i].p = next.u[i].same->p;
		}
	}
	if (check_targets(&next))
		goto failed_next;
	from = calloc(next.n > 0 ? (size_t)next.n : 1, sizeof(*from));
	if (!from) {
		fail("%s", strerror(ENOMEM));
		goto failed_next;
	}

	/* 1. targets kept with another policy: replaced in place (BPF_LINK_UPDATE) */
	for (i = 0; i < next.n; i++) {
		struct unit *n = &next.u[i], *o;

		if (n->same || !n->p->oom || !(o = same_target(cur, n)) || o->p == n->p)
			continue;
		err = bpf_link__update_map(o->p->l_oom, n->p->oom);
		if (err) {
			fail("%s: policy %s: cannot replace %s on %s in place (BPF_LINK_UPDATE): %s%s",
			     n->c.file, n->c.policy, o->oom_name, n->p->scope, strerror(-err),
			     err == -EOPNOTSUPP ? " (a bpf_oom module without bpf_oom_ops .update: stop and start the service instead)" : "");
			goto rollback;
		}
		n->p->l_oom = o->p->l_oom;
		o->p->l_oom = NULL;
		from[i] = o;
		updated++;
	}
	/* 2. new targets, and every new PSI half (before the old ones go) */
	for (i = 0; i < next.n; i++) {
		struct unit *n = &next.u[i];

		if (n->same)
			continue;
		unit_context(n);
		if (n->p->oom && !n->p->l_oom) {
			n->p->l_oom = bpf_map__attach_struct_ops(n->p->oom);
			if (!n->p->l_oom) {
				fail("attaching to %s: %s", n->p->scope, strerror(errno));
				goto rollback;
			}
			attached++;
		}
		if (n->p->psi) {
			n->p->l_psi = bpf_map__attach_struct_ops(n->p->psi);
			if (!n->p->l_psi) {
				fail("attaching %s: its init failed: %s (the kernel log says why)",
				     bpf_map__name(n->p->psi), strerror(errno));
				goto rollback;
			}
		}
		fail_context = NULL;
	}
	/* 3. what left the configuration, and the old halves of what was replaced */
	for (i = 0; i < cur->n; i++) {
		bool kept_unit = false;
		int j;

		for (j = 0; j < next.n; j++)
			if (next.u[j].same == &cur->u[i])
				kept_unit = true;
		if (kept_unit) {
			cur->u[i].p = NULL;	/* next holds it now */
			kept++;
		} else if (cur->u[i].p) {
			detached += cur->u[i].p->l_oom != NULL;
		}
	}
	set_free(cur);
	*cur = next;
	for (i = 0; i < cur->n; i++)
		cur->u[i].same = NULL;
	free(from);
	svc.reloads_ok++;
	series_for_running();
	write_metrics(true);
	fprintf(stderr, "bpf-oom: reloaded: %d policies: %d kept, %d replaced in place, %d attached to new targets, %d targets left\n",
		cur->n, kept, updated, attached, detached);
	notify("READY=1\nSTATUS=attached %d policies", cur->n);
	return 0;

rollback:
	fail_context = NULL;
	for (i = next.n - 1; i >= 0; i--) {
		struct unit *n = &next.u[i];

		if (n->same)
			continue;
		bpf_link__destroy(n->p->l_psi);
		n->p->l_psi = NULL;
		if (from[i]) {
			/* back to the running policy, which never stopped being loaded */
			err = bpf_link__update_map(n->p->l_oom, from[i]->p->oom);
			if (err)
				fprintf(stderr, "bpf-oom: %s: cannot put %s back on %s: %s: %s stays there\n",
					from[i]->c.file, from[i]->oom_name, n->p->scope,
					strerror(-err), n->oom_name);
			from[i]->p->l_oom = n->p->l_oom;
			n->p->l_oom = NULL;
		} else {
			bpf_link__destroy(n->p->l_oom);
			n->p->l_oom = NULL;
		}
	}
failed_next:
	free(from);
	for (i = 0; i < next.n; i++)
		if (next.u[i].same)
			next.u[i].p = NULL;	/* the running set's */
	set_free(&next);
failed:
	svc.reloads_failed++;
	write_metrics(true);
	fprintf(stderr, "bpf-oom: reload failed: the %d running policies stay attached as they were\n",
		cur->n);
	notify("READY=1\nSTATUS=reload failed (see the log); attached %d policies", cur->n);
	return 1;
}

static volatile sig_atomic_t got_stop, got_reload;

static void on_service_signal(int sig)
{
	if (sig == SIGHUP)
		got_reload = 1;
	else
		got_stop = 1;
}

/**
 * cmd_service() - bpf-oom service
 * @confdir: the configuration directory (*.conf)
 * @metrics: the Prometheus text file, or NULL
 * @check: parse and load only (--check)
 *
 * Return: the exit status: 0 (stopped by SIGTERM or SIGINT, or --check
 * passed), 1 (a policy could not be loaded or attached: nothing stays
 * attached).
 */
int cmd_service(const char *confdir, const char *metrics, bool check)
{
	struct sigaction sa = { .sa_handler = on_service_signal };	/* no SA_RESTART */
	struct ring_buffer *rb = NULL;
	long last_write;
	int err, i, ret = EXIT_FAILED;

	svc.confdir = confdir;
	svc.metrics = metrics;
	svc.page_kb = sysconf(_SC_PAGESIZE) / 1024;
	knob_flag = "Set=";
	map_flag = "Map=";
	cgroup_flag = "Cgroup=";
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (check) {
		if (load_config(confdir, &svc.running, NULL))
			return EXIT_FAILED;
		ret = check_targets(&svc.running) ? EXIT_FAILED : EXIT_OK;
		if (!ret)
			printf("bpf-oom: %s: %d policies, every one loads (nothing attached: --check)\n",
			       confdir, svc.running.n);
		set_free(&svc.running);
		return ret;
	}

	if (access(MODULE_BTF, F_OK))
		return fail("the bpf_oom module is not loaded (%s missing): modprobe bpf_oom",
			    MODULE_BTF);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* the records first, so that the first decision of a policy is seen */
	svc.skel = events__open_and_load();
	if (!svc.skel)
		return fail("cannot load the events program: %s (needs CAP_BPF and CAP_PERFMON, or root)",
			    strerror(errno));
	err = events__attach(svc.skel);
	if (err) {
		fail("cannot attach to the tracepoint bpf_oom_decision: %s", strerror(-err));
		goto out;
	}
	rb = ring_buffer__new(bpf_map__fd(svc.skel->maps.records), on_record, NULL, NULL);
	if (!rb) {
		fail("cannot open the ring buffer: %s", strerror(errno));
		goto out;
	}
	journal_open();

	/* everything loaded before anything is attached; then all or nothing */
	if (load_config(confdir, &svc.running, NULL))
		goto out;
	if (got_stop) {		/* SIGTERM while loading: nothing attached */
		ret = EXIT_OK;
		goto out;
	}
	if (attach_all(&svc.running))
		goto out;
	series_for_running();
	write_metrics(true);
	last_write = mono_s();
	fprintf(stderr, "bpf-oom: %d policies attached from %s\n", svc.running.n, confdir);
	notify("READY=1\nSTATUS=attached %d policies", svc.running.n);

	while (!got_stop) {
		if (got_reload) {
			got_reload = 0;
			reload();
		}
		err = ring_buffer__poll(rb, 250);
		if (err < 0 && err != -EINTR) {
			fail("reading the ring buffer: %s", strerror(-err));
			break;
		}
		if (svc.dirty || mono_s() - last_write >= METRICS_INTERVAL_S) {
			write_metrics(true);
			last_write = mono_s();
		}
	}
	/*
	 * Stopped by a signal: 0. The record stream failed: EXIT_LOST, which
	 * the unit restarts (RestartForceExitStatus=3), where a configuration
	 * error at start (1) fails it.
	 */
	ret = got_stop ? EXIT_OK : EXIT_LOST;
	notify("STOPPING=1\nSTATUS=detaching %d policies", svc.running.n);
	ring_buffer__consume(rb);
	for (i = 0; i < svc.running.n; i++) {
		policy_close(svc.running.u[i].p);
		free(svc.running.u[i].p);
		svc.running.u[i].p = NULL;
	}
	write_metrics(false);
	fprintf(stderr, "bpf-oom: stopped: %d policies detached\n", svc.running.n);
out:
	set_free(&svc.running);
	ring_buffer__free(rb);
	events__destroy(svc.skel);
	if (svc.journal >= 0)
		close(svc.journal);
	free(svc.series);
	return ret;
}
