/*
 * mpend: one end of a byte stream, for msgpipe tests. It sends a file on
 * one fd and, at the same time, copies whatever arrives on another fd into
 * a file, so a transfer both ways never deadlocks on full pipes.
 *
 *   mpend [-i infd] [-o outfd] [-s sendfile] [-r recvfile] [-N] [-a ms]
 *         [-x code] [-k signal] [-H]
 *
 * Defaults: read fd 0, write fd 1 (msgpipe server side); use -i 6 -o 7
 * under msgpipe -c. The write side is closed as soon as the file is sent
 * (the peer sees EOF then), unless -H holds it open until mpend exits, so
 * the exit status is known when the stream ends. -N never reads the input (it stays open and
 * full); -a lingers that long before exiting once done; then mpend exits
 * with -x's code, or kills itself with -k's signal.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "exitcode.h"
#include "fdutil.h"
#include "log.h"

#define CHUNK 65536

struct mpend {
	int in, out;      /* stream fds; -1 once closed */
	int src, dst;     /* files; -1 when absent */
	int src_eof;
	int never_read;
	int hold_out;     /* keep out open (not yet EOF) until exit */
	int held;         /* the out fd kept open by -H */
	int linger_ms;
	int code, sig;
	struct buf sendq, recvq;
};

static int open_or_die(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0644);

	if (fd < 0)
		log_die_sys(EXIT_TEMP, "cannot open %s", path);
	return fd;
}

static void usage(void)
{
	log_die(EXIT_PERM, "usage: mpend [-i infd] [-o outfd] [-s sendfile] "
			   "[-r recvfile] [-N] [-a ms] [-x code] [-k signal] [-H]");
}

static void parse_args(struct mpend *m, int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "i:o:s:r:Na:x:k:H")) != -1) {
		switch (c) {
		case 'i': m->in = atoi(optarg); break;
		case 'o': m->out = atoi(optarg); break;
		case 's': m->src = open_or_die(optarg, O_RDONLY); break;
		case 'r':
			m->dst = open_or_die(optarg, O_WRONLY | O_CREAT | O_TRUNC);
			break;
		case 'N': m->never_read = 1; break;
		case 'H': m->hold_out = 1; break;
		case 'a': m->linger_ms = atoi(optarg); break;
		case 'x': m->code = atoi(optarg); break;
		case 'k': m->sig = atoi(optarg); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
}

/* Tops the send queue up from the file; closes out at the end of it. */
static void fill_sendq(struct mpend *m)
{
	ssize_t r;

	if (m->src < 0)
		m->src_eof = 1;
	if (m->src_eof || buf_room(&m->sendq) < CHUNK / 2)
		return;
	r = buf_read_fd(&m->sendq, m->src);
	if (r < 0)
		log_die_sys(EXIT_TEMP, "read send file");
	if (r == 0)
		m->src_eof = 1;
}

static void pump_out(struct mpend *m)
{
	if (buf_len(&m->sendq) && buf_write_fd(&m->sendq, m->out) < 0 &&
	    errno != EAGAIN) {
		log_warn("write fd %d: %s", m->out, strerror(errno));
		buf_clear(&m->sendq);
		m->src_eof = 1;
		m->code = m->code ? m->code : EXIT_TEMP;
	}
	fill_sendq(m);
	if (m->src_eof && buf_len(&m->sendq) == 0) {
		if (m->hold_out)
			m->held = m->out;
		else
			fd_close(&m->out);
		m->out = -1;
	}
}

static void pump_in(struct mpend *m)
{
	ssize_t r = buf_read_fd(&m->recvq, m->in);

	if (r < 0 && errno == EAGAIN)
		return;
	if (r < 0)
		log_warn("read fd %d: %s", m->in, strerror(errno));
	if (r <= 0) {
		fd_close(&m->in);
		return;
	}
	if (m->dst >= 0 &&
	    fd_write_all(m->dst, buf_data(&m->recvq), buf_len(&m->recvq)) < 0)
		log_die_sys(EXIT_TEMP, "write receive file");
	buf_clear(&m->recvq);
}

static void run(struct mpend *m)
{
	fill_sendq(m);
	pump_out(m);
	while (m->out >= 0 || (m->in >= 0 && !m->never_read)) {
		struct pollfd p[2] = { { .fd = -1 }, { .fd = -1 } };

		if (m->out >= 0)
			p[0] = (struct pollfd){ .fd = m->out, .events = POLLOUT };
		if (m->in >= 0 && !m->never_read)
			p[1] = (struct pollfd){ .fd = m->in, .events = POLLIN };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_die_sys(EXIT_TEMP, "poll");
		}
		if (p[0].revents)
			pump_out(m);
		if (p[1].revents)
			pump_in(m);
	}
}

int main(int argc, char **argv)
{
	struct mpend m = { .in = 0, .out = 1, .src = -1, .dst = -1 };

	log_init("mpend");
	signal(SIGPIPE, SIG_IGN);
	parse_args(&m, argc, argv);
	if (buf_init(&m.sendq, CHUNK) < 0 || buf_init(&m.recvq, CHUNK) < 0)
		log_die(EXIT_TEMP, "out of memory");
	fd_nonblock(m.out);
	if (!m.never_read)
		fd_nonblock(m.in);
	run(&m);
	if (m.linger_ms > 0)
		poll(NULL, 0, m.linger_ms);
	if (m.dst >= 0 && close(m.dst) < 0)
		log_die_sys(EXIT_TEMP, "close receive file");
	buf_free(&m.sendq);
	buf_free(&m.recvq);
	if (m.sig) {
		signal(m.sig, SIG_DFL);
		raise(m.sig);
	}
	return m.code;
}
