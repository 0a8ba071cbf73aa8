/*
 * READs that would wait for the disk are parked here, so the loop goes on
 * serving the requests behind them.
 *
 * The loop first tries every READ with RWF_NOWAIT: data in the page cache
 * is copied straight into the output queue as before, and only a read
 * that would block (EAGAIN) is parked. That failed attempt has already
 * started the disk read (the kernel's readahead); an io_uring read of the
 * same range then completes when the pages are in the page cache. Its
 * data goes to a discard buffer: it is only a way of being told that the
 * disk is done. The request then goes back to the loop, which serves it
 * from the page cache with a plain pread (a page evicted meanwhile is
 * read again, so a request parks at most once). The reply encoding,
 * error handling and back-pressure are therefore the synchronous path's,
 * unchanged; parking only decides when a READ is served, so a READ may
 * overtake other READs and nothing else (docs/nbd.md, "Synchronous loop or
 * asynchronous I/O").
 *
 * io_uring rather than threads: the kernel waits for the page itself
 * (async buffered reads), so no thread is woken per request; on this
 * project's virtual machines a wake-up is the expensive part (numbers in
 * docs/nbd.md). The ring's completions signal an eventfd that the core
 * polls through the module's pollfds().
 *
 * Bounds: NBD_AIO_SLOTS parked requests and NBD_AIO_BYTES of them in
 * total (any one READ parks when nothing else is), one NBD_AIO_STEP
 * discard buffer, a ring of NBD_AIO_RING entries.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "nbd_priv.h"

/* One SQE per NBD_AIO_STEP of a READ: at most this many in flight. */
#define RING_MAX_SQES \
	(NBD_AIO_SLOTS + (NBD_AIO_BYTES + NBD_PAYLOAD_MAX) / NBD_AIO_STEP)

int nbd_aio_start(struct nbd_aio *a, int fd)
{
	struct io_uring_params p;
	int r;

	/* The state starts zeroed (calloc); the test hooks are kept. */
	a->efd = -1;
	a->fd = fd;
	a->junk = malloc(NBD_AIO_STEP);
	if (!a->junk)
		return ENOMEM;
	memset(&p, 0, sizeof p);
	/* Completions are only looked at between requests: the kernel need
	 * not interrupt the loop to post them. */
	p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN;
	p.cq_entries = RING_MAX_SQES;
	r = io_uring_queue_init_params(NBD_AIO_RING, &a->ring, &p);
	if (r == -EINVAL) {
		/* Kernels before 5.19 lack COOP_TASKRUN. */
		p.flags &= ~IORING_SETUP_COOP_TASKRUN;
		r = io_uring_queue_init_params(NBD_AIO_RING, &a->ring, &p);
	}
	if (r < 0) {
		free(a->junk);
		a->junk = NULL;
		return -r;
	}
	a->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r = a->efd < 0 ? errno : -io_uring_register_eventfd(&a->ring, a->efd);
	if (r) {
		if (a->efd >= 0)
			close(a->efd);
		a->efd = -1;
		io_uring_queue_exit(&a->ring);
		free(a->junk);
		a->junk = NULL;
		return r;
	}
	a->on = 1;
	return 0;
}

/* Takes every completion there is; 1 when a parked READ became ready. */
static int reap(struct nbd_aio *a)
{
	struct io_uring_cqe *cqe;
	int any = 0;

	while (io_uring_peek_cqe(&a->ring, &cqe) == 0) {
		size_t i = (size_t)io_uring_cqe_get_data64(cqe);

		/* A failed read is found again, and reported, when the loop
		 * serves the request. */
		if (i < NBD_AIO_SLOTS && a->pending[i] > 0 &&
		    --a->pending[i] == 0)
			any = 1;
		io_uring_cqe_seen(&a->ring, cqe);
		a->sqes--;
	}
	return any;
}

void nbd_aio_stop(struct nbd_aio *a)
{
	if (!a->on)
		return;
	/* The discard buffer must outlive every read into it. */
	io_uring_submit(&a->ring);
	while (a->sqes > 0) {
		struct io_uring_cqe *cqe;

		if (io_uring_wait_cqe(&a->ring, &cqe) < 0)
			break;
		reap(a);
	}
	io_uring_queue_exit(&a->ring);
	close(a->efd);
	a->efd = -1;
	if (a->sqes == 0)
		free(a->junk);
	/* else the kernel may still write it: leak it rather than
	 * let it write into freed memory (the process ends soon). */
	a->junk = NULL;
	a->on = 0;
}

int nbd_aio_room(const struct nbd_aio *a, uint32_t len)
{
	return a->on && a->parked < NBD_AIO_SLOTS &&
	       (a->parked == 0 || a->bytes + len <= NBD_AIO_BYTES);
}

void nbd_aio_park(struct nbd_aio *a, const struct nbd_request *rq)
{
	uint64_t off = rq->offset;
	uint32_t left = rq->length;
	size_t i = 0;

	while (a->slot_used[i])
		i++;
	a->slot_used[i] = 1;
	a->slot[i] = *rq;
	a->parked++;
	a->bytes += rq->length;
	while (left > 0) {
		uint32_t n = left < NBD_AIO_STEP ? left : NBD_AIO_STEP;
		struct io_uring_sqe *sqe = io_uring_get_sqe(&a->ring);

		if (!sqe) {
			io_uring_submit(&a->ring);
			sqe = io_uring_get_sqe(&a->ring);
		}
		if (!sqe)
			break;  /* cannot happen: the ring holds RING_MAX_SQES */
		/* Every read of every request lands in the same discard
		 * buffer: only the page cache it fills matters. */
		io_uring_prep_read(sqe, a->fd, a->junk, n, off);
		io_uring_sqe_set_data64(sqe, i);
		a->pending[i]++;
		a->sqes++;
		off += n;
		left -= n;
	}
	/* Nothing prepared (cannot happen): ready at once, and the loop's
	 * own read waits for the disk. */
}

void nbd_aio_submit(struct nbd_aio *a)
{
	/* A failed submit (EAGAIN, ENOMEM in the kernel) leaves the SQEs in
	 * the ring for the next call. */
	if (a->on && io_uring_sq_ready(&a->ring) > 0)
		io_uring_submit(&a->ring);
}

int nbd_aio_ready(struct nbd_aio *a, struct nbd_request *rq)
{
	if (a->parked == 0)
		return 0;
	nbd_aio_submit(a);
	reap(a);
	for (size_t i = 0; i < NBD_AIO_SLOTS; i++) {
		if (!a->slot_used[i] || a->pending[i] > 0)
			continue;
		if (a->hook_hold && a->hook_hold(a->hook_arg, &a->slot[i]))
			continue;
		*rq = a->slot[i];
		a->slot_used[i] = 0;
		a->parked--;
		a->bytes -= rq->length;
		return 1;
	}
	return 0;
}

void nbd_aio_drain(struct nbd_aio *a)
{
	uint64_t n;

	if (a->on)
		while (read(a->efd, &n, sizeof n) > 0)
			;
}
