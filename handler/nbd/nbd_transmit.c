/*
 * The transmission phase. Requests are served one at a time in the order
 * they arrive, except a READ whose data is not in the page cache: it is
 * parked (nbd_aio.c) and served when the disk has read it, so the READs
 * behind it are not held up; anything but a READ waits until no READ is
 * parked. A client may queue as many requests as it likes, they wait in
 * s->in (and in the socket) with bounded memory. A request is only read when
 * s->out has room for its reply (NBD_REPLY_RESERVE), so replies never
 * wait and a client that stops reading stops the server reading too.
 *
 * Payloads are never held whole: a WRITE's data goes to pwrite() from
 * s->in as it arrives, and a READ's data is pread() into s->out piece by
 * piece as room frees up. A simple reply is its header then the data; a
 * structured one is OFFSET_DATA chunks (one per piece, each complete
 * before its header is written, so an error becomes an error chunk), or
 * with NBD_CMD_FLAG_DF one chunk whose data is streamed (an error after
 * its header pads it with zeroes and adds an error chunk). Holes in the
 * file are OFFSET_HOLE chunks, unless DF asks for one chunk.
 */
#include <errno.h>
#include <string.h>

#include "bytes.h"
#include "exitcode.h"
#include "log.h"
#include "nbd_priv.h"

/* A READ piece smaller than this waits for more room, unless it ends the
 * request; pieces end on ALIGN boundaries of the export where they can. */
#define PIECE_MIN (64u * 1024)
#define ALIGN 4096u

/*
 * How many data bytes to place now behind hdr bytes of header, of want.
 * The contiguous tail is used while it is large; the queued bytes are
 * moved to the front (buf_reserve compacts) only when few are queued, so
 * a busy stream does not copy its output around.
 */
static size_t out_window(const struct buf *o, size_t hdr, uint64_t want)
{
	size_t space = buf_len(o) == 0 ? o->cap :
		       buf_len(o) <= o->cap / 4 ? buf_room(o) :
						  o->cap - o->end;

	if (space <= hdr)
		return 0;
	space -= hdr;
	if (want <= space)
		return (size_t)want;
	return space >= PIECE_MIN ? space : 0;
}

static size_t align_piece(uint64_t pos, size_t n, uint64_t left)
{
	uint64_t end;

	if (n >= left)
		return n;
	end = (pos + n) & ~(uint64_t)(ALIGN - 1);
	return end > pos ? (size_t)(end - pos) : n;
}

/* ---- ending a request ---- */

/* The one log line of a failed request. */
static void log_failure(const struct nbd_state *st)
{
	const struct nbd_cur *c = &st->cur;
	int io = c->sys_err && c->err != NBD_ENOTSUP;

	log_msg(io ? LOG_ERROR : LOG_INFO,
		"nbd: user=%s %s handle=0x%llx offset=%llu length=%u: %s: "
		"%s%s%s", nbd_user(st), nbd_cmd_name(c->rq.type),
		(unsigned long long)c->rq.handle,
		(unsigned long long)c->rq.offset, c->rq.length,
		nbd_err_name(c->err), c->why, c->sys_err ? ": " : "",
		c->sys_err ? strerror(c->sys_err) : "");
}

static int complete(struct nbd_state *st)
{
	if (st->cur.err) {
		st->stats.errors++;
		log_failure(st);
	}
	memset(&st->cur, 0, sizeof st->cur);
	return NBD_STEP_MORE;
}

/* A failed system call: its errno becomes the reply's error. */
static void io_failed(struct nbd_state *st, int err, const char *why)
{
	st->cur.err = nbd_errno_map(err);
	st->cur.sys_err = err;
	st->cur.why = why;
}

/*
 * The reply of a request that sends no data: a simple reply, or with
 * structured replies an error chunk (errors carry their reason), and a
 * NONE chunk for a READ of nothing (a READ never gets a simple reply).
 */
static int reply(struct nbd_state *st)
{
	const struct nbd_cur *c = &st->cur;
	struct buf *out = &st->s->out;
	int r;

	if (st->tx.structured && c->err)
		r = nbd_put_error_chunk(out, c->rq.handle, c->err, c->why, 0, 0);
	else if (st->tx.structured && c->rq.type == NBD_CMD_READ)
		r = nbd_put_none(out, c->rq.handle);
	else
		r = nbd_put_simple(out, c->rq.handle, c->err);
	if (r < 0) {
		log_error("nbd: no room for a reply (internal error)");
		return EXIT_TEMP;
	}
	return complete(st);
}

/* FUA: the data is on stable storage before the reply says so. */
static void sync_if_fua(struct nbd_state *st)
{
	int e;

	if (st->cur.err || !(st->cur.rq.flags & NBD_CMD_FLAG_FUA))
		return;
	e = nbd_io_flush(&st->disk);
	if (e)
		io_failed(st, e, "fdatasync for FUA failed");
}

/* ---- READ ---- */

/* read_at's answer for a READ that is better parked (not an errno). */
#define READ_PARK (-1)

/*
 * A READ of data that is not in the page cache is parked (nbd_aio.c)
 * while nothing of its reply is queued yet, so the requests behind it
 * need not wait for the disk. Once part of it is queued, or when it comes
 * back from io_uring, it reads as before: waiting if it must.
 */
static int read_at(struct nbd_state *st, uint8_t *p, size_t n, uint64_t pos)
{
	struct nbd_cur *c = &st->cur;
	int e;

	if (c->nowait && (c->done > 0 || c->streaming))
		c->nowait = 0;
	if (!c->nowait)
		return nbd_io_pread(st->disk.fd, p, n, pos);
	if (st->aio.hook_slow && st->aio.hook_slow(st->aio.hook_arg, &c->rq))
		return READ_PARK;
	e = nbd_io_pread_nowait(st->disk.fd, p, n, pos);
	if (e == EAGAIN)
		return READ_PARK;
	if (e == EOPNOTSUPP) {
		/* The file cannot tell: every READ waits in turn. */
		log_info("nbd: user=%s RWF_NOWAIT not supported by the "
			 "file: reads are served in order", nbd_user(st));
		st->nowait_off = 1;
		c->nowait = 0;
		return nbd_io_pread(st->disk.fd, p, n, pos);
	}
	return e;
}

/* io_uring reads its range; the request comes back through resume(). */
static int park(struct nbd_state *st)
{
	nbd_aio_park(&st->aio, &st->cur.rq);
	st->parks++;
	memset(&st->cur, 0, sizeof st->cur);
	return NBD_STEP_MORE;
}

static int read_simple(struct nbd_state *st)
{
	struct nbd_cur *c = &st->cur;
	struct buf *out = &st->s->out;

	while (c->done < c->rq.length) {
		size_t hdr = c->streaming ? 0 : NBD_SIMPLE_LEN;
		uint64_t pos = c->rq.offset + c->done;
		uint64_t left = c->rq.length - c->done;
		size_t n = align_piece(pos, out_window(out, hdr, left), left);
		uint8_t *p = n ? buf_reserve(out, hdr + n) : NULL;
		int e;

		if (!p)
			return NBD_STEP_WAIT_OUT;
		e = read_at(st, p + hdr, n, pos);
		if (e == READ_PARK)
			return park(st);
		if (e && c->streaming) {
			/* The header promised the data: all that is left is
			 * to hang up (the spec's hard disconnect). */
			log_error("nbd: user=%s READ handle=0x%llx failed at "
				  "offset %llu after its reply began: %s: "
				  "closing", nbd_user(st),
				  (unsigned long long)c->rq.handle,
				  (unsigned long long)pos, strerror(e));
			return EXIT_TEMP;
		}
		if (e) {
			io_failed(st, e, "read failed");
			return reply(st);
		}
		if (!c->streaming) {
			be32_put(p, NBD_SIMPLE_REPLY_MAGIC);
			be32_put(p + 4, 0);
			be64_put(p + 8, c->rq.handle);
			c->streaming = 1;
		}
		buf_commit(out, hdr + n);
		c->done += n;
		st->stats.read += n;
	}
	return complete(st);
}

/* One OFFSET_HOLE chunk for the hole at the current position. */
static int read_hole(struct nbd_state *st, uint64_t pos, uint64_t n)
{
	struct nbd_cur *c = &st->cur;
	int last = c->done + n == c->rq.length;

	if (nbd_put_hole(&st->s->out, last ? NBD_REPLY_FLAG_DONE : 0,
			 c->rq.handle, pos, (uint32_t)n) < 0)
		return NBD_STEP_WAIT_OUT;
	c->done += n;
	st->stats.read += n;
	return last ? complete(st) : NBD_STEP_MORE;
}

/* Structured, fragments allowed: data and hole chunks extent by extent. */
static int read_chunks(struct nbd_state *st)
{
	struct nbd_cur *c = &st->cur;
	struct buf *out = &st->s->out;

	while (c->done < c->rq.length) {
		uint64_t pos = c->rq.offset + c->done;
		uint64_t end = c->rq.offset + c->rq.length;
		size_t n;
		uint8_t *p;
		struct wr w;
		int e;

		/* Room for an error chunk whatever happens next. */
		if (buf_room(out) < NBD_ERROR_CHUNK_MAX + NBD_CHUNK_LEN + 8)
			return NBD_STEP_WAIT_OUT;
		if (pos >= c->ext_end)
			nbd_extent_at(st->disk.fd, pos, end, &c->ext_hole,
				      &c->ext_end);
		if (c->ext_hole) {
			e = read_hole(st, pos, c->ext_end - pos);
			if (e != NBD_STEP_MORE || !c->active)
				return e;
			continue;
		}
		n = out_window(out, NBD_CHUNK_LEN + 8, c->ext_end - pos);
		n = align_piece(pos, n, c->ext_end - pos);
		p = n ? buf_reserve(out, NBD_CHUNK_LEN + 8 + n) : NULL;
		if (!p)
			return NBD_STEP_WAIT_OUT;
		e = read_at(st, p + NBD_CHUNK_LEN + 8, n, pos);
		if (e == READ_PARK)
			return park(st);
		if (e) {
			io_failed(st, e, "read failed");
			nbd_put_error_chunk(out, c->rq.handle, c->err, c->why, 1,
					    pos);
			return complete(st);
		}
		wr_init(&w, p, NBD_CHUNK_LEN + 8);
		nbd_chunk_hdr(&w, c->done + n == c->rq.length ?
				  NBD_REPLY_FLAG_DONE : 0,
			      NBD_REPLY_TYPE_OFFSET_DATA, c->rq.handle,
			      (uint32_t)(8 + n));
		wr_be64(&w, pos);
		buf_commit(out, NBD_CHUNK_LEN + 8 + n);
		c->done += n;
		st->stats.read += n;
	}
	return complete(st);
}

/* The end of a DF read: NONE, or the error that padded the chunk. */
static int read_df_end(struct nbd_state *st)
{
	struct nbd_cur *c = &st->cur;
	int r;

	if (c->final_sent)
		return complete(st);
	if (c->io_err)
		r = nbd_put_error_chunk(&st->s->out, c->rq.handle, c->err,
					c->why, 1, c->err_off);
	else
		r = nbd_put_none(&st->s->out, c->rq.handle);
	return r < 0 ? NBD_STEP_WAIT_OUT : complete(st);
}

/* Structured with DF: one OFFSET_DATA chunk, holes as zeroes. */
static int read_df(struct nbd_state *st)
{
	struct nbd_cur *c = &st->cur;
	struct buf *out = &st->s->out;

	while (c->done < c->rq.length) {
		size_t hdr = c->streaming ? 0 : NBD_CHUNK_LEN + 8;
		uint64_t pos = c->rq.offset + c->done;
		uint64_t left = c->rq.length - c->done;
		size_t n = align_piece(pos, out_window(out, hdr, left), left);
		uint8_t *p = n ? buf_reserve(out, hdr + n) : NULL;
		struct wr w;
		int e = 0;

		if (!p)
			return NBD_STEP_WAIT_OUT;
		if (c->io_err)
			memset(p + hdr, 0, n);
		else
			e = read_at(st, p + hdr, n, pos);
		if (e == READ_PARK)
			return park(st);
		if (e && !c->streaming) {
			io_failed(st, e, "read failed");
			return reply(st);
		}
		if (e) {
			/* The chunk is promised whole: pad it with zeroes,
			 * then say where the data went bad. */
			io_failed(st, e, "read failed");
			c->io_err = 1;
			c->err_off = pos;
			memset(p + hdr, 0, n);
		}
		if (!c->streaming) {
			c->final_sent = n == c->rq.length;
			wr_init(&w, p, hdr);
			nbd_chunk_hdr(&w, c->final_sent ? NBD_REPLY_FLAG_DONE : 0,
				      NBD_REPLY_TYPE_OFFSET_DATA, c->rq.handle,
				      8 + c->rq.length);
			wr_be64(&w, c->rq.offset);
			c->streaming = 1;
		}
		buf_commit(out, hdr + n);
		c->done += n;
		st->stats.read += n;
	}
	return read_df_end(st);
}

static int run_read(struct nbd_state *st)
{
	const struct nbd_request *rq = &st->cur.rq;

	if (rq->length == 0)
		return reply(st);
	if (!st->tx.structured)
		return read_simple(st);
	return rq->flags & NBD_CMD_FLAG_DF ? read_df(st) : read_chunks(st);
}

/* ---- WRITE and the commands without payload ---- */

/* The payload goes to the file as it arrives; after a failure (or for a
 * refused request) the rest is read and dropped, so the stream stays in
 * step with the client. */
static int run_write(struct nbd_state *st)
{
	struct nbd_cur *c = &st->cur;
	struct buf *in = &st->s->in;

	while (c->done < c->rq.length) {
		size_t n = buf_len(in);
		int e;

		if (n == 0)
			return NBD_STEP_WAIT_IN;
		if (n > c->rq.length - c->done)
			n = (size_t)(c->rq.length - c->done);
		if (!c->err) {
			e = nbd_io_pwrite(st->disk.fd, buf_data(in), n,
					  c->rq.offset + c->done);
			if (e)
				io_failed(st, e, "write failed");
			else
				st->stats.written += n;
		}
		buf_consume(in, n);
		c->done += n;
	}
	sync_if_fua(st);
	return reply(st);
}

static int run_block_status(struct nbd_state *st)
{
	const struct nbd_request *rq = &st->cur.rq;
	struct nbd_extent e[NBD_EXTENTS_MAX];
	size_t max = rq->flags & NBD_CMD_FLAG_REQ_ONE ? 1 : NBD_EXTENTS_MAX;
	size_t n = nbd_extents(st->disk.fd, rq->offset,
			       rq->offset + rq->length, e, max);

	if (nbd_put_block_status(&st->s->out, rq->handle,
				 NBD_META_ID_BASE_ALLOCATION, e, n) < 0) {
		log_error("nbd: no room for a reply (internal error)");
		return EXIT_TEMP;
	}
	return complete(st);
}

static int run_other(struct nbd_state *st)
{
	struct nbd_cur *c = &st->cur;
	struct nbd_disk *d = &st->disk;
	int e = 0;

	switch (c->rq.type) {
	case NBD_CMD_FLUSH:
		e = nbd_io_flush(d);
		st->stats.flushes++;
		break;
	case NBD_CMD_TRIM:
		e = nbd_io_trim(d, c->rq.offset, c->rq.length);
		st->stats.trimmed += e ? 0 : c->rq.length;
		break;
	case NBD_CMD_WRITE_ZEROES:
		e = nbd_io_zero(d, c->rq.offset, c->rq.length, c->rq.flags);
		st->stats.zeroed += e ? 0 : c->rq.length;
		break;
	case NBD_CMD_CACHE:
		e = nbd_io_cache(d, c->rq.offset, c->rq.length);
		break;
	}
	if (e)
		io_failed(st, e, e == ENOTSUP ? "cannot zero without writing"
				 : "operation failed");
	sync_if_fua(st);
	return reply(st);
}

static int step(struct nbd_state *st)
{
	const struct nbd_cur *c = &st->cur;

	/* A WRITE's payload follows even when the WRITE is refused. */
	if (c->rq.type == NBD_CMD_WRITE)
		return run_write(st);
	if (c->err)
		return reply(st);
	switch (c->rq.type) {
	case NBD_CMD_READ:
		return run_read(st);
	case NBD_CMD_DISC:
		log_debug("nbd: user=%s DISC", nbd_user(st));
		st->disc = 1;
		return SESSION_DONE;
	case NBD_CMD_BLOCK_STATUS:
		return run_block_status(st);
	default:
		return run_other(st);
	}
}

/* A parked READ whose range io_uring has read is served next. */
static int resume(struct nbd_state *st)
{
	struct nbd_request rq;

	if (buf_room(&st->s->out) < NBD_REPLY_RESERVE ||
	    !nbd_aio_ready(&st->aio, &rq))
		return 0;
	memset(&st->cur, 0, sizeof st->cur);
	st->cur.active = 1;
	st->cur.rq = rq;
	return 1;
}

/*
 * Takes the next request header, when its reply is sure to fit. A READ
 * that could be parked is taken only while there is room to park it (the
 * bound on READs in flight); every other request waits until no READ is
 * parked, so nothing but a READ is ever overtaken, and only by READs: a
 * WRITE or TRIM after a READ of the same blocks cannot change what the
 * READ returns, and DISC comes after every reply.
 */
static int begin(struct nbd_state *st)
{
	struct session *s = st->s;
	struct nbd_request rq;
	const char *why = NULL;
	uint32_t err;
	int r, may_park;

	if (buf_room(&s->out) < NBD_REPLY_RESERVE)
		return NBD_STEP_WAIT_OUT;
	r = nbd_request_decode(buf_data(&s->in), buf_len(&s->in), &rq);
	if (r == NBD_DECODE_SHORT)
		return NBD_STEP_WAIT_IN;
	if (r == NBD_DECODE_MAGIC) {
		log_error("nbd: user=%s request with magic 0x%08x instead of "
			  "0x%08x: closing", nbd_user(st),
			  be32_get(buf_data(&s->in)), NBD_REQUEST_MAGIC);
		return EXIT_PERM;
	}
	err = nbd_request_check(&rq, &st->tx, &why);
	may_park = !err && rq.type == NBD_CMD_READ && rq.length > 0 &&
		   st->aio.on && !st->nowait_off;
	if (may_park ? !nbd_aio_room(&st->aio, rq.length) :
		       st->aio.parked > 0)
		return NBD_STEP_WAIT_AIO;
	buf_consume(&s->in, NBD_REQUEST_LEN);
	memset(&st->cur, 0, sizeof st->cur);
	st->cur.active = 1;
	st->cur.rq = rq;
	st->cur.err = err;
	st->cur.why = why;
	st->cur.nowait = may_park;
	st->stats.requests++;
	return NBD_STEP_MORE;
}

static int input_ended(struct nbd_state *st)
{
	const struct nbd_cur *c = &st->cur;

	if (c->active) {
		log_warn("nbd: user=%s connection closed in the middle of a "
			 "WRITE: %llu of %u bytes came", nbd_user(st),
			 (unsigned long long)c->done, c->rq.length);
		return EXIT_TEMP;
	}
	if (buf_len(&st->s->in) > 0) {
		log_warn("nbd: user=%s connection closed in the middle of a "
			 "request header", nbd_user(st));
		return EXIT_TEMP;
	}
	return 0;
}

int nbd_transmit(struct nbd_state *st)
{
	int r = NBD_STEP_MORE;

	if (!st->aio_tried) {
		int e = nbd_aio_start(&st->aio, st->disk.fd);

		st->aio_tried = 1;
		if (e)
			log_info("nbd: user=%s no io_uring (%s): reads are "
				 "served in order", nbd_user(st), strerror(e));
	}
	while (r == NBD_STEP_MORE)
		r = st->cur.active ? step(st) :
		    resume(st)	   ? NBD_STEP_MORE :
				     begin(st);
	nbd_aio_submit(&st->aio);
	if (r == NBD_STEP_WAIT_IN)
		return st->s->in_eof ? input_ended(st) : 0;
	return r == NBD_STEP_WAIT_OUT || r == NBD_STEP_WAIT_AIO ? 0 : r;
}
