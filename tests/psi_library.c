// SPDX-License-Identifier: GPL-2.0
/*
 * psi_library.c - the PSI-driven reference policies of bpf/ on scenarios
 * built for their rule, acting and in shadow mode.
 *
 * lmkd_like: every process shielded (-1000) but two, /lmk/hi (oom_score_adj
 * 900, 16 MiB) and /lmk/lo (0, 64 MiB, the largest); /lmk/press holds a
 * -1000 process that keeps allocating 32 MiB over its 16 MiB memory.high,
 * so it spends its time throttled: a memory stall the system's PSI sees.
 *  - medium: a -1000 spinner keeps one task running that never stalls on
 *    one CPU: the system's "full" pressure stays near half the press
 *    CPU's stall (PSI weighs CPUs by their non-idle time), under the 700 ms
 *    per second of full_threshold_ms, while "some" passes its 70 ms: the
 *    floor is medium_adj (800). hi dies (the highest band), lo survives
 *    5 s more of pressure although it is the largest.
 *  - critical: without the spinner the stall is "full": the floor drops to
 *    0 and lo dies after hi, in that order, each by a kill of the policy's
 *    OOM side for an OOM its PSI side declared.
 *  - shadow: at medium, the decision records name hi; nothing dies.
 * The decision records (bpf-oom events --json) must show each kill
 * with its PSI trigger as the cause.
 *
 * earlyoom_like (mem_min_percent 25, no swap, min_interval_ms 60000): every
 * process shielded but /eo/procs' eo_big (96 MiB), eo_mid (48 MiB) and
 * eo_pref (8 MiB), all oom_score_adj 0; the same throttled process makes
 * the system stall. With MemAvailable above 25% of MemTotal the events
 * come and nothing dies; then a -1000 ballast takes MemAvailable to 20%
 * and the next event kills: eo_big (the highest score), or with
 * prefer_comm=eo_pref eo_pref (+300), or with avoid_comm=eo_big eo_mid
 * (eo_big -300); in shadow mode the record names eo_big and nothing dies.
 *
 * mem_available_matches_meminfo: policy.h's MemAvailable, MemTotal,
 * SwapFree and SwapTotal against /proc/meminfo read around them.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"
#include "earlyoom_like.skel.h"
#include "lmkd_like.skel.h"
#include "meminfo.skel.h"

#define MiB (1024UL * 1024)

static const struct tl_holder hi_spec = { .mib = 16, .adj = "900" },
			       lo_spec = { .mib = 64, .adj = "0" };

/* 32 MiB over and over above a 16 MiB memory.high: throttled, stalling */
static int press_fn(void *arg, int ready)
{
	(void)arg;
	if (tl_write_file("/proc/self/oom_score_adj", "-1000"))
		return 9;
	tl_child_ready(ready);
	for (;;) {
		char *p = mmap(NULL, 32 * MiB, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			continue;
		memset(p, 1, 32 * MiB);
		munmap(p, 32 * MiB);
	}
	return 0;
}

static int spin_fn(void *arg, int ready)
{
	volatile unsigned long n = 0;

	(void)arg;
	if (tl_write_file("/proc/self/oom_score_adj", "-1000"))
		return 9;
	tl_child_ready(ready);
	for (;;)
		n++;
	return 0;
}

static char events_out[1 << 17], events_err[4096];

static long long rec_victim_pid(const char *rec)
{
	long long v;

	return tl_json_num(rec, "\"victim\":{", "pid", &v) ? -1 : v;
}

/*
 * A round of a policy with two halves (bpf_oom_ops and bpf_psi_ops) under
 * memory pressure: /@top and its cgroups @cgs, of which @top/press holds
 * the throttled process (@press); every process shielded (-1000, restored
 * at the end) but the ones the round starts; the decision records followed
 * (@ev) while the policy is attached (@l_oom, @l_psi).
 */
struct pressure_round {
	const char *top;
	const char *const *cgs;
	int ncg;
	struct tl_saved_adj *saved;
	struct tl_events ev;
	struct bpf_link *l_oom, *l_psi;
	int press;
};

/* The round's cgroups afresh, @top/press throttled (16 MiB memory.high, no swap); all shielded. */
static bool round_cgroups(struct pressure_round *r)
{
	char top[32], press[32];
	int i;

	for (i = r->ncg - 1; i >= 0; i--)
		tl_cg_destroy(r->cgs[i]);
	tl_cg_destroy(r->top);
	snprintf(top, sizeof(top), "mkdir /%s", r->top);
	if (!CHECK_OK(tl_cg_create(r->top), top) ||
	    !CHECK_OK(tl_cg_write(r->top, "cgroup.subtree_control", "+memory"), "+memory"))
		return false;
	for (i = 0; i < r->ncg; i++)
		if (!CHECK(tl_cg_create(r->cgs[i]) == 0, "mkdir %s", r->cgs[i]))
			return false;
	snprintf(press, sizeof(press), "%s/press", r->top);
	tl_cg_write(press, "memory.swap.max", "0");
	if (!CHECK_OK(tl_cg_write(press, "memory.high", "16777216"), "press memory.high"))
		return false;
	tl_shield_all(r->saved);
	return true;
}

/* Follow the records (the follower shielded too), attach both halves of @name, press. */
static bool round_start(struct pressure_round *r, struct bpf_map *oom, struct bpf_map *psi,
			const char *name)
{
	char path[64], what[64];

	if (!CHECK_OK(tl_events_start(&r->ev), "bpf-oom events --json"))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", r->ev.pid);
	tl_write_file(path, "-1000");

	r->l_oom = bpf_map__attach_struct_ops(oom);
	r->l_psi = bpf_map__attach_struct_ops(psi);
	snprintf(what, sizeof(what), "attach %s (OOM side)", name);
	if (!CHECK_PTR(r->l_oom, what))
		return false;
	snprintf(what, sizeof(what), "attach %s (PSI side)", name);
	if (!CHECK_PTR(r->l_psi, what))
		return false;
	snprintf(path, sizeof(path), "%s/press", r->top);
	r->press = tl_spawn_in_cg(path, press_fn, NULL);
	return CHECK(r->press > 0, "the pressure did not start: %d", r->press);
}

/* Stop following the records (into events_out): none may have been lost. */
static void round_stop_events(struct pressure_round *r)
{
	int rc = tl_events_stop(&r->ev, events_out, sizeof(events_out), events_err,
				sizeof(events_err));

	r->ev.pid = -1;
	CHECK_EQ(rc, 0, "bpf-oom events exit status (3: records lost)");
}

/* Undo the round, killing the pressure and the @n processes @pids that live. */
static void round_end(struct pressure_round *r, const int *pids, int n)
{
	int i;

	if (r->ev.pid > 0)
		tl_events_stop(&r->ev, events_out, sizeof(events_out), events_err,
			       sizeof(events_err));
	bpf_link__destroy(r->l_psi);
	bpf_link__destroy(r->l_oom);
	if (r->press > 0)
		tl_reap(r->press, SIGKILL);
	for (i = 0; i < n; i++)
		if (pids[i] > 0 && tl_alive(pids[i]))
			tl_reap(pids[i], SIGKILL);
	if (r->saved)
		tl_unshield_all(r->saved);
	free(r->saved);
	for (i = r->ncg - 1; i >= 0; i--)
		tl_cg_destroy(r->cgs[i]);
	tl_cg_destroy(r->top);
}

enum lmk_round { MEDIUM, CRITICAL, SHADOW };

static void lmk_round(enum lmk_round round)
{
	static const char *const cgs[] = { "lmk/hi", "lmk/lo", "lmk/press", "lmk/spin" };
	struct lmkd_like_bpf *skel = lmkd_like_bpf__open();
	struct pressure_round r = {
		.top = "lmk", .cgs = cgs, .ncg = 4, .ev = { .pid = -1 }, .press = -1,
		.saved = calloc(1, sizeof(struct tl_saved_adj)),
	};
	int hi = -1, lo = -1, spin = -1, i, n, kills_seen = 0;
	const char *rec;

	if (!CHECK_PTR(skel, "open lmkd_like") || !CHECK_PTR(r.saved, "calloc"))
		goto out;
	skel->rodata->dry_run = round == SHADOW;
	if (!CHECK_OK(lmkd_like_bpf__load(skel), "load lmkd_like") || !round_cgroups(&r))
		goto out;

	hi = tl_spawn_in_cg("lmk/hi", tl_holder_fn, (void *)&hi_spec);
	lo = tl_spawn_in_cg("lmk/lo", tl_holder_fn, (void *)&lo_spec);
	if (round != CRITICAL)
		spin = tl_spawn_in_cg("lmk/spin", spin_fn, NULL);
	if (!CHECK(hi > 0 && lo > 0 && (round == CRITICAL || spin > 0),
		   "processes did not start: hi %d lo %d spin %d", hi, lo, spin) ||
	    !round_start(&r, skel->maps.lmkd_like, skel->maps.lmkd_like_psi, "lmkd_like"))
		goto out;

	switch (round) {
	case MEDIUM:
		CHECK(tl_wait_killed(hi, 30000), "hi (adj 900) was not killed within 30 s of pressure");
		usleep(5000000);
		CHECK(tl_alive(lo), "lo (adj 0) died at medium pressure");
		CHECK_EQ(skel->bss->kills, 1, "kills by the policy");
		CHECK_EQ(skel->bss->events_critical, 0,
			 "critical events with a task running that never stalls");
		break;
	case CRITICAL:
		CHECK(tl_wait_killed(hi, 30000), "hi (adj 900) was not killed within 30 s of pressure");
		CHECK(tl_wait_killed(lo, 30000), "lo (adj 0) was not killed at critical pressure");
		CHECK_EQ(skel->bss->kills, 2, "kills by the policy");
		CHECK_GT(skel->bss->events_critical, 0, "critical events");
		break;
	case SHADOW:
		for (i = 0; i < 3000 && !skel->bss->dry_runs; i++)
			usleep(10000);
		CHECK_GT(skel->bss->dry_runs, 0, "choices recorded in shadow mode within 30 s");
		usleep(2000000);
		CHECK(tl_alive(hi) && tl_alive(lo), "a process died in shadow mode");
		CHECK_EQ(skel->bss->kills, 0, "kills by the policy in shadow mode");
		CHECK_EQ(skel->bss->declared, 0, "OOMs declared in shadow mode");
		break;
	}
	tl_reap(r.press, SIGKILL);
	r.press = -1;
	round_stop_events(&r);

	/* the records: every kill (or dry run) caused by a PSI trigger, in order */
	for (rec = events_out, n = 0; *rec; rec = strchr(rec, '\n') + 1, n++) {
		long long v;

		if (!strchr(rec, '\n'))
			break;
		CHECK(tl_json_is(rec, "policy", "lmkd_like") && tl_json_is(rec, "trigger", "psi"),
		      "record %d: policy and trigger: %.300s", n, rec);
		CHECK(!tl_json_num(rec, "\"psi\":{", "resource", &v) && v == 1,
		      "record %d: not a memory trigger: %.300s", n, rec);
		if (tl_json_is(rec, "action", "decline"))
			continue;
		if (round == SHADOW) {
			CHECK(tl_json_is(rec, "action", "dry_run") && rec_victim_pid(rec) == hi,
			      "record %d: expected a dry run naming hi (%d): %.300s", n, hi, rec);
			CHECK(!tl_json_num(rec, NULL, "episode", &v) && v == 0,
			      "record %d: a PSI decision has no OOM episode: %.300s", n, rec);
			kills_seen++;
			continue;
		}
		CHECK(tl_json_is(rec, "action", "kill"), "record %d: action: %.300s", n, rec);
		/* lo (adj 0) only goes at critical pressure: its kill came from "full" */
		if (kills_seen == 1)
			CHECK(strstr(rec, "\"full\":true"), "record %d: lo's kill not caused by full pressure: %.300s",
			      n, rec);
		v = rec_victim_pid(rec);
		CHECK(v == (kills_seen ? lo : hi), "record %d: kill %d named %lld, expected %d", n,
		      kills_seen, v, kills_seen ? lo : hi);
		CHECK(!tl_json_num(rec, NULL, "episode", &v) && v > 0,
		      "record %d: a kill without its OOM episode: %.300s", n, rec);
		CHECK(tl_json_is(rec, "domain_path", "/"), "record %d: domain: %.300s", n, rec);
		kills_seen++;
	}
	if (round == SHADOW)
		CHECK(kills_seen >= 1, "no dry-run record");
	else
		CHECK_EQ(kills_seen, round == MEDIUM ? 1 : 2, "kill records");
	if (tl_failed())
		printf("# events output:\n%s# events stderr:\n%s", events_out, events_err);
out:
	round_end(&r, (int[]){ spin, hi, lo }, 3);
	lmkd_like_bpf__destroy(skel);
}

static void test_lmkd_like_medium(void)
{
	lmk_round(MEDIUM);
}

static void test_lmkd_like_critical(void)
{
	lmk_round(CRITICAL);
}

static void test_lmkd_like_shadow(void)
{
	lmk_round(SHADOW);
}

/* ---- earlyoom_like ------------------------------------------------------ */

static const struct tl_holder eo_specs[] = {
	{ .mib = 96, .adj = "0", .comm = "eo_big" },
	{ .mib = 48, .adj = "0", .comm = "eo_mid" },
	{ .mib = 8, .adj = "0", .comm = "eo_pref" },
};

enum eo_round { EO_PLAIN, EO_PREFER, EO_AVOID, EO_SHADOW };

static void eo_round(enum eo_round round)
{
	static const char *const cgs[] = { "eo/procs", "eo/press", "eo/ballast" };
	struct earlyoom_like_bpf *skel = earlyoom_like_bpf__open();
	struct pressure_round r = {
		.top = "eo", .cgs = cgs, .ncg = 3, .ev = { .pid = -1 }, .press = -1,
		.saved = calloc(1, sizeof(struct tl_saved_adj)),
	};
	int procs[3] = { -1, -1, -1 }, ballast = -1, want, i, n, seen = 0;
	long total, avail;
	const char *rec;

	/* the victim the rule names: eo_big, or eo_pref (+300), or eo_mid (eo_big -300) */
	want = round == EO_PREFER ? 2 : round == EO_AVOID ? 1 : 0;
	if (!CHECK_PTR(skel, "open earlyoom_like") || !CHECK_PTR(r.saved, "calloc"))
		goto out;
	skel->rodata->dry_run = round == EO_SHADOW;
	skel->rodata->mem_min_percent = 25;
	skel->rodata->swap_min_percent = 100;
	/*
	 * One kill per round: memory can stay under the threshold after it
	 * (eo_pref's 8 MiB), and 3 s were once not enough under TCG between
	 * the kill and the end of the stall (a second kill, of eo_pref, on
	 * sid-7.2).
	 */
	skel->rodata->min_interval_ms = 60000;
	if (round == EO_PREFER)
		strcpy((char *)skel->rodata->prefer_comm[0], "eo_pref");
	if (round == EO_AVOID)
		strcpy((char *)skel->rodata->avoid_comm[0], "eo_big");
	if (!CHECK_OK(earlyoom_like_bpf__load(skel), "load earlyoom_like") || !round_cgroups(&r))
		goto out;

	for (i = 0; i < 3; i++) {
		procs[i] = tl_spawn_in_cg("eo/procs", tl_holder_fn, (void *)&eo_specs[i]);
		if (!CHECK(procs[i] > 0, "%s did not start: %d", eo_specs[i].comm, procs[i]))
			goto out;
	}
	if (!round_start(&r, skel->maps.earlyoom_like, skel->maps.earlyoom_like_psi,
			 "earlyoom_like"))
		goto out;

	/* memory plentiful: events, no kill */
	for (i = 0; i < 3000 && skel->bss->below < 2; i++)
		usleep(10000);
	CHECK_GT(skel->bss->below, 1, "events with MemAvailable above 25% within 30 s");
	for (i = 0; i < 3; i++)
		CHECK(tl_alive(procs[i]), "%s died with memory plentiful", eo_specs[i].comm);
	CHECK_EQ(skel->bss->kills + skel->bss->dry_runs + skel->bss->declared, 0,
		 "decisions with memory plentiful");

	/* a ballast takes MemAvailable to 20% of MemTotal */
	total = tl_meminfo_mib("MemTotal");
	avail = tl_meminfo_mib("MemAvailable");
	if (!CHECK(avail - total / 5 > 32, "MemAvailable %ld of %ld MiB: no room for the ballast",
		   avail, total))
		goto out;
	ballast = tl_spawn_in_cg("eo/ballast", tl_holder_fn,
				 &(struct tl_holder){ .mib = avail - total / 5, .adj = "-1000" });
	if (!CHECK(ballast > 0, "ballast did not start: %d", ballast))
		goto out;

	if (round == EO_SHADOW) {
		for (i = 0; i < 3000 && !skel->bss->dry_runs; i++)
			usleep(10000);
		CHECK_GT(skel->bss->dry_runs, 0, "choices recorded in shadow mode within 30 s");
		tl_reap(r.press, SIGKILL);
		r.press = -1;
		for (i = 0; i < 3; i++)
			CHECK(tl_alive(procs[i]), "%s died in shadow mode", eo_specs[i].comm);
		CHECK_EQ(skel->bss->declared, 0, "OOMs declared in shadow mode");
	} else {
		CHECK(tl_wait_killed(procs[want], 30000), "%s was not killed within 30 s of low memory",
		      eo_specs[want].comm);
		/*
		 * Memory may still be under the threshold (eo_pref's 8 MiB):
		 * the next kill would come after min_interval_ms (60 s); the
		 * stall ends now.
		 */
		tl_reap(r.press, SIGKILL);
		r.press = -1;
		usleep(1000000);
		for (i = 0; i < 3; i++)
			if (i != want)
				CHECK(tl_alive(procs[i]), "%s died too", eo_specs[i].comm);
		CHECK_EQ(skel->bss->kills, 1, "kills by the policy");
	}
	round_stop_events(&r);
	for (rec = events_out, n = 0; *rec; rec = strchr(rec, '\n') + 1, n++) {
		if (!strchr(rec, '\n'))
			break;
		CHECK(tl_json_is(rec, "policy", "earlyoom_like") && tl_json_is(rec, "trigger", "psi"),
		      "record %d: policy and trigger: %.300s", n, rec);
		if (tl_json_is(rec, "action", "decline"))
			continue;
		CHECK(tl_json_is(rec, "action", round == EO_SHADOW ? "dry_run" : "kill") &&
		      rec_victim_pid(rec) == procs[want],
		      "record %d: expected a %s of %s (%d): %.300s", n,
		      round == EO_SHADOW ? "dry run" : "kill", eo_specs[want].comm, procs[want], rec);
		seen++;
	}
	if (round == EO_SHADOW)
		CHECK(seen >= 1, "no dry-run record");
	else
		CHECK_EQ(seen, 1, "kill records");
	if (tl_failed())
		printf("# events output:\n%s# events stderr:\n%s", events_out, events_err);
out:
	round_end(&r, (int[]){ ballast, procs[0], procs[1], procs[2] }, 4);
	earlyoom_like_bpf__destroy(skel);
}

static void test_earlyoom_like_highest_score(void)
{
	eo_round(EO_PLAIN);
}

static void test_earlyoom_like_prefer(void)
{
	eo_round(EO_PREFER);
}

static void test_earlyoom_like_avoid(void)
{
	eo_round(EO_AVOID);
}

static void test_earlyoom_like_shadow(void)
{
	eo_round(EO_SHADOW);
}

/* ---- policy.h's view of memory ------------------------------------------ */

/* The "low" watermarks of every zone in /proc/zoneinfo, summed (pages). */
static unsigned long zoneinfo_low_sum(void)
{
	FILE *f = fopen("/proc/zoneinfo", "r");
	unsigned long sum = 0, v;
	char line[256];

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, " low %lu", &v) == 1)
			sum += v;
	if (f)
		fclose(f);
	return sum;
}

static void test_mem_available_matches_meminfo(void)
{
	struct meminfo_bpf *skel = meminfo_bpf__open_and_load();
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	long page_mib_x = sysconf(_SC_PAGESIZE);
	long before, after, mine;

	if (!CHECK_PTR(skel, "load meminfo"))
		return;
	/* the figures move: one read, within 4 MiB of /proc/meminfo's read on either side */
	before = tl_meminfo_mib("MemAvailable");
	if (!CHECK_OK(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.read_meminfo), &opts),
		      "run read_meminfo")) {
		meminfo_bpf__destroy(skel);
		return;
	}
	after = tl_meminfo_mib("MemAvailable");
	mine = skel->bss->mem_available * page_mib_x / (long)MiB;
	CHECK(mine >= (before < after ? before : after) - 4 &&
	      mine <= (before > after ? before : after) + 4,
	      "MemAvailable: policy.h %ld MiB, /proc/meminfo %ld MiB before and %ld after", mine,
	      before, after);
	/* the watermark walk, exactly: /proc/zoneinfo's "low" is low_wmark_pages() */
	CHECK_EQ(skel->bss->wmark_low, zoneinfo_low_sum(), "sum of low watermarks (pages)");
	CHECK_EQ(skel->bss->mem_total * page_mib_x / (long)MiB, tl_meminfo_mib("MemTotal"), "MemTotal (MiB)");
	CHECK_EQ(skel->bss->swap_total * page_mib_x / (long)MiB, tl_meminfo_mib("SwapTotal"), "SwapTotal (MiB)");
	CHECK_EQ(skel->bss->swap_free * page_mib_x / (long)MiB, tl_meminfo_mib("SwapFree"), "SwapFree (MiB)");
	meminfo_bpf__destroy(skel);
}

static const struct tl_test tests[] = {
	{ "mem_available_matches_meminfo", test_mem_available_matches_meminfo },
	{ "earlyoom_like_highest_score", test_earlyoom_like_highest_score },
	{ "earlyoom_like_prefer", test_earlyoom_like_prefer },
	{ "earlyoom_like_avoid", test_earlyoom_like_avoid },
	{ "earlyoom_like_shadow", test_earlyoom_like_shadow },
	{ "lmkd_like_medium", test_lmkd_like_medium },
	{ "lmkd_like_critical", test_lmkd_like_critical },
	{ "lmkd_like_shadow", test_lmkd_like_shadow },
};

int main(int argc, char **argv)
{
	tl_libbpf_quiet();
	tl_write_file("/proc/self/oom_score_adj", "-1000");
	return tl_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
