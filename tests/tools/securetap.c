/*
 * securetap: ends the secure layer on both sides of a real session and
 * writes down what each side sent, for fuzz seeds (tests/fuzz/record.sh).
 *
 *   securetap -k SERVERKEY -u USERKEY -n USER -o PREFIX SERVER-ARGV...
 *
 * Run as handler-client's --exec command: to the client on fds 0/1 it is
 * the server (SERVERKEY, accepting USER with USERKEY's public key); it
 * starts SERVER-ARGV (e.g. handler -s ... cmd) on pipes and is its client
 * (USER with USERKEY). Plaintext is relayed unchanged. Files written:
 *   PREFIX.c2s PREFIX.s2c          the plaintext each way (the bytes the
 *                                  module and the client parse)
 *   PREFIX.raw_c2s PREFIX.raw_s2c  the encrypted bytes the real client
 *                                  and the real server sent
 * The keys are test keys made for the recording; nothing else sees them.
 * Exits with the server's exit status, 111 on its own failures.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "exitcode.h"
#include "fdutil.h"
#include "keys.h"
#include "log.h"
#include "proc.h"
#include "secure.h"

#define CAP (4 * SECURE_RAW_MIN)

/* One secure session: with the real client (FRONT) or the real server. */
struct leg {
	struct secure *s;
	int in, out;         /* raw fds, -1 once closed */
	struct buf ri, ro;   /* raw in and out */
	struct buf plain;    /* opened, not yet sealed onto the other leg */
	int ready;           /* handshake done */
	int final_in;        /* the peer's FINAL read */
	int eof;             /* raw input ended */
	FILE *raw, *text;    /* the records of what this leg's peer sent */
};

enum { FRONT, BACK };

struct tap {
	struct keys_secret srv, usr;
	struct secure_identity srv_id, usr_id;
	const char *user;
	struct leg leg[2];
	struct proc child;
};

static void die(const char *why)
{
	fprintf(stderr, "securetap: fatal: %s\n", why);
	exit(EXIT_TEMP);
}

static int lookup(void *ctx, const char *user, uint8_t pk[32])
{
	const struct tap *t = ctx;

	if (strcmp(user, t->user) != 0)
		return -1;
	memcpy(pk, t->usr.pk, 32);
	return 0;
}

static FILE *record(const char *prefix, const char *what)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s.%s", prefix, what);
	f = fopen(path, "wb");
	if (!f)
		die("cannot create a record file");
	return f;
}

static void leg_init(struct leg *l, int in, int out)
{
	memset(l, 0, sizeof *l);
	l->in = in;
	l->out = out;
	if (buf_init(&l->ri, CAP) < 0 || buf_init(&l->ro, CAP) < 0 ||
	    buf_init(&l->plain, CAP) < 0)
		die("out of memory");
	fd_nonblock(in);
	fd_nonblock(out);
}

/* Closes the records and the fds, wipes the keys and plaintext. */
static void leg_free(struct leg *l)
{
	fclose(l->raw);
	fclose(l->text);
	if (l->in >= 0)
		close(l->in);
	if (l->out >= 0)
		close(l->out);
	secure_free(l->s);
	buf_free(&l->ri);
	buf_free(&l->ro);
	buf_free_secret(&l->plain);
}

/* SERVER-ARGV on pipes (lib/proc.c: the child gets fds 0-2 only). */
static void spawn(struct proc *child, char **argv, int *to, int *from)
{
	int a[2], b[2];
	struct proc_fdmap map[2];

	if (pipe2(a, O_CLOEXEC) < 0 || pipe2(b, O_CLOEXEC) < 0)
		die("pipe");
	map[0] = (struct proc_fdmap){ 0, a[0] };
	map[1] = (struct proc_fdmap){ 1, b[1] };
	if (proc_spawn(child, argv, NULL, map, 2) < 0)
		die("cannot run the server");
	close(a[0]);
	close(b[1]);
	*to = a[1];
	*from = b[0];
}

/* Runs the handshake, then opens frames, recording the new plaintext. */
static void leg_step(struct leg *l)
{
	size_t before = buf_len(&l->plain);
	int rc;

	if (!l->ready) {
		rc = secure_handshake(l->s, &l->ri, &l->ro);
		if (rc == SECURE_ERROR)
			die(secure_error(l->s));
		l->ready = rc == SECURE_READY;
	}
	if (!l->ready || l->final_in)
		return;
	rc = secure_open(l->s, &l->ri, &l->plain);
	if (rc == SECURE_ERROR)
		die(secure_error(l->s));
	l->final_in = rc == SECURE_READY;
	fwrite(buf_data(&l->plain) + before, 1, buf_len(&l->plain) - before,
	       l->text);
}

/* Seals what src's peer sent onto dst; passes its FINAL on once all is. */
static void relay(struct leg *src, struct leg *dst)
{
	if (!dst->ready || secure_closed_out(dst->s))
		return;
	if (secure_seal(dst->s, &src->plain, &dst->ro) == SECURE_ERROR)
		die(secure_error(dst->s));
	if (src->final_in && !buf_len(&src->plain))
		secure_close(dst->s, &dst->ro);
}

/* The other side ends once this one's input is over and all is sent. */
static void maybe_close_out(struct leg *l, const struct leg *from)
{
	int over = from->eof || (from->final_in && !buf_len(&from->plain) &&
				 secure_closed_out(l->s));

	if (l->out >= 0 && over && !buf_len(&l->ro)) {
		close(l->out);
		l->out = -1;
	}
}

static void io(struct leg *l, struct pollfd *pin, struct pollfd *pout)
{
	if (pin->revents) {
		size_t before = buf_len(&l->ri);
		ssize_t n = buf_read_fd(&l->ri, l->in);

		if (n > 0)
			fwrite(buf_data(&l->ri) + before, 1, (size_t)n, l->raw);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			l->eof = 1;
			close(l->in);
			l->in = -1;
		}
	}
	if (pout->revents && buf_write_fd(&l->ro, l->out) < 0 &&
	    errno != EAGAIN && errno != EINTR) {
		buf_clear(&l->ro);  /* the peer has gone: drop what is left */
		close(l->out);
		l->out = -1;
	}
}

static void run(struct tap *t)
{
	struct leg *f = &t->leg[FRONT], *b = &t->leg[BACK];

	while (f->out >= 0 || b->out >= 0) {
		struct pollfd p[4] = {
			{ buf_room(&f->ri) ? f->in : -1, POLLIN, 0 },
			{ buf_len(&f->ro) ? f->out : -1, POLLOUT, 0 },
			{ buf_room(&b->ri) ? b->in : -1, POLLIN, 0 },
			{ buf_len(&b->ro) ? b->out : -1, POLLOUT, 0 },
		};

		leg_step(f);
		leg_step(b);
		relay(f, b);
		relay(b, f);
		maybe_close_out(b, f);
		maybe_close_out(f, b);
		p[1].fd = buf_len(&f->ro) ? f->out : -1;
		p[3].fd = buf_len(&b->ro) ? b->out : -1;
		if (p[0].fd < 0 && p[1].fd < 0 && p[2].fd < 0 && p[3].fd < 0)
			break;
		if (poll(p, 4, 30000) <= 0)
			die("no progress for 30 s");
		io(f, &p[0], &p[1]);
		io(b, &p[2], &p[3]);
	}
}

static void load(struct keys_secret *k, struct secure_identity *id,
		 const char *path)
{
	char err[KEYS_ERR_MAX];

	if (keys_load_secret(path, k, err) < 0)
		die(err);
	keys_identity_from_secret(id, k);
}

int main(int argc, char **argv)
{
	struct tap t;
	const char *prefix = NULL, *skey = NULL, *ukey = NULL;
	int c, to, from;

	memset(&t, 0, sizeof t);
	log_init("securetap");
	signal(SIGPIPE, SIG_IGN);
	while ((c = getopt(argc, argv, "+k:u:n:o:")) != -1) {
		if (c == 'k')
			skey = optarg;
		else if (c == 'u')
			ukey = optarg;
		else if (c == 'n')
			t.user = optarg;
		else if (c == 'o')
			prefix = optarg;
		else
			return EXIT_PERM;
	}
	if (!skey || !ukey || !t.user || !prefix || optind >= argc) {
		fprintf(stderr, "usage: securetap -k SERVERKEY -u USERKEY "
			"-n USER -o PREFIX SERVER-ARGV...\n");
		return EXIT_PERM;
	}
	load(&t.srv, &t.srv_id, skey);
	load(&t.usr, &t.usr_id, ukey);
	spawn(&t.child, argv + optind, &to, &from);
	leg_init(&t.leg[FRONT], 0, 1);
	leg_init(&t.leg[BACK], from, to);
	t.leg[FRONT].s = secure_server_new(&t.srv_id, lookup, &t, 0);
	t.leg[BACK].s = secure_client_new(&t.usr_id, t.user, t.srv.pk, 0);
	if (!t.leg[FRONT].s || !t.leg[BACK].s)
		die("out of memory");
	t.leg[FRONT].raw = record(prefix, "raw_c2s");
	t.leg[FRONT].text = record(prefix, "c2s");
	t.leg[BACK].raw = record(prefix, "raw_s2c");
	t.leg[BACK].text = record(prefix, "s2c");
	run(&t);
	for (int i = 0; i < 2; i++)
		leg_free(&t.leg[i]);
	keys_secret_wipe(&t.srv);
	keys_secret_wipe(&t.usr);
	if (proc_reap(&t.child, 1) != 1)
		return EXIT_TEMP;
	proc_release(&t.child);
	return proc_exit_code(t.child.status);
}
