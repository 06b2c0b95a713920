// SPDX-License-Identifier: GPL-2.0
/*
 * bpf-oom-loader - attach BPF OOM policies system-wide or to a cgroup.
 *
 *   bpf-oom-loader attach [-c CGROUP] [-m MAP] [-D NAME=VALUE]... [-p PINDIR] [-v] OBJ.bpf.o
 *   bpf-oom-loader detach (-c CGROUP | -s | -m PSIMAP) [-p PINDIR]
 *   bpf-oom-loader list
 *   bpf-oom-loader events [-j|--json] [-n COUNT]
 *
 * OBJ holds a bpf_oom_ops policy (attached system-wide, or to CGROUP), a
 * bpf_psi_ops policy (attached as such: its triggers say what it watches;
 * pinned as "psi-<MAP>"), or one of each: a policy with two halves
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
 * this loader's -c sets it before load. Attaching needs CAP_SYS_ADMIN. The link is pinned (PINDIR, default /sys/fs/bpf/bpf-oom, as
 * "system" or "cgroup-<id>"), so the policy outlives the command; detach
 * removes the pin, which drops the link and detaches the policy at once.
 *
 * events follows the decision records of every attached policy (the
 * module's tracepoint bpf_oom:bpf_oom_decision, copied into a BPF ring
 * buffer by tool/events.bpf.c): one line per record, or one JSON object per
 * line with -j; -n stops after COUNT records; SIGINT and SIGTERM stop it
 * cleanly. Records the ring buffer had no room for are counted and reported.
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
#include <time.h>
#include <unistd.h>

#include <bpf_oom/record.h>
#include "bpf-oom-events.skel.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define CGROUP2_SUPER_MAGIC 0x63677270
#define MODULE_BTF "/sys/kernel/btf/bpf_oom"
#define POLICIES "/proc/bpf_oom/policies"
#define PSI_TRIGGERS "/proc/bpf_oom/psi"
#define RECORDS "/proc/bpf_oom/records"
#define MAX_DEFS 16

static bool verbose;
/* The verifier refused a kernel task pointer to a module kfunc (see below). */
static bool task_type_mismatch;

static int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("bpf-oom-loader: ", stderr);
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

static int usage(void)
{
	fprintf(stderr,
		"usage: bpf-oom-loader attach [-c CGROUP] [-m MAP] [-D NAME=VALUE]... [-p PINDIR] [-v] OBJ.bpf.o\n"
		"       bpf-oom-loader detach (-c CGROUP | -s | -m PSIMAP) [-p PINDIR]\n"
		"       bpf-oom-loader list\n"
		"       bpf-oom-loader events [-j|--json] [-n COUNT]\n"
		"CGROUP is a cgroup v2 path, absolute or under " CGROUP_ROOT "; -c is how a policy\n"
		"attaches to a cgroup on this kernel (it sets the ops' cgroup_id): upstream's\n"
		"link_create with a cgroup fd is refused, not made system-wide. Needs CAP_SYS_ADMIN.\n"
		"-D sets a policy knob (a const volatile global): an integer or a cgroup path,\n"
		"a string for a char array, or for an array knob a comma-separated list.\n");
	return 2;
}

/* The cgroup id (the cgroupfs inode) of @path; 0 with a message on error. */
static unsigned long long cgroup_id_of(const char *path)
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
		return fail("-D %s: unexpected layout", name);
	memset(dst, 0, size);
	while (*p) {
		const char *end = list ? strchrnul(p, ',') : p + strlen(p);

		if (i == count)
			return fail("-D %s: at most %zu values", name, count);
		if ((size_t)(end - p) >= len)
			return fail("-D %s: '%.*s' is longer than %zu characters", name,
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
		return fail("-D %s: %s does not fit in its %zu byte(s)", name, s, size);
	if (errno || end == s || *end)
		return fail("-D %s: %s is not a number or a cgroup path", name, s);
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
		return fail("-D %s: expected NAME=VALUE", def);
	snprintf(name, sizeof(name), "%.*s", (int)(eq - def), def);
	rodata = bpf_object__find_map_by_name(obj, ".rodata");
	data = rodata ? bpf_map__initial_value(rodata, &size) : NULL;
	sec = data && btf ? btf__type_by_id(btf, bpf_map__btf_value_type_id(rodata)) : NULL;
	if (!sec || !btf_is_datasec(sec))
		return fail("-D %s: the policy has no read-only globals", name);
	for (i = 0, vs = btf_var_secinfos(sec); i < btf_vlen(sec); i++, vs++) {
		var = btf__type_by_id(btf, vs->type);
		if (strcmp(btf__name_by_offset(btf, var->name_off), name))
			continue;
		if (vs->offset + vs->size > size)
			return fail("-D %s: unexpected layout", name);
		t = btf__type_by_id(btf, btf__resolve_type(btf, var->type));
		if (t && btf_is_array(t) && is_string_array(btf, t))
			return set_strings(name, eq + 1, btf, t, data + vs->offset, vs->size);
		if (t && btf_is_array(t)) {
			const struct btf_array *a = btf_array(t);
			long esz = btf__resolve_size(btf, a->type);
			char list[1024], *tok, *save;
			unsigned int n = 0;

			if (esz <= 0 || esz > (long)sizeof(v) || vs->offset + vs->size > size)
				return fail("-D %s: not an array of integers", name);
			snprintf(list, sizeof(list), "%s", eq + 1);
			memset(data + vs->offset, 0, vs->size);
			for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				if (n == a->nelems)
					return fail("-D %s: at most %u values", name, a->nelems);
				if (knob_value(name, tok, esz, &v))
					return 1;
				memcpy(data + vs->offset + n++ * esz, &v, esz);
			}
			return 0;
		}
		if (vs->size > sizeof(v) || vs->offset + vs->size > size)
			return fail("-D %s: not an integer variable", name);
		if (knob_value(name, eq + 1, vs->size, &v))
			return 1;
		/* little-endian: the low bytes hold the value */
		memcpy(data + vs->offset, &v, vs->size);
		return 0;
	}
	return fail("-D %s: the policy has no read-only global of that name", name);
}

static bool is_ops_type(const struct btf *btf, const struct bpf_map *map, const char *type)
{
	const struct btf_type *t = btf__type_by_id(btf, bpf_map__btf_value_type_id(map));

	return t && !strcmp(btf__name_by_offset(btf, t->name_off), type);
}

/* Attach @map, pin it; the link on success (the pin holds it), NULL with a message. */
static struct bpf_link *attach_pin(struct bpf_map *map, bool psi, const char *scope,
				   const char *pindir, unsigned long long cgid, const char *obj_path,
				   char *pin, size_t pin_len)
{
	struct bpf_link *link = bpf_map__attach_struct_ops(map);
	int err;

	if (!link) {
		err = errno;
		if (err == EBUSY && !psi)
			fail("%s already has a bpf_oom_ops policy attached: detach it first", scope);
		else if (err == ENOENT && !psi)
			fail("attaching to %s: the cgroup is gone", scope);
		else if (psi)
			fail("attaching %s: its init failed: %s (the kernel log says why)",
			     bpf_map__name(map), strerror(err));
		else if (err == EPERM)
			fail("attaching: permission denied (run as root)");
		else
			fail("attaching to %s: %s (the kernel log says why)", scope, strerror(err));
		return NULL;
	}
	/* pin, so the policy outlives this command */
	if (mkdir(pindir, 0700) && errno != EEXIST) {
		fail("cannot create %s: %s (is bpffs mounted at /sys/fs/bpf?)", pindir,
		     strerror(errno));
		bpf_link__destroy(link);
		return NULL;
	}
	pin_path(pin, pin_len, pindir, cgid, psi ? bpf_map__name(map) : NULL);
	err = bpf_link__pin(link, pin);
	if (err) {
		fail("cannot pin the link at %s: %s", pin, strerror(-err));
		bpf_link__destroy(link);
		return NULL;
	}
	if (psi)
		printf("attached bpf_psi_ops %s (%s), pinned at %s\n", bpf_map__name(map), obj_path, pin);
	else
		printf("attached %s (%s) to %s, pinned at %s\n", bpf_map__name(map), obj_path, scope,
		       pin);
	return link;
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
 * attach: a bpf_oom_ops policy, a bpf_psi_ops one, or a policy with both
 * halves (a PSI side that declares OOMs and an OOM side that chooses: both
 * are attached, the OOM side first, or neither).
 */
static int cmd_attach(const char *obj_path, const char *cgroup, const char *map_name,
		      const char *pindir, const char *const *defs, int nr_defs)
{
	struct bpf_object *obj = NULL;
	struct bpf_map *map, *oom, *psi;
	unsigned long long cgid = 0;
	struct bpf_link *l_oom = NULL, *l_psi = NULL;
	char pin_oom[4096], pin_psi[4096], scope[4200];
	int off, err, ret = 1, nr_oom, nr_psi, i;
	size_t size;
	void *data;

	if (access(MODULE_BTF, F_OK))
		return fail("the bpf_oom module is not loaded (%s missing): modprobe bpf_oom",
			    MODULE_BTF);
	if (cgroup) {
		cgid = cgroup_id_of(cgroup);
		if (!cgid)
			return 1;
		snprintf(scope, sizeof(scope), "cgroup %s", cgroup);
	} else {
		snprintf(scope, sizeof(scope), "system-wide");
	}

	obj = bpf_object__open_file(obj_path, NULL);
	if (!obj)
		return fail("cannot open %s: %s", obj_path, strerror(errno));

	/* the policy: the maps -m names, or the object's one of each kind */
	oom = find_ops(obj, "bpf_oom_ops", map_name, &nr_oom);
	psi = find_ops(obj, "bpf_psi_ops", map_name, &nr_psi);
	if (!oom && !psi) {
		fail("%s has no bpf_oom_ops or bpf_psi_ops map%s%s", obj_path,
		     map_name ? " named " : "", map_name ?: "");
		goto out;
	}
	if (nr_oom > 1 || nr_psi > 1) {
		fail("%s has %d %s maps: choose one with -m", obj_path, nr_oom > 1 ? nr_oom : nr_psi,
		     nr_oom > 1 ? "bpf_oom_ops" : "bpf_psi_ops");
		goto out;
	}
	bpf_object__for_each_map(map, obj)
		if (bpf_map__type(map) == BPF_MAP_TYPE_STRUCT_OPS && map != oom && map != psi)
			bpf_map__set_autocreate(map, false);
	if (psi && !oom && cgid) {
		fail("%s is a bpf_psi_ops policy: it is not attached to a cgroup, its triggers say which cgroups it watches (see its knobs, -D)",
		     bpf_map__name(psi));
		goto out;
	}
	if (psi && oom && cgid) {
		fail("%s declares system-wide OOMs from its PSI side, which only a system-wide OOM side sees: attach it without -c",
		     obj_path);
		goto out;
	}
	if (map_name) {
		int all_oom, all_psi;

		/*
		 * One half of a two-half policy alone: a PSI side whose
		 * declared OOMs go to the kernel, or an OOM side without its
		 * clock. Refused.
		 */
		find_ops(obj, "bpf_oom_ops", NULL, &all_oom);
		find_ops(obj, "bpf_psi_ops", NULL, &all_psi);
		if (all_oom == 1 && all_psi == 1) {
			fail("%s is one half of a policy with a bpf_oom_ops and a bpf_psi_ops side: attach %s without -m, which attaches both",
			     map_name, obj_path);
			goto out;
		}
	}
	for (i = 0; i < nr_defs; i++)
		if (set_knob(obj, defs[i]))
			goto out;

	/* set the target cgroup (of the OOM side) */
	if (oom && cgid) {
		off = member_offset(bpf_object__btf(obj), bpf_map__btf_value_type_id(oom), "cgroup_id");
		data = bpf_map__initial_value(oom, &size);
		if (off < 0 || !data || off + sizeof(__u64) > size) {
			fail("%s: its bpf_oom_ops has no cgroup_id member (built against another bpf_oom_ops type?); rebuild it against bpf-oom's vmlinux.h to attach it to a cgroup",
			     obj_path);
			goto out;
		}
		memcpy((char *)data + off, &cgid, sizeof(cgid));
	}

	err = bpf_object__load(obj);
	if (err) {
		if (err == -EPERM)
			fail("loading %s: permission denied: BPF OOM policies need CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN (run as root)",
			     obj_path);
		else if (task_type_mismatch)
			fail("loading %s: the verifier refused a task pointer to a bpf-oom kfunc: the bpf_oom module was built with private copies of struct task_struct in its BTF (built without scripts/pahole-dedup.sh? README, Known limits)",
			     obj_path);
		else
			fail("loading %s: %s (run with -v for the verifier log)", obj_path,
			     strerror(-err));
		goto out;
	}

	/* the OOM side first: the PSI side may declare OOMs from its init on */
	if (oom) {
		l_oom = attach_pin(oom, false, scope, pindir, cgid, obj_path, pin_oom,
				   sizeof(pin_oom));
		if (!l_oom)
			goto out;
	}
	if (psi) {
		l_psi = attach_pin(psi, true, scope, pindir, 0, obj_path, pin_psi, sizeof(pin_psi));
		if (!l_psi) {
			if (l_oom && unlink(pin_oom))
				fprintf(stderr, "bpf-oom-loader: the PSI side did not attach, and %s stays attached: cannot remove %s: %s\n",
					bpf_map__name(oom), pin_oom, strerror(errno));
			else if (l_oom)
				fprintf(stderr, "bpf-oom-loader: detached %s again: the policy's PSI side did not attach\n",
					bpf_map__name(oom));
			goto out;
		}
	}
	ret = 0;
out:
	bpf_link__destroy(l_oom);	/* the pins keep them attached */
	bpf_link__destroy(l_psi);
	bpf_object__close(obj);
	return ret;
}

static int cmd_detach(const char *cgroup, bool system, const char *psi_map, const char *pindir)
{
	unsigned long long cgid = 0;
	char pin[4096];

	if (!!cgroup + system + !!psi_map != 1)
		return usage();
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

/* cgroup id -> path, for list */
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

/* found_path := where cgroup id @cgid is ("system-wide" for 0) */
static void describe_cgroup(unsigned long long cgid)
{
	if (!cgid) {
		snprintf(found_path, sizeof(found_path), "system-wide");
		return;
	}
	find_id = cgid;
	snprintf(found_path, sizeof(found_path), "cgroup id %llu", cgid);
	nftw(CGROUP_ROOT, find_cgroup, 64, FTW_PHYS | FTW_MOUNT);
}

static int cmd_list(void)
{
	char line[512], name[128], since_s[64];
	unsigned long long cgid;
	long invoked, handled;
	long long since;
	FILE *f;

	f = fopen(POLICIES, "r");
	if (!f)
		return fail("cannot read %s: %s (is the bpf_oom module loaded?)", POLICIES,
			    strerror(errno));
	printf("%-24s %-32s %-20s %8s %8s\n", "POLICY", "ATTACHED TO", "SINCE", "INVOKED",
	       "HANDLED");
	while (fgets(line, sizeof(line), f)) {
		time_t t;

		if (sscanf(line, "%127s %llu %lld %ld %ld", name, &cgid, &since, &invoked,
			   &handled) != 5)
			continue;
		describe_cgroup(cgid);
		t = since;
		strftime(since_s, sizeof(since_s), "%Y-%m-%d %H:%M:%S", localtime(&t));
		printf("%-24s %-32s %-20s %8ld %8ld\n", name, found_path, since_s, invoked, handled);
	}
	fclose(f);

	/* decision records: what the module emitted and could not */
	f = fopen(RECORDS, "r");
	if (f) {
		long long episodes = -1, emitted = -1, dropped = -1;

		while (fgets(line, sizeof(line), f)) {
			sscanf(line, "episodes %lld", &episodes);
			sscanf(line, "emitted %lld", &emitted);
			sscanf(line, "dropped %lld", &dropped);
		}
		fclose(f);
		printf("\nOOM episodes %lld, decision records %lld, dropped %lld (more than 8 policies in one chain)\n",
		       episodes, emitted, dropped);
	}

	/* PSI policies: their triggers */
	f = fopen(PSI_TRIGGERS, "r");
	if (!f)
		return 0;
	printf("\n%-6s %-32s %-8s %-4s %12s %12s %8s\n", "PSI", "WATCHES", "RESOURCE", "FULL",
	       "THRESHOLD_US", "WINDOW_US", "EVENTS");
	while (fgets(line, sizeof(line), f)) {
		static const char *const res[] = { "io", "memory", "cpu", "irq" };
		unsigned int ops, r, full, thr, win;

		if (sscanf(line, "%u %lld %llu %u %u %u %u %ld", &ops, &since, &cgid, &r, &full,
			   &thr, &win, &invoked) != 8)
			continue;
		describe_cgroup(cgid);
		printf("%-6u %-32s %-8s %-4s %12u %12u %8ld\n", ops, found_path,
		       r < 4 ? res[r] : "?", full ? "yes" : "no", thr, win, invoked);
	}
	fclose(f);
	return 0;
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

static const char *trigger_name(unsigned int t)
{
	switch (t) {
	case BPF_OOM_TRIGGER_MEMCG_OOM: return "memcg_oom";
	case BPF_OOM_TRIGGER_GLOBAL_OOM: return "global_oom";
	case BPF_OOM_TRIGGER_PSI: return "psi";
	}
	return "unknown";
}

static const char *action_name(unsigned int a)
{
	switch (a) {
	case BPF_OOM_ACTION_KILL: return "kill";
	case BPF_OOM_ACTION_DRY_RUN: return "dry_run";
	case BPF_OOM_ACTION_DECLINE: return "decline";
	}
	return "unknown";
}

static const char *reason_name(unsigned int r)
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
	};

	return r < sizeof(names) / sizeof(names[0]) && names[r] ? names[r] : "unknown";
}

/* enum oom_constraint of include/linux/oom.h */
static const char *constraint_name(unsigned int c)
{
	static const char *const names[] = { "none", "cpuset", "memory_policy", "memcg" };

	return c < 4 ? names[c] : "unknown";
}

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
	printf(",\"domain_path_truncated\":%s,\"action\":\"%s\",\"reason\":\"%s\"",
	       r->flags & BPF_OOM_RECORD_PATH_TRUNCATED ? "true" : "false",
	       action_name(r->action), reason_name(r->reason));
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

static void print_text(const struct bpf_oom_record *r, long page_kb)
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
		print_text(r, ec->page_kb);
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
	fprintf(stderr, "bpf-oom-loader: following decision records (SIGINT to stop)\n");
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
			fprintf(stderr, "bpf-oom-loader: %llu record(s) lost so far: the ring buffer was full\n",
				reported);
		}
		if (ec.want && ec.got >= ec.want)
			break;
	}
	/* what is still queued */
	if (!ret && !(ec.want && ec.got >= ec.want))
		ring_buffer__consume(rb);
	fprintf(stderr, "bpf-oom-loader: %llu record(s) seen, %llu lost (ring buffer full), %ld of an unknown layout\n",
		(unsigned long long)skel->bss->seen, (unsigned long long)skel->bss->dropped, ec.bad);
	if (!ret && (skel->bss->dropped || ec.bad))
		ret = 3;
out:
	ring_buffer__free(rb);
	events__destroy(skel);
	return ret;
}

int main(int argc, char **argv)
{
	const char *cgroup = NULL, *map = NULL, *pindir = "/sys/fs/bpf/bpf-oom";
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *defs[MAX_DEFS];
	bool system = false, json = false;
	int opt, nr_defs = 0;
	long count = 0;
	const char *cmd;
	char *end;

	if (argc < 2)
		return usage();
	cmd = argv[1];
	optind = 2;
	while ((opt = getopt_long(argc, argv, "c:D:jm:n:p:sv", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j': json = true; break;
		case 'n':
			errno = 0;
			count = strtol(optarg, &end, 10);
			if (errno || *end || count <= 0)
				return fail("-n %s: expected a positive number of records", optarg);
			break;
		case 'D':
			if (nr_defs == MAX_DEFS)
				return fail("at most %d -D options", MAX_DEFS);
			defs[nr_defs++] = optarg;
			break;
		case 'c': cgroup = optarg; break;
		case 'm': map = optarg; break;
		case 'p': pindir = optarg; break;
		case 's': system = true; break;
		case 'v': verbose = true; break;
		default: return usage();
		}
	}
	libbpf_set_print(libbpf_print);

	if (!strcmp(cmd, "attach") && optind == argc - 1)
		return cmd_attach(argv[optind], cgroup, map, pindir, defs, nr_defs);
	if (!strcmp(cmd, "detach") && optind == argc)
		return cmd_detach(cgroup, system, map, pindir);
	if (!strcmp(cmd, "list") && optind == argc)
		return cmd_list();
	if (!strcmp(cmd, "events") && optind == argc)
		return cmd_events(json, count);
	return usage();
}
