// SPDX-License-Identifier: GPL-2.0
/*
 * psi_ops.c - bpf_psi_ops on a real kernel: real pressure, real triggers,
 * real OOMs declared from BPF.
 *
 * Pressure comes from "squeezed" hogs: a process allocating more anonymous
 * memory than its cgroup's memory.high, with no swap. The kernel throttles
 * it on every fault above the limit (mem_cgroup_handle_over_high(), a
 * memstall), so its cgroup, and the system, see memory "full" pressure.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"
#include "psi_note.skel.h"
#include "psi_policies.skel.h"
#include "psi_verifier.skel.h"
#include "psi_args.h"

#define MiB (1024UL * 1024)

static char kmsg[1 << 18];

/* "triggers N" of /proc/bpf_oom/psi: live triggers of all ops */
static int psi_triggers(void)
{
	FILE *f = fopen("/proc/bpf_oom/psi", "r");
	int n = -1;

	if (!f)
		return -errno;
	if (fscanf(f, "triggers %d", &n) != 1)
		n = -EINVAL;
	fclose(f);
	return n;
}

/* For a failed test: print a file, each line prefixed with "# ". */
static void show(const char *path)
{
	char line[512];
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	printf("# %s:\n", path);
	while (fgets(line, sizeof(line), f))
		printf("#   %s", line);
	fclose(f);
}

/* Wait up to @ms for the trigger count to become @want; returns the last count. */
static int wait_triggers(int want, int ms)
{
	int n = psi_triggers();

	for (; n != want && ms > 0; ms -= 10) {
		usleep(10000);
		n = psi_triggers();
	}
	return n;
}

/* Wait up to @ms for *@v to become non-zero (a BPF global). */
static bool wait_nonzero(volatile u64 *v, int ms)
{
	for (; !*v && ms > 0; ms -= 10)
		usleep(10000);
	return *v != 0;
}

/* NULL if bpf_out_of_memory() takes the kernel's memcg pointers, else why not. */
static const char *memcg_kfuncs_unusable(void)
{
	static char why[256];
	static int verdict = -2;

	if (verdict == -2)
		verdict = tl_kfunc_param_is_private("bpf_out_of_memory", 0, "struct mem_cgroup",
						    why, sizeof(why));
	return verdict ? why : NULL;
}

static bool skip_without_memcg_kfuncs(void)
{
	const char *why = memcg_kfuncs_unusable();

	if (why)
		tl_skip("%s", why);
	return why != NULL;
}

/*
 * A squeezed hog: allocates @arg MiB and touches it over and over, so it
 * keeps stalling on its cgroup's memory.high. Reports ready after 1 MiB.
 */
static int squeezed_hog(void *arg, int ready)
{
	size_t len = (long)arg * MiB, off;
	char *p;

	tl_write_file("/proc/self/oom_score_adj", "0");
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 11;
	memset(p, 1, MiB);
	tl_child_ready(ready);
	for (;;)
		for (off = 0; off < len; off += 4096)
			p[off]++;
	return 0;
}

/* A cgroup whose task will be squeezed: memory.high @high_mib, no swap. */
static bool squeeze_cg(const char *cg, int high_mib)
{
	char v[32];

	snprintf(v, sizeof(v), "%lu", high_mib * MiB);
	return CHECK_OK(tl_cg_create(cg), "mkdir") &&
	       CHECK_OK(tl_cg_write(cg, "memory.high", v), "memory.high") &&
	       (tl_cg_write(cg, "memory.swap.max", "0"), true);
}

/*
 * Wait up to @ms for the first child to die: it must be *@hog, by SIGKILL
 * (@what names it). *@hog is set to -1 once reaped. True if it was.
 */
static bool expect_hog_killed(int *hog, int ms, const char *what)
{
	int status, pid = tl_wait_any(&status, ms);

	if (!CHECK(pid == *hog, "%s (%d) should die first, got %d", what, *hog, pid))
		return false;
	*hog = -1;
	return CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		     "%s: expected SIGKILL, got status 0x%x", what, status);
}

/* ---- upstream's scenario ----------------------------------------------- */

/* upstream's hog: 500 MiB, set, then sleep; waits for the go byte first */
static int upstream_hog(int go)
{
	char *p, c;

	tl_write_file("/proc/self/oom_score_adj", "0");
	if (read(go, &c, 1) != 1)
		return 12;
	p = malloc(500 * MiB);
	if (!p)
		return 11;
	memset(p, 'a', 500 * MiB);
	/* the memory is never read: keep the compiler from dropping the memset */
	__asm__ volatile("" : : "r"(p) : "memory");
	for (;;)
		sleep(1);
	return 0;
}

static void test_psi_upstream_scenario(void)
{
	struct psi_policies_bpf *skel = NULL;
	struct bpf_link *link = NULL;
	int go[2] = { -1, -1 }, hog = -1, kfd = -1;
	unsigned long long cg1, cg2, new_cg;

	if (skip_without_memcg_kfuncs())
		return;
	tl_cg_destroy("psi_test_new");
	tl_cg_destroy("psi_test/cg1");
	tl_cg_destroy("psi_test/cg2");
	tl_cg_destroy("psi_test");
	if (!CHECK_OK(tl_cg_create("psi_test"), "mkdir /psi_test") ||
	    !CHECK_OK(tl_cg_write("psi_test", "cgroup.freeze", "1"), "freeze /psi_test") ||
	    !CHECK_OK(tl_cg_write("psi_test", "cgroup.subtree_control", "+memory"), "+memory") ||
	    !CHECK_OK(tl_cg_create("psi_test/cg1"), "mkdir cg1") ||
	    !squeeze_cg("psi_test/cg2", 40))
		goto out;
	cg1 = tl_cg_id("psi_test/cg1");
	cg2 = tl_cg_id("psi_test/cg2");

	if (pipe(go))
		goto out;
	hog = fork();
	if (hog == 0) {
		close(go[1]);
		_exit(upstream_hog(go[0]));
	}
	close(go[0]);
	go[0] = -1;
	if (!CHECK_OK(tl_cg_enter("psi_test/cg2", hog), "move the hog into cg2"))
		goto out;

	skel = psi_policies_bpf__open_and_load();
	if (!CHECK_PTR(skel, "open and load psi_policies"))
		goto out;
	skel->bss->high_pressure_cgroup_id = cg2;
	skel->bss->io_cgroup_id = cg1;
	kfd = tl_kmsg_open();
	link = bpf_map__attach_struct_ops(skel->maps.upstream);
	if (!CHECK_PTR(link, "attach"))
		goto out;
	CHECK_EQ(skel->data->init_ret_mem, 0, "init: memory full trigger on cg2");
	CHECK_EQ(skel->data->init_ret_io, 0, "init: io trigger on cg1");
	CHECK_EQ(psi_triggers(), 2, "triggers after init");

	/* cg1 goes away: offline; a new cgroup comes: online */
	CHECK_OK(tl_cg_destroy("psi_test/cg1"), "rmdir cg1");
	CHECK_OK(tl_cg_create("psi_test_new"), "mkdir /psi_test_new");
	new_cg = tl_cg_id("psi_test_new");
	CHECK(wait_nonzero(&skel->bss->offline_calls, 5000), "no offline callback for cg1");
	CHECK(wait_nonzero(&skel->bss->online_calls, 5000), "no online callback for /psi_test_new");

	/* go: the hog fills cg2 past memory.high */
	CHECK_OK(tl_cg_write("psi_test", "cgroup.freeze", "0"), "unfreeze");
	if (write(go[1], "g", 1) != 1)
		goto out;
	if (!expect_hog_killed(&hog, 120000, "the hog in cg2") && hog > 0) {
		show("/proc/bpf_oom/psi");
		show(TL_CGROUP_ROOT "/psi_test/cg2/memory.pressure");
		show(TL_CGROUP_ROOT "/psi_test/cg2/memory.events");
		show(TL_CGROUP_ROOT "/psi_test/cg2/cgroup.procs");
		show(TL_CGROUP_ROOT "/psi_test/cg2/cgroup.events");
		snprintf(kmsg, sizeof(kmsg), "/proc/%d/status", hog);
		show(kmsg);
		snprintf(kmsg, sizeof(kmsg), "/proc/%d/stack", hog);
		show(kmsg);
	}
	CHECK_EQ(tl_cg_event("psi_test/cg2", "oom_kill"), 1, "cg2 memory.events oom_kill");
	CHECK_EQ(skel->bss->offline_cgroup_id, cg1, "offline callback's cgroup id (cg1)");
	CHECK_EQ(skel->bss->online_cgroup_id, new_cg, "online callback's cgroup id (/psi_test_new)");
	CHECK_EQ(skel->data->online_trigger_ret, 0, "trigger created in the online callback");
	CHECK_GT(skel->bss->events, 0, "handle_psi_event calls");
	CHECK_EQ(skel->bss->event_cgroup_id, cg2, "event: trigger's cgroup id");
	CHECK_EQ(skel->bss->event_state, 3 /* PSI_MEM_FULL */, "event: trigger state");
	CHECK_EQ(skel->bss->event_threshold_us, 100000, "event: threshold");
	CHECK_EQ(skel->bss->event_window_us, 1000000, "event: window");
	CHECK_EQ(skel->data->oom_ret, 1, "bpf_out_of_memory() freed memory");
	tl_kmsg_read(kfd, kmsg, sizeof(kmsg));
	CHECK(strstr(kmsg, "bpf_out_of_memory: constraint=CONSTRAINT_BPF_PSI_MEM, order=0, oom_memcg=/psi_test/cg2"),
	      "no 'constraint=CONSTRAINT_BPF_PSI_MEM' line with the OOM report");
	/* the report itself is rate limited (oom_kill_process()), its last line is not */
	CHECK(strstr(kmsg, "Memory cgroup out of memory: Killed process"),
	      "no memcg OOM kill in the kernel log");
out:
	if (go[1] >= 0)
		close(go[1]);
	if (kfd >= 0)
		close(kfd);
	if (hog > 0)
		tl_reap(hog, SIGKILL);
	bpf_link__destroy(link);
	psi_policies_bpf__destroy(skel);
	tl_cg_write("psi_test", "cgroup.freeze", "0");
	tl_cg_destroy("psi_test_new");
	tl_cg_destroy("psi_test/cg2");
	tl_cg_destroy("psi_test/cg1");
	tl_cg_destroy("psi_test");
	CHECK_EQ(wait_triggers(0, 5000), 0, "triggers after detach");
}

/* ---- system-wide ---------------------------------------------------------- */

static void test_psi_system_wide_oom(void)
{
	struct psi_policies_bpf *skel = NULL;
	struct bpf_link *link = NULL;
	int hog = -1, kfd = -1;

	/* Only the hog may go: protect this test (init is unkillable). */
	tl_write_file("/proc/self/oom_score_adj", "-1000");
	if (!squeeze_cg("psi_sys", 32))
		goto out;
	skel = psi_policies_bpf__open_and_load();
	if (!CHECK_PTR(skel, "open and load psi_policies"))
		goto out;
	link = bpf_map__attach_struct_ops(skel->maps.system);
	if (!CHECK_PTR(link, "attach") ||
	    !CHECK_EQ(skel->data->system_init_ret, 0, "system-wide trigger"))
		goto out;
	kfd = tl_kmsg_open();
	hog = tl_spawn_in_cg("psi_sys", squeezed_hog, (void *)200L);
	if (!CHECK(hog > 0, "hog did not start: %d", hog))
		goto out;
	expect_hog_killed(&hog, 120000, "the hog");
	CHECK_GT(skel->bss->system_events, 0, "events of the system-wide trigger");
	CHECK_EQ(skel->data->system_event_cgroup_id, 0, "event: cgroup id of a system-wide trigger");
	CHECK_EQ(skel->data->system_oom_ret, 1, "system-wide bpf_out_of_memory() freed memory");
	tl_kmsg_read(kfd, kmsg, sizeof(kmsg));
	CHECK(strstr(kmsg, "bpf_out_of_memory: constraint=CONSTRAINT_BPF, order=0, system-wide"),
	      "no bpf_out_of_memory line for the system-wide OOM");
	/* "Out of memory" (not "Memory cgroup out of memory"): a global OOM kill */
	CHECK(strstr(kmsg, "\nOut of memory: Killed process"), "no global OOM kill in the kernel log");
out:
	if (kfd >= 0)
		close(kfd);
	if (hog > 0)
		tl_reap(hog, SIGKILL);
	bpf_link__destroy(link);
	psi_policies_bpf__destroy(skel);
	tl_cg_destroy("psi_sys");
	tl_write_file("/proc/self/oom_score_adj", "0");
	CHECK_EQ(wait_triggers(0, 5000), 0, "triggers after detach");
}

/* ---- invalid arguments ------------------------------------------------------ */

static void run_args(bool privileged)
{
	struct psi_policies_bpf *skel;
	struct bpf_link *link = NULL;
	long long irq = -1;
	int *r, valid;

	if (!CHECK_OK(tl_cg_create("psi_args"), "mkdir /psi_args"))
		return;
	skel = psi_policies_bpf__open_and_load();
	if (!CHECK_PTR(skel, "open and load psi_policies"))
		goto out;
	skel->bss->io_cgroup_id = tl_cg_id("psi_args");
	if (!privileged && !CHECK_OK(tl_cap_effective(CAP_SYS_RESOURCE, false), "drop CAP_SYS_RESOURCE"))
		goto out;
	link = bpf_map__attach_struct_ops(skel->maps.args);
	if (!privileged)
		tl_cap_effective(CAP_SYS_RESOURCE, true);
	if (!CHECK_PTR(link, "attach"))
		goto out;

	r = skel->bss->arg_ret;
	CHECK_EQ(r[ARG_BAD_RESOURCE], -EINVAL, "resource 7");
	CHECK_EQ(r[ARG_IRQ_SOME], -EINVAL, "PSI_IRQ without BPF_PSI_FULL");
	/* PSI_IRQ exists only where the kernel accounts IRQ time (not Debian's) */
	tl_kernel_enum("psi_res", "PSI_IRQ", &irq);
	CHECK_EQ(r[ARG_IRQ_FULL], irq == 3 ? 0 : -EINVAL,
		 irq == 3 ? "PSI_IRQ | BPF_PSI_FULL" : "PSI_IRQ | BPF_PSI_FULL (no PSI_IRQ here)");
	CHECK_EQ(r[ARG_WINDOW_0], -EINVAL, "window 0");
	CHECK_EQ(r[ARG_WINDOW_ABOVE_10S], -EINVAL, "window 10 s + 1 us");
	CHECK_EQ(r[ARG_WINDOW_1S], privileged ? 0 : -EINVAL,
		 privileged ? "window 1 s (privileged)" : "window 1 s without CAP_SYS_RESOURCE");
	CHECK_EQ(r[ARG_THRESHOLD_0], -EINVAL, "threshold 0");
	CHECK_EQ(r[ARG_THRESHOLD_ABOVE_WINDOW], -EINVAL, "threshold above the window");
	CHECK_EQ(r[ARG_NO_CGROUP], -ENOENT, "unknown cgroup");
	CHECK_EQ(r[ARG_VALID_CGROUP], 0, "valid cgroup trigger");
	CHECK_EQ(r[ARG_VALID_SYSTEM], 0, "valid system-wide trigger");
	CHECK_EQ(r[OOM_BAD_FLAGS], -EINVAL, "bpf_out_of_memory: unknown flag");
	CHECK_EQ(r[OOM_ORDER_NEGATIVE], -EINVAL, "bpf_out_of_memory: order -1");
	CHECK_EQ(r[OOM_ORDER_ABOVE_MAX], -EINVAL, "bpf_out_of_memory: order 11");
	valid = 2 + (privileged ? 1 : 0) + (irq == 3 ? 1 : 0);
	CHECK_EQ(psi_triggers(), valid, "live triggers: the valid ones");
out:
	bpf_link__destroy(link);
	psi_policies_bpf__destroy(skel);
	tl_cg_destroy("psi_args");
	CHECK_EQ(wait_triggers(0, 5000), 0, "triggers after detach");
}

static void test_psi_trigger_args_privileged(void)
{
	run_args(true);
}

static void test_psi_trigger_args_unprivileged(void)
{
	run_args(false);
}

/* ---- decision records: bpf_psi_note_decision() --------------------------- */

/* "emitted N" of /proc/bpf_oom/records: the records the module emitted so far */
static long records_emitted(void)
{
	char line[64];
	long n = -1;
	FILE *f = fopen("/proc/bpf_oom/records", "r");

	while (f && fgets(line, sizeof(line), f))
		sscanf(line, "emitted %ld", &n);
	if (f)
		fclose(f);
	return n;
}

/* Whether the record (one line of JSON) at @rec contains @text. */
static bool rec_has(const char *rec, const char *text)
{
	const char *p = strstr(rec, text), *end = strchr(rec, '\n');

	return p && (!end || p < end);
}

/* String member @key of record @n (at @rec) must be @want. */
static void expect_rec_str(const char *rec, int n, const char *key, const char *want)
{
	char s[300] = "(none)";

	tl_json_str(rec, NULL, key, s, sizeof(s));
	CHECK(!strcmp(s, want), "record %d: %s: expected \"%s\", got \"%s\"", n, key, want, s);
}

/* Number member @key of object @obj ("victim", "psi"; NULL: the record) of record @n. */
static long long rec_num_of(const char *rec, int n, const char *obj, const char *key)
{
	char from[32];
	long long v;

	snprintf(from, sizeof(from), "\"%s\":{", obj ? obj : "");
	if (tl_json_num(rec, obj ? from : NULL, key, &v)) {
		CHECK(0, "record %d: no %s%s%s", n, obj ? obj : "", obj ? "." : "", key);
		return -1;
	}
	return v;
}

/* Number member @key of object @obj (NULL: the record) of record @n must be @want. */
static void expect_rec_num(const char *rec, int n, const char *obj, const char *key,
			   long long want)
{
	long long v = rec_num_of(rec, n, obj, key);

	CHECK(v == want, "record %d: %s%s%s: expected %lld, got %lld", n, obj ? obj : "",
	      obj ? "." : "", key, want, v);
}

static const struct {
	enum psi_note_case c;
	int want;
	const char *what;
} note_cases[] = {
	{ NOTE_ACTION_0, -EINVAL, "action 0" },
	{ NOTE_ACTION_KILL, -EINVAL, "action kill (a kill is recorded by the kill)" },
	{ NOTE_ACTION_ABOVE_MAX, -EINVAL, "action BPF_OOM_ACTION_MAX + 1" },
	{ NOTE_ACTION_WIDE, -EINVAL, "action 0x102 (dry_run in its low 8 bits)" },
	{ NOTE_DECLINE_REASON_NONE, -EINVAL, "decline for reason none" },
	{ NOTE_DECLINE_REASON_DRY_RUN, -EINVAL, "decline for reason dry_run" },
	{ NOTE_DECLINE_REASON_ABOVE_MAX, -EINVAL, "decline for reason BPF_OOM_REASON_MAX + 1" },
	{ NOTE_DECLINE_REASON_WIDE, -EINVAL,
	  "decline for reason 0x10003 (no_candidate in its low 16 bits)" },
	{ NOTE_DRY_RUN_NO_TASK, -EINVAL, "dry run without a task" },
	{ NOTE_DRY_RUN_REASON_NONE, -EINVAL, "dry run for reason none" },
	{ NOTE_DRY_RUN_REASON_OTHER, -EINVAL, "dry run for reason no_candidate" },
	{ NOTE_DRY_RUN, 0, "dry run naming the hog" },
	{ NOTE_DECLINE, 0, "decline for min_interval, in the same run (no -EALREADY for PSI)" },
};
_Static_assert(sizeof(note_cases) / sizeof(note_cases[0]) == NR_NOTES,
	       "a bpf_psi_note_decision() case without its expected result");

static char events_out[1 << 16], events_err[4096];

/* What both records of test_psi_note_decision() share: the trigger and its cgroup. */
static void expect_note_common(const char *rec, int n, unsigned long long cg,
			       const struct timespec *t0, const struct timespec *t1)
{
	long long from = t0->tv_sec * 1000000000LL + t0->tv_nsec;
	long long to = t1->tv_sec * 1000000000LL + t1->tv_nsec, v;

	expect_rec_num(rec, n, NULL, "version", 2);
	expect_rec_num(rec, n, NULL, "episode", 0);
	expect_rec_num(rec, n, NULL, "kills", 0);	/* a PSI decision kills nothing itself */
	expect_rec_str(rec, n, "policy", "test_psi_note");
	expect_rec_num(rec, n, NULL, "attach_cgroup_id", 0);
	expect_rec_str(rec, n, "trigger", "psi");
	expect_rec_num(rec, n, NULL, "gfp_mask", 0);
	expect_rec_num(rec, n, NULL, "order", 0);
	expect_rec_str(rec, n, "constraint", "none");
	expect_rec_num(rec, n, "psi", "resource", 1 /* PSI_MEM */);
	CHECK(rec_has(rec, "\"full\":false"), "record %d: not a \"some\" trigger", n);
	expect_rec_num(rec, n, "psi", "threshold_us", 50000);
	expect_rec_num(rec, n, "psi", "window_us", 500000);
	expect_rec_num(rec, n, NULL, "domain_cgroup_id", cg);
	expect_rec_str(rec, n, "domain_path", "/psi_note");
	CHECK(rec_has(rec, "\"domain_path_truncated\":false"), "record %d: path truncated", n);
	CHECK(rec_has(rec, "\"kernel_victim\":null"), "record %d: a kernel victim", n);
	v = rec_num_of(rec, n, NULL, "time_ns");
	CHECK(v >= from && v <= to, "record %d: time_ns %lld, outside the attachment [%lld, %lld]",
	      n, v, from, to);
	v = rec_num_of(rec, n, NULL, "duration_ns");
	CHECK(v > 0 && v <= to - from, "record %d: duration_ns %lld, expected 1..%lld", n, v,
	      to - from);
}

/*
 * bpf_psi_note_decision() from a real handle_psi_event: each bad argument
 * refused with -EINVAL, then two good notes in the same run, each exactly
 * one record with the trigger as its cause, and no other record emitted.
 * (Its other -EINVAL, a handle or trigger other than those of the event
 * being handled, is out of a program's reach: no program has a trusted
 * pointer to another trigger.)
 */
static void test_psi_note_decision(void)
{
	struct psi_note_bpf *skel = NULL;
	struct bpf_link *link = NULL;
	struct tl_events ev = { .pid = -1 };
	struct timespec t0, t1;
	unsigned long long cg = 0;
	char comm[32] = "", vcomm[32] = "(none)", path[64];
	const char *rec, *next;
	long emitted = -1;
	int hog = -1, rc, i, n;
	FILE *f;

	if (!squeeze_cg("psi_note", 16))
		goto out;
	cg = tl_cg_id("psi_note");
	hog = tl_spawn_in_cg("psi_note", squeezed_hog, (void *)64L);
	if (!CHECK(hog > 0, "hog did not start: %d", hog))
		goto out;
	snprintf(path, sizeof(path), "/proc/%d/comm", hog);
	f = fopen(path, "r");
	if (!CHECK(f && fgets(comm, sizeof(comm), f), "cannot read %s", path)) {
		if (f)
			fclose(f);
		goto out;
	}
	fclose(f);
	comm[strcspn(comm, "\n")] = 0;

	skel = psi_note_bpf__open();
	if (!CHECK_PTR(skel, "open psi_note"))
		goto out;
	skel->bss->note_cgroup_id = cg;
	skel->bss->note_target_pid = hog;
	if (!CHECK_OK(psi_note_bpf__load(skel), "load psi_note") ||
	    !CHECK_OK(tl_events_start(&ev), "bpf-oom events --json"))
		goto out;
	emitted = records_emitted();
	clock_gettime(CLOCK_REALTIME, &t0);
	link = bpf_map__attach_struct_ops(skel->maps.note);
	if (!CHECK_PTR(link, "attach psi_note") ||
	    !CHECK(wait_nonzero(&skel->bss->note_events, 30000), "no PSI event within 30 s"))
		goto out;
	/* detach returns once the running handler has: its results are all in */
	bpf_link__destroy(link);
	link = NULL;
	clock_gettime(CLOCK_REALTIME, &t1);

	CHECK_EQ(skel->bss->note_init_calls, 1, "init calls");
	for (i = 0; i < NR_NOTES; i++)
		CHECK(skel->data->note_ret[note_cases[i].c] == note_cases[i].want,
		      "bpf_psi_note_decision(), %s: expected %d, got %d%s", note_cases[i].what,
		      note_cases[i].want, skel->data->note_ret[note_cases[i].c],
		      skel->data->note_ret[note_cases[i].c] == 1 ? " (not called)" : "");
	CHECK_EQ(records_emitted() - emitted, 2, "records emitted (/proc/bpf_oom/records)");
	rc = tl_events_stop(&ev, events_out, sizeof(events_out), events_err, sizeof(events_err));
	ev.pid = -1;
	CHECK_EQ(rc, 0, "bpf-oom events exit status (3: records lost)");
	for (rec = events_out, n = 0; (next = strchr(rec, '\n')); rec = next + 1, n++)
		if (n < 2)
			expect_note_common(rec, n, cg, &t0, &t1);
	CHECK_EQ(n, 2, "decision records");
	if (n >= 2) {
		/* the dry run, naming the hog */
		rec = events_out;
		expect_rec_str(rec, 0, "action", "dry_run");
		expect_rec_str(rec, 0, "reason", "dry_run");
		expect_rec_num(rec, 0, "victim", "pid", hog);
		expect_rec_num(rec, 0, "victim", "tgid", hog);
		tl_json_str(rec, "\"victim\":{", "comm", vcomm, sizeof(vcomm));
		CHECK(!strcmp(vcomm, comm), "record 0: victim.comm: expected \"%s\", got \"%s\"",
		      comm, vcomm);
		expect_rec_num(rec, 0, "victim", "cgroup_id", cg);
		expect_rec_num(rec, 0, "victim", "oom_score_adj", 0);
		expect_rec_num(rec, 0, "victim", "swap_kb", 0);
		i = rec_num_of(rec, 0, "victim", "rss_kb");
		CHECK(i >= 1024 && i <= 80 * 1024,
		      "record 0: victim.rss_kb %d, expected 1 MiB (touched before it said ready) to 80 MiB",
		      i);
		/* the decline, naming nobody */
		rec = strchr(events_out, '\n') + 1;
		expect_rec_str(rec, 1, "action", "decline");
		expect_rec_str(rec, 1, "reason", "min_interval");
		CHECK(rec_has(rec, "\"victim\":null"), "record 1: a victim");
	}
	if (tl_failed())
		printf("# events output:\n%s# events stderr:\n%s", events_out, events_err);
out:
	if (ev.pid > 0)
		tl_events_stop(&ev, events_out, sizeof(events_out), events_err, sizeof(events_err));
	bpf_link__destroy(link);
	if (hog > 0)
		tl_reap(hog, SIGKILL);
	psi_note_bpf__destroy(skel);
	tl_cg_destroy("psi_note");
	CHECK_EQ(wait_triggers(0, 5000), 0, "triggers after detach");
}

/*
 * bpf_psi_ops.name without its NUL: the attach fails with -EINVAL before
 * init runs, and nothing is left behind. A name of the longest length
 * attaches (the refusal is the missing NUL's, not the length's).
 */
static void test_psi_attach_refuses_unterminated_name(void)
{
	struct psi_note_bpf *skel;
	struct bpf_link *link;
	char *name;
	int err;

	skel = psi_note_bpf__open();
	if (!CHECK_PTR(skel, "open psi_note"))
		return;
	name = skel->struct_ops.note->__unsupported_5;	/* bpf_psi_ops.name */
	memset(name, 'A', sizeof(skel->struct_ops.note->__unsupported_5) - 1);
	if (!CHECK_OK(psi_note_bpf__load(skel), "load psi_note, a 63-character name"))
		goto out;
	link = bpf_map__attach_struct_ops(skel->maps.note);
	CHECK_PTR(link, "attach with a 63-character name");
	bpf_link__destroy(link);
	CHECK_EQ(skel->bss->note_init_calls, 1, "init calls for the 63-character name");
	psi_note_bpf__destroy(skel);

	skel = psi_note_bpf__open();
	if (!CHECK_PTR(skel, "open psi_note"))
		return;
	memset(skel->struct_ops.note->__unsupported_5, 'A',
	       sizeof(skel->struct_ops.note->__unsupported_5));
	/* the kernel sees the value at load or at attach, by libbpf version */
	err = psi_note_bpf__load(skel);
	if (!err) {
		link = bpf_map__attach_struct_ops(skel->maps.note);
		err = link ? 0 : -errno;
		bpf_link__destroy(link);
	}
	CHECK(err == -EINVAL, "unterminated name: expected -EINVAL, got %d", err);
	CHECK_EQ(skel->bss->note_init_calls, 0, "init calls for the refused attach");
out:
	psi_note_bpf__destroy(skel);
	CHECK_EQ(wait_triggers(0, 5000), 0, "triggers after the refused attach");
}

/* ---- oom_lock contention, failing init ------------------------------------ */

static int memcg_hog(void *arg, int ready)
{
	size_t len = (long)arg * MiB;
	char *p;

	tl_write_file("/proc/self/oom_score_adj", "0");
	tl_child_ready(ready);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 11;
	memset(p, 1, len);
	__asm__ volatile("" : : "r"(p) : "memory");
	pause();
	return 0;
}

/*
 * /@cg (16 MiB, no swap) with the oom_lock holder (hold_oom_lock) attached
 * to it: its handler sits on oom_lock during the next OOM there until
 * bss->release. Returns the link (NULL: a check failed) and the skeleton.
 */
static struct bpf_link *hold_setup(const char *cg, struct psi_policies_bpf **skelp)
{
	struct psi_policies_bpf *skel;
	struct bpf_link *link;

	*skelp = NULL;
	if (!CHECK_OK(tl_cg_create(cg), "mkdir") ||
	    !CHECK_OK(tl_cg_write(cg, "memory.max", "16777216"), "memory.max"))
		return NULL;
	tl_cg_write(cg, "memory.swap.max", "0");
	*skelp = skel = psi_policies_bpf__open();
	if (!CHECK_PTR(skel, "open psi_policies"))
		return NULL;
	skel->struct_ops.hold_oom_lock->cgroup_id = tl_cg_id(cg);
	if (!CHECK_OK(psi_policies_bpf__load(skel), "load psi_policies"))
		return NULL;
	link = bpf_map__attach_struct_ops(skel->maps.hold_oom_lock);
	CHECK_PTR(link, "attach the oom_lock holder");
	return link;
}

static void test_psi_out_of_memory_busy(void)
{
	struct psi_policies_bpf *skel = NULL;
	struct bpf_link *hold = NULL, *busy = NULL;
	int hog = -1;

	if (skip_without_memcg_kfuncs())
		return;
	hold = hold_setup("psi_busy", &skel);
	if (!hold)
		goto out;
	/* an OOM in /psi_busy: the holder's handler sits on oom_lock */
	hog = tl_spawn_in_cg("psi_busy", memcg_hog, (void *)32L);
	if (!CHECK(hog > 0, "hog did not start: %d", hog) ||
	    !CHECK(wait_nonzero(&skel->bss->holding, 30000), "no OOM handler holds oom_lock"))
		goto out;

	skel->bss->busy_cgroup_id = tl_cg_id("psi_busy");
	busy = bpf_map__attach_struct_ops(skel->maps.busy);
	CHECK_PTR(busy, "attach the busy ops");
	CHECK_EQ(skel->data->busy_ret, -EBUSY, "bpf_out_of_memory() without waiting, oom_lock held");
	skel->bss->release = 1;
	expect_hog_killed(&hog, 60000, "the hog (killed by the kernel once oom_lock is free)");
	bpf_link__destroy(busy);
	busy = NULL;
	CHECK_EQ(wait_triggers(0, 5000), 0, "triggers after detach");

	/* init fails: the attach fails with its errno, its trigger is gone */
	skel->bss->busy_cgroup_id = 0;
	skel->bss->busy_init_ret = -EACCES;
	busy = bpf_map__attach_struct_ops(skel->maps.busy);
	CHECK(!busy && errno == EACCES, "attach with a failing init: expected EACCES, got %s",
	      busy ? "success" : strerror(errno));
	CHECK_EQ(psi_triggers(), 0, "triggers after a failed init");
out:
	if (skel)
		skel->bss->release = 1;
	if (hog > 0)
		tl_reap(hog, SIGKILL);
	bpf_link__destroy(busy);
	bpf_link__destroy(hold);
	psi_policies_bpf__destroy(skel);
	tl_cg_destroy("psi_busy");
}

/* ---- lifetimes under fire -------------------------------------------------- */

/* Attach "count" to @cg (0 = system-wide) with a squeezed hog in /psi_fire. */
static struct bpf_link *attach_count(struct psi_policies_bpf *skel, unsigned long long cg)
{
	skel->bss->count_cgroup_id = cg;
	return bpf_map__attach_struct_ops(skel->maps.count);
}

static void test_psi_detach_while_firing(void)
{
	struct psi_policies_bpf *skel = NULL;
	struct bpf_link *link = NULL;
	int hog = -1, i;

	if (!squeeze_cg("psi_fire", 16))
		goto out;
	skel = psi_policies_bpf__open_and_load();
	if (!CHECK_PTR(skel, "open and load psi_policies"))
		goto out;
	hog = tl_spawn_in_cg("psi_fire", squeezed_hog, (void *)64L);
	if (!CHECK(hog > 0, "hog did not start: %d", hog))
		goto out;
	link = attach_count(skel, tl_cg_id("psi_fire"));
	if (!CHECK_PTR(link, "attach") ||
	    !CHECK(wait_nonzero(&skel->bss->events, 30000), "no PSI event within 30 s"))
		goto out;
	/* detach while events keep coming, then again and again */
	bpf_link__destroy(link);
	link = NULL;
	CHECK_EQ(psi_triggers(), 0, "triggers right after detach");
	for (i = 0; i < 20; i++) {
		link = attach_count(skel, i % 2 ? 0 : tl_cg_id("psi_fire"));
		if (!CHECK_PTR(link, "attach in the loop"))
			break;
		usleep(20000 * (i % 4));
		bpf_link__destroy(link);
		link = NULL;
	}
	CHECK_EQ(psi_triggers(), 0, "triggers after the attach/detach loop");
out:
	if (hog > 0)
		tl_reap(hog, SIGKILL);
	bpf_link__destroy(link);
	psi_policies_bpf__destroy(skel);
	tl_cg_destroy("psi_fire");
}

/*
 * bpf_psi_ops has no .update: BPF_LINK_UPDATE on its link fails with the
 * kernel's -EOPNOTSUPP (bpf_struct_ops_map_link_update()) and the link
 * stays as it was. Replacing a PSI policy is attaching the new instance,
 * then detaching the old: two instances of one policy (two loads of one
 * object) are attached at once, each with its own trigger and events.
 */
static void test_psi_update_unsupported_two_instances(void)
{
	struct psi_policies_bpf *old = NULL, *new = NULL;
	struct bpf_link *l_old = NULL, *l_new = NULL;
	unsigned long long cg;
	int hog = -1, err;
	u64 seen;

	if (!squeeze_cg("psi_upd", 16))
		goto out;
	cg = tl_cg_id("psi_upd");
	old = psi_policies_bpf__open_and_load();
	new = psi_policies_bpf__open_and_load();
	if (!CHECK_PTR(old, "open and load psi_policies") ||
	    !CHECK_PTR(new, "open and load psi_policies again"))
		goto out;
	hog = tl_spawn_in_cg("psi_upd", squeezed_hog, (void *)64L);
	if (!CHECK(hog > 0, "hog did not start: %d", hog))
		goto out;
	l_old = attach_count(old, cg);
	if (!CHECK_PTR(l_old, "attach the old instance") ||
	    !CHECK(wait_nonzero(&old->bss->events, 30000), "no PSI event for the old instance within 30 s"))
		goto out;

	err = bpf_link__update_map(l_old, new->maps.count);
	CHECK(err == -EOPNOTSUPP, "BPF_LINK_UPDATE on a bpf_psi_ops link: expected -EOPNOTSUPP, got %d",
	      err);
	CHECK_EQ(psi_triggers(), 1, "live triggers after the refused update (the old instance's)");

	/* the new instance next to the old one, then the old one goes */
	l_new = attach_count(new, cg);
	if (!CHECK_PTR(l_new, "attach a second instance while the first is attached"))
		goto out;
	CHECK_EQ(psi_triggers(), 2, "live triggers with both instances attached");
	CHECK(wait_nonzero(&new->bss->events, 30000), "no PSI event for the new instance within 30 s");
	bpf_link__destroy(l_old);
	l_old = NULL;
	CHECK_EQ(psi_triggers(), 1, "live triggers after detaching the old instance");
	seen = old->bss->events;
	new->bss->events = 0;
	CHECK(wait_nonzero(&new->bss->events, 30000),
	      "no PSI event for the new instance within 30 s of the old one's detach");
	CHECK_EQ(old->bss->events, seen, "events of the old instance after its detach");
out:
	if (hog > 0)
		tl_reap(hog, SIGKILL);
	bpf_link__destroy(l_old);
	bpf_link__destroy(l_new);
	psi_policies_bpf__destroy(old);
	psi_policies_bpf__destroy(new);
	tl_cg_destroy("psi_upd");
}

static void test_psi_cgroup_removed_while_firing(void)
{
	struct psi_policies_bpf *skel = NULL;
	struct bpf_link *link = NULL;
	unsigned long long id = 0;
	int hog = -1;

	if (!squeeze_cg("psi_fire", 16))
		goto out;
	id = tl_cg_id("psi_fire");
	skel = psi_policies_bpf__open_and_load();
	if (!CHECK_PTR(skel, "open and load psi_policies"))
		goto out;
	hog = tl_spawn_in_cg("psi_fire", squeezed_hog, (void *)64L);
	if (!CHECK(hog > 0, "hog did not start: %d", hog))
		goto out;
	link = attach_count(skel, id);
	if (!CHECK_PTR(link, "attach") ||
	    !CHECK(wait_nonzero(&skel->bss->events, 30000), "no PSI event within 30 s"))
		goto out;
	/* kill the hog and remove its cgroup while its trigger fires */
	CHECK_OK(tl_cg_destroy("psi_fire"), "rmdir /psi_fire");
	hog = -1;
	CHECK(wait_nonzero(&skel->bss->offline_calls, 5000), "no offline callback");
	CHECK_EQ(skel->bss->offline_cgroup_id, id, "offline callback's cgroup id");
	CHECK_EQ(wait_triggers(0, 5000), 0, "triggers once the cgroup is gone, ops attached");
out:
	if (hog > 0)
		tl_reap(hog, SIGKILL);
	bpf_link__destroy(link);
	psi_policies_bpf__destroy(skel);
	tl_cg_destroy("psi_fire");
	while (tl_wait_any(NULL, 2000) > 0)
		;
}

/* ---- the verifier ------------------------------------------------------------ */

static char vlog[1 << 16];

/*
 * Create struct_ops map @map alone (NULL: none), loading only @prog (and
 * @other, the map's other program, if any): 0 if it loaded, else the
 * error, with the verifier's log of @prog in vlog. (libbpf loads the
 * programs of every struct_ops map it creates, whatever their autoload.)
 */
static int load_ops_alone(const char *map, const char *prog, const char *other)
{
	const void *elf;
	struct bpf_object *obj;
	struct bpf_program *p;
	struct bpf_map *m;
	size_t sz;
	int err;

	elf = psi_verifier_bpf__elf_bytes(&sz);
	obj = bpf_object__open_mem(elf, sz, NULL);
	if (!obj)
		return -errno;
	bpf_object__for_each_map(m, obj)
		if (bpf_map__type(m) == BPF_MAP_TYPE_STRUCT_OPS)
			bpf_map__set_autocreate(m, map && !strcmp(bpf_map__name(m), map));
	bpf_object__for_each_program(p, obj) {
		const char *n = bpf_program__name(p);

		bpf_program__set_autoload(p, !strcmp(n, prog) || (other && !strcmp(n, other)));
	}
	vlog[0] = 0;
	p = bpf_object__find_program_by_name(obj, prog);
	if (p)
		bpf_program__set_log_buf(p, vlog, sizeof(vlog));
	err = bpf_object__load(obj);
	bpf_object__close(obj);
	return err;
}

static void expect_rejected(int err, const char *what, const char *msg)
{
	if (CHECK(err == -EACCES || err == -EINVAL, "%s: expected the verifier to reject it, got %d",
		  what, err))
		CHECK(strstr(vlog, msg), "%s: log lacks \"%s\":\n%s", what, msg, vlog);
}

static void test_psi_verifier_kfuncs_per_ops(void)
{
	int err;

	err = load_ops_alone("psi_control", "psi_creates_trigger", "psi_event_nop");
	CHECK(!err, "control (bpf_psi_create_trigger from bpf_psi_ops) must load, got %d:\n%s",
	      err, vlog);
	expect_rejected(load_ops_alone("oom_calls_out_of_memory", "oom_declares_oom", NULL),
			"bpf_out_of_memory from handle_out_of_memory",
			"calling kernel function bpf_out_of_memory is not allowed");
	expect_rejected(load_ops_alone("oom_calls_create_trigger", "oom_creates_trigger", NULL),
			"bpf_psi_create_trigger from handle_out_of_memory",
			"calling kernel function bpf_psi_create_trigger is not allowed");
	expect_rejected(load_ops_alone("psi_calls_kill_process", "psi_kills", "psi_event_nop"),
			"bpf_oom_kill_process from bpf_psi_ops init",
			"calling kernel function bpf_oom_kill_process is not allowed");
	err = load_ops_alone("psi_text_control", "psi_text_literal", "psi_creates_trigger");
	CHECK(!err, "control (bpf_out_of_memory with a string literal) must load, got %d:\n%s",
	      err, vlog);
	expect_rejected(load_ops_alone("psi_text_rw", "psi_text_writable", "psi_creates_trigger"),
			"bpf_out_of_memory with a writable constraint text",
			"does not point to a readonly map");
	expect_rejected(load_ops_alone("psi_text_nullptr", "psi_text_null", "psi_creates_trigger"),
			"bpf_out_of_memory with a NULL constraint text",
			"Possibly NULL pointer passed to trusted");	/* 6.12: arg3, 7.3: R4 */
	expect_rejected(load_ops_alone("psi_atomic_init", "psi_creates_trigger_atomic",
				       "psi_event_nop"),
			"bpf_psi_create_trigger from a non-sleepable init",
			"program must be sleepable to call sleepable kfunc bpf_psi_create_trigger");
	expect_rejected(load_ops_alone(NULL, "syscall_declares_oom", NULL),
			"bpf_out_of_memory from a syscall program",
			"calling kernel function bpf_out_of_memory is not allowed");
}

/* ---- detaching an OOM policy whose handler is running ------------------ */

struct detacher {
	struct bpf_link *link;
	volatile int done;
};

static void *detach_fn(void *arg)
{
	struct detacher *d = arg;

	bpf_link__destroy(d->link);
	d->done = 1;
	return NULL;
}

/*
 * Once a handler of @d->link runs (*@holding set, @what_runs names it),
 * detach from another thread: detach must not return while the handler
 * runs (500 ms), and must once *@release lets the handler return. *@calls
 * (the handler's call count) is read into *@calls_then right after detach
 * returned: events that came while it waited may still have run the
 * handler. Returns false if a check failed; the link is gone either way and
 * the handler released.
 */
static bool detach_while_running(struct detacher *d, volatile u64 *holding,
				 volatile u64 *release, volatile u64 *calls, u64 *calls_then,
				 const char *what_runs)
{
	pthread_t thread;
	bool ok;

	if (!CHECK(wait_nonzero(holding, 30000), "%s never ran", what_runs) ||
	    !CHECK_OK(pthread_create(&thread, NULL, detach_fn, d), "start the detaching thread")) {
		*release = 1;
		bpf_link__destroy(d->link);
		d->link = NULL;
		return false;
	}
	usleep(500000);
	ok = CHECK(!d->done, "detach returned while %s was still running", what_runs);
	*release = 1;
	pthread_join(thread, NULL);
	d->link = NULL;
	*calls_then = *calls;
	return CHECK(d->done, "detach did not return") && ok;
}

/*
 * (An OOM test, here for the oom_lock holder it shares with the PSI
 * tests.) Detach returns only once the running handler has returned, and
 * the policy is never called again: the next OOM is the kernel's.
 */
static void test_oom_detach_waits_for_running_handler(void)
{
	struct psi_policies_bpf *skel = NULL;
	struct detacher d = { NULL, 0 };
	int hog = -1;
	u64 calls;

	d.link = hold_setup("hold_cg", &skel);
	if (!d.link)
		goto out;
	hog = tl_spawn_in_cg("hold_cg", memcg_hog, (void *)32L);
	if (!CHECK(hog > 0, "hog did not start: %d", hog) ||
	    !detach_while_running(&d, &skel->bss->holding, &skel->bss->release,
				  &skel->bss->hold_calls, &calls, "the OOM handler"))
		goto out;
	/* the hog's next OOM (and every later one) is the kernel's */
	expect_hog_killed(&hog, 60000, "the hog (killed by the kernel after the detach)");
	CHECK_EQ(skel->bss->hold_calls, calls, "handler calls after detach returned");
out:
	if (skel)
		skel->bss->release = 1;
	bpf_link__destroy(d.link);
	if (hog > 0)
		tl_reap(hog, SIGKILL);
	psi_policies_bpf__destroy(skel);
	tl_cg_destroy("hold_cg");
}

/*
 * The same for a PSI handler: detach returns only once the running
 * handle_psi_event has returned; no event reaches the ops afterwards and
 * its trigger is gone.
 */
static void test_psi_detach_waits_for_running_handler(void)
{
	struct psi_policies_bpf *skel = NULL;
	struct detacher d = { NULL, 0 };
	int hog = -1;
	u64 calls;

	if (!squeeze_cg("psi_hold", 16))
		goto out;
	skel = psi_policies_bpf__open();
	if (!CHECK_PTR(skel, "open psi_policies"))
		goto out;
	skel->bss->psi_hold_cgroup_id = tl_cg_id("psi_hold");
	if (!CHECK_OK(psi_policies_bpf__load(skel), "load psi_policies"))
		goto out;
	d.link = bpf_map__attach_struct_ops(skel->maps.psi_hold);
	if (!CHECK_PTR(d.link, "attach psi_hold"))
		goto out;
	hog = tl_spawn_in_cg("psi_hold", squeezed_hog, (void *)64L);
	if (!CHECK(hog > 0, "hog did not start: %d", hog) ||
	    !detach_while_running(&d, &skel->bss->psi_holding, &skel->bss->psi_release,
				  &skel->bss->psi_hold_calls, &calls, "handle_psi_event"))
		goto out;
	/* the hog still stalls: an attached trigger would fire again each window */
	usleep(1500000);
	CHECK_EQ(skel->bss->psi_hold_calls, calls, "handler calls after detach returned");
	CHECK_EQ(psi_triggers(), 0, "triggers after detach");
out:
	if (skel)
		skel->bss->psi_release = 1;
	bpf_link__destroy(d.link);
	if (hog > 0)
		tl_reap(hog, SIGKILL);
	psi_policies_bpf__destroy(skel);
	tl_cg_destroy("psi_hold");
}

/* BPF itself wants CAP_BPF and CAP_PERFMON; bpf-oom also CAP_SYS_ADMIN. */
static void test_psi_attach_needs_cap_sys_admin(void)
{
	struct psi_policies_bpf *skel;
	struct bpf_link *link;
	int err;

	if (!CHECK_OK(tl_cg_create("psi_args"), "mkdir /psi_args"))
		return;
	skel = psi_policies_bpf__open_and_load();
	if (!CHECK_PTR(skel, "open and load psi_policies"))
		goto out;
	skel->bss->io_cgroup_id = tl_cg_id("psi_args");
	if (!CHECK_OK(tl_cap_effective(CAP_SYS_ADMIN, false), "drop CAP_SYS_ADMIN"))
		goto out;
	link = bpf_map__attach_struct_ops(skel->maps.args);
	err = link ? 0 : -errno;
	tl_cap_effective(CAP_SYS_ADMIN, true);
	bpf_link__destroy(link);
	CHECK(err == -EPERM, "attach without CAP_SYS_ADMIN: expected -EPERM, got %d", err);
	/* init would have stored -EINVAL there */
	CHECK_EQ(skel->bss->arg_ret[ARG_BAD_RESOURCE], 0, "init ran for the refused attach");
	CHECK_EQ(psi_triggers(), 0, "live triggers after the refused attach");
out:
	psi_policies_bpf__destroy(skel);
	tl_cg_destroy("psi_args");
}

static const struct tl_test tests[] = {
	{ "psi_verifier_kfuncs_per_ops", test_psi_verifier_kfuncs_per_ops },
	{ "psi_attach_needs_cap_sys_admin", test_psi_attach_needs_cap_sys_admin },
	{ "oom_detach_waits_for_running_handler", test_oom_detach_waits_for_running_handler },
	{ "psi_detach_waits_for_running_handler", test_psi_detach_waits_for_running_handler },
	{ "psi_trigger_args_privileged", test_psi_trigger_args_privileged },
	{ "psi_trigger_args_unprivileged", test_psi_trigger_args_unprivileged },
	{ "psi_note_decision", test_psi_note_decision },
	{ "psi_attach_refuses_unterminated_name", test_psi_attach_refuses_unterminated_name },
	{ "psi_upstream_scenario", test_psi_upstream_scenario },
	{ "psi_system_wide_oom", test_psi_system_wide_oom },
	{ "psi_out_of_memory_busy", test_psi_out_of_memory_busy },
	{ "psi_detach_while_firing", test_psi_detach_while_firing },
	{ "psi_update_unsupported_two_instances", test_psi_update_unsupported_two_instances },
	{ "psi_cgroup_removed_while_firing", test_psi_cgroup_removed_while_firing },
};

int main(int argc, char **argv)
{
	return tl_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
