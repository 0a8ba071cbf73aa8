/*
 * libFuzzer harness for the sftp module: the input is a mode byte and then
 * the client's byte stream (after an INIT the harness sends). Bit 0 of the
 * mode byte selects a writable scratch root, rebuilt before every run;
 * otherwise the root is served read-only (-R). Files are capped at 1 MiB
 * with RLIMIT_FSIZE so sparse-file tricks cannot fill the disk.
 */
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handler.h"
#include "log.h"
#include "sftp_conf.h"

extern const struct protocol proto_sftp;

struct harness {
	int ready;
	char base[64];
	char ro_root[96];
	char rw_root[96];
	struct sftp_conf conf;
	struct session s;
};

static struct harness H;

static void put_file(const char *dir, const char *name, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof p, "%s/%s", dir, name);
	f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void populate(const char *dir)
{
	char p[256];

	mkdir(dir, 0755);
	put_file(dir, "hello.txt", "hello, world\n");
	snprintf(p, sizeof p, "%s/sub", dir);
	mkdir(p, 0755);
	put_file(dir, "sub/inner.txt", "inner\n");
	snprintf(p, sizeof p, "%s/up", dir);
	symlink("../..", p);
	snprintf(p, sizeof p, "%s/etc", dir);
	symlink("/etc", p);
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	if (ftw->level > 0)
		remove(path);
	return 0;
}

static int rm_all(const char *path, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void harness_cleanup(void)
{
	nftw(H.base, rm_all, 16, FTW_DEPTH | FTW_PHYS);
}

static void harness_init(void)
{
	struct rlimit rl = { 1 << 20, 1 << 20 };

	log_init("fuzz_sftp");
	log_set_level(LOG_FATAL);
	signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &rl);
	strcpy(H.base, "/tmp/fuzz_sftp.XXXXXX");
	if (!mkdtemp(H.base))
		abort();
	snprintf(H.ro_root, sizeof H.ro_root, "%s/ro", H.base);
	snprintf(H.rw_root, sizeof H.rw_root, "%s/rw", H.base);
	populate(H.ro_root);
	atexit(harness_cleanup);
	H.conf.handles = 16;
	H.s.mconf = &H.conf;
	if (buf_init(&H.s.in, SESSION_BUF_BASE + 65536) < 0 ||
	    buf_init(&H.s.out, SESSION_BUF_BASE + 65536) < 0)
		abort();
	H.ready = 1;
}

static void run(int rw, const uint8_t *data, size_t size)
{
	static const uint8_t init[9] = { 0, 0, 0, 5, 1, 0, 0, 0, 3 };
	char *argv[4] = { "sftp", "-R", NULL, NULL };
	void *state = NULL;
	int r = 0;

	if (rw) {
		nftw(H.rw_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		populate(H.rw_root);
		argv[1] = H.rw_root;
	} else {
		argv[2] = H.ro_root;
	}
	buf_clear(&H.s.in);
	buf_clear(&H.s.out);
	H.s.in_eof = 0;
	if (proto_sftp.start(&H.s, rw ? 2 : 3, argv, &state) != 0)
		abort();
	buf_append(&H.s.in, init, sizeof init);
	if (size > buf_room(&H.s.in))
		size = buf_room(&H.s.in);
	buf_append(&H.s.in, data, size);
	H.s.in_eof = 1;
	/* Drain replies as the core would, until no progress. */
	for (int i = 0; i < 1000 && r == 0; i++) {
		size_t before = buf_len(&H.s.in);

		r = proto_sftp.input(&H.s, state);
		if (buf_len(&H.s.out) == 0 && buf_len(&H.s.in) == before)
			break;
		buf_clear(&H.s.out);
	}
	if (r == 0 && !proto_sftp.idle(&H.s, state)) {
		/* Replies drained and input at EOF: must be idle. */
		if (buf_len(&H.s.out) == 0)
			abort();
	}
	proto_sftp.finish(&H.s, state);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!H.ready)
		harness_init();
	if (size < 1)
		return 0;
	run(data[0] & 1, data + 1, size - 1);
	return 0;
}
