/*
 * The secure layer's ceiling, everything in one process (no I/O):
 *   secure_ceiling [MB] [HANDSHAKES]
 * prints the time per handshake (both sides), then MB/s for MB of 64 KiB
 * frames sealed and opened through secure_seal/secure_open, and for the
 * same bytes through crypto_secretstream push+pull directly. No transport
 * through the secure layer can beat these numbers on this machine.
 * Each figure is given by wall clock and by the process's CPU time: on a
 * shared machine the CPU figure is the one that does not depend on load.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "buf.h"
#include "clock.h"
#include "keys.h"
#include "secure.h"

#define FRAME 65536
#define RAW_CAP (4 * SECURE_RAW_MIN)

struct bench {
	struct keys_secret sk, uk;
	struct secure_identity sid, uid;
	struct secure *c, *s;
	struct buf ci, co, si, so;
};

static int lookup(void *ctx, const char *user, uint8_t pk[32])
{
	const struct bench *b = ctx;

	if (strcmp(user, "bench") != 0)
		return -1;
	memcpy(pk, b->uk.pk, 32);
	return 0;
}

static void xfer(struct buf *from, struct buf *to)
{
	size_t n = buf_len(from) < buf_room(to) ? buf_len(from)
						: buf_room(to);

	buf_append(to, buf_data(from), n);
	buf_consume(from, n);
}

static int handshake(struct bench *b)
{
	int rc_c = SECURE_AGAIN, rc_s = SECURE_AGAIN;

	b->s = secure_server_new(&b->sid, lookup, b, 0);
	b->c = secure_client_new(&b->uid, "bench", b->sk.pk, 0);
	buf_clear(&b->ci);
	buf_clear(&b->si);
	for (int i = 0; i < 10 && (rc_c != SECURE_READY ||
				   rc_s != SECURE_READY); i++) {
		rc_c = secure_handshake(b->c, &b->ci, &b->co);
		xfer(&b->co, &b->si);
		rc_s = secure_handshake(b->s, &b->si, &b->so);
		xfer(&b->so, &b->ci);
		if (rc_c < 0 || rc_s < 0)
			break;
	}
	if (rc_c != SECURE_READY || rc_s != SECURE_READY) {
		fprintf(stderr, "secure_ceiling: handshake failed: %s / %s\n",
			secure_error(b->c), secure_error(b->s));
		return -1;
	}
	return 0;
}

static uint64_t cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static double mbps(double bytes, uint64_t ns)
{
	return bytes / (1024.0 * 1024.0) / ((double)ns / 1e9);
}

/* MB through secure_seal -> secure_open, FRAME bytes at a time. */
static int frames(struct bench *b, size_t mb, uint8_t *chunk)
{
	struct buf pout, pin;
	size_t total = mb * 1024 * 1024, done = 0;
	uint64_t t0, c0;

	buf_init(&pout, FRAME);
	buf_init(&pin, FRAME);
	t0 = clock_now();
	c0 = cpu_now();
	while (done < total) {
		buf_append(&pout, chunk, FRAME);
		if (secure_seal(b->c, &pout, &b->co) < 0 ||
		    secure_open(b->s, &b->co, &pin) < 0) {
			fprintf(stderr, "secure_ceiling: %s\n",
				secure_error(b->s));
			return -1;
		}
		done += buf_len(&pin);
		buf_clear(&pin);
	}
	printf("frames: %zu MB of 64 KiB frames seal+open: %.0f MB/s "
	       "(%.0f MB/s of CPU time)\n", mb,
	       mbps((double)total, clock_now() - t0),
	       mbps((double)total, cpu_now() - c0));
	buf_free(&pout);
	buf_free(&pin);
	return 0;
}

static void raw(size_t mb, uint8_t *chunk)
{
	crypto_secretstream_xchacha20poly1305_state tx, rx;
	uint8_t key[32], hdr[24], tag;
	uint8_t *c = malloc(FRAME + 17), *m = malloc(FRAME);
	size_t total = mb * 1024 * 1024, done;
	uint64_t t0, c0;

	crypto_secretstream_xchacha20poly1305_keygen(key);
	crypto_secretstream_xchacha20poly1305_init_push(&tx, hdr, key);
	crypto_secretstream_xchacha20poly1305_init_pull(&rx, hdr, key);
	t0 = clock_now();
	c0 = cpu_now();
	for (done = 0; done < total; done += FRAME) {
		crypto_secretstream_xchacha20poly1305_push(&tx, c, NULL, chunk,
							   FRAME, NULL, 0, 0);
		if (crypto_secretstream_xchacha20poly1305_pull(
			    &rx, m, NULL, &tag, c, FRAME + 17, NULL, 0) != 0)
			abort();
	}
	printf("raw: %zu MB crypto_secretstream push+pull: %.0f MB/s "
	       "(%.0f MB/s of CPU time)\n", mb,
	       mbps((double)total, clock_now() - t0),
	       mbps((double)total, cpu_now() - c0));
	free(c);
	free(m);
}

int main(int argc, char **argv)
{
	size_t mb = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
	int n = argc > 2 ? atoi(argv[2]) : 200;
	struct bench b;
	uint8_t *chunk = malloc(FRAME);
	uint64_t t0, c0;

	if (sodium_init() < 0 || !chunk || n < 1)
		return 111;
	memset(&b, 0, sizeof b);
	crypto_sign_keypair(b.sk.pk, b.sk.sk);
	crypto_sign_keypair(b.uk.pk, b.uk.sk);
	keys_identity_from_secret(&b.sid, &b.sk);
	keys_identity_from_secret(&b.uid, &b.uk);
	buf_init(&b.ci, RAW_CAP);
	buf_init(&b.co, RAW_CAP);
	buf_init(&b.si, RAW_CAP);
	buf_init(&b.so, RAW_CAP);
	randombytes_buf(chunk, FRAME);
	t0 = clock_now();
	c0 = cpu_now();
	for (int i = 0; i < n; i++) {
		if (handshake(&b) < 0)
			return 1;
		if (i + 1 < n) {
			secure_free(b.c);
			secure_free(b.s);
		}
	}
	printf("handshake: %d in one process: %.0f us each, both sides "
	       "(%.0f us of CPU time)\n", n,
	       (double)(clock_now() - t0) / 1e3 / n,
	       (double)(cpu_now() - c0) / 1e3 / n);
	if (frames(&b, mb, chunk) < 0)
		return 1;
	raw(mb, chunk);
	secure_free(b.c);
	secure_free(b.s);
	keys_identity_free(&b.sid);
	keys_identity_free(&b.uid);
	buf_free(&b.ci);
	buf_free(&b.co);
	buf_free(&b.si);
	buf_free(&b.so);
	free(chunk);
	return 0;
}
