/* SPDX-License-Identifier: GPL-2.0 */
/*
 * testlib.h - the small test harness every bpf-oom VM test links.
 *
 * A test binary holds named tests; each prints exactly one line, "PASS
 * <name>" or "FAIL <name>: <first failed check>" (further failed checks of
 * the same test follow indented), which the VM runner collects. Checks name
 * themselves and print what they expected and what they saw.
 */
#ifndef BPF_OOM_TESTLIB_H
#define BPF_OOM_TESTLIB_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

/* The kernel's names, as BPF globals use them in the skeletons. */
typedef __u64 u64;
typedef __s64 s64;
typedef __u32 u32;
typedef __s32 s32;

struct tl_test {
	const char *name;
	void (*fn)(void);
};

/* Run the tests named on the command line, or all; returns a process exit code. */
int tl_main(int argc, char **argv, const struct tl_test *tests, size_t n);

/* Record a failed check of the running test. */
void tl_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool tl_failed(void);
/* Mark the running test skipped, with the reason ("SKIP <name>: ..."). */
void tl_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define CHECK(cond, fmt, ...) ({					\
	bool __ok = (cond);						\
	if (!__ok)							\
		tl_fail(__FILE__, __LINE__, fmt, ##__VA_ARGS__);	\
	__ok;								\
})
#define CHECK_EQ(got, exp, label) ({					\
	unsigned long long __g = (got), __e = (exp);			\
	CHECK(__g == __e, "%s: expected %llu, got %llu", label, __e, __g); \
})
#define CHECK_GT(got, min, label) ({					\
	unsigned long long __g = (got), __m = (min);			\
	CHECK(__g > __m, "%s: expected > %llu, got %llu", label, __m, __g); \
})
#define CHECK_OK(err, label) ({						\
	long __r = (long)(err);						\
	CHECK(__r == 0, "%s: expected success, got %ld (%s)", label, __r, \
	      __r < 0 ? strerror((int)-__r) : "?");			\
})
#define CHECK_PTR(p, label) ({						\
	const void *__p = (p);						\
	CHECK(__p != NULL, "%s: got NULL (errno %d: %s)", label, errno,	\
	      strerror(errno));						\
})

/* Write @val to the file @path (a /proc or /sys knob); 0 or -errno. */
int tl_write_file(const char *path, const char *val);

/* cgroup v2 helpers; paths are relative to /sys/fs/cgroup. */
#define TL_CGROUP_ROOT "/sys/fs/cgroup"
int tl_cg_create(const char *cg);		/* mkdir (ok if it exists) */
int tl_cg_destroy(const char *cg);		/* kill its tasks, rmdir */
int tl_cg_write(const char *cg, const char *file, const char *val);
int tl_cg_enter(const char *cg, int pid);	/* 0 = the caller */
int tl_cg_fd(const char *cg);			/* O_RDONLY directory fd */
unsigned long long tl_cg_id(const char *cg);	/* cgroup id (inode) */
/* Value of "key value" line @key in @file; -ENOENT if absent. */
int tl_cg_read_key(const char *cg, const char *file, const char *key,
		   unsigned long long *val);
/* Counter @key of @cg's memory.events; ~0ULL if it cannot be read. */
unsigned long long tl_cg_event(const char *cg, const char *key);
/* A single-number file such as memory.current. */
int tl_cg_read_u64(const char *cg, const char *file, unsigned long long *val);

/* Value of enumerator @name of enum @type in the running kernel's BTF. */
int tl_kernel_enum(const char *type, const char *name, long long *val);

/* Start a child that runs @fn(arg) inside @cg (it writes its own pid into
 * cgroup.procs first); the parent waits until the child signals it is ready.
 * The child keeps no descriptor of the parent's but stdio and @ready_fd. */
int tl_spawn_in_cg(const char *cg, int (*fn)(void *arg, int ready_fd), void *arg);
void tl_child_ready(int ready_fd);
/* Add or drop capability @cap (< 32) in this thread's effective set; 0 or -errno. */
int tl_cap_effective(int cap, bool on);

/* Fault in @bytes of fresh anonymous memory: 0, or -1 if mmap() failed. */
int tl_touch(size_t bytes);

/*
 * A process that holds memory until it is killed (tl_holder_fn, for
 * tl_spawn_in_cg() with a struct tl_holder * as its argument): it takes
 * @comm as its command name and @adj as its oom_score_adj (each unless
 * NULL), touches @mib MiB, says it is ready and waits. @sparse: one page
 * per 2 MiB of address space, so that the page tables mapping them hold
 * as much again.
 */
struct tl_holder {
	int mib;
	const char *adj;
	const char *comm;
	bool sparse;
};
int tl_holder_fn(void *arg, int ready);

/*
 * Wait up to 60 s for a child's "done" byte on @fd (or EOF: it died), close
 * @fd, then wait 300 ms for a late kill. @what names the pipe in a message.
 */
void tl_wait_done(int fd, const char *what);

/* Whether child @pid (> 0) is still running (not yet reaped). */
bool tl_alive(int pid);
/* Wait up to @ms for child @pid to die and reap it; true if SIGKILL killed it. */
bool tl_wait_killed(int pid, int ms);

/* Kill and reap a child; returns its wait status. */
int tl_reap(int pid, int sig);

/* Kernel log: open /dev/kmsg positioned at its end; then read what was
 * logged since into @buf (NUL-terminated, message texts only). */
int tl_kmsg_open(void);
int tl_kmsg_read(int fd, char *buf, size_t len);
/*
 * tl_kmsg_read() (@buf may be NULL: nothing kept), and the "Killed process"
 * lines among what it read, in order: at most @max of their pids in @pids,
 * and their kernel log times (seconds) in @ts unless it is NULL. Returns
 * how many it stored.
 */
int tl_kmsg_kills(int fd, char *buf, size_t len, int *pids, double *ts, int max);
/* Times tl_kmsg_read() found records overwritten before it read them. */
extern unsigned long tl_kmsg_lost;

/*
 * oom_score_adj -1000 for every process now running, the old values kept in
 * @s; tl_unshield_all() restores them. For tests whose OOM must find only
 * the processes they built.
 */
#define TL_MAX_PROCS 4096
struct tl_saved_adj {
	int n;
	int pid[TL_MAX_PROCS];
	char adj[TL_MAX_PROCS][8];
};
void tl_shield_all(struct tl_saved_adj *s);
void tl_unshield_all(const struct tl_saved_adj *s);

/* /proc/meminfo's @key ("MemAvailable") in MiB, -1 if absent. */
long tl_meminfo_mib(const char *key);

/* Wait up to @ms for any child to exit; returns its pid or -ETIMEDOUT. */
int tl_wait_any(int *status, int ms);

/*
 * Load program @prog of the BPF object @elf (a skeleton's __elf_bytes())
 * alone, with the verifier's log in @log; returns the load error (0: it
 * loaded). For tests that expect the verifier to reject a program.
 */
int tl_load_prog_alone(const void *elf, size_t sz, const char *prog, char *log, size_t len);

/*
 * Whether pointer parameter @param of bpf_oom's kfunc @kfunc points to a
 * private copy of the struct in the module's BTF instead of the kernel's
 * (@what names it, for the message): 1 with the reason in @why, 0 if it is
 * the kernel's type, -1 with the reason if that cannot be told.
 */
int tl_kfunc_param_is_private(const char *kfunc, unsigned int param, const char *what,
			      char *why, size_t len);

/* For the benchmarks: CLOCK_MONOTONIC in seconds; sort @n doubles ascending. */
double tl_now(void);
void tl_sort_doubles(double *v, size_t n);

/*
 * `bpf-oom events --json` (the command users run, decision records)
 * in the background: tl_events_start() returns once it follows the
 * tracepoint (0, or -errno with the reason printed); tl_events_stop() stops
 * it with SIGINT and returns its exit status (-1 if it did not exit), its
 * output (one JSON object per line) in @out and its stderr in @err.
 */
struct tl_events {
	int pid;
	int err_fd;
	char path[64];
};
int tl_events_start(struct tl_events *ev);
/*
 * tl_events_wait(): wait up to @timeout_ms until the output holds @n records
 * (lines): the module emits an OOM episode's records when the episode ends,
 * after the kill, so the victim's death can be seen before its record is out.
 * 0, or -ETIMEDOUT (with the count printed).
 */
int tl_events_wait(struct tl_events *ev, int n, int timeout_ms);
int tl_events_stop(struct tl_events *ev, char *out, size_t out_len, char *err, size_t err_len);
/*
 * In the JSON object starting at @obj (one line): the number of member
 * @key, first found after @from (a literal such as "\"victim\":{" or NULL
 * for the object's start), as *@val; 0, or -ENOENT. tl_json_str() likewise
 * copies a string member's text (no escapes expected) into @buf.
 */
int tl_json_num(const char *obj, const char *from, const char *key, long long *val);
int tl_json_str(const char *obj, const char *from, const char *key, char *buf, size_t len);
/* Whether string member @key of the object @obj (from its start) is @want. */
bool tl_json_is(const char *obj, const char *key, const char *want);

/* Quiet libbpf unless BPF_OOM_TEST_VERBOSE is set. */
void tl_libbpf_quiet(void);

#endif

/*
 * Swap for the tests that need reclaimable anonymous memory (the VM has no
 * disk): a zram device of @mib MiB, its modules loaded from /bpf-oom/swap
 * (the kernel's own, kept by setup.sh; built into the debug kernels) unless
 * zram is already there. tl_swap_on() returns 0 or -errno with the reason
 * printed; tl_swap_off() turns it off and resets the device.
 */
int tl_swap_on(unsigned int mib);
int tl_swap_off(void);
