/*
 * The shared harness of the sftp unit tests (test_sftp_*.c): the sftp
 * module driven through its struct protocol callbacks with a fake session
 * (two buffers, no fds), over a private temp directory.
 *
 * This file is linked into every unit binary (see UNIT_SUPPORT in the
 * Makefile), so every public name carries the sftpt_ prefix.
 */
#ifndef SUPPORT_SFTP_H
#define SUPPORT_SFTP_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "handler.h"
#include "sftp_priv.h"
#include "wire.h"

extern const struct protocol proto_sftp;

/*
 * The fixture lives in a global because check's setup/teardown take no
 * arguments. The temp directory holds root/ (served: hello.txt, sub/,
 * sub/inner.txt and symlinks that would escape if anything followed them
 * on the host: abs, rel, chain1 -> chain2, dirlink, updir) and outside/
 * (with secret), which no request may reach.
 */
struct sftpt_fixture {
	struct session s;
	struct sftp_conf conf;     /* the module's conf: s.mconf */
	void *st;
	char tmp[64];
	char root[128];
	char outside[128];
};
extern struct sftpt_fixture sftpt;

/* A request being built: its length field is filled in when queued. */
struct sftpt_pk {
	uint8_t b[SFTP_MAX_PACKET + 64];
	struct wr w;
};

struct sftpt_reply {
	uint8_t type;
	uint32_t id;
	uint8_t data[SFTP_MAX_PACKET + 64];
	size_t len;
	struct rd rd;  /* after type and id */
};

/* Files in the temp tree; rel is relative to base. */
void sftpt_path_in(char *dst, size_t n, const char *base, const char *rel);
void sftpt_write_file(const char *base, const char *rel, const char *text);
int sftpt_exists_in(const char *base, const char *rel);

/* A test case with the fixture as its checked setup/teardown. */
TCase *sftpt_tcase(const char *name);
/* Runs the suite; the exit status for main(). */
int sftpt_run(Suite *s);

/* Module start with up to three arguments (NULL ends them). */
int sftpt_start(const char *a1, const char *a2, const char *a3);
/* Start, then INIT answered by VERSION. */
void sftpt_start_init(const char *a1, const char *a2, const char *a3);
/* Start read-write on the fixture's root. */
void sftpt_start_rw(void);
int sftpt_run_input(void);
int sftpt_idle(void);

void sftpt_pk_begin(struct sftpt_pk *p, uint8_t type, uint32_t id);
/* Queues the packet in s->in without running the module. */
void sftpt_pk_queue(struct sftpt_pk *p);
/* Queues the packet and runs the module, which must continue. */
void sftpt_pk_send(struct sftpt_pk *p);

/* Takes the next reply from s->out; 0 when there is none. */
int sftpt_next_reply(struct sftpt_reply *r);
/* The next reply, which must exist and carry id. */
void sftpt_get_reply(struct sftpt_reply *r, uint32_t id);
/* The status code of the next reply, which must be a STATUS for id. */
uint32_t sftpt_status_of(uint32_t id);
/* The single name of a NAME reply (REALPATH, READLINK) or the status. */
uint32_t sftpt_name_of(uint32_t id, char *dst, size_t n);

/* Requests; each returns or takes its id, the reply stays queued. */
uint32_t sftpt_req_path(uint8_t type, uint32_t id, const char *path);
uint32_t sftpt_req_two(uint8_t type, uint32_t id, const char *a,
		       const char *b);
uint32_t sftpt_req_ext(uint32_t id, const char *name, const char *a,
		       const char *b);
void sftpt_req_handle(uint8_t type, uint32_t id,
		      const uint8_t h[SFTP_HANDLE_LEN]);
void sftpt_req_read(uint32_t id, const uint8_t h[SFTP_HANDLE_LEN],
		    uint64_t off, uint32_t len);
void sftpt_req_write(uint32_t id, const uint8_t h[SFTP_HANDLE_LEN],
		     uint64_t off, const void *data, size_t n);

/* OPEN and OPENDIR, reply taken: the status, or 0 with the handle in h. */
uint32_t sftpt_open_file(uint32_t id, const char *path, uint32_t pflags,
			 uint8_t h[SFTP_HANDLE_LEN]);
uint32_t sftpt_opendir(uint32_t id, const char *path,
		       uint8_t h[SFTP_HANDLE_LEN]);

#endif
