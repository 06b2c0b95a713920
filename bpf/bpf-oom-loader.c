// SPDX-License-Identifier: GPL-2.0
/*
 * bpf-oom-loader - attach BPF OOM policies system-wide or to a cgroup.
 *
 *   bpf-oom-loader attach [-c CGROUP] [-m MAP] [-D NAME=VALUE]... [-p PINDIR] [-v] OBJ.bpf.o
 *   bpf-oom-loader detach (-c CGROUP | -s | -m PSIMAP) [-p PINDIR]
 *   bpf-oom-loader list
 *
 * OBJ holds a bpf_oom_ops policy (attached system-wide, or to CGROUP) or a
 * bpf_psi_ops policy (attached as such: its triggers say what it watches;
 * pinned as "psi-<MAP>"). -D sets a read-only global of the policy (its
 * knobs) before load: an integer, or a cgroup path, which becomes the
 * cgroup's id.
 *
 * Upstream attaches a bpf_oom_ops to a cgroup through the cgroup fd of
 * link_create, which stock kernels drop for struct_ops (bpf-oom refuses
 * such a link_create with -EOPNOTSUPP rather than attaching system-wide);
 * bpf-oom reads the target from the ops' cgroup_id member instead, and
 * this loader's -c sets it before load. Attaching needs CAP_SYS_ADMIN. The link is pinned (PINDIR, default /sys/fs/bpf/bpf-oom, as
 * "system" or "cgroup-<id>"), so the policy outlives the command; detach
 * removes the pin, which drops the link and detaches the policy at once.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#define CGROUP_ROOT "/sys/fs/cgroup"
#define CGROUP2_SUPER_MAGIC 0x63677270
#define MODULE_BTF "/sys/kernel/btf/bpf_oom"
#define POLICIES "/proc/bpf_oom/policies"
#define PSI_TRIGGERS "/proc/bpf_oom/psi"
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
		"CGROUP is a cgroup v2 path, absolute or under " CGROUP_ROOT "; -c is how a policy\n"
		"attaches to a cgroup on this kernel (it sets the ops' cgroup_id): upstream's\n"
		"link_create with a cgroup fd is refused, not made system-wide. Needs CAP_SYS_ADMIN.\n"
		"-D sets a policy knob (a const volatile global): an integer or a cgroup path.\n");
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

/*
 * -D NAME=VALUE: write VALUE into the read-only global NAME (in .rodata,
 * before load). Returns 0, or 1 with a message.
 */
static int set_knob(struct bpf_object *obj, const char *def)
{
	const struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec, *var;
	const char *eq = strchr(def, '=');
	unsigned long long v;
	struct bpf_map *rodata;
	char name[128], *end;
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
		if (eq[1] == '/' || strchr(eq + 1, '/')) {
			v = cgroup_id_of(eq + 1);
			if (!v)
				return 1;
		} else {
			errno = 0;
			v = strtoull(eq + 1, &end, 0);
			if (errno || end == eq + 1 || *end)
				return fail("-D %s: %s is not a number or a cgroup path", name, eq + 1);
		}
		if (vs->size > sizeof(v) || vs->offset + vs->size > size)
			return fail("-D %s: not an integer variable", name);
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

static int cmd_attach(const char *obj_path, const char *cgroup, const char *map_name,
		      const char *pindir, const char *const *defs, int nr_defs)
{
	struct bpf_object *obj = NULL;
	struct bpf_map *map, *ops = NULL;
	unsigned long long cgid = 0;
	struct bpf_link *link = NULL;
	char pin[4096], scope[4200];
	int off, err, ret = 1, nr = 0, i;
	const char *kind = "bpf_oom_ops";
	bool psi = false;
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

	/* open */
	obj = bpf_object__open_file(obj_path, NULL);
	if (!obj)
		return fail("cannot open %s: %s", obj_path, strerror(errno));

	/*
	 * pick the policy: a bpf_oom_ops map, else a bpf_psi_ops one; the
	 * other struct_ops maps are not created
	 */
	bpf_object__for_each_map(map, obj)
		if (bpf_map__type(map) == BPF_MAP_TYPE_STRUCT_OPS &&
		    is_ops_type(bpf_object__btf(obj), map, "bpf_psi_ops") &&
		    (!map_name || !strcmp(bpf_map__name(map), map_name)))
			psi = true;
	bpf_object__for_each_map(map, obj)
		if (bpf_map__type(map) == BPF_MAP_TYPE_STRUCT_OPS &&
		    is_ops_type(bpf_object__btf(obj), map, "bpf_oom_ops") &&
		    (!map_name || !strcmp(bpf_map__name(map), map_name)))
			psi = false;
	if (psi)
		kind = "bpf_psi_ops";
	bpf_object__for_each_map(map, obj) {
		if (bpf_map__type(map) != BPF_MAP_TYPE_STRUCT_OPS)
			continue;
		if (!is_ops_type(bpf_object__btf(obj), map, kind) ||
		    (map_name && strcmp(bpf_map__name(map), map_name))) {
			bpf_map__set_autocreate(map, false);
			continue;
		}
		if (nr++)
			bpf_map__set_autocreate(map, false);
		else
			ops = map;
	}
	if (!ops) {
		fail("%s has no bpf_oom_ops or bpf_psi_ops map%s%s", obj_path,
		     map_name ? " named " : "", map_name ?: "");
		goto out;
	}
	if (nr > 1 && !map_name) {
		fail("%s has %d %s maps: choose one with -m", obj_path, nr, kind);
		goto out;
	}
	if (psi && cgid) {
		fail("%s is a bpf_psi_ops policy: it is not attached to a cgroup, its triggers say which cgroups it watches (see its knobs, -D)",
		     bpf_map__name(ops));
		goto out;
	}
	if (psi)
		snprintf(scope, sizeof(scope), "its PSI triggers");
	for (i = 0; i < nr_defs; i++)
		if (set_knob(obj, defs[i]))
			goto out;

	/* set the target cgroup */
	off = psi ? -1 : member_offset(bpf_object__btf(obj), bpf_map__btf_value_type_id(ops), "cgroup_id");
	data = bpf_map__initial_value(ops, &size);
	if (cgid) {
		if (off < 0 || !data || off + sizeof(__u64) > size) {
			fail("%s: its bpf_oom_ops has no cgroup_id member (built against another bpf_oom_ops type?); rebuild it against bpf-oom's vmlinux.h to attach it to a cgroup",
			     obj_path);
			goto out;
		}
		memcpy((char *)data + off, &cgid, sizeof(cgid));
	}

	/* load */
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

	/* attach */
	link = bpf_map__attach_struct_ops(ops);
	if (!link) {
		err = errno;
		if (err == EBUSY && !psi)
			fail("%s already has a bpf_oom_ops policy attached: detach it first", scope);
		else if (err == ENOENT && !psi)
			fail("attaching to %s: the cgroup is gone", scope);
		else if (psi)
			fail("attaching %s: its init failed: %s (the kernel log says why)",
			     bpf_map__name(ops), strerror(err));
		else if (err == EPERM)
			fail("attaching: permission denied (run as root)");
		else
			fail("attaching to %s: %s (the kernel log says why)", scope, strerror(err));
		goto out;
	}

	/* pin, so the policy outlives this command */
	if (mkdir(pindir, 0700) && errno != EEXIST) {
		fail("cannot create %s: %s (is bpffs mounted at /sys/fs/bpf?)", pindir,
		     strerror(errno));
		goto out;
	}
	pin_path(pin, sizeof(pin), pindir, cgid, psi ? bpf_map__name(ops) : NULL);
	err = bpf_link__pin(link, pin);
	if (err) {
		fail("cannot pin the link at %s: %s", pin, strerror(-err));
		goto out;
	}
	if (psi)
		printf("attached %s %s (%s), pinned at %s\n", kind, bpf_map__name(ops), obj_path, pin);
	else
		printf("attached %s (%s) to %s, pinned at %s\n", bpf_map__name(ops), obj_path, scope,
		       pin);
	ret = 0;
out:
	bpf_link__destroy(link);	/* the pin keeps it attached */
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

int main(int argc, char **argv)
{
	const char *cgroup = NULL, *map = NULL, *pindir = "/sys/fs/bpf/bpf-oom";
	const char *defs[MAX_DEFS];
	bool system = false;
	int opt, nr_defs = 0;
	const char *cmd;

	if (argc < 2)
		return usage();
	cmd = argv[1];
	optind = 2;
	while ((opt = getopt(argc, argv, "c:D:m:p:sv")) != -1) {
		switch (opt) {
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
	return usage();
}
