// SPDX-License-Identifier: GPL-2.0
/*
 * oomd_library.c - oomd_like (systemd-oomd's rule) on a scenario built for
 * it, acting and in shadow mode.
 *
 * Swap is on (zram, 384 MiB: without swap nothing anonymous is reclaimed
 * and pgscan stays 0). The watched cgroup /oomd holds:
 *  - /oomd/big: one idle process with 160 MiB (the largest: the kernel's
 *    OOM killer and oom_kernel_default would choose it);
 *  - /oomd/thrash: a process cycling through 96 MiB under a 32 MiB
 *    memory.max (reclaimed, swapped, refaulted: its pgscan grows and it
 *    stalls, "full" pressure in /oomd), and two idle 4 MiB processes;
 *  - /oomd/small: one idle 8 MiB process.
 * Knobs: /oomd watched, 10 % full pressure in 1 s windows for 2 s, 60 s
 * between actions (one decision per round).
 *  - pgscan: thrash goes whole (its three processes), by one decision
 *    record (kills 3, trigger psi, domain /oomd), at least duration_ms
 *    after the first event and after not_sustained declines; the larger
 *    big lives, and so does /oomd/old, which thrashed for 10 s before and
 *    is stopped now (more pgscan in all than thrash, none since: a rule
 *    ranking totals instead of rates would take it);
 *  - shadow: the records name a thrash process as a dry run; nobody dies;
 *  - avoid (thrash): big goes (no reclaim: the larger usage);
 *  - avoid_last (thrash; big and small omitted): thrash goes, as the only
 *    candidate left, marked avoided;
 *  - omit_all: no candidate, no OOM declared, decline records saying so;
 *  - oom_group: /oomd/svc (memory.oom.group 1) holds the thrashing
 *    process in svc/work and two idle ones in svc/idle: the cgroup taken
 *    whole is svc, all three die (the policy's first kill, through the
 *    kernel's memory.oom.group; the record counts all three), big lives.
 * Every record of a round is checked: kills, dry runs and declines, each
 * with the reason the round allows.
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
#include "oomd_like.skel.h"

#define MiB (1024UL * 1024)

static const struct tl_holder big_spec = { .mib = 160 }, small_spec = { .mib = 8 },
	idle_spec = { .mib = 4 };

/* touch every page of @arg MiB, over and over */
static int churn_fn(void *arg, int ready)
{
	size_t sz = (size_t)arg * MiB, i;
	char *p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned int r;

	if (p == MAP_FAILED)
		return 10;
	tl_child_ready(ready);
	for (r = 1;; r++)
		for (i = 0; i < sz; i += 4096)
			p[i] = (char)r;
	return 0;
}

enum round { PGSCAN, SHADOW, AVOID, AVOID_LAST, OMIT_ALL, OOM_GROUP };

#define NPROCS 6
static const char *const cgs[] = {
	"oomd/big", "oomd/thrash", "oomd/small", "oomd/old", "oomd/svc/work", "oomd/svc/idle",
	"oomd/svc",
};

static char events_out[1 << 18], events_err[4096];

static void cleanup_cgroups(void)
{
	size_t i;

	for (i = 0; i < sizeof(cgs) / sizeof(cgs[0]); i++)
		tl_cg_destroy(cgs[i]);
	tl_cg_destroy("oomd");
}

static void oomd_round(enum round round)
{
	struct oomd_like_bpf *skel = NULL;
	struct bpf_link *l_oom = NULL, *l_psi = NULL;
	struct tl_events ev = { .pid = -1 };
	/* big, thrash (churn + 2 idle), small; or big, svc/work, svc/idle */
	int big = -1, churn = -1, idle1 = -1, idle2 = -1, small = -1, old = -1;
	unsigned long long big_id, victim_id, small_id;
	const char *churn_cg, *idle_cg;
	int i, rc, n, kills_seen = 0, dry_seen = 0, declines_seen = 0, nocand_seen = 0;
	int sustained_before = 0;
	long long first_ns = 0, kill_ns = 0;
	bool swap = false, group = round == OOM_GROUP;
	char adj_path[64];
	const char *rec;

	cleanup_cgroups();
	if (!CHECK_OK(tl_swap_on(384), "swap on zram"))
		return;
	swap = true;
	if (!CHECK_OK(tl_cg_create("oomd"), "mkdir /oomd") ||
	    !CHECK_OK(tl_cg_write("oomd", "cgroup.subtree_control", "+memory"), "/oomd +memory") ||
	    !CHECK_OK(tl_cg_create("oomd/big"), "mkdir /oomd/big") ||
	    !CHECK_OK(tl_cg_create("oomd/small"), "mkdir /oomd/small"))
		goto out;
	if (group) {
		if (!CHECK_OK(tl_cg_create("oomd/svc"), "mkdir /oomd/svc") ||
		    !CHECK_OK(tl_cg_write("oomd/svc", "memory.oom.group", "1"), "svc memory.oom.group") ||
		    !CHECK_OK(tl_cg_write("oomd/svc", "cgroup.subtree_control", "+memory"), "svc +memory") ||
		    !CHECK_OK(tl_cg_create("oomd/svc/work"), "mkdir svc/work") ||
		    !CHECK_OK(tl_cg_create("oomd/svc/idle"), "mkdir svc/idle"))
			goto out;
		churn_cg = "oomd/svc/work";
		idle_cg = "oomd/svc/idle";
		victim_id = tl_cg_id("oomd/svc");
	} else {
		if (!CHECK_OK(tl_cg_create("oomd/thrash"), "mkdir /oomd/thrash"))
			goto out;
		churn_cg = idle_cg = "oomd/thrash";
		victim_id = tl_cg_id("oomd/thrash");
	}
	if (!CHECK_OK(tl_cg_write(churn_cg, "memory.max", "33554432"), "memory.max 32 MiB"))
		goto out;
	big_id = tl_cg_id("oomd/big");
	small_id = tl_cg_id("oomd/small");

	skel = oomd_like_bpf__open();
	if (!CHECK_PTR(skel, "open oomd_like"))
		goto out;
	skel->rodata->cgroup = tl_cg_id("oomd");
	skel->rodata->window_ms = 1000;
	skel->rodata->mem_pressure_limit = 10;
	skel->rodata->duration_ms = 2000;
	skel->rodata->post_action_delay_ms = 60000;
	skel->rodata->dry_run = round == SHADOW;
	if (round == AVOID || round == AVOID_LAST)
		skel->rodata->avoid[0] = victim_id;
	if (round == AVOID_LAST || round == OMIT_ALL) {
		skel->rodata->omit[0] = big_id;
		skel->rodata->omit[1] = small_id;
	}
	if (round == OMIT_ALL)
		skel->rodata->omit[2] = victim_id;
	if (!CHECK_OK(oomd_like_bpf__load(skel), "load oomd_like"))
		goto out;

	big = tl_spawn_in_cg("oomd/big", tl_holder_fn, (void *)&big_spec);
	small = tl_spawn_in_cg("oomd/small", tl_holder_fn, (void *)&small_spec);
	idle1 = tl_spawn_in_cg(idle_cg, tl_holder_fn, (void *)&idle_spec);
	idle2 = tl_spawn_in_cg(idle_cg, tl_holder_fn, (void *)&idle_spec);
	if (!CHECK(big > 0 && small > 0 && idle1 > 0 && idle2 > 0,
		   "processes did not start: %d %d %d %d", big, small, idle1, idle2))
		goto out;
	if (round == PGSCAN) {
		/*
		 * /oomd/old thrashes for 10 s, then stops: more pgscan in all
		 * than thrash will have, none since. Ranking by the total
		 * instead of the rate would choose it.
		 */
		if (!CHECK_OK(tl_cg_create("oomd/old"), "mkdir /oomd/old") ||
		    !CHECK_OK(tl_cg_write("oomd/old", "memory.max", "33554432"), "old memory.max"))
			goto out;
		old = tl_spawn_in_cg("oomd/old", churn_fn, (void *)96);
		if (!CHECK(old > 0, "old did not start: %d", old))
			goto out;
		usleep(10000000);
		kill(old, SIGSTOP);
	}
	if (!CHECK_OK(tl_events_start(&ev), "bpf-oom events --json"))
		goto out;
	snprintf(adj_path, sizeof(adj_path), "/proc/%d/oom_score_adj", ev.pid);
	tl_write_file(adj_path, "-1000");
	l_oom = bpf_map__attach_struct_ops(skel->maps.oomd_like);
	l_psi = bpf_map__attach_struct_ops(skel->maps.oomd_like_psi);
	if (!CHECK_PTR(l_oom, "attach oomd_like (OOM side)") ||
	    !CHECK_PTR(l_psi, "attach oomd_like (PSI side)"))
		goto out;
	churn = tl_spawn_in_cg(churn_cg, churn_fn, (void *)96);
	if (!CHECK(churn > 0, "the thrashing process did not start: %d", churn))
		goto out;

	switch (round) {
	case PGSCAN:
	case AVOID_LAST:
	case OOM_GROUP:
		CHECK(tl_wait_killed(churn, 30000), "the thrashing process was not killed within 30 s");
		CHECK(tl_wait_killed(idle1, 2000), "an idle process of its cgroup was not killed with it");
		CHECK(tl_wait_killed(idle2, 2000), "the other idle process of its cgroup was not killed");
		usleep(2000000);
		CHECK(tl_alive(big), "big (160 MiB, no reclaim) died");
		CHECK(tl_alive(small), "small died");
		CHECK_EQ(skel->bss->kills, 1, "cgroups killed");
		/*
		 * svc: the first kill takes the whole memory.oom.group (the
		 * kernel's oom_kill_process()); the others are victims already
		 */
		CHECK_EQ(skel->bss->killed_procs, group ? 1 : 3, "the policy's successful kill calls");
		if (round == PGSCAN) {
			unsigned long long o = 0, th = 0;

			CHECK(tl_alive(old), "old (thrashed before, idle now) died");
			tl_cg_read_key("oomd/old", "memory.stat", "pgscan", &o);
			tl_cg_read_key("oomd/thrash", "memory.stat", "pgscan", &th);
			CHECK(o > th, "the scenario does not tell rate from total: old's pgscan %llu, thrash's %llu",
			      o, th);
		}
		CHECK_EQ(skel->bss->last_cgroup, victim_id, "the cgroup chosen");
		CHECK_EQ(skel->bss->last_avoided, round == AVOID_LAST, "chosen although avoided");
		CHECK_GT(skel->bss->last_pgscan, 0, "its pgscan since the previous look");
		if (round == AVOID_LAST)
			CHECK_EQ(skel->bss->last_candidates, 1, "candidates left (big and small omitted)");
		break;
	case AVOID:
		CHECK(tl_wait_killed(big, 30000), "big was not killed within 30 s (thrash avoided)");
		usleep(2000000);
		CHECK(tl_alive(churn) && tl_alive(idle1) && tl_alive(idle2), "a process of the avoided cgroup died");
		CHECK(tl_alive(small), "small died");
		CHECK_EQ(skel->bss->kills, 1, "cgroups killed");
		CHECK_EQ(skel->bss->killed_procs, 1, "processes killed");
		CHECK_EQ(skel->bss->last_cgroup, big_id, "the cgroup chosen");
		break;
	case SHADOW:
	case OMIT_ALL:
		for (i = 0; i < 3000 && !(round == SHADOW ? skel->bss->dry_runs : skel->bss->declines > 3); i++)
			usleep(10000);
		if (round == SHADOW)
			CHECK_GT(skel->bss->dry_runs, 0, "choices recorded in shadow mode within 30 s");
		/* past duration_ms: the policy would have acted by now */
		usleep(4000000);
		CHECK(tl_alive(big) && tl_alive(small) && tl_alive(churn) && tl_alive(idle1) && tl_alive(idle2),
		      "a process died (%s)", round == SHADOW ? "shadow mode" : "everything omitted");
		CHECK_EQ(skel->bss->kills, 0, "cgroups killed");
		CHECK_EQ(skel->bss->declared, 0, "OOMs declared");
		if (round == SHADOW)
			CHECK_EQ(skel->bss->last_cgroup, victim_id, "the cgroup it would kill");
		else
			CHECK_GT(skel->bss->omitted, 0, "candidates omitted");
		break;
	}
	tl_reap(churn, SIGKILL);
	churn = -1;
	rc = tl_events_stop(&ev, events_out, sizeof(events_out), events_err, sizeof(events_err));
	ev.pid = -1;
	CHECK_EQ(rc, 0, "bpf-oom events exit status (3: records lost)");

	for (rec = events_out, n = 0; *rec && strchr(rec, '\n'); rec = strchr(rec, '\n') + 1, n++) {
		long long v, cg = -1, kills = -1;
		char reason[32] = "";

		CHECK(tl_json_is(rec, "policy", "oomd_like"), "record %d: policy: %.300s", n, rec);
		tl_json_str(rec, NULL, "reason", reason, sizeof(reason));
		tl_json_num(rec, NULL, "time_ns", n ? &v : &first_ns);
		tl_json_num(rec, "\"victim\":{", "cgroup_id", &cg);
		tl_json_num(rec, NULL, "kills", &kills);
		if (tl_json_is(rec, "action", "decline")) {
			declines_seen++;
			/* before acting: not yet sustained; after: the delay; omit_all: none left */
			CHECK(!strcmp(reason, "not_sustained") || !strcmp(reason, "min_interval") ||
			      (round == OMIT_ALL && !strcmp(reason, "no_candidate")),
			      "record %d: a decline for reason %s: %.300s", n, reason, rec);
			nocand_seen += !strcmp(reason, "no_candidate");
			sustained_before += !kills_seen && !strcmp(reason, "not_sustained");
			continue;
		}
		if (tl_json_is(rec, "action", "dry_run")) {
			CHECK(round == SHADOW, "record %d: a dry run outside shadow mode: %.300s", n, rec);
			CHECK(tl_json_is(rec, "trigger", "psi") && strstr(rec, "\"full\":true"),
			      "record %d: not caused by the full trigger: %.300s", n, rec);
			CHECK(cg == (long long)victim_id, "record %d: dry run in cgroup %lld, expected %llu: %.300s",
			      n, cg, victim_id, rec);
			dry_seen++;
			continue;
		}
		CHECK(tl_json_is(rec, "action", "kill"), "record %d: action: %.300s", n, rec);
		tl_json_num(rec, NULL, "time_ns", &kill_ns);
		CHECK(tl_json_is(rec, "trigger", "psi") && strstr(rec, "\"full\":true"),
		      "record %d: a kill not caused by the full trigger: %.300s", n, rec);
		CHECK(tl_json_is(rec, "domain_path", "/oomd"), "record %d: domain: %.300s", n, rec);
		CHECK(!tl_json_num(rec, NULL, "episode", &v) && v > 0,
		      "record %d: a kill without its OOM episode: %.300s", n, rec);
		if (round == AVOID) {
			CHECK(cg == (long long)big_id, "record %d: victim in cgroup %lld, expected big %llu",
			      n, cg, big_id);
			CHECK(kills == 1, "record %d: kills %lld, expected 1", n, kills);
		} else {
			CHECK(cg == (long long)victim_id || (group && cg == (long long)tl_cg_id(churn_cg)) ||
			      (group && cg == (long long)tl_cg_id(idle_cg)),
			      "record %d: victim in cgroup %lld, expected %llu's", n, cg, victim_id);
			CHECK(kills == 3, "record %d: kills %lld, expected 3 (the whole cgroup)", n, kills);
		}
		kills_seen++;
	}
	CHECK_EQ(kills_seen, round == SHADOW || round == OMIT_ALL ? 0 : 1, "kill records");
	if (kills_seen) {
		/* pressure first, for duration_ms (2 s) from the first event, then the kill */
		CHECK_GT(sustained_before, 0, "not_sustained declines before the kill");
		CHECK(kill_ns - first_ns >= 2000000000LL,
		      "the kill came %lld ms after the first event, before duration_ms (2000)",
		      (kill_ns - first_ns) / 1000000);
	}
	if (round == SHADOW)
		CHECK_GT(dry_seen, 0, "dry-run records");
	if (round == OMIT_ALL)
		CHECK_GT(nocand_seen, 0, "no_candidate declines");
	if (tl_failed()) {
		unsigned long long v;

		printf("# events output:\n%s# events stderr:\n%s", events_out, events_err);
		if (!tl_cg_read_key(churn_cg, "memory.stat", "pgscan", &v))
			printf("# %s pgscan %llu\n", churn_cg, v);
		if (!tl_cg_read_key("oomd/big", "memory.stat", "pgscan", &v))
			printf("# oomd/big pgscan %llu\n", v);
		printf("# policy: last_pgscan %llu last_usage %llu candidates %u\n",
		       (unsigned long long)skel->bss->last_pgscan,
		       (unsigned long long)skel->bss->last_usage, skel->bss->last_candidates);
	}
out:
	if (ev.pid > 0)
		tl_events_stop(&ev, events_out, sizeof(events_out), events_err, sizeof(events_err));
	bpf_link__destroy(l_psi);
	bpf_link__destroy(l_oom);
	oomd_like_bpf__destroy(skel);
	{
		int pids[] = { big, churn, idle1, idle2, small, old };

		for (i = 0; i < NPROCS; i++)
			if (pids[i] > 0 && tl_alive(pids[i]))
				tl_reap(pids[i], SIGKILL);
	}
	cleanup_cgroups();
	if (swap)
		CHECK_OK(tl_swap_off(), "swap off");
}

static void test_pgscan(void)
{
	oomd_round(PGSCAN);
}

static void test_shadow(void)
{
	oomd_round(SHADOW);
}

static void test_avoid(void)
{
	oomd_round(AVOID);
}

static void test_avoid_last(void)
{
	oomd_round(AVOID_LAST);
}

static void test_omit_all(void)
{
	oomd_round(OMIT_ALL);
}

static void test_oom_group(void)
{
	oomd_round(OOM_GROUP);
}

int main(int argc, char **argv)
{
	static const struct tl_test tests[] = {
		{ "oomd_like_pgscan", test_pgscan },
		{ "oomd_like_shadow", test_shadow },
		{ "oomd_like_avoid", test_avoid },
		{ "oomd_like_avoid_last", test_avoid_last },
		{ "oomd_like_omit_all", test_omit_all },
		{ "oomd_like_oom_group", test_oom_group },
	};

	return tl_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
