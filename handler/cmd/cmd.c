/*
 * The cmd protocol module (docs/cmd.md): after authentication the server
 * sends its capabilities, then answers requests, several at a time, with
 * bands per request id. This file is the protocol table and the frame
 * dispatcher; every check on a client frame happens here before anything
 * runs, and the permission check is cmd_permitted() alone.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "clock.h"
#include "cmd_priv.h"
#include "exitcode.h"
#include "log.h"

static const char *user_name(const struct cmd_state *st)
{
	return st->s->user ? st->s->user->name : "-";
}

static void protocol_error(struct cmd_state *st, const char *why)
{
	log_error("cmd: user=%s protocol violation: %s", user_name(st), why);
	cmd_put_error(st->out, 0, CMD_E_PROTOCOL, 1, why);
	st->fatal = 1;
}

static struct cmd_req *req_find(struct cmd_state *st, uint32_t id)
{
	for (size_t i = 0; i < st->lim.max_requests; i++)
		if (st->reqs[i].used && st->reqs[i].id == id)
			return &st->reqs[i];
	return NULL;
}

static struct cmd_req *req_alloc(struct cmd_state *st, uint32_t id,
				 const char *name)
{
	for (size_t i = 0; i < st->lim.max_requests; i++) {
		struct cmd_req *rq = &st->reqs[i];

		if (rq->used)
			continue;
		memset(rq, 0, sizeof *rq);
		rq->used = 1;
		rq->id = id;
		rq->started = clock_now();
		snprintf(rq->name, sizeof rq->name, "%s", name);
		st->inflight++;
		return rq;
	}
	return NULL;
}

static void req_release(struct cmd_state *st, struct cmd_req *rq)
{
	int child = rq->is_child;

	cmd_exec_free(rq);
	cmd_text_free(&rq->out);
	cmd_text_free(&rq->err);
	rq->used = 0;
	st->inflight--;
	if (child)
		cmd_exec_strays(st);
}

/* A request refused before it ran: one final ERROR and a log line. */
static void refuse(struct cmd_state *st, uint32_t id, const char *name,
		   uint8_t code, const char *text)
{
	log_info("cmd: user=%s command=%s refused: %s: %s", user_name(st),
		 name ? name : "-", cmd_errcode_name(code), text);
	cmd_put_error(st->out, id, code, 1, text);
	st->refused++;
}

/* Why a builtin's answer cannot be sent: its own error text when it has
 * one, else what stopped its output growing. */
static const char *builtin_failure(const struct cmd_text *out,
				   const struct cmd_text *err)
{
	if (err->p && !err->err)
		return err->p;
	if (out->err == ENOMEM || err->err == ENOMEM)
		return strerror(ENOMEM);
	return "builtin output too large";
}

static void run_builtin(struct cmd_state *st, uint32_t id,
			const struct cmd_entry *e, struct cmd_request *rq)
{
	struct cmd_text out = { 0 }, err = { 0 };
	int status = e->builtin->run(st, (int)rq->argc, rq->argv, &out, &err);
	struct cmd_req *r;

	if (status < 0 || out.err || err.err) {
		refuse(st, id, e->name, status < 0 ? (uint8_t)-status :
		       CMD_E_INTERNAL, builtin_failure(&out, &err));
		cmd_text_free(&out);
		cmd_text_free(&err);
		return;
	}
	r = req_alloc(st, id, e->name);
	r->out = out;
	r->err = err;
	r->status = status;
}

static void run_command(struct cmd_state *st, uint32_t id,
			const struct cmd_entry *e, struct cmd_request *rq)
{
	int payload = rq->flags & CMD_REQ_PAYLOAD;
	char why[160];
	struct cmd_req *r;

	if (rq->argc - 1 > e->conf->max_args) {
		snprintf(why, sizeof why, "%s takes at most %u arguments",
			 e->name, e->conf->max_args);
		refuse(st, id, e->name, CMD_E_LIMIT, why);
		return;
	}
	r = req_alloc(st, id, e->name);
	if (cmd_exec_start(st, r, e, (int)rq->argc, rq->argv, payload) < 0) {
		snprintf(why, sizeof why, "cannot run %s: %s", e->name,
			 strerror(errno));
		req_release(st, r);
		refuse(st, id, e->name, CMD_E_INTERNAL, why);
		return;
	}
	log_debug("cmd: user=%s command=%s id=%u started pid %d",
		  user_name(st), e->name, id, (int)r->child.proc.pid);
}

/* Every check in order; the first failure is the answer. */
static void on_request(struct cmd_state *st, uint32_t id,
		       const uint8_t *body, uint32_t len)
{
	struct cmd_req_limits rl = { st->lim.max_args, st->lim.max_arglen };
	struct cmd_request rq;
	struct cmd_entry e;
	const char *why;
	char text[160];
	int err;

	if (id == 0) {
		protocol_error(st, "request id 0 is reserved");
		return;
	}
	if (req_find(st, id)) {
		protocol_error(st, "request id already in flight");
		return;
	}
	err = cmd_request_parse(&rq, body, len, &rl, &why);
	if (err) {
		refuse(st, id, NULL, (uint8_t)err, why);
		return;
	}
	if (st->inflight >= st->lim.max_requests) {
		snprintf(text, sizeof text, "too many requests in flight "
			 "(at most %u)", st->lim.max_requests);
		refuse(st, id, rq.argv[0], CMD_E_LIMIT, text);
	} else if (cmd_lookup(cmd_builtins, st->s->mconf, rq.argv[0], &e) < 0) {
		snprintf(text, sizeof text, "%.64s",
			 rq.argv[0]);
		refuse(st, id, rq.argv[0], CMD_E_UNKNOWN, text);
	} else if (!cmd_visible(st->s->user, st->s->mconf, &e)) {
		/* Hidden: the answer must not tell it apart from a typo. */
		log_info("cmd: user=%s command=%s refused: hidden, needs "
			 "permission %s", user_name(st), e.name, e.perm);
		cmd_put_error(st->out, id, CMD_E_UNKNOWN, 1, e.name);
		st->refused++;
	} else if (!cmd_permitted(st->s->user, &e)) {
		snprintf(text, sizeof text, "%s needs permission %s", e.name,
			 e.perm);
		refuse(st, id, e.name, CMD_E_PERM, text);
	} else if ((rq.flags & CMD_REQ_PAYLOAD) && !e.payload) {
		snprintf(text, sizeof text, "%s takes no payload", e.name);
		refuse(st, id, e.name, CMD_E_INVALID, text);
	} else if (e.builtin) {
		run_builtin(st, id, &e, &rq);
	} else {
		run_command(st, id, &e, &rq);
	}
	cmd_request_free(&rq);
}

static void on_data(struct cmd_state *st, uint32_t id, const uint8_t *body,
		    uint32_t len)
{
	struct cmd_req *rq = req_find(st, id);

	/* The request may have ended while these bytes travelled. */
	if (!rq)
		return;
	if (!rq->is_child || rq->child.payload_eof) {
		protocol_error(st, "DATA for a request without an open payload");
		return;
	}
	if (len > rq->child.credit) {
		protocol_error(st, "DATA beyond the granted window");
		return;
	}
	cmd_exec_payload(st, rq, body, len);
}

static void on_control(struct cmd_state *st, const struct cmd_hdr *h)
{
	struct cmd_req *rq = req_find(st, h->id);

	if (h->len != 0) {
		protocol_error(st, "EOF and CANCEL frames have no body");
		return;
	}
	if (!rq || !rq->is_child)
		return;
	if (h->type == CMD_EOF) {
		if (!rq->child.payload_eof)
			cmd_exec_payload_eof(rq);
	} else {
		snprintf(rq->note, sizeof rq->note, "cancelled by the client");
		rq->note_code = CMD_E_LIMIT;
		cmd_exec_kill(st, rq, CMD_KILL_CANCEL, clock_now());
	}
}

/*
 * VERSION: the client lists what it speaks, the server answers AGREED
 * with the highest version on both lists and speaks it from then on. Only
 * as the first frame, so no reply is ever in doubt about its version.
 */
static void on_version(struct cmd_state *st, const struct cmd_hdr *h,
		       const uint8_t *body)
{
	uint32_t v[CMD_VERSIONS_MAX], ours[CMD_PROTOCOL_MAX], pick;
	size_t n;

	if (h->id != 0 || st->frames_seen) {
		protocol_error(st, "VERSION must be the first frame, id 0");
		return;
	}
	if (cmd_versions_parse(body, h->len, v, &n) < 0) {
		protocol_error(st, "malformed VERSION frame");
		return;
	}
	/* We speak every version from 1 to CMD_PROTOCOL_MAX. */
	for (uint32_t i = 0; i < CMD_PROTOCOL_MAX; i++)
		ours[i] = i + 1;
	pick = cmd_version_pick(v, n, ours, CMD_PROTOCOL_MAX);
	if (!pick) {
		protocol_error(st, "no cmd protocol version in common");
		return;
	}
	st->version = pick;
	cmd_put_agreed(st->out, pick);
	log_debug("cmd: user=%s protocol version %u agreed", user_name(st),
		  pick);
}

static void on_frame(struct cmd_state *st, const struct cmd_hdr *h,
		     const uint8_t *body)
{
	if (h->type == CMD_VERSION) {
		on_version(st, h, body);
		st->frames_seen = 1;
		return;
	}
	st->frames_seen = 1;
	switch (h->type) {
	case CMD_REQUEST:
		on_request(st, h->id, body, h->len);
		break;
	case CMD_DATA:
		on_data(st, h->id, body, h->len);
		break;
	default:
		on_control(st, h);
		break;
	}
}

/*
 * Header checks before the body is awaited: 0 go on, 1 the body is being
 * skipped (an oversized request, refused), -1 protocol violation.
 */
static int check_header(struct cmd_state *st, const struct cmd_hdr *h)
{
	char text[96];

	if (!cmd_type_from_client(h->type)) {
		protocol_error(st, "unknown frame type");
		return -1;
	}
	if (h->len <= st->lim.max_frame)
		return 0;
	if (h->type != CMD_REQUEST || h->id == 0 || req_find(st, h->id)) {
		protocol_error(st, "frame larger than max_frame");
		return -1;
	}
	snprintf(text, sizeof text, "request of %u bytes exceeds max_frame %u",
		 h->len, st->lim.max_frame);
	refuse(st, h->id, NULL, CMD_E_LIMIT, text);
	st->skip = h->len;
	return 1;
}

static void read_frames(struct cmd_state *st)
{
	struct cmd_hdr h;

	while (!st->fatal) {
		size_t len = buf_len(st->in);

		if (st->skip) {
			size_t n = len < st->skip ? len : st->skip;

			buf_consume(st->in, n);
			st->skip -= (uint32_t)n;
			if (st->skip)
				break;
			continue;
		}
		if (buf_room(st->out) < CMD_REPLY_RESERVE)
			break;
		if (cmd_hdr_decode(buf_data(st->in), len, &h) != CMD_FRAME_OK)
			break;
		switch (check_header(st, &h)) {
		case 1:
			buf_consume(st->in, CMD_HDR_LEN);
			continue;
		case -1:
			return;
		default:
			break;
		}
		if (len - CMD_HDR_LEN < h.len)
			break;
		on_frame(st, &h, buf_data(st->in) + CMD_HDR_LEN);
		buf_consume(st->in, CMD_HDR_LEN + (size_t)h.len);
	}
}

/* Builtin output as bands, as room allows. */
static void flush_text(struct cmd_state *st, struct cmd_req *rq,
		       struct cmd_text *t, size_t *off, uint8_t type)
{
	struct buf *out = st->out;

	while (*off < t->len && buf_room(out) > CMD_HDR_LEN) {
		size_t n = t->len - *off;

		if (n > buf_room(out) - CMD_HDR_LEN)
			n = buf_room(out) - CMD_HDR_LEN;
		if (n > CMD_BAND_MAX)
			n = CMD_BAND_MAX;
		cmd_put_frame(out, type, rq->id, t->p + *off, n);
		*off += n;
		rq->bytes_out += n;
	}
}

static void log_done(struct cmd_state *st, struct cmd_req *rq, int status)
{
	static const char *const reasons[] = {
		"", " (time limit)", " (output limit)", " (cancelled)",
		" (session ended)", " (payload limit)"
	};
	uint64_t ms = (clock_now() - rq->started) / NS_PER_MS;
	char how[48];

	if (WIFSIGNALED(status))
		snprintf(how, sizeof how, "signal %d%s", WTERMSIG(status),
			 reasons[rq->child.why]);
	else
		snprintf(how, sizeof how, "exit %d%s", WEXITSTATUS(status),
			 reasons[rq->child.why]);
	log_info("cmd: user=%s command=%s id=%u %s in=%llu out=%llu ms=%llu",
		 user_name(st), rq->name, rq->id, how,
		 (unsigned long long)rq->bytes_in,
		 (unsigned long long)rq->bytes_out, (unsigned long long)ms);
}

/* EXIT as the agreed version has it (2 adds the request's time). */
static void put_exit(struct cmd_state *st, struct cmd_req *rq, int status)
{
	uint8_t kind = WIFSIGNALED(status) ? CMD_EXIT_SIGNAL : CMD_EXIT_CODE;
	uint32_t v = (uint32_t)(WIFSIGNALED(status) ? WTERMSIG(status) :
				WEXITSTATUS(status));

	if (st->version >= 2)
		cmd_put_exit_ms(st->out, rq->id, kind, v,
				(clock_now() - rq->started) / NS_PER_MS);
	else
		cmd_put_exit(st->out, rq->id, kind, v);
}

/* The final frames of a finished request, once they fit. */
static void try_complete(struct cmd_state *st, struct cmd_req *rq)
{
	struct buf *out = st->out;
	int status;

	if (rq->is_child ? !cmd_exec_done(rq) :
	    rq->out_off < rq->out.len || rq->err_off < rq->err.len)
		return;
	if (buf_room(out) < 2 * CMD_HDR_LEN + 2 + sizeof rq->note + 13)
		return;
	if (rq->note_code)
		cmd_put_error(out, rq->id, rq->note_code, 0, rq->note);
	status = rq->is_child ? rq->child.proc.status : W_EXITCODE(rq->status, 0);
	put_exit(st, rq, status);
	log_done(st, rq, status);
	st->served++;
	req_release(st, rq);
}

static void progress(struct cmd_state *st, uint64_t now)
{
	for (size_t i = 0; i < st->lim.max_requests; i++) {
		struct cmd_req *rq = &st->reqs[i];

		if (!rq->used)
			continue;
		if (rq->is_child) {
			cmd_exec_timers(st, rq, now);
			cmd_exec_grant(st, rq);
		} else {
			flush_text(st, rq, &rq->out, &rq->out_off, CMD_STDOUT);
			flush_text(st, rq, &rq->err, &rq->err_off, CMD_STDERR);
		}
		try_complete(st, rq);
	}
}

/* The client will send nothing more: open payloads end here. */
/*
 * A clean close (FINAL) still gets every answer; a cut stream means the
 * client is gone, so its commands are cancelled rather than left to run to
 * their time limit with nobody to read the result.
 */
static void input_ended(struct cmd_state *st)
{
	for (size_t i = 0; i < st->lim.max_requests; i++) {
		struct cmd_req *rq = &st->reqs[i];

		if (!rq->used || !rq->is_child)
			continue;
		if (st->s->in_truncated)
			cmd_exec_kill(st, rq, CMD_KILL_SESSION, clock_now());
		else if (!rq->child.payload_eof)
			cmd_exec_payload_eof(rq);
	}
}

static void limits_init(struct cmd_limits *lim, const struct session *s)
{
	const struct cmd_conf *c = s->mconf;
	size_t in_max = s->in.cap > CMD_HDR_LEN ? s->in.cap - CMD_HDR_LEN : 0;

	lim->max_frame = s->max_frame < in_max ? s->max_frame :
			 (uint32_t)(in_max < UINT32_MAX ? in_max : UINT32_MAX);
	lim->max_requests = c->max_requests ? c->max_requests : 1;
	lim->max_args = c->max_args;
	lim->max_arglen = c->max_arglen;
	lim->cmd_time_ms = c->cmd_time_ms;
	lim->cmd_output = c->cmd_output;
	lim->window = CMD_WINDOW_MAX;
}

static int send_caps(struct cmd_state *st)
{
	struct session *s = st->s;
	size_t max = CMD_SERVER_FRAME_MAX, len;
	char *json;
	int r;

	if (buf_room(&s->out) - CMD_HDR_LEN < max)
		max = buf_room(&s->out) - CMD_HDR_LEN;
	json = cmd_caps_json(s, cmd_builtins, &st->lim, max, &len);
	if (!json) {
		if (errno == ENOMEM)
			log_error("cmd: out of memory for the capabilities");
		else
			log_error("cmd: capabilities do not fit in %zu bytes",
				  max);
		return -1;
	}
	r = cmd_put_frame(&s->out, CMD_CAPS, 0, json, len);
	free(json);
	return r;
}

/* "cmd --ssh-user NAME": the user an sshd forced command names. */
static const char *cmd_ssh_user(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--ssh-user") == 0)
		return argv[2];
	return NULL;
}

/*
 * Under --ssh-user (the core has checked sshd and the user), a command
 * line in SSH_ORIGINAL_COMMAND is the one request; without one the
 * client speaks frames on stdin as over the secure layer.
 */
static int start_ssh(struct cmd_state *st)
{
	const char *line = getenv("SSH_ORIGINAL_COMMAND");

	if (st->s->secure || !st->s->user) {
		log_error("cmd: --ssh-user is for sshd forced commands, "
			  "without -s");
		return EXIT_PERM;
	}
	if (!line || !*line)
		return send_caps(st) < 0 ? EXIT_TEMP : 0;
	return cmd_ssh_start(st, line);
}

static void state_free(struct cmd_state *st)
{
	cmd_ssh_free(st);
	free(st->reqs);
	free(st);
}

static int cmd_start(struct session *s, int argc, char **argv, void **state)
{
	struct cmd_state *st;
	int ssh = cmd_ssh_user(argc, argv) != NULL, r;

	if (argc > 1 && !ssh) {
		log_error("usage: handler [options] cmd [--ssh-user NAME]");
		return EXIT_PERM;
	}
	if (s->out.cap < CMD_REPLY_RESERVE * 2 || s->in.cap <= CMD_HDR_LEN) {
		log_error("cmd: session buffers too small");
		return EXIT_TEMP;
	}
	st = calloc(1, sizeof *st);
	if (!st) {
		log_error("cmd: out of memory");
		return EXIT_TEMP;
	}
	st->s = s;
	st->in = &s->in;
	st->out = &s->out;
	st->version = CMD_PROTOCOL_VERSION;
	limits_init(&st->lim, s);
	st->reqs = calloc(st->lim.max_requests, sizeof *st->reqs);
	if (!st->reqs)
		log_error("cmd: out of memory");
	r = !st->reqs ? EXIT_TEMP : ssh ? start_ssh(st) :
	    send_caps(st) < 0 ? EXIT_TEMP : 0;
	if (r) {
		state_free(st);
		return r;
	}
	log_debug("cmd: user=%s capabilities sent", user_name(st));
	*state = st;
	return 0;
}

/* What a callback returns: an exit code once the session is over. */
static int result(struct cmd_state *st)
{
	if (st->ssh)
		return cmd_ssh_output(st);
	return st->fatal ? EXIT_PERM : 0;
}

static int cmd_input(struct session *s, void *state)
{
	struct cmd_state *st = state;

	if (st->ssh)
		cmd_ssh_input(st);  /* its EOF comes as a frame */
	read_frames(st);
	if (s->in_eof && !st->ssh)
		input_ended(st);
	progress(st, clock_now());
	return result(st);
}

static size_t cmd_pollfds(struct session *s, void *state, struct pollfd *pfd,
			  size_t max)
{
	struct cmd_state *st = state;
	size_t n = 0, nreq = st->lim.max_requests;

	(void)s;
	st->fds_short = 0;
	if (st->fatal)
		return 0;
	/* Start at a different request each pass so none starves. */
	for (size_t k = 0; k < nreq; k++) {
		size_t i = (st->rotate + k) % nreq;

		if (st->reqs[i].used && st->reqs[i].is_child)
			cmd_exec_poll_add(st, &st->reqs[i], pfd, &n, max, i);
	}
	st->rotate++;
	return n;
}

static int cmd_events(struct session *s, void *state, struct pollfd *pfd,
		      size_t n, uint64_t now)
{
	struct cmd_state *st = state;

	(void)s;
	for (size_t i = 0; i < n; i++) {
		struct cmd_req *rq = &st->reqs[st->map_req[i]];

		if (rq->used && rq->is_child)
			cmd_exec_event(st, rq, st->map_kind[i], pfd[i].revents,
				       now);
	}
	if (st->ssh) {
		cmd_ssh_input(st);  /* WINDOW credit may have come */
		read_frames(st);
	}
	progress(st, now);
	return result(st);
}

static uint64_t cmd_deadline(struct session *s, void *state)
{
	struct cmd_state *st = state;
	uint64_t d = 0;

	(void)s;
	for (size_t i = 0; i < st->lim.max_requests; i++) {
		uint64_t r;

		if (!st->reqs[i].used)
			continue;
		r = cmd_exec_deadline(&st->reqs[i]);
		if (r && (!d || r < d))
			d = r;
	}
	/* Requests whose fds did not fit in the poll set: look again soon. */
	if (st->fds_short) {
		uint64_t soon = clock_now() + 10 * NS_PER_MS;

		if (!d || soon < d)
			d = soon;
	}
	return d;
}

static int cmd_timeout(struct session *s, void *state, uint64_t now)
{
	struct cmd_state *st = state;

	(void)s;
	progress(st, now);
	return result(st);
}

static int cmd_idle(struct session *s, void *state)
{
	struct cmd_state *st = state;

	(void)s;
	return st->inflight == 0 && !st->ssh;
}

static void cmd_finish(struct session *s, void *state)
{
	struct cmd_state *st = state;

	(void)s;
	for (size_t i = 0; i < st->lim.max_requests; i++) {
		struct cmd_req *rq = &st->reqs[i];

		if (!rq->used)
			continue;
		log_warn("cmd: user=%s command=%s id=%u killed: session ended",
			 user_name(st), rq->name, rq->id);
		req_release(st, rq);
	}
	log_info("cmd: user=%s session done: %llu served, %llu refused",
		 user_name(st), (unsigned long long)st->served,
		 (unsigned long long)st->refused);
	state_free(st);
}

const struct protocol proto_cmd = {
	.name = "cmd",
	.summary = "authenticated remote commands with bands (docs/cmd.md)",
	.requires_secure = 1,
	.ssh_user = cmd_ssh_user,
	.buffer_size = 256 * 1024,
	.conf = &cmd_conf_module,
	.start = cmd_start,
	.input = cmd_input,
	.pollfds = cmd_pollfds,
	.events = cmd_events,
	.deadline = cmd_deadline,
	.timeout = cmd_timeout,
	.idle = cmd_idle,
	.finish = cmd_finish,
};
