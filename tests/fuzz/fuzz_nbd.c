/*
 * libFuzzer harness for the nbd module: the input is a mode byte and then
 * the client's byte stream. The mode byte:
 *   bit 0  the export is writable (else -r)
 *   bit 1  the harness negotiates first (client flags, options, GO), so
 *          the input is transmission requests; else the input starts
 *          with the client flags
 *   bit 2  ...with structured replies and base:allocation
 *   bit 3  a secure-layer user with nbd:ro:disk.img,nbd:rw:other
 * The image is a 1 MiB file with some data and holes, rebuilt before
 * every writable run; RLIMIT_FSIZE caps anything that would grow it.
 * After the input the stream ends (EOF); the module runs as the core
 * would run it until it stops, with its output drained, and must then
 * be idle or have ended the session.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bytes.h"
#include "handler.h"
#include "log.h"
#include "nbd_conf.h"
#include "nbd_wire.h"

extern const struct protocol proto_nbd;

#define IMG_SIZE (1u << 20)

struct harness {
	int ready;
	char dir[64];
	char img[96];
	struct nbd_conf conf;
	struct conf_user user;
	char *perms[2];
	struct session s;
};

static struct harness H;

static void harness_cleanup(void)
{
	unlink(H.img);
	rmdir(H.dir);
}

static void build_image(void)
{
	static const uint8_t block[4096] = { 'N', 'B', 'D' };
	int fd = open(H.img, O_RDWR | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || ftruncate(fd, IMG_SIZE) < 0 ||
	    pwrite(fd, block, sizeof block, 65536) != sizeof block ||
	    pwrite(fd, block, sizeof block, IMG_SIZE - 4096) != sizeof block)
		abort();
	close(fd);
}

static void harness_init(void)
{
	struct rlimit rl = { 2u << 20, 2u << 20 };

	log_init("fuzz_nbd");
	log_set_level(LOG_FATAL);
	signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &rl);
	strcpy(H.dir, "/tmp/fuzz_nbd.XXXXXX");
	if (!mkdtemp(H.dir))
		abort();
	snprintf(H.img, sizeof H.img, "%s/disk.img", H.dir);
	build_image();
	atexit(harness_cleanup);
	H.conf.negotiation_ms = 10000;
	H.s.mconf = &H.conf;
	strcpy(H.user.name, "fuzz");
	H.perms[0] = "nbd:ro:disk.img";
	H.perms[1] = "nbd:rw:other";
	H.user.perms = H.perms;
	H.user.nperms = 2;
	if (buf_init(&H.s.in, SESSION_BUF_BASE + 65536) < 0 ||
	    buf_init(&H.s.out, SESSION_BUF_BASE + 65536) < 0)
		abort();
	H.ready = 1;
}

static void put_opt(uint32_t opt, const void *data, uint32_t len)
{
	uint8_t h[16];

	be64_put(h, NBD_IHAVEOPT);
	be32_put(h + 8, opt);
	be32_put(h + 12, len);
	buf_append(&H.s.in, h, sizeof h);
	buf_append(&H.s.in, data, len);
}

/* Client flags, [STRUCTURED_REPLY, SET_META_CONTEXT,] GO "". */
static void negotiate(int structured)
{
	static const uint8_t flags[4] = { 0, 0, 0, 3 };
	static const uint8_t meta[] = { 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 15,
					'b', 'a', 's', 'e', ':', 'a', 'l', 'l',
					'o', 'c', 'a', 't', 'i', 'o', 'n' };
	static const uint8_t go[] = { 0, 0, 0, 0, 0, 1, 0, 3 };

	buf_append(&H.s.in, flags, sizeof flags);
	if (structured) {
		put_opt(NBD_OPT_STRUCTURED_REPLY, NULL, 0);
		put_opt(NBD_OPT_SET_META_CONTEXT, meta, sizeof meta);
	}
	put_opt(NBD_OPT_GO, go, sizeof go);
}

static void run(uint8_t mode, const uint8_t *data, size_t size)
{
	char *argv[4] = { "nbd", "-r", H.img, NULL };
	void *state = NULL;
	int r = 0;

	if (mode & 1)
		build_image();
	buf_clear(&H.s.in);
	buf_clear(&H.s.out);
	H.s.in_eof = 0;
	H.s.user = mode & 8 ? &H.user : NULL;
	if (mode & 1) {
		argv[1] = H.img;
		argv[2] = NULL;
	}
	if (proto_nbd.start(&H.s, mode & 1 ? 2 : 3, argv, &state) != 0)
		abort();
	if (mode & 2)
		negotiate(mode & 4);
	if (size > buf_room(&H.s.in))
		size = buf_room(&H.s.in);
	buf_append(&H.s.in, data, size);
	H.s.in_eof = 1;
	for (int i = 0; i < 100000 && r == 0; i++) {
		size_t before = buf_len(&H.s.in);
		struct pollfd pfd[SESSION_MAX_MODULE_FDS];
		size_t npfd;
		int wrote;

		r = proto_nbd.input(&H.s, state);
		wrote = buf_len(&H.s.out) > 0;
		buf_clear(&H.s.out);
		if (wrote || buf_len(&H.s.in) != before)
			continue;
		/* Stalled: a parked READ's eventfd, as the core polls it. */
		npfd = proto_nbd.pollfds(&H.s, state, pfd,
					 SESSION_MAX_MODULE_FDS);
		if (npfd == 0 || poll(pfd, npfd, 10000) <= 0)
			break;
		r = proto_nbd.events(&H.s, state, pfd, npfd, 0);
	}
	/* Drained output and input at EOF: nothing may be left pending. */
	if (r == 0 && !proto_nbd.idle(&H.s, state))
		abort();
	if (r == 0 && proto_nbd.deadline(&H.s, state))
		r = proto_nbd.timeout(&H.s, state,
				      proto_nbd.deadline(&H.s, state));
	(void)r;
	proto_nbd.finish(&H.s, state);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!H.ready)
		harness_init();
	if (size < 1)
		return 0;
	run(data[0], data + 1, size - 1);
	return 0;
}
