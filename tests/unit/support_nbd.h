/*
 * The shared harness of the nbd unit tests (test_nbd_*.c): the nbd module
 * driven through its struct protocol callbacks with a fake session (two
 * buffers, no fds) over an image in a private temp directory, and a small
 * client that builds options and requests and takes replies apart.
 *
 * Linked into several unit binaries (UNIT_SUPPORT in the Makefile), so
 * every public name carries the nbdt_ prefix.
 */
#ifndef SUPPORT_NBD_H
#define SUPPORT_NBD_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "handler.h"
#include "nbd_priv.h"
#include "wire.h"

extern const struct protocol proto_nbd;

/* The image is tmp/disk.img, 1 MiB and sparse unless a test makes it. */
#define NBDT_SIZE (1u << 20)

struct nbdt_fixture {
	struct session s;
	struct nbd_conf c;        /* the module's conf (s.mconf) */
	struct conf_user user;
	char *perms[8];
	void *st;
	char tmp[64];
	char img[128];
};
extern struct nbdt_fixture nbdt;

TCase *nbdt_tcase(const char *name);
int nbdt_run(Suite *s);

/* The image: size bytes, all hole, then data written where asked. */
void nbdt_image(uint64_t size);
void nbdt_image_put(uint64_t off, const void *p, size_t n);
void nbdt_image_get(uint64_t off, void *p, size_t n);
/* The secure layer's user, with a comma-separated permission list. */
void nbdt_user(const char *perms);

/* Module start with up to two arguments (NULL ends them). */
int nbdt_start(const char *a1, const char *a2);
/* Start on the image, take the greeting, send flags. */
void nbdt_start_flags(const char *a1, uint32_t flags);
/* Runs input() as the core would, draining s->out into the harness's
 * record of the server's bytes, until no progress; input()'s last result. */
int nbdt_input(void);
/* One input() call, its output recorded: what is ready at once. */
int nbdt_input_once(void);
/* Polls the module's fds (a parked READ's eventfd) up to timeout_ms and
 * runs events(); 0 when it has none, so nothing is parked. */
int nbdt_wait_module(int timeout_ms);
int nbdt_idle(void);
/* Moves s->out into that record without running the module. */
void nbdt_collect(void);
/* Takes up to n raw bytes of that record (e.g. the EXPORT_NAME reply);
 * how many there were. */
size_t nbdt_take(void *dst, size_t n);

/* Client bytes into s->in (the module does not run). */
void nbdt_send(const void *p, size_t n);
void nbdt_send_opt(uint32_t opt, const void *data, uint32_t len);
/* Option data builders: NBD_OPT_INFO/GO and the META_CONTEXT options. */
size_t nbdt_info_data(uint8_t *b, size_t cap, const char *name,
		      const uint16_t *infos, uint16_t n);
size_t nbdt_meta_data(uint8_t *b, size_t cap, const char *name,
		      const char *const *queries, uint32_t n);

struct nbdt_optrep {
	uint32_t opt;
	uint32_t type;
	uint32_t len;
	uint8_t data[NBD_OPT_REPLY_LEN + 8192];
};
/* Takes the next option reply from s->out; 0 when there is none. */
int nbdt_next_optrep(struct nbdt_optrep *r);
/* Sends an option, runs the module (which must go on) and returns the
 * type of the final reply, the others (INFO, SERVER...) counted in *n. */
uint32_t nbdt_option(uint32_t opt, const void *data, uint32_t len,
		     unsigned *n);

/* Flags, [STRUCTURED_REPLY, SET_META_CONTEXT base:allocation,] GO name. */
void nbdt_go(const char *a1, int structured, int meta);

void nbdt_send_req(uint16_t flags, uint16_t type, uint64_t handle,
		   uint64_t off, uint32_t len);

/* A reply in transmission, simple or one structured chunk. */
struct nbdt_reply {
	int simple;
	uint32_t err;              /* simple: the error field */
	uint16_t flags, type;      /* chunk */
	uint64_t handle;
	uint32_t len;              /* chunk payload length */
	uint8_t *data;             /* chunk payload (points into a copy) */
};
/* Takes a simple reply (with rdlen data bytes when err is 0 and rdlen is
 * given) or one chunk from s->out; 0 when none is complete. */
int nbdt_next_reply(struct nbdt_reply *r, uint32_t rdlen);
/* The error of the one reply to a request without data (simple or a
 * final chunk), which must carry handle. */
uint32_t nbdt_status(uint64_t handle);
/* Error code of an error chunk's payload. */
uint32_t nbdt_chunk_err(const struct nbdt_reply *r);

#endif
