/*
 * noopenat2: runs a program where openat2(2) does not exist, as on a
 * kernel before 5.6 or under valgrind, so the sftp module's user-space
 * confinement walk (sftp_path.c, openat2_fallback) is what the tests
 * exercise. A seccomp filter makes every openat2 call fail with ENOSYS;
 * the filter is inherited across fork and exec, so a test driver run
 * under it passes it on to every handler it starts. Test-only: the
 * production code has no switch for this.
 *
 *   noopenat2 PROGRAM [ARGS...]
 *
 * Exits 100 on usage, 111 if the filter cannot be installed or does not
 * take effect (the tests then fail instead of silently testing openat2).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NOO_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NOO_ARCH AUDIT_ARCH_AARCH64
#else
#error "noopenat2: add this machine's AUDIT_ARCH_ value"
#endif

static int install(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		/* Another ABI (x32, i386 on x86_64): numbers differ, and
		 * the tests never use one; let it be. */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NOO_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = (unsigned short)(sizeof f / sizeof f[0]),
		.filter = f,
	};

	/* Unprivileged filters need no_new_privs; it also keeps a setuid
	 * program from running with the filter. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* The filter must really hide openat2, or the test proves nothing. */
static int hidden(void)
{
	struct open_how how;
	long fd;

	memset(&how, 0, sizeof how);
	how.flags = O_PATH;
	fd = syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof how);
	if (fd >= 0) {
		close((int)fd);
		return 0;
	}
	return errno == ENOSYS;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: noopenat2 PROGRAM [ARGS...]\n");
		return 100;
	}
	if (install() < 0) {
		fprintf(stderr, "noopenat2: cannot install the seccomp "
				"filter: %s\n", strerror(errno));
		return 111;
	}
	if (!hidden()) {
		fprintf(stderr, "noopenat2: openat2 still answers under "
				"the filter\n");
		return 111;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "noopenat2: unable to run %s: %s\n", argv[1],
		strerror(errno));
	return 111;
}
