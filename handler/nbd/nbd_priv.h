/*
 * The nbd module's private interface, one section per file
 * (docs/nbd.md). nbd.c is the protocol table, the phases and the session
 * set-up and summary; nbd_option.c the option haggling; nbd_transmit.c
 * the transmission phase; nbd_request.c (pure) decodes and checks
 * requests; nbd_reply.c encodes replies; nbd_io.c does the file I/O;
 * nbd_export.c keeps the export list and who may open what (nbd_export.h);
 * nbd_conf.c parses the module's configuration items (nbd_conf.h);
 * nbd_aio.c parks the READs that would wait for the disk.
 */
#ifndef NBD_PRIV_H
#define NBD_PRIV_H

#include <liburing.h>
#include <stddef.h>
#include <stdint.h>

#include "handler.h"
#include "nbd_conf.h"
#include "nbd_export.h"
#include "nbd_wire.h"
#include "wire.h"

/* ---- nbd_io.c: the opened export and its file I/O ---- */

struct nbd_disk {
	int fd;                    /* -1 when closed */
	uint64_t size;             /* fixed when opened */
	int rw;                    /* opened for writing */
	int bdev;                  /* a block device, not a regular file */
	/* fallocate modes the file system refused: not tried again */
	int no_punch, no_zero_range, no_alloc;
};

/*
 * Opens export e, for writing when want_rw (falling back to read-only,
 * logged, when the file refuses writing). 0, or the option error to
 * answer (NBD_REP_ERR_UNKNOWN, _POLICY or _SHUTDOWN) with errno in *err
 * (0 when the file is neither a regular file nor a block device).
 */
uint32_t nbd_disk_open(struct nbd_disk *d, const struct nbd_export *e,
		       int want_rw, int *err);
void nbd_disk_close(struct nbd_disk *d);
/* The transmission flags this export advertises. */
uint16_t nbd_disk_flags(const struct nbd_disk *d, int structured);

/* 0 or an errno. Reads past the end of the file give zeroes (the file
 * shrank under us: what was there is a hole now). */
int nbd_io_pread(int fd, uint8_t *p, size_t n, uint64_t off);
/* nbd_io_pread without waiting for the disk (RWF_NOWAIT): EAGAIN when
 * some of the range is not in the page cache (p may hold part of it),
 * EOPNOTSUPP when the file cannot say. */
int nbd_io_pread_nowait(int fd, uint8_t *p, size_t n, uint64_t off);
int nbd_io_pwrite(int fd, const uint8_t *p, size_t n, uint64_t off);
int nbd_io_flush(struct nbd_disk *d);
/* Punches a hole where the file system can; a trim is only a hint. */
int nbd_io_trim(struct nbd_disk *d, uint64_t off, uint32_t len);
/* Zeroes a range the fastest way flags allow (NO_HOLE, FAST_ZERO:
 * ENOTSUP when only writing zeroes would do). */
int nbd_io_zero(struct nbd_disk *d, uint64_t off, uint32_t len,
		uint16_t flags);
int nbd_io_cache(struct nbd_disk *d, uint64_t off, uint32_t len);

struct nbd_extent {
	uint32_t len;
	uint32_t flags;            /* NBD_STATE_HOLE | NBD_STATE_ZERO, or 0 */
};

/*
 * The extent that starts at pos, ending at most at end: *hole set for a
 * hole (reads as zeroes), its end in *ext_end (> pos). Files without
 * SEEK_DATA/SEEK_HOLE are all data.
 */
void nbd_extent_at(int fd, uint64_t pos, uint64_t end, int *hole,
		   uint64_t *ext_end);
/* Extents covering [off, end), at most max of them, merged; how many. */
size_t nbd_extents(int fd, uint64_t off, uint64_t end, struct nbd_extent *e,
		   size_t max);

/* ---- nbd_request.c: requests, pure ---- */

struct nbd_request {
	uint16_t flags;
	uint16_t type;
	uint64_t handle;
	uint64_t offset;
	uint32_t length;
};

/* What a request is checked against: the export as negotiated. */
struct nbd_tx {
	uint64_t size;
	uint16_t eflags;           /* transmission flags sent to the client */
	int structured;            /* structured replies negotiated */
	int meta;                  /* base:allocation selected for this export */
};

#define NBD_DECODE_SHORT (-1)
#define NBD_DECODE_MAGIC (-2)
/* 0, NBD_DECODE_SHORT (need more bytes) or NBD_DECODE_MAGIC. */
int nbd_request_decode(const uint8_t *p, size_t n, struct nbd_request *rq);
/* 0 when rq may run, else the NBD error to answer with a static reason. */
uint32_t nbd_request_check(const struct nbd_request *rq,
			   const struct nbd_tx *tx, const char **why);
/* Payload bytes that follow the header, whether or not rq is valid. */
uint32_t nbd_request_payload(const struct nbd_request *rq);
const char *nbd_cmd_name(uint16_t type);

/* ---- nbd_reply.c: option replies, simple replies, chunks ---- */

/* Each returns 0, or -1 when out lacks room (nothing is written). */
/* An option reply with a payload of exactly len bytes: begin reserves it
 * and writes the header, the caller writes the payload into w, end checks
 * the length and commits. */
int nbd_opt_begin(struct buf *out, struct wr *w, uint32_t opt,
		  uint32_t type, size_t len);
int nbd_opt_end(struct buf *out, struct wr *w);
int nbd_put_opt_reply(struct buf *out, uint32_t opt, uint32_t type,
		      const void *data, size_t len);
/* An error reply to an option with a message. */
int nbd_put_opt_error(struct buf *out, uint32_t opt, uint32_t type,
		      const char *msg);
int nbd_put_simple(struct buf *out, uint64_t handle, uint32_t err);
/* A chunk header; len counts the payload that the caller adds. */
void nbd_chunk_hdr(struct wr *w, uint16_t flags, uint16_t type,
		   uint64_t handle, uint32_t len);
int nbd_put_none(struct buf *out, uint64_t handle);
int nbd_put_hole(struct buf *out, uint16_t flags, uint64_t handle,
		 uint64_t off, uint32_t len);
/* NBD_REPLY_TYPE_ERROR, or _ERROR_OFFSET when has_off; always final. */
int nbd_put_error_chunk(struct buf *out, uint64_t handle, uint32_t err,
			const char *msg, int has_off, uint64_t off);
int nbd_put_block_status(struct buf *out, uint64_t handle, uint32_t id,
			 const struct nbd_extent *e, size_t n);
/* The bound on any error chunk (header, error, message, offset). */
#define NBD_ERROR_CHUNK_MAX (NBD_CHUNK_LEN + 14 + NBD_MSG_MAX)
/* NBD error for an errno, and the errors' names for logs. */
uint32_t nbd_errno_map(int err);
const char *nbd_err_name(uint32_t err);

/* ---- nbd_aio.c: READs parked while io_uring waits for the disk ---- */

#define NBD_AIO_SLOTS 32           /* parked READs */
#define NBD_AIO_BYTES (32u << 20)  /* their total length; any one READ
                                      parks when none is parked */
#define NBD_AIO_STEP (1u << 20)    /* one io_uring read, the discard buffer */
#define NBD_AIO_RING 64            /* SQ entries: a 32 MiB READ's reads */

struct nbd_aio {
	int on;                    /* the ring is up: READs may park */
	int fd;                    /* the export's file */
	int efd;                   /* eventfd: a read completed */
	struct io_uring ring;
	uint8_t *junk;             /* the discard buffer */
	size_t sqes;               /* reads submitted, not yet reaped */
	size_t parked;             /* slots in use */
	uint64_t bytes;            /* their lengths */
	struct nbd_request slot[NBD_AIO_SLOTS];
	int slot_used[NBD_AIO_SLOTS];
	unsigned pending[NBD_AIO_SLOTS];  /* its reads not yet complete */
	/*
	 * Test hooks (NULL in service): hook_slow says a READ's data is not
	 * in the page cache whatever RWF_NOWAIT says; hook_hold keeps a
	 * parked READ parked after its reads completed.
	 */
	int (*hook_slow)(void *arg, const struct nbd_request *rq);
	int (*hook_hold)(void *arg, const struct nbd_request *rq);
	void *hook_arg;
};

/* Sets up the ring for file fd: 0 or an errno (then READs never park). */
int nbd_aio_start(struct nbd_aio *a, int fd);
/* Waits for the reads in flight and takes the ring down. */
void nbd_aio_stop(struct nbd_aio *a);
/* Whether a READ of len bytes may be taken now: it could park. */
int nbd_aio_room(const struct nbd_aio *a, uint32_t len);
/* Parks a READ, its range to be read by io_uring (after nbd_aio_room). */
void nbd_aio_park(struct nbd_aio *a, const struct nbd_request *rq);
/* Submits the reads parked since the last call: one system call for all
 * the READs parked in one pass of the loop. */
void nbd_aio_submit(struct nbd_aio *a);
/* A parked READ whose data is now read: 1 with it in *rq, else 0. */
int nbd_aio_ready(struct nbd_aio *a, struct nbd_request *rq);
/* Empties the eventfd after poll() saw it readable. */
void nbd_aio_drain(struct nbd_aio *a);

/* ---- nbd.c, nbd_option.c, nbd_transmit.c: the session ---- */

enum nbd_phase { NBD_PH_FLAGS, NBD_PH_OPTIONS, NBD_PH_TRANSMIT };

struct nbd_neg {
	int no_zeroes;             /* client sent NBD_FLAG_C_NO_ZEROES */
	int structured;            /* NBD_OPT_STRUCTURED_REPLY acknowledged */
	int meta_export;           /* export base:allocation is set for, -1 */
	unsigned options;          /* options received so far */
	uint32_t drain;            /* bytes of an oversized option to skip */
	uint32_t drain_opt, drain_len;
	int aborted;               /* NBD_OPT_ABORT received */
	uint64_t abort_at;         /* ...its ACK is sent then, unless the
	                              client hangs up first */
};

/* The request being served: requests run one at a time, in order, but
 * for READs parked in nbd_aio, which come back here when their data is
 * read. */
struct nbd_cur {
	int active;
	struct nbd_request rq;
	uint32_t err;              /* NBD error of the reply, 0 for success */
	const char *why;           /* reason for the log and the error chunk */
	int sys_err;               /* errno behind err, 0 for a bad request */
	uint64_t done;             /* payload consumed, or data bytes queued */
	int streaming;             /* the header announcing more data is out */
	int final_sent;            /* the chunk with the DONE flag is out */
	int io_err;                /* READ: a read failed after streaming */
	uint64_t err_off;          /* ...at this offset */
	uint64_t ext_end;          /* READ: the extent being sent ends here */
	int ext_hole;              /* ...and is a hole */
	int nowait;                /* READ: park it rather than wait for the
	                              disk, while nothing of it is queued */
};

struct nbd_stats {
	uint64_t requests, errors;
	uint64_t read, written, zeroed, trimmed, flushes;
};

struct nbd_state {
	struct session *s;
	struct nbd_exports exports;
	int force_ro;              /* -r */
	enum nbd_phase phase;
	struct nbd_neg neg;
	int export_ix;             /* the export in transmission, or -1 */
	struct nbd_disk disk;
	struct nbd_tx tx;
	struct nbd_cur cur;
	struct nbd_stats stats;
	struct nbd_aio aio;
	int aio_tried;             /* nbd_aio_start ran (it may have failed) */
	int nowait_off;            /* the file refused RWF_NOWAIT */
	uint64_t parks;            /* READs parked, for the summary */
	uint64_t neg_deadline;     /* clock_now() the negotiation must end by */
	int disc;                  /* NBD_CMD_DISC received */
};

/*
 * What one step of a phase did, besides ending the session (SESSION_DONE
 * or an exit code): made progress, or waits for input or output room.
 */
enum {
	NBD_STEP_MORE = 1000, NBD_STEP_WAIT_IN, NBD_STEP_WAIT_OUT,
	NBD_STEP_WAIT_AIO          /* for parked READs to come back */
};

/* Room s->out must have before an option is read (its largest reply). */
size_t nbd_opt_reply_bound(const struct nbd_state *st, uint32_t opt);
/* The option phase; 0, SESSION_DONE or an exit code. */
int nbd_options(struct nbd_state *st);
/* After NBD_OPT_ABORT: SESSION_DONE once the client hangs up or at
 * neg.abort_at (the ACK sent then), else 0. */
int nbd_abort_wait(struct nbd_state *st, uint64_t now);
/* The transmission phase; 0, SESSION_DONE or an exit code. */
int nbd_transmit(struct nbd_state *st);
/* Room s->out must have before a request is read. */
#define NBD_REPLY_RESERVE (16u * 1024)

/* Pure parts of the option phase, for tests and the fuzzer. */
struct nbd_opt_hdr {
	uint32_t opt;
	uint32_t len;
};
/* 0, NBD_DECODE_SHORT or NBD_DECODE_MAGIC. */
int nbd_opt_hdr_decode(const uint8_t *p, size_t n, struct nbd_opt_hdr *h);

/* NBD_OPT_INFO / NBD_OPT_GO data. */
struct nbd_info_req {
	const uint8_t *name;
	uint32_t namelen;
	uint16_t ninfo;
	const uint8_t *info;       /* ninfo be16 item types */
};
/* 0, or -1 with a static reason (answer NBD_REP_ERR_INVALID). */
int nbd_info_req_decode(const uint8_t *p, uint32_t len,
			struct nbd_info_req *r, const char **why);

/* NBD_OPT_LIST_META_CONTEXT / NBD_OPT_SET_META_CONTEXT data. */
struct nbd_meta_req {
	const uint8_t *name;
	uint32_t namelen;
	uint32_t nqueries;
	const uint8_t *queries;    /* nqueries (be32 length, string) */
	uint32_t qlen;             /* bytes at queries */
};
int nbd_meta_req_decode(const uint8_t *p, uint32_t len,
			struct nbd_meta_req *r, const char **why);
/*
 * Whether the queries select base:allocation: for LIST, no query, "base:"
 * and "base:allocation" do; for SET only "base:allocation". Other
 * namespaces and leaves are ignored, as the spec asks.
 */
int nbd_meta_selects(const struct nbd_meta_req *r, int list);

/* "-" without the secure layer. */
const char *nbd_user(const struct nbd_state *st);

#endif
