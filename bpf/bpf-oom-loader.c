// SPDX-License-Identifier: GPL-2.0
/*
 * bpf-oom-loader - attach BPF OOM policies system-wide or to a cgroup.
 *
 *   bpf-oom-loader attach [-c CGROUP] [-m MAP] [-p PINDIR] [-v] OBJ.bpf.o
 *   bpf-oom-loader detach (-c CGROUP | -s) [-p PINDIR]
 *   bpf-oom-loader list
 *
 * Upstream attaches a bpf_oom_ops to a cgroup through the cgroup fd of
 * link_create, which stock kernels ignore for struct_ops; bpf-oom reads the
 * target from the ops' cgroup_id member instead, and this loader sets it
 * before load. The link is pinned (PINDIR, default /sys/fs/bpf/bpf-oom, as
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
		"usage: bpf-oom-loader attach [-c CGROUP] [-m MAP] [-p PINDIR] [-v] OBJ.bpf.o\n"
		"       bpf-oom-loader detach (-c CGROUP | -s) [-p PINDIR]\n"
		"       bpf-oom-loader list\n"
		"CGROUP is a cgroup v2 path, absolute or under " CGROUP_ROOT ".\n");
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

static void pin_path(char *buf, size_t len, const char *dir, unsigned long long cgid)
{
	if (cgid)
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

static int cmd_attach(const char *obj_path, const char *cgroup, const char *map_name,
		      const char *pindir)
{
	struct bpf_object *obj = NULL;
	struct bpf_map *map, *ops = NULL;
	unsigned long long cgid = 0;
	struct bpf_link *link = NULL;
	char pin[4096], scope[4200];
	int off, err, ret = 1, nr = 0;
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

	/* pick the bpf_oom_ops map; the others are not created */
	bpf_object__for_each_map(map, obj) {
		const struct btf *btf = bpf_object__btf(obj);
		const struct btf_type *t;

		if (bpf_map__type(map) != BPF_MAP_TYPE_STRUCT_OPS)
			continue;
		t = btf__type_by_id(btf, bpf_map__btf_value_type_id(map));
		if (!t || strcmp(btf__name_by_offset(btf, t->name_off), "bpf_oom_ops") ||
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
		fail("%s has no bpf_oom_ops map%s%s", obj_path, map_name ? " named " : "",
		     map_name ?: "");
		goto out;
	}
	if (nr > 1 && !map_name) {
		fail("%s has %d bpf_oom_ops maps: choose one with -m", obj_path, nr);
		goto out;
	}

	/* set the target cgroup */
	off = member_offset(bpf_object__btf(obj), bpf_map__btf_value_type_id(ops), "cgroup_id");
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
		if (err == EBUSY)
			fail("%s already has a bpf_oom_ops policy attached: detach it first", scope);
		else if (err == ENOENT)
			fail("attaching to %s: the cgroup is gone", scope);
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
	pin_path(pin, sizeof(pin), pindir, cgid);
	err = bpf_link__pin(link, pin);
	if (err) {
		fail("cannot pin the link at %s: %s", pin, strerror(-err));
		goto out;
	}
	printf("attached %s (%s) to %s, pinned at %s\n", bpf_map__name(ops), obj_path, scope, pin);
	ret = 0;
out:
	bpf_link__destroy(link);	/* the pin keeps it attached */
	bpf_object__close(obj);
	return ret;
}

static int cmd_detach(const char *cgroup, bool system, const char *pindir)
{
	unsigned long long cgid = 0;
	char pin[4096];

	if (!cgroup && !system)
		return usage();
	if (cgroup) {
		cgid = cgroup_id_of(cgroup);
		if (!cgid)
			return 1;
	}
	pin_path(pin, sizeof(pin), pindir, cgid);
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
		if (cgid) {
			find_id = cgid;
			snprintf(found_path, sizeof(found_path), "cgroup id %llu", cgid);
			nftw(CGROUP_ROOT, find_cgroup, 64, FTW_PHYS | FTW_MOUNT);
		} else {
			snprintf(found_path, sizeof(found_path), "system-wide");
		}
		t = since;
		strftime(since_s, sizeof(since_s), "%Y-%m-%d %H:%M:%S", localtime(&t));
		printf("%-24s %-32s %-20s %8ld %8ld\n", name, found_path, since_s, invoked, handled);
	}
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cgroup = NULL, *map = NULL, *pindir = "/sys/fs/bpf/bpf-oom";
	bool system = false;
	const char *cmd;
	int opt;

	if (argc < 2)
		return usage();
	cmd = argv[1];
	optind = 2;
	while ((opt = getopt(argc, argv, "c:m:p:sv")) != -1) {
		switch (opt) {
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
		return cmd_attach(argv[optind], cgroup, map, pindir);
	if (!strcmp(cmd, "detach") && optind == argc)
		return cmd_detach(cgroup, system, pindir);
	if (!strcmp(cmd, "list") && optind == argc)
		return cmd_list();
	return usage();
}
