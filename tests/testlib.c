// SPDX-License-Identifier: GPL-2.0
/* testlib.c - see testlib.h */
#define _GNU_SOURCE
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

#define MiB (1024UL * 1024)

static const char *cur_test;
static int cur_failures;
static bool cur_skipped;

void tl_skip(const char *fmt, ...)
{
	va_list ap;

	cur_skipped = true;
	printf("SKIP %s: ", cur_test);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

void tl_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (cur_failures++ == 0)
		printf("FAIL %s: ", cur_test);
	else
		printf("    also: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" (%s:%d)\n", file, line);
	fflush(stdout);
}

bool tl_failed(void)
{
	return cur_failures > 0;
}

int tl_main(int argc, char **argv, const struct tl_test *tests, size_t n)
{
	int failed = 0, ran = 0;
	size_t i;
	int a;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* a child that died early must fail a check, not kill the test (SIGPIPE) */
	signal(SIGPIPE, SIG_IGN);
	tl_libbpf_quiet();
	for (i = 0; i < n; i++) {
		bool selected = argc < 2;

		for (a = 1; a < argc; a++)
			selected |= !strcmp(argv[a], tests[i].name);
		if (!selected)
			continue;
		cur_test = tests[i].name;
		cur_failures = 0;
		cur_skipped = false;
		tests[i].fn();
		if (!cur_failures && !cur_skipped)
			printf("PASS %s\n", cur_test);
		failed += cur_failures > 0;
		ran++;
	}
	if (!ran) {
		fprintf(stderr, "no test matched\n");
		return 2;
	}
	return failed ? 1 : 0;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void tl_libbpf_quiet(void)
{
	if (!getenv("BPF_OOM_TEST_VERBOSE"))
		libbpf_set_print(NULL);
	else
		libbpf_set_print(libbpf_print);
}

static void cg_path(char *buf, size_t len, const char *cg, const char *file)
{
	snprintf(buf, len, "%s/%s%s%s", TL_CGROUP_ROOT, cg, file ? "/" : "", file ? file : "");
}

int tl_cg_create(const char *cg)
{
	char p[512];

	cg_path(p, sizeof(p), cg, NULL);
	if (mkdir(p, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

int tl_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		err = -errno;
	close(fd);
	return err;
}

int tl_cg_write(const char *cg, const char *file, const char *val)
{
	char p[512];

	cg_path(p, sizeof(p), cg, file);
	return tl_write_file(p, val);
}

int tl_cg_enter(const char *cg, int pid)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%d", pid ? pid : getpid());
	return tl_cg_write(cg, "cgroup.procs", buf);
}

int tl_cg_fd(const char *cg)
{
	char p[512];

	cg_path(p, sizeof(p), cg, NULL);
	return open(p, O_RDONLY | O_DIRECTORY);
}

unsigned long long tl_cg_id(const char *cg)
{
	char p[512];
	struct stat st;

	cg_path(p, sizeof(p), cg, NULL);
	return stat(p, &st) ? 0 : st.st_ino;
}

static int read_file(const char *cg, const char *file, char *buf, size_t len)
{
	char p[512];
	ssize_t n;
	int fd;

	cg_path(p, sizeof(p), cg, file);
	fd = open(p, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

int tl_cg_read_key(const char *cg, const char *file, const char *key,
		   unsigned long long *val)
{
	static char buf[1 << 16];
	size_t klen = strlen(key);
	char *line;
	int err;

	err = read_file(cg, file, buf, sizeof(buf));
	if (err)
		return err;
	for (line = buf; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		if (!strncmp(line, key, klen) && line[klen] == ' ') {
			*val = strtoull(line + klen + 1, NULL, 10);
			return 0;
		}
	}
	return -ENOENT;
}

int tl_cg_read_u64(const char *cg, const char *file, unsigned long long *val)
{
	char buf[64];
	int err;

	err = read_file(cg, file, buf, sizeof(buf));
	if (err)
		return err;
	*val = strtoull(buf, NULL, 10);
	return 0;
}

int tl_cg_destroy(const char *cg)
{
	char p[512];
	int i;

	tl_cg_write(cg, "cgroup.kill", "1");
	cg_path(p, sizeof(p), cg, NULL);
	/* cgroup.kill is asynchronous: the cgroup empties shortly after. */
	for (i = 0; i < 200; i++) {
		if (!rmdir(p) || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -errno;
		usleep(10000);
	}
	return -EBUSY;
}

int tl_kernel_enum(const char *type, const char *name, long long *val)
{
	static struct btf *vmlinux;
	const struct btf_type *t;
	int id, i;

	if (!vmlinux)
		vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux)
		return -errno;
	id = btf__find_by_name_kind(vmlinux, type, BTF_KIND_ENUM);
	if (id < 0)
		return id;
	t = btf__type_by_id(vmlinux, id);
	for (i = 0; i < btf_vlen(t); i++) {
		const struct btf_enum *e = btf_enum(t) + i;

		if (!strcmp(btf__name_by_offset(vmlinux, e->name_off), name)) {
			*val = e->val;
			return 0;
		}
	}
	return -ENOENT;
}

void tl_child_ready(int ready_fd)
{
	char c = 1;

	if (write(ready_fd, &c, 1) != 1)
		_exit(111);
	close(ready_fd);
}

int tl_spawn_in_cg(const char *cg, int (*fn)(void *arg, int ready_fd), void *arg)
{
	int pfd[2], pid;
	char c;

	if (pipe(pfd))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		close(pfd[0]);
		/*
		 * Nothing of the parent's but the ready pipe: an inherited BPF
		 * link fd would keep the parent's policy attached after the
		 * parent detached it, until this child exits.
		 */
		if (pfd[1] > 3)
			close_range(3, pfd[1] - 1, 0);
		close_range(pfd[1] + 1, ~0U, 0);
		if (tl_cg_enter(cg, 0))
			_exit(112);
		_exit(fn(arg, pfd[1]));
	}
	close(pfd[1]);
	if (read(pfd[0], &c, 1) != 1) {
		close(pfd[0]);
		tl_reap(pid, SIGKILL);
		return -ECHILD;
	}
	close(pfd[0]);
	return pid;
}

int tl_cap_effective(int cap, bool on)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	if (on)
		data[0].effective |= 1U << cap;
	else
		data[0].effective &= ~(1U << cap);
	return syscall(SYS_capset, &hdr, data) ? -errno : 0;
}

int tl_touch(size_t bytes)
{
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -1;
	memset(p, 1, bytes);
	return 0;
}

/*
 * @mib MiB in one page per 2 MiB of address space: half of it resident,
 * half in the page tables that map it (one page of PTEs per page), so that
 * the page-table term of the OOM score counts as much as RSS.
 */
static int touch_sparse(int mib)
{
	size_t n = mib * 128UL, i;
	char *p = mmap(NULL, n * 2 * MiB, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return -1;
	/*
	 * One 4 KiB page per touch, not a transparent huge page; a kernel
	 * without THP (Debian's PREEMPT_RT flavour) refuses the advice with
	 * -EINVAL, and has no huge pages to avoid.
	 */
	if (madvise(p, n * 2 * MiB, MADV_NOHUGEPAGE) && errno != EINVAL)
		return -1;
	for (i = 0; i < n; i++)
		p[i * 2 * MiB] = 1;
	return 0;
}

int tl_holder_fn(void *arg, int ready)
{
	const struct tl_holder *h = arg;

	if ((h->comm && prctl(PR_SET_NAME, h->comm)) ||
	    (h->adj && tl_write_file("/proc/self/oom_score_adj", h->adj)))
		return 9;
	if (h->sparse ? touch_sparse(h->mib) : tl_touch(h->mib * MiB)) {
		fprintf(stderr, "# task of %d MiB%s: %s\n", h->mib, h->sparse ? " (sparse)" : "",
			strerror(errno));
		return 10;
	}
	tl_child_ready(ready);
	pause();
	return 0;
}

void tl_wait_done(int fd, const char *what)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char c;

	if (poll(&pfd, 1, 60000) == 1 && read(fd, &c, 1) < 0)
		printf("# %s: %s\n", what, strerror(errno));
	close(fd);
	usleep(300000);
}

int tl_reap(int pid, int sig)
{
	int status = 0;

	if (sig)
		kill(pid, sig);
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return status;
}

int tl_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

unsigned long tl_kmsg_lost;

/* tl_kmsg_read() into @buf (may be NULL); the kills as tl_kmsg_kills() says, *@nkills of them */
static int kmsg_read(int fd, char *buf, size_t len, int *pids, double *ts, int max, int *nkills)
{
	char rec[2048];
	size_t used = 0;
	ssize_t n;

	if (buf)
		buf[0] = 0;
	for (;;) {
		char *msg, *k;

		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE) {	/* overwritten records: go on */
			tl_kmsg_lost++;
			continue;
		}
		if (n <= 0)
			break;
		rec[n] = 0;
		/* "prio,seq,ts_usec,flags;message\n continuation..." */
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		n = strcspn(msg, "\n");
		k = strstr(msg, "Killed process ");
		if (k && k < msg + n && *nkills < max) {
			pids[*nkills] = atoi(k + strlen("Killed process "));
			if (ts)	/* the third field, in microseconds */
				ts[*nkills] = strtoull(strchr(strchr(rec, ',') + 1, ',') + 1,
						       NULL, 10) / 1e6;
			(*nkills)++;
		}
		if (buf && used + n + 2 < len) {
			memcpy(buf + used, msg, n);
			used += n;
			buf[used++] = '\n';
			buf[used] = 0;
		}
	}
	return (int)used;
}

int tl_kmsg_read(int fd, char *buf, size_t len)
{
	int nkills = 0;

	return kmsg_read(fd, buf, len, NULL, NULL, 0, &nkills);
}

int tl_kmsg_kills(int fd, char *buf, size_t len, int *pids, double *ts, int max)
{
	int nkills = 0;

	kmsg_read(fd, buf, len, pids, ts, max, &nkills);
	return nkills;
}

int tl_wait_any(int *status, int ms)
{
	int pid, waited = 0;

	for (;;) {
		pid = waitpid(-1, status, WNOHANG);
		if (pid != 0)
			return pid < 0 ? -errno : pid;
		if (waited >= ms)
			return -ETIMEDOUT;
		usleep(10000);
		waited += 10;
	}
}

int tl_load_prog_alone(const void *elf, size_t sz, const char *prog, char *log, size_t len)
{
	struct bpf_program *p;
	struct bpf_object *obj;
	int err;

	obj = bpf_object__open_mem(elf, sz, NULL);
	if (!obj)
		return -errno;
	bpf_object__for_each_program(p, obj)
		bpf_program__set_autoload(p, !strcmp(bpf_program__name(p), prog));
	p = bpf_object__find_program_by_name(obj, prog);
	if (!p) {
		bpf_object__close(obj);
		return -ENOENT;
	}
	log[0] = 0;
	bpf_program__set_log_buf(p, log, len);
	err = bpf_object__load(obj);
	bpf_object__close(obj);
	return err;
}

int tl_kfunc_param_is_private(const char *kfunc, unsigned int param, const char *what,
			      char *why, size_t len)
{
	const struct btf_type *t;
	struct btf *vm, *mod;
	int id, ret = -1;

	vm = btf__load_vmlinux_btf();
	mod = vm ? btf__load_module_btf("bpf_oom", vm) : NULL;
	if (!mod) {
		snprintf(why, len, "cannot read the BTF of vmlinux or bpf_oom");
		goto out;
	}
	id = btf__find_by_name_kind(mod, kfunc, BTF_KIND_FUNC);
	t = id > 0 ? btf__type_by_id(mod, id) : NULL;			/* FUNC */
	t = t ? btf__type_by_id(mod, t->type) : NULL;			/* FUNC_PROTO */
	t = t && btf_vlen(t) > param ? btf__type_by_id(mod, btf_params(t)[param].type) : NULL;
	if (!t || !btf_is_ptr(t)) {
		snprintf(why, len, "%s (pointer parameter %u) not in bpf_oom's BTF", kfunc, param);
		goto out;
	}
	ret = t->type >= btf__type_cnt(vm);				/* the STRUCT */
	if (ret)
		snprintf(why, len,
			 "this module's BTF has its own %s (id %u, vmlinux has %u types), so the verifier refuses the kernel's pointers to %s (see README, Known limits)",
			 what, t->type, btf__type_cnt(vm), kfunc);
out:
	btf__free(mod);
	btf__free(vm);
	return ret;
}

unsigned long long tl_cg_event(const char *cg, const char *key)
{
	unsigned long long v = ~0ULL;

	tl_cg_read_key(cg, "memory.events", key, &v);
	return v;
}

double tl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int tl_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void tl_sort_doubles(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), tl_cmp_double);
}

long tl_meminfo_mib(const char *key)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");
	size_t n = strlen(key);

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			kb = atol(line + n + 1);
	if (f)
		fclose(f);
	return kb < 0 ? -1 : kb / 1024;
}

/* ---- bpf-oom events ---------------------------------------------------- */

#define TL_LOADER "/bpf-oom/tests/bpf-oom"

int tl_events_start(struct tl_events *ev)
{
	char buf[512];
	size_t used = 0;
	int errp[2], out, err;

	snprintf(ev->path, sizeof(ev->path), "/tmp/events-%d.json", getpid());
	out = open(ev->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ev->pid = -1;
	if (out < 0 || pipe2(errp, O_CLOEXEC)) {
		err = -errno;
		printf("# events: %s: %s\n", ev->path, strerror(errno));
		if (out >= 0)
			close(out);
		return err;
	}
	ev->pid = fork();
	if (ev->pid == 0) {
		if (dup2(out, 1) != 1 || dup2(errp[1], 2) != 2)
			_exit(126);
		close_range(3, ~0U, 0);	/* no policy link may outlive its detach */
		execl(TL_LOADER, TL_LOADER, "events", "--json", (char *)NULL);
		_exit(127);
	}
	err = ev->pid < 0 ? -errno : 0;
	close(out);
	close(errp[1]);
	ev->err_fd = errp[0];
	if (err) {
		close(ev->err_fd);
		ev->pid = -1;
		return err;
	}
	/* ready once it says it follows the records */
	while (used < sizeof(buf) - 1) {
		struct pollfd pfd = { .fd = ev->err_fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 30000) != 1)
			break;
		n = read(ev->err_fd, buf + used, sizeof(buf) - 1 - used);
		if (n <= 0)
			break;
		used += n;
		buf[used] = 0;
		if (strstr(buf, "following decision records"))
			return 0;
	}
	buf[used] = 0;
	printf("# events did not start: %s\n", buf);
	kill(ev->pid, SIGKILL);
	waitpid(ev->pid, NULL, 0);
	close(ev->err_fd);
	ev->pid = -1;
	return -EIO;
}

int tl_events_wait(struct tl_events *ev, int n, int timeout_ms)
{
	int lines = 0, i;

	for (i = 0; i <= timeout_ms / 10; i++) {
		FILE *f = fopen(ev->path, "re");
		int c;

		lines = 0;
		if (f) {
			while ((c = fgetc(f)) != EOF)
				lines += c == '\n';
			fclose(f);
		}
		if (lines >= n)
			return 0;
		usleep(10000);
	}
	printf("# events: %d record(s) after %d ms, %d expected\n", lines, timeout_ms, n);
	return -ETIMEDOUT;
}

static size_t tl_read_all(int fd, char *buf, size_t len)
{
	size_t used = 0;
	ssize_t n;

	while (used < len - 1 && (n = read(fd, buf + used, len - 1 - used)) > 0)
		used += n;
	buf[used] = 0;
	return used;
}

int tl_events_stop(struct tl_events *ev, char *out, size_t out_len, char *err, size_t err_len)
{
	int status, fd, i;

	kill(ev->pid, SIGINT);
	for (i = 0; i < 1000; i++) {
		if (waitpid(ev->pid, &status, WNOHANG) == ev->pid)
			break;
		usleep(10000);
	}
	if (i == 1000) {
		kill(ev->pid, SIGKILL);
		waitpid(ev->pid, NULL, 0);
		status = -1;
	}
	tl_read_all(ev->err_fd, err, err_len);
	close(ev->err_fd);
	out[0] = 0;
	fd = open(ev->path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		tl_read_all(fd, out, out_len);
		close(fd);
	}
	unlink(ev->path);
	if (status == -1 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* where member @key of the line at @obj starts its value, or NULL */
static const char *tl_json_find(const char *obj, const char *from, const char *key)
{
	const char *end = strchr(obj, '\n'), *p = obj;
	char pat[64];

	if (from) {
		p = strstr(obj, from);
		if (!p || (end && p > end))
			return NULL;
	}
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(p, pat);
	if (!p || (end && p > end))
		return NULL;
	return p + strlen(pat);
}

int tl_json_num(const char *obj, const char *from, const char *key, long long *val)
{
	const char *p = tl_json_find(obj, from, key);
	char *e;

	if (!p)
		return -ENOENT;
	*val = strtoll(p, &e, 10);
	return e == p ? -ENOENT : 0;
}

int tl_json_str(const char *obj, const char *from, const char *key, char *buf, size_t len)
{
	const char *p = tl_json_find(obj, from, key), *q;

	if (!p || *p != '"')
		return -ENOENT;
	q = strchr(p + 1, '"');
	if (!q)
		return -ENOENT;
	snprintf(buf, len, "%.*s", (int)(q - p - 1), p + 1);
	return 0;
}

/* ---- shielding every process from OOM kills ---------------------------- */

static int proc_adj_path(int pid, char *buf, size_t len)
{
	return snprintf(buf, len, "/proc/%d/oom_score_adj", pid);
}

/* oom_score_adj -1000 for every process now running (kept in @s). */
void tl_shield_all(struct tl_saved_adj *s)
{
	struct dirent *d;
	DIR *dir = opendir("/proc");

	s->n = 0;
	while (dir && (d = readdir(dir)) && s->n < TL_MAX_PROCS) {
		char path[64];
		int pid = atoi(d->d_name), fd;
		ssize_t len;

		if (pid <= 0)
			continue;
		proc_adj_path(pid, path, sizeof(path));
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		len = read(fd, s->adj[s->n], sizeof(s->adj[0]) - 1);
		close(fd);
		if (len <= 0)
			continue;
		s->adj[s->n][len] = 0;
		if (tl_write_file(path, "-1000") == 0)
			s->pid[s->n++] = pid;
	}
	if (dir)
		closedir(dir);
}

void tl_unshield_all(const struct tl_saved_adj *s)
{
	int i;

	for (i = 0; i < s->n; i++) {
		char path[64];

		proc_adj_path(s->pid[i], path, sizeof(path));
		tl_write_file(path, s->adj[i]);
	}
}


/* ---- swap on zram ------------------------------------------------------- */

#define TL_ZRAM "/dev/zram0"

/* insmod every module of /bpf-oom/swap/order, in that order */
static int tl_zram_load(void)
{
	char name[64], path[128];
	FILE *f;
	int err = 0;

	if (access("/sys/class/zram-control", F_OK) == 0)
		return 0;	/* built in (debug kernels) or loaded */
	f = fopen("/bpf-oom/swap/order", "r");
	if (!f) {
		printf("# zram is neither built in nor in /bpf-oom/swap (setup.sh keeps it): %s\n",
		       strerror(errno));
		return -ENOENT;
	}
	while (!err && fscanf(f, "%63s", name) == 1) {
		int fd;

		snprintf(path, sizeof(path), "/bpf-oom/swap/%s", name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || (syscall(SYS_finit_module, fd, "", 0) && errno != EEXIST)) {
			err = -errno;
			printf("# loading %s: %s\n", path, strerror(errno));
		}
		if (fd >= 0)
			close(fd);
	}
	fclose(f);
	return err;
}

int tl_swap_on(unsigned int mib)
{
	long page = sysconf(_SC_PAGESIZE);
	char val[32], *hdr;
	int fd, err;

	err = tl_zram_load();
	if (err)
		return err;
	/* a run stopped halfway may have left it on */
	syscall(SYS_swapoff, TL_ZRAM);
	tl_write_file("/sys/block/zram0/reset", "1");
	snprintf(val, sizeof(val), "%uM", mib);
	err = tl_write_file("/sys/block/zram0/disksize", val);
	if (err) {
		printf("# /sys/block/zram0/disksize = %s: %s\n", val, strerror(-err));
		return err;
	}
	/* mkswap: the version 1 header (include/linux/swap.h union swap_header) */
	hdr = calloc(1, page);
	fd = open(TL_ZRAM, O_WRONLY | O_CLOEXEC);
	if (!hdr || fd < 0) {
		err = -errno;
		printf("# " TL_ZRAM ": %s\n", strerror(errno));
		goto out;
	}
	((__u32 *)(hdr + 1024))[0] = 1;				/* version */
	((__u32 *)(hdr + 1024))[1] = (__u32)(((unsigned long long)mib << 20) / page - 1); /* last_page */
	memcpy(hdr + page - 10, "SWAPSPACE2", 10);
	errno = 0;
	if (write(fd, hdr, page) != page || fsync(fd)) {
		err = errno ? -errno : -EIO;	/* a short write sets none */
		printf("# writing the swap header to " TL_ZRAM ": %s\n", strerror(-err));
		goto out;
	}
	if (syscall(SYS_swapon, TL_ZRAM, 0)) {
		err = -errno;
		printf("# swapon " TL_ZRAM ": %s\n", strerror(errno));
	}
out:
	if (fd >= 0)
		close(fd);
	free(hdr);
	if (err)
		tl_write_file("/sys/block/zram0/reset", "1");
	return err;
}

int tl_swap_off(void)
{
	int err = 0;

	if (syscall(SYS_swapoff, TL_ZRAM)) {
		err = -errno;
		printf("# swapoff " TL_ZRAM ": %s\n", strerror(errno));
	}
	tl_write_file("/sys/block/zram0/reset", "1");
	return err;
}

/* ---- children and records ------------------------------------------------ */

bool tl_alive(int pid)
{
	return pid > 0 && waitpid(pid, NULL, WNOHANG) == 0;
}

bool tl_wait_killed(int pid, int ms)
{
	int status, i;

	for (i = 0; i < ms / 10; i++) {
		int r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
		usleep(10000);
	}
	return false;
}

bool tl_json_is(const char *obj, const char *key, const char *want)
{
	char s[64];

	return !tl_json_str(obj, NULL, key, s, sizeof(s)) && !strcmp(s, want);
}
