/* SPDX-License-Identifier: GPL-2.0 */
/*
 * oom_topo.h - upstream's OOM test topology (shared/upstream-api.md §5), run
 * out of memory for real; shared by the OOM tests and the soak.
 *
 *   /oom_test        memory.max 80 MiB, swap.max 0
 *     cg1            10 MiB, oom_score_adj +1000  (the stock killer's pick)
 *     cg2            40 MiB, oom_score_adj -1000  (never killable)
 *     cg3/cg4        30 MiB                        (oom_largest_leaf's pick)
 *     cg3/cg5        20 MiB, allocated last: triggers the OOM
 *
 * Upstream unfreezes all four at once; here cg1, cg2 and cg4 allocate first
 * and cg5 last, so the set of candidates at the OOM is always the same. For
 * cg1 + cg2 + cg4 to fit under 80 MiB with their own process overhead
 * (stack, page tables, the shared shmem pages of the binary, charged to
 * whoever touched them first), each hog allocates its size less 2 MiB.
 * Killing cg4 alone leaves room for cg5: one kill resolves the OOM.
 */
#ifndef BPF_OOM_OOM_TOPO_H
#define BPF_OOM_OOM_TOPO_H

#include <stdbool.h>

#define MiB (1024UL * 1024)

enum { CG1, CG2, CG4, CG5, NR_HOGS };

struct topo_hog {
	const char *cg;
	int mib;
	int adj;
};

/* The hogs; topo_hogs[CG1].adj may be changed before topo_run(). */
extern struct topo_hog topo_hogs[NR_HOGS];

/* Remove the topology and reap every hog. */
void topo_destroy(void);
/* Create it (after removing any leftover); false (and a failed check) on error. */
bool topo_create(void);

/*
 * Start cg1, cg2 and cg4 and wait until they hold their memory, then cg5,
 * whose allocation runs /oom_test out of memory. If @target_pid is not
 * NULL, the pid of hog @target is stored there (a policy's target) before
 * cg5 starts allocating. Returns the index of the first hog to die (-1:
 * none within 60 s), with its status. If @cg5_done is not NULL, it
 * receives a descriptor that becomes readable (one byte) once cg5 holds
 * all its memory, or at EOF if cg5 died first.
 */
int topo_run(int pids[NR_HOGS], int *status, int *target_pid, int target, int *cg5_done);

/* Is this child alive (not yet reaped, not a zombie)? */
bool topo_alive(int pid);

/* The pid of the first "Killed process <pid>" in @log, or -1. */
int topo_first_killed(const char *log);
/* How many "Killed process" lines @log holds. */
int topo_kills_in(const char *log);

/*
 * @want is the first process the OOM killer killed and it died by SIGKILL;
 * when @want is cg4 or cg5, what is left fits under the limit and every
 * other hog must live on. After the stock killer's cg1 it does not
 * (100 MiB - 10 > 80), and the kernel goes on killing.
 */
void topo_expect_victim(const char *log, const int pids[NR_HOGS], int want,
			int first_reaped, int first_status);

#endif
