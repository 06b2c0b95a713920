// SPDX-License-Identifier: GPL-2.0
/*
 * memcg_kfuncs.c - the memcg kfuncs on a real kernel, in the test VM.
 *
 * Upstream's memcg stats scenario, exact agreement with cgroupfs, bad input,
 * and the verifier's reference rules. Runs on every kernel of the matrix:
 * on 6.12 the kfuncs come from bpf_oom, on 7.x from the kernel itself.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"
#include "memcg_kfuncs.skel.h"
#include "memcg_verifier.skel.h"

enum req_kind { REQ_PAGE_STATE, REQ_VM_EVENTS, REQ_MEMORY_EVENTS, REQ_USAGE };

static const char *const kfunc_names[] = {
	"bpf_get_root_mem_cgroup", "bpf_get_mem_cgroup", "bpf_put_mem_cgroup",
	"bpf_mem_cgroup_vm_events", "bpf_mem_cgroup_memory_events",
	"bpf_mem_cgroup_usage", "bpf_mem_cgroup_page_state",
	"bpf_mem_cgroup_flush_stats",
};

/* Every memcg kfunc must be in exactly one BTF: the kernel's or bpf_oom's. */
static void test_kfuncs_provided_once(void)
{
	struct btf *vmlinux, *mod;
	size_t i;
	int nr_kernel = 0, nr_module = 0;

	vmlinux = btf__load_vmlinux_btf();
	if (!CHECK_PTR(vmlinux, "load vmlinux BTF"))
		return;
	mod = btf__load_module_btf("bpf_oom", vmlinux);
	if (!CHECK_PTR(mod, "load bpf_oom BTF (/sys/kernel/btf/bpf_oom)")) {
		btf__free(vmlinux);
		return;
	}
	for (i = 0; i < sizeof(kfunc_names) / sizeof(kfunc_names[0]); i++) {
		int kid = btf__find_by_name_kind(vmlinux, kfunc_names[i], BTF_KIND_FUNC);
		int mid = btf__find_by_name_kind(mod, kfunc_names[i], BTF_KIND_FUNC);

		/* the module's BTF is split: its own ids follow vmlinux's */
		if (mid > 0 && (unsigned int)mid < btf__type_cnt(vmlinux))
			mid = -ENOENT;

		CHECK((kid > 0) != (mid > 0),
		      "%s: in vmlinux BTF %s, in bpf_oom BTF %s (want exactly one)",
		      kfunc_names[i], kid > 0 ? "yes" : "no", mid > 0 ? "yes" : "no");
		nr_kernel += kid > 0;
		nr_module += mid > 0;
	}
	/* Upstream merged all eight at once (7.0): all or none. */
	CHECK(nr_kernel == 0 || nr_module == 0,
	      "mixed provenance: %d in the kernel, %d in bpf_oom", nr_kernel, nr_module);
	printf("# memcg kfuncs: %d from the kernel, %d from bpf_oom\n", nr_kernel, nr_module);
	btf__free(mod);
	btf__free(vmlinux);
}

/* ---- reading a cgroup through the iterator ---------------------------- */

struct req {
	const char *file;	/* cgroupfs file and key it corresponds to */
	const char *key;
	enum req_kind kind;
	const char *enum_type;
	const char *enum_name;
};

static int set_reqs(struct memcg_kfuncs_bpf *skel, const struct req *r, int n)
{
	long long v = 0;
	int i, err;

	for (i = 0; i < n; i++) {
		if (r[i].enum_type) {
			err = tl_kernel_enum(r[i].enum_type, r[i].enum_name, &v);
			if (!CHECK(!err, "enum %s::%s not in kernel BTF: %d",
				   r[i].enum_type, r[i].enum_name, err))
				return err;
		}
		skel->bss->req_kind[i] = r[i].kind;
		skel->bss->req_idx[i] = (int)v;
	}
	skel->bss->nr_reqs = n;
	return 0;
}

/* Run the sleepable cgroup iterator once over @cg alone. */
static int iter_read(struct memcg_kfuncs_bpf *skel, const char *cg)
{
	union bpf_iter_link_info linfo = {};
	LIBBPF_OPTS(bpf_iter_attach_opts, opts, .link_info = &linfo,
		    .link_info_len = sizeof(linfo));
	struct bpf_link *link;
	int cfd, ifd, err = 0;
	char buf[64];

	cfd = tl_cg_fd(cg);
	if (cfd < 0)
		return -errno;
	linfo.cgroup.cgroup_fd = cfd;
	linfo.cgroup.order = BPF_CGROUP_ITER_SELF_ONLY;
	skel->bss->status = 0;
	link = bpf_program__attach_iter(skel->progs.read_memcg, &opts);
	if (!link) {
		err = -errno;
		goto out;
	}
	ifd = bpf_iter_create(bpf_link__fd(link));
	if (ifd < 0) {
		err = -errno;
		goto out_link;
	}
	while (read(ifd, buf, sizeof(buf)) > 0)
		;
	close(ifd);
	if (skel->bss->status != 1)
		err = -ENODATA;
out_link:
	bpf_link__destroy(link);
out:
	close(cfd);
	return err;
}

/* ---- upstream scenario: counters rise after the matching action ------- */

#define MiB (1024 * 1024)

static int stats_child(void *arg, int ready)
{
	size_t len = 8 * MiB;
	char *anon, *shm, *map;
	int memfd, fd;

	(void)arg;
	/* anon memory, with a page fault per page */
	anon = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (anon == MAP_FAILED)
		return 10;
	memset(anon, 1, len);
	/* shmem */
	memfd = memfd_create("bpf-oom-shmem", 0);
	if (memfd < 0 || ftruncate(memfd, len))
		return 11;
	shm = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (shm == MAP_FAILED)
		return 12;
	memset(shm, 2, len);
	/* file pages, then mapped */
	fd = open("/tmp/bpf-oom-file", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return 13;
	for (size_t off = 0; off < len; off += 4096)
		if (pwrite(fd, anon, 4096, off) != 4096)
			return 14;
	map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return 15;
	for (size_t off = 0; off < len; off += 4096)
		(void)*(volatile char *)(map + off);
	tl_child_ready(ready);
	pause();
	return 0;
}

static void test_memcg_stats_upstream(void)
{
	static const struct req reqs[] = {
		{ "memory.stat", "anon", REQ_PAGE_STATE, "node_stat_item", "NR_ANON_MAPPED" },
		{ "memory.stat", "shmem", REQ_PAGE_STATE, "node_stat_item", "NR_SHMEM" },
		{ "memory.stat", "file", REQ_PAGE_STATE, "node_stat_item", "NR_FILE_PAGES" },
		{ "memory.stat", "file_mapped", REQ_PAGE_STATE, "node_stat_item", "NR_FILE_MAPPED" },
		{ "memory.stat", "pgfault", REQ_VM_EVENTS, "vm_event_item", "PGFAULT" },
	};
	const char *cg = "memcg_stats_test";
	struct memcg_kfuncs_bpf *skel;
	int i, pid = -1;

	skel = memcg_kfuncs_bpf__open_and_load();
	if (!CHECK_PTR(skel, "open and load memcg_kfuncs.bpf.o"))
		return;
	if (set_reqs(skel, reqs, 5))
		goto out;
	if (!CHECK_OK(tl_cg_create(cg), "create cgroup"))
		goto out;
	pid = tl_spawn_in_cg(cg, stats_child, NULL);
	if (!CHECK(pid > 0, "child in %s did not get ready: %d", cg, pid))
		goto out_cg;
	if (!CHECK_OK(iter_read(skel, cg), "run cgroup iterator"))
		goto out_child;
	for (i = 0; i < 5; i++)
		CHECK_GT(skel->bss->vals[i], 0, reqs[i].enum_name);
	CHECK(skel->bss->vals[0] != (unsigned long)-1, "anon read as -1");
out_child:
	tl_reap(pid, SIGKILL);
out_cg:
	unlink("/tmp/bpf-oom-file");
	tl_cg_destroy(cg);
out:
	memcg_kfuncs_bpf__destroy(skel);
}

/* ---- exact agreement with cgroupfs ------------------------------------ */

static const struct req match_reqs[] = {
	{ "memory.current", NULL, REQ_USAGE, NULL, NULL },
	{ "memory.stat", "anon", REQ_PAGE_STATE, "node_stat_item", "NR_ANON_MAPPED" },
	{ "memory.stat", "file", REQ_PAGE_STATE, "node_stat_item", "NR_FILE_PAGES" },
	{ "memory.stat", "shmem", REQ_PAGE_STATE, "node_stat_item", "NR_SHMEM" },
	{ "memory.stat", "file_mapped", REQ_PAGE_STATE, "node_stat_item", "NR_FILE_MAPPED" },
	{ "memory.stat", "active_anon", REQ_PAGE_STATE, "node_stat_item", "NR_ACTIVE_ANON" },
	{ "memory.stat", "inactive_anon", REQ_PAGE_STATE, "node_stat_item", "NR_INACTIVE_ANON" },
	{ "memory.stat", "unevictable", REQ_PAGE_STATE, "node_stat_item", "NR_UNEVICTABLE" },
	{ "memory.stat", "kernel_stack", REQ_PAGE_STATE, "node_stat_item", "NR_KERNEL_STACK_KB" },
	{ "memory.stat", "pagetables", REQ_PAGE_STATE, "node_stat_item", "NR_PAGETABLE" },
	{ "memory.stat", "sock", REQ_PAGE_STATE, "memcg_stat_item", "MEMCG_SOCK" },
	{ "memory.stat", "pgfault", REQ_VM_EVENTS, "vm_event_item", "PGFAULT" },
	{ "memory.stat", "pgmajfault", REQ_VM_EVENTS, "vm_event_item", "PGMAJFAULT" },
	{ "memory.stat", "pgactivate", REQ_VM_EVENTS, "vm_event_item", "PGACTIVATE" },
	{ "memory.events", "low", REQ_MEMORY_EVENTS, "memcg_memory_event", "MEMCG_LOW" },
	{ "memory.events", "high", REQ_MEMORY_EVENTS, "memcg_memory_event", "MEMCG_HIGH" },
	{ "memory.events", "max", REQ_MEMORY_EVENTS, "memcg_memory_event", "MEMCG_MAX" },
	{ "memory.events", "oom", REQ_MEMORY_EVENTS, "memcg_memory_event", "MEMCG_OOM" },
	{ "memory.events", "oom_kill", REQ_MEMORY_EVENTS, "memcg_memory_event", "MEMCG_OOM_KILL" },
};
#define NR_MATCH (int)(sizeof(match_reqs) / sizeof(match_reqs[0]))

/* Read every cgroupfs value of match_reqs; -ENOENT marks a file or key
 * cgroupfs does not show for this cgroup (the root has no memory.current). */
static void read_cgroupfs(const char *cg, unsigned long long *v, int *err)
{
	int i;

	for (i = 0; i < NR_MATCH; i++) {
		const struct req *r = &match_reqs[i];

		err[i] = r->key ? tl_cg_read_key(cg, r->file, r->key, &v[i])
				: tl_cg_read_u64(cg, r->file, &v[i]);
	}
}

/*
 * Compare with cgroupfs when the counters stand still: cgroupfs, BPF,
 * cgroupfs again; if both cgroupfs reads agree, BPF must equal them exactly.
 * Returns the number of values compared.
 */
static int match_one(struct memcg_kfuncs_bpf *skel, const char *cg)
{
	unsigned long long a[NR_MATCH], c[NR_MATCH];
	int ea[NR_MATCH], ec[NR_MATCH];
	int attempt, i, compared = 0;

	for (attempt = 0; attempt < 50; attempt++) {
		bool stable = true;

		read_cgroupfs(cg, a, ea);
		if (!CHECK_OK(iter_read(skel, cg), "run cgroup iterator"))
			return 0;
		read_cgroupfs(cg, c, ec);
		for (i = 0; i < NR_MATCH; i++)
			stable &= ea[i] == ec[i] && (ea[i] || a[i] == c[i]);
		if (!stable)
			continue;
		for (i = 0; i < NR_MATCH; i++) {
			if (ea[i] == -ENOENT)
				continue;
			if (!CHECK(!ea[i], "%s: read %s: %d", cg, match_reqs[i].file, ea[i]))
				continue;
			CHECK(skel->bss->vals[i] == a[i],
			      "cgroup '%s' %s %s: cgroupfs %llu, kfunc %lu", cg,
			      match_reqs[i].file, match_reqs[i].key ?: "", a[i],
			      skel->bss->vals[i]);
			compared++;
		}
		printf("# cgroup '%s': %d values equal to cgroupfs (attempt %d)\n",
		       cg, compared, attempt + 1);
		return compared;
	}
	CHECK(0, "cgroup '%s': cgroupfs values never stood still over %d attempts", cg, attempt);
	return 0;
}

static int hold_child(void *arg, int ready)
{
	size_t len = (size_t)(long)arg * MiB;
	char *p, *s;
	int memfd;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memfd = memfd_create("bpf-oom-hold", 0);
	if (p == MAP_FAILED || memfd < 0 || ftruncate(memfd, len / 2))
		return 10;
	s = mmap(NULL, len / 2, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (s == MAP_FAILED)
		return 11;
	memset(p, 1, len);
	memset(s, 1, len / 2);
	tl_child_ready(ready);
	pause();
	return 0;
}

/* Allocate until the memcg OOM killer stops us. */
static int oom_child(void *arg, int ready)
{
	size_t len = 256 * MiB;
	char *p;

	(void)arg;
	tl_child_ready(ready);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 10;
	memset(p, 1, len);
	return 20;	/* not killed: the test checks for SIGKILL */
}

static void test_memcg_stats_match_cgroupfs(void)
{
	struct memcg_kfuncs_bpf *skel;
	unsigned long long oom_kill = 0;
	int hold_a = -1, hold_b = -1, victim, status;

	skel = memcg_kfuncs_bpf__open_and_load();
	if (!CHECK_PTR(skel, "open and load memcg_kfuncs.bpf.o"))
		return;
	if (set_reqs(skel, match_reqs, NR_MATCH))
		goto out;

	/* match_a: a quiet task holding anon and shmem memory */
	tl_cg_create("match_a");
	hold_a = tl_spawn_in_cg("match_a", hold_child, (void *)16L);
	/* match_b: a 32 MiB limit, a holder and an OOM victim (memory.events) */
	tl_cg_create("match_b");
	CHECK_OK(tl_cg_write("match_b", "memory.max", "33554432"), "set memory.max");
	hold_b = tl_spawn_in_cg("match_b", hold_child, (void *)4L);
	if (!CHECK(hold_a > 0 && hold_b > 0, "holders did not start: %d %d", hold_a, hold_b))
		goto out_cg;
	victim = tl_spawn_in_cg("match_b", oom_child, NULL);
	if (CHECK(victim > 0, "OOM child did not start: %d", victim)) {
		status = tl_reap(victim, 0);
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		      "OOM child: expected SIGKILL, got status 0x%x", status);
	}
	CHECK_OK(tl_cg_read_key("match_b", "memory.events", "oom_kill", &oom_kill),
		 "read match_b memory.events");
	CHECK_GT(oom_kill, 0, "match_b oom_kill (so memory.events is compared non-zero)");

	CHECK_GT(match_one(skel, "match_a"), 15, "values compared in match_a");
	CHECK_GT(match_one(skel, "match_b"), 15, "values compared in match_b");
	/* The root: cgroupfs shows memory.stat there, not .current or .events. */
	CHECK_GT(match_one(skel, ""), 10, "values compared in the root cgroup");
	CHECK(skel->bss->is_root_memcg == 1,
	      "bpf_get_mem_cgroup(root cgroup) != bpf_get_root_mem_cgroup()");
out_cg:
	if (hold_a > 0)
		tl_reap(hold_a, SIGKILL);
	if (hold_b > 0)
		tl_reap(hold_b, SIGKILL);
	tl_cg_destroy("match_a");
	tl_cg_destroy("match_b");
out:
	memcg_kfuncs_bpf__destroy(skel);
}

/* ---- bad input -------------------------------------------------------- */

static void test_memcg_bad_input(void)
{
	struct {
		enum req_kind kind;
		const char *enum_type, *enum_name;	/* or a raw index */
		long long raw;
		bool valid;				/* a control: must not be -1 */
	} cases[] = {
		{ REQ_PAGE_STATE, NULL, NULL, -1, false },
		{ REQ_PAGE_STATE, NULL, NULL, INT_MAX, false },
		{ REQ_PAGE_STATE, "memcg_stat_item", "MEMCG_NR_STAT", 0, false },
		/* in range but not tracked per memcg: the kernel would WARN */
		{ REQ_PAGE_STATE, "node_stat_item", "NR_ISOLATED_ANON", 0, false },
		{ REQ_PAGE_STATE, "node_stat_item", "NR_ANON_MAPPED", 0, true },
		{ REQ_VM_EVENTS, NULL, NULL, -1, false },
		{ REQ_VM_EVENTS, "vm_event_item", "NR_VM_EVENT_ITEMS", 0, false },
		{ REQ_VM_EVENTS, "vm_event_item", "PGFREE", 0, false },
		{ REQ_VM_EVENTS, "vm_event_item", "PGFAULT", 0, true },
		{ REQ_MEMORY_EVENTS, NULL, NULL, -1, false },
		{ REQ_MEMORY_EVENTS, "memcg_memory_event", "MEMCG_NR_MEMORY_EVENTS", 0, false },
		{ REQ_MEMORY_EVENTS, "memcg_memory_event", "MEMCG_OOM", 0, true },
	};
	const int n = sizeof(cases) / sizeof(cases[0]);
	LIBBPF_OPTS(bpf_test_run_opts, topts);
	struct memcg_kfuncs_bpf *skel;
	int i, err;

	skel = memcg_kfuncs_bpf__open_and_load();
	if (!CHECK_PTR(skel, "open and load memcg_kfuncs.bpf.o"))
		return;
	for (i = 0; i < n; i++) {
		long long v = cases[i].raw;

		if (cases[i].enum_type &&
		    !CHECK_OK(tl_kernel_enum(cases[i].enum_type, cases[i].enum_name, &v),
			      cases[i].enum_name))
			goto out;
		skel->bss->req_kind[i] = cases[i].kind;
		skel->bss->req_idx[i] = (int)v;
	}
	skel->bss->nr_reqs = n;
	err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.read_root), &topts);
	if (!CHECK_OK(err ? -errno : 0, "run read_root") ||
	    !CHECK_EQ(skel->bss->status, 1, "read_root status"))
		goto out;
	for (i = 0; i < n; i++) {
		unsigned long v = skel->bss->vals[i];
		const char *what = cases[i].enum_name ?: "raw index";

		if (cases[i].valid)
			CHECK(v != (unsigned long)-1, "kind %d %s: valid, read as -1",
			      cases[i].kind, what);
		else
			CHECK(v == (unsigned long)-1,
			      "kind %d %s (%d): expected (unsigned long)-1, got %lu",
			      cases[i].kind, what, skel->bss->req_idx[i], v);
	}
out:
	memcg_kfuncs_bpf__destroy(skel);
}

/* ---- the verifier enforces the reference rules ------------------------ */

static char vlog[1 << 16];

static int load_one(const char *name)
{
	size_t sz;
	const void *elf = memcg_verifier_bpf__elf_bytes(&sz);

	return tl_load_prog_alone(elf, sz, name, vlog, sizeof(vlog));
}

static const char *log_tail(void)
{
	size_t n = strlen(vlog);

	while (n && vlog[n - 1] == '\n')
		vlog[--n] = 0;
	return n > 300 ? vlog + n - 300 : vlog;
}

/* Does the verifier log contain one of the '|'-separated messages? */
static bool log_has(const char *alternatives)
{
	char buf[256], *msg, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", alternatives);
	for (msg = strtok_r(buf, "|", &save); msg; msg = strtok_r(NULL, "|", &save))
		if (strstr(vlog, msg))
			return true;
	return false;
}

/* @why: the verifier's message, or several ('|') where kernels word it differently */
static void expect_rejected(const char *prog, const char *why)
{
	int err = load_one(prog);

	if (getenv("BPF_OOM_TEST_VERBOSE"))
		printf("# verifier log of %s:\n%s\n", prog, vlog);
	if (CHECK(err == -EINVAL || err == -EACCES,
		  "%s: expected the verifier to reject it (-EINVAL/-EACCES), got %d", prog, err))
		CHECK(log_has(why), "%s: verifier log lacks \"%s\"; tail:\n%s",
		      prog, why, log_tail());
}

static void test_verifier_balanced_loads(void)
{
	int err = load_one("balanced");

	CHECK(!err, "balanced get/put must load, got %d; log tail:\n%s", err, log_tail());
}

static void test_verifier_rejects_leak(void)
{
	expect_rejected("leak", "Unreleased reference id=");
}

static void test_verifier_rejects_double_put(void)
{
	/* 6.12 | 7.3 */
	expect_rejected("double_put",
			"arg#0 pointer type STRUCT mem_cgroup must point to scalar|"
			"release kfunc bpf_put_mem_cgroup expects referenced PTR_TO_BTF_ID");
}

static void test_verifier_rejects_flush_not_sleepable(void)
{
	expect_rejected("flush_not_sleepable",
			"program must be sleepable to call sleepable kfunc bpf_mem_cgroup_flush_stats");
}

static const struct tl_test tests[] = {
	{ "memcg_kfuncs_provided_once", test_kfuncs_provided_once },
	{ "memcg_stats_upstream", test_memcg_stats_upstream },
	{ "memcg_stats_match_cgroupfs", test_memcg_stats_match_cgroupfs },
	{ "memcg_bad_input", test_memcg_bad_input },
	{ "memcg_verifier_balanced_loads", test_verifier_balanced_loads },
	{ "memcg_verifier_rejects_leak", test_verifier_rejects_leak },
	{ "memcg_verifier_rejects_double_put", test_verifier_rejects_double_put },
	{ "memcg_verifier_rejects_flush_not_sleepable", test_verifier_rejects_flush_not_sleepable },
};

int main(int argc, char **argv)
{
	return tl_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
