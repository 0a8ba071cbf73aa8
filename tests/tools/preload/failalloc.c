/*
 * failalloc.so: an LD_PRELOAD shim that makes one program's allocations
 * fail on cue, so the tests can run out of memory at a chosen point of a
 * session instead of wherever a ulimit happens to bite (which is nearly
 * always at start). Test-only; nothing in handler knows about it.
 *
 * Counting starts once the session is under way ("armed"), so the
 * allocations of start-up, which the ulimit -v sweep already covers, do
 * not shift the numbers:
 *   FAILALLOC_ARM=read:N   after the N-th read() on fd 0 that returned
 *                          data (N >= 1; the client's first request)
 *   FAILALLOC_ARM=log:TEXT after a write() on fd 2 holding TEXT (a log
 *                          line, e.g. "auth: ok")
 * Then, counting every malloc, calloc, realloc (to a non-zero size),
 * reallocarray, posix_memalign, aligned_alloc, memalign, valloc, pvalloc
 * from 1 on, through libc's own calls too (strdup, fdopendir, getpwuid):
 *   FAILALLOC_FAIL=K       the K-th fails with ENOMEM (0: none fail)
 *   FAILALLOC_FROM=1       ... and every one after it too (memory gone
 *                          for good, not a passing shortage)
 *   FAILALLOC_REPORT=FILE  at exit, FILE gets "armed", then one line per
 *                          counted allocation, "K OBJECT+OFFSET [f]": the
 *                          call site (the caller's return address, within
 *                          its object, so runs compare despite ASLR) and
 *                          "f" if it was made to fail.
 * Only the process that loaded the shim counts: a fork()ed child copies
 * the counters but must not fail in the parent's stead, and LD_PRELOAD is
 * taken out of the environment so commands it runs are left alone.
 *
 * State is file-scope here by necessity: malloc has no context argument.
 * The program must be single-threaded (handler is); nothing here locks.
 * ASan replaces malloc itself, so the shim cannot be used under it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_NEXT, memmem, dladdr */
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FA_SITES 65536
#define FA_ARENA 8192

typedef void *(*fa_malloc_fn)(size_t);
typedef void *(*fa_calloc_fn)(size_t, size_t);
typedef void *(*fa_realloc_fn)(void *, size_t);
typedef void *(*fa_reallocarray_fn)(void *, size_t, size_t);
typedef void (*fa_free_fn)(void *);
typedef int (*fa_pmemalign_fn)(void **, size_t, size_t);
typedef void *(*fa_memalign_fn)(size_t, size_t);
typedef void *(*fa_valloc_fn)(size_t);
typedef ssize_t (*fa_read_fn)(int, void *, size_t);
typedef ssize_t (*fa_write_fn)(int, const void *, size_t);

static struct {
	fa_malloc_fn malloc;
	fa_calloc_fn calloc;
	fa_realloc_fn realloc;
	fa_reallocarray_fn reallocarray;
	fa_free_fn free;
	fa_pmemalign_fn posix_memalign;
	fa_memalign_fn aligned_alloc, memalign;
	fa_valloc_fn valloc, pvalloc;
	fa_read_fn read;
	fa_write_fn write;
	int resolving;        /* inside dlsym: serve from the arena */
	pid_t pid;            /* the process that counts */
	int armed, arm_reads, reads, from;
	char mark[128];
	unsigned long fail, count, failed_at;
	void *site[FA_SITES];
	char report[512];
} fa;

/* dlsym may allocate (its error buffer) before the real allocator is
 * known: those few bytes come from here and are never freed. */
static _Alignas(16) unsigned char fa_arena[FA_ARENA];
static size_t fa_arena_used;

static void *arena_alloc(size_t n)
{
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (n > FA_ARENA - fa_arena_used)
		return NULL;
	p = fa_arena + fa_arena_used;
	fa_arena_used += n;
	return p; /* static storage starts zeroed: calloc is served too */
}

static int in_arena(const void *p)
{
	return (const unsigned char *)p >= fa_arena &&
	       (const unsigned char *)p < fa_arena + FA_ARENA;
}

static void *sym(const char *name)
{
	void *p;

	fa.resolving++;
	p = dlsym(RTLD_NEXT, name);
	fa.resolving--;
	return p;
}

static void resolve(void)
{
	if (fa.malloc)
		return;
	fa.calloc = (fa_calloc_fn)sym("calloc");
	fa.realloc = (fa_realloc_fn)sym("realloc");
	fa.reallocarray = (fa_reallocarray_fn)sym("reallocarray");
	fa.free = (fa_free_fn)sym("free");
	fa.posix_memalign = (fa_pmemalign_fn)sym("posix_memalign");
	fa.aligned_alloc = (fa_memalign_fn)sym("aligned_alloc");
	fa.memalign = (fa_memalign_fn)sym("memalign");
	fa.valloc = (fa_valloc_fn)sym("valloc");
	fa.pvalloc = (fa_valloc_fn)sym("pvalloc");
	fa.read = (fa_read_fn)sym("read");
	fa.write = (fa_write_fn)sym("write");
	/* Last: its being set is what says the table is complete. */
	fa.malloc = (fa_malloc_fn)sym("malloc");
	if (!fa.malloc || !fa.free || !fa.calloc || !fa.realloc ||
	    !fa.read || !fa.write)
		abort();
}

/* Removes NAME from the environment in place (unsetenv may allocate on
 * some libcs; this does not). */
static void env_drop(const char *name)
{
	extern char **environ;
	size_t n = strlen(name), j = 0;

	for (size_t i = 0; environ && environ[i]; i++)
		if (!(strncmp(environ[i], name, n) == 0 && environ[i][n] == '='))
			environ[j++] = environ[i];
	if (environ)
		environ[j] = NULL;
}

__attribute__((constructor)) static void fa_init(void)
{
	const char *arm = getenv("FAILALLOC_ARM");
	const char *v;

	resolve();
	fa.pid = getpid();
	if (arm && strncmp(arm, "read:", 5) == 0) {
		fa.arm_reads = atoi(arm + 5);
		if (fa.arm_reads < 1)
			fa.arm_reads = 1;
	} else if (arm && strncmp(arm, "log:", 4) == 0) {
		snprintf(fa.mark, sizeof fa.mark, "%s", arm + 4);
	} else {
		fa.armed = 1; /* no cue: from the start */
	}
	v = getenv("FAILALLOC_FAIL");
	fa.fail = v ? strtoul(v, NULL, 10) : 0;
	v = getenv("FAILALLOC_FROM");
	fa.from = v && *v == '1';
	v = getenv("FAILALLOC_REPORT");
	if (v)
		snprintf(fa.report, sizeof fa.report, "%s", v);
	env_drop("LD_PRELOAD");
}

/* 1 if this allocation is to fail; counts it when armed. */
static int fa_hit(void *caller)
{
	unsigned long k;

	if (!fa.armed || fa.resolving || getpid() != fa.pid)
		return 0;
	k = ++fa.count;
	if (k <= FA_SITES)
		fa.site[k - 1] = caller;
	if (fa.fail && (k == fa.fail || (fa.from && k > fa.fail))) {
		if (!fa.failed_at)
			fa.failed_at = k;
		return 1;
	}
	return 0;
}

#define FA_FAIL_IF_HIT()                                       \
	do {                                                   \
		if (fa_hit(__builtin_return_address(0))) {     \
			errno = ENOMEM;                        \
			return NULL;                           \
		}                                              \
	} while (0)

void *malloc(size_t n)
{
	if (!fa.malloc) {
		if (fa.resolving)
			return arena_alloc(n);
		resolve();
	}
	FA_FAIL_IF_HIT();
	return fa.malloc(n);
}

void *calloc(size_t n, size_t size)
{
	if (!fa.malloc) {
		if (fa.resolving)
			return size && n > SIZE_MAX / size ? NULL :
			       arena_alloc(n * size);
		resolve();
	}
	FA_FAIL_IF_HIT();
	return fa.calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	if (!fa.malloc)
		resolve();
	if (in_arena(p)) {
		/* Moves out of the arena; the old size is not kept, so copy
		 * what may be there (the arena is never reused). */
		void *q = malloc(n);
		size_t have = (size_t)(fa_arena + FA_ARENA - (unsigned char *)p);

		if (q)
			memcpy(q, p, have < n ? have : n);
		return q;
	}
	if (n > 0)
		FA_FAIL_IF_HIT();
	return fa.realloc(p, n);
}

void *reallocarray(void *p, size_t n, size_t size)
{
	if (!fa.malloc)
		resolve();
	if (size && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	if (in_arena(p) || !fa.reallocarray)
		return realloc(p, n * size);
	if (n * size > 0)
		FA_FAIL_IF_HIT();
	return fa.reallocarray(p, n, size);
}

void free(void *p)
{
	if (!p || in_arena(p))
		return;
	if (!fa.free)
		resolve();
	fa.free(p);
}

int posix_memalign(void **out, size_t align, size_t n)
{
	if (!fa.malloc)
		resolve();
	if (fa_hit(__builtin_return_address(0)))
		return ENOMEM;
	return fa.posix_memalign(out, align, n);
}

void *aligned_alloc(size_t align, size_t n)
{
	if (!fa.malloc)
		resolve();
	FA_FAIL_IF_HIT();
	return fa.aligned_alloc(align, n);
}

void *memalign(size_t align, size_t n)
{
	if (!fa.malloc)
		resolve();
	FA_FAIL_IF_HIT();
	return fa.memalign(align, n);
}

void *valloc(size_t n)
{
	if (!fa.malloc)
		resolve();
	FA_FAIL_IF_HIT();
	return fa.valloc(n);
}

void *pvalloc(size_t n)
{
	if (!fa.malloc)
		resolve();
	FA_FAIL_IF_HIT();
	return fa.pvalloc(n);
}

ssize_t read(int fd, void *buf, size_t n)
{
	ssize_t r;

	if (!fa.read)
		resolve();
	r = fa.read(fd, buf, n);
	if (fd == 0 && r > 0 && !fa.armed && fa.arm_reads &&
	    ++fa.reads >= fa.arm_reads)
		fa.armed = 1;
	return r;
}

/* The fortified read() that -D_FORTIFY_SOURCE may call instead. */
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	if (n > buflen)
		abort();
	return read(fd, buf, n);
}

ssize_t write(int fd, const void *buf, size_t n)
{
	if (!fa.write)
		resolve();
	if (fd == 2 && !fa.armed && fa.mark[0] &&
	    memmem(buf, n, fa.mark, strlen(fa.mark)))
		fa.armed = 1;
	return fa.write(fd, buf, n);
}

/* "K OBJECT+OFFSET" for one counted allocation. */
static void report_line(int fd, unsigned long k)
{
	char line[600];
	const char *obj = "?";
	uintptr_t off = 0;
	void *at = k <= FA_SITES ? fa.site[k - 1] : NULL;
	Dl_info info;
	int n;

	if (at && dladdr(at, &info) && info.dli_fname) {
		const char *slash = strrchr(info.dli_fname, '/');

		obj = slash ? slash + 1 : info.dli_fname;
		off = (uintptr_t)at - (uintptr_t)info.dli_fbase;
	}
	n = snprintf(line, sizeof line, "%lu %s+0x%lx%s\n", k, obj,
		     (unsigned long)off,
		     fa.failed_at && (k == fa.failed_at ||
				      (fa.from && k > fa.failed_at)) ? " f" : "");
	if (n > 0)
		fa.write(fd, line, (size_t)n < sizeof line ? (size_t)n :
			 sizeof line - 1);
}

__attribute__((destructor)) static void fa_report(void)
{
	int fd, armed = fa.armed;

	if (!fa.report[0] || getpid() != fa.pid)
		return;
	fa.armed = 0; /* dladdr and the rest must not count */
	fd = open(fa.report, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (armed)
		fa.write(fd, "armed\n", 6);
	for (unsigned long k = 1; k <= fa.count && k <= FA_SITES; k++)
		report_line(fd, k);
	close(fd);
}
