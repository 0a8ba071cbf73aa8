/*
 * ssh-agent client (draft-miller-ssh-agent): every message is be32 length,
 * a type byte and its body. One connection per request keeps it simple;
 * it runs once per handshake at most.
 */
#include "sshagent.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "bytes.h"
#include "clock.h"
#include "log.h"
#include "wire.h"

#define AGENT_FAILURE 5
#define AGENTC_REQUEST_IDENTITIES 11
#define AGENT_IDENTITIES_ANSWER 12
#define AGENTC_SIGN_REQUEST 13
#define AGENT_SIGN_RESPONSE 14
/* An agent with many RSA keys answers with a few KiB per key. */
#define REPLY_MAX (256 * 1024)
#define SOCK_MAX 108
_Static_assert(sizeof ((struct sockaddr_un *)0)->sun_path == SOCK_MAX,
	       "SOCK_MAX is the size of sun_path");

static const char ed25519_name[] = "ssh-ed25519";

/* The agent's socket path (sock, or SSH_AUTH_SOCK when NULL), or NULL. */
static const char *agent_socket(const char *sock, char err[KEYS_ERR_MAX])
{
	if (!sock)
		sock = getenv("SSH_AUTH_SOCK");
	if (!sock || !*sock) {
		snprintf(err, KEYS_ERR_MAX,
			 "no ssh-agent: SSH_AUTH_SOCK is not set");
		return NULL;
	}
	if (strlen(sock) >= SOCK_MAX) {
		snprintf(err, KEYS_ERR_MAX, "ssh-agent socket path too long");
		return NULL;
	}
	return sock;
}

static int agent_connect(const char *sock, char err[KEYS_ERR_MAX])
{
	struct sockaddr_un sa;
	int fd;

	if (!(sock = agent_socket(sock, err)))
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		snprintf(err, KEYS_ERR_MAX, "ssh-agent %s: %s", sock,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Waits for fd to be ready (events) until deadline; 0 or -1 (errno). */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int rc;

	do {
		uint64_t now = clock_now();

		if (now >= deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		rc = poll(&p, 1, clock_poll_timeout(now, deadline));
	} while (rc == 0 || (rc < 0 && errno == EINTR));
	return rc < 0 ? -1 : 0;
}

static int io_all(int fd, uint8_t *p, size_t n, int writing,
		  uint64_t deadline)
{
	while (n) {
		ssize_t r;

		if (wait_fd(fd, writing ? POLLOUT : POLLIN, deadline) < 0)
			return -1;
		r = writing ? send(fd, p, n, MSG_NOSIGNAL) : read(fd, p, n);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = ECONNRESET;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/*
 * Sends req (its type byte first, n bytes) and reads the reply body into a
 * malloc'd *reply. 0 or -1 with err filled.
 */
static int agent_call(const char *sock, const uint8_t *req, size_t n,
		      uint8_t **reply, size_t *rlen, char err[KEYS_ERR_MAX])
{
	uint64_t deadline = clock_now() + SSHAGENT_TIMEOUT_MS * NS_PER_MS;
	uint8_t len[4];
	uint32_t m;
	int fd = agent_connect(sock, err);

	*reply = NULL;
	if (fd < 0)
		return -1;
	be32_put(len, (uint32_t)n);
	if (io_all(fd, len, 4, 1, deadline) < 0 ||
	    io_all(fd, (uint8_t *)req, n, 1, deadline) < 0 ||
	    io_all(fd, len, 4, 0, deadline) < 0)
		goto fail_io;
	m = be32_get(len);
	if (m == 0 || m > REPLY_MAX) {
		snprintf(err, KEYS_ERR_MAX, "ssh-agent: bad reply length %u",
			 m);
		close(fd);
		return -1;
	}
	*reply = malloc(m);
	if (!*reply || io_all(fd, *reply, m, 0, deadline) < 0)
		goto fail_io;
	close(fd);
	*rlen = m;
	return 0;
fail_io:
	snprintf(err, KEYS_ERR_MAX, "ssh-agent: %s", strerror(errno));
	free(*reply);
	*reply = NULL;
	close(fd);
	return -1;
}

/* A comment "user" or "user@host" names that user (ssh-keygen's default). */
static int comment_names(const uint8_t *c, uint32_t n, const char *user)
{
	size_t u = user ? strlen(user) : 0;

	return u && n >= u && memcmp(c, user, u) == 0 &&
	       (n == u || c[u] == '@');
}

/*
 * Answer 12: be32 nkeys, then string key blob, string comment each. The
 * first key whose comment names prefer (if any) is moved to pks[0].
 */
int sshagent_parse_identities(const uint8_t *p, size_t n, uint8_t (*pks)[32],
			      size_t max, const char *prefer,
			      char err[KEYS_ERR_MAX])
{
	int preferred = 0;
	uint8_t tmp[32];
	uint32_t nkeys, i, bl, cl;
	const uint8_t *blob, *comment;
	size_t found = 0;
	uint8_t type;
	struct rd r;

	rd_init(&r, p, n);
	rd_u8(&r, &type);
	if (rd_ok(&r) && type == AGENT_FAILURE) {
		snprintf(err, KEYS_ERR_MAX, "ssh-agent refused to list keys");
		return -1;
	}
	rd_be32(&r, &nkeys);
	if (!rd_ok(&r) || type != AGENT_IDENTITIES_ANSWER) {
		snprintf(err, KEYS_ERR_MAX, "ssh-agent: unexpected reply");
		return -1;
	}
	for (i = 0; i < nkeys && rd_ok(&r); i++) {
		rd_string(&r, &blob, &bl, REPLY_MAX);
		rd_string(&r, &comment, &cl, REPLY_MAX);
		if (!rd_ok(&r) || found >= max ||
		    keys_blob_ed25519(blob, bl, pks[found]) < 0)
			continue;
		if (!preferred && comment_names(comment, cl, prefer)) {
			memcpy(tmp, pks[found], 32);
			memcpy(pks[found], pks[0], 32);
			memcpy(pks[0], tmp, 32);
			preferred = 1;
		}
		found++;
	}
	if (!rd_end(&r)) {
		snprintf(err, KEYS_ERR_MAX, "ssh-agent: malformed key list");
		return -1;
	}
	return (int)found;
}

static int list_keys(const char *sock, uint8_t (*pks)[32], size_t max,
		     const char *prefer, char err[KEYS_ERR_MAX])
{
	uint8_t req = AGENTC_REQUEST_IDENTITIES, *reply;
	size_t rlen;
	int rc;

	if (agent_call(sock, &req, 1, &reply, &rlen, err) < 0)
		return -1;
	rc = sshagent_parse_identities(reply, rlen, pks, max, prefer, err);
	free(reply);
	return rc;
}

int sshagent_list(const char *sock, uint8_t (*pks)[32], size_t max,
		  char err[KEYS_ERR_MAX])
{
	return list_keys(sock, pks, max, NULL, err);
}

/* Response 14: string signature blob = string "ssh-ed25519", string sig. */
int sshagent_parse_signature(const uint8_t *p, size_t n, uint8_t sig[64],
			     char err[KEYS_ERR_MAX])
{
	const uint8_t *blob, *t, *sg;
	uint32_t bl, tl, sl;
	uint8_t type;
	struct rd r, b;

	rd_init(&r, p, n);
	rd_u8(&r, &type);
	if (rd_ok(&r) && type == AGENT_FAILURE) {
		snprintf(err, KEYS_ERR_MAX, "ssh-agent refused to sign (key "
			 "not loaded, or confirmation denied)");
		return -1;
	}
	rd_string(&r, &blob, &bl, 1024);
	if (!rd_end(&r) || type != AGENT_SIGN_RESPONSE) {
		snprintf(err, KEYS_ERR_MAX, "ssh-agent: unexpected reply");
		return -1;
	}
	rd_init(&b, blob, bl);
	rd_string(&b, &t, &tl, 64);
	rd_string(&b, &sg, &sl, 64);
	if (!rd_end(&b) || tl != sizeof ed25519_name - 1 ||
	    memcmp(t, ed25519_name, tl) != 0 || sl != 64) {
		snprintf(err, KEYS_ERR_MAX, "ssh-agent: malformed signature");
		return -1;
	}
	memcpy(sig, sg, 64);
	return 0;
}

int sshagent_sign(const char *sock, const uint8_t pk[32], uint8_t sig[64],
		  const uint8_t *m, size_t n, char err[KEYS_ERR_MAX])
{
	uint8_t blob[KEYS_BLOB_LEN], *req, *reply;
	size_t cap = 1 + 4 + sizeof blob + 4 + n + 4, rlen;
	struct wr w;
	int rc;

	if (n > REPLY_MAX || !(req = malloc(cap))) {
		snprintf(err, KEYS_ERR_MAX, "ssh-agent: message too large");
		return -1;
	}
	keys_public_blob(pk, blob);
	wr_init(&w, req, cap);
	wr_u8(&w, AGENTC_SIGN_REQUEST);
	wr_string(&w, blob, sizeof blob);
	wr_string(&w, m, n);
	wr_be32(&w, 0); /* flags: none apply to ed25519 */
	rc = agent_call(sock, req, w.len, &reply, &rlen, err);
	free(req);
	if (rc < 0)
		return -1;
	rc = sshagent_parse_signature(reply, rlen, sig, err);
	free(reply);
	/* A confused or hostile agent must not yield a bad handshake. */
	if (rc == 0 && crypto_sign_verify_detached(sig, m, n, pk) != 0) {
		snprintf(err, KEYS_ERR_MAX,
			 "ssh-agent returned a signature that does not verify");
		rc = -1;
	}
	return rc;
}

struct agent_ctx {
	char sock[SOCK_MAX];
	uint8_t pk[32];
};

static int agent_sign_cb(void *ctx, uint8_t sig[64], const uint8_t *m,
			 size_t n)
{
	struct agent_ctx *a = ctx;
	char err[KEYS_ERR_MAX];

	if (sshagent_sign(a->sock, a->pk, sig, m, n, err) == 0)
		return 0;
	log_error("%s", err);
	return -1;
}

static int pick_key(const char *sock, const uint8_t *want_pk,
		    const char *user, uint8_t out[32], char err[KEYS_ERR_MAX])
{
	uint8_t (*pks)[32] = malloc(SSHAGENT_MAX_KEYS * 32);
	char fp[KEYS_FP_MAX];
	int n, i, rc = -1;

	if (!pks) {
		snprintf(err, KEYS_ERR_MAX, "out of memory");
		return -1;
	}
	n = list_keys(sock, pks, SSHAGENT_MAX_KEYS, user, err);
	for (i = 0; i < n && rc < 0; i++)
		if (!want_pk || memcmp(pks[i], want_pk, 32) == 0) {
			memcpy(out, pks[i], 32);
			rc = 0;
		}
	free(pks);
	if (rc < 0 && n >= 0) {
		if (want_pk) {
			keys_fingerprint(want_pk, fp);
			snprintf(err, KEYS_ERR_MAX,
				 "ssh-agent does not hold the key %s", fp);
		} else {
			snprintf(err, KEYS_ERR_MAX,
				 "ssh-agent holds no ed25519 key");
		}
	}
	return rc;
}

int sshagent_identity(struct secure_identity *id, const char *sock,
		      const uint8_t *want_pk, char err[KEYS_ERR_MAX])
{
	return sshagent_identity_for(id, sock, want_pk, NULL, err);
}

int sshagent_identity_for(struct secure_identity *id, const char *sock,
			  const uint8_t *want_pk, const char *user,
			  char err[KEYS_ERR_MAX])
{
	struct agent_ctx *a;

	memset(id, 0, sizeof *id);
	if (!(sock = agent_socket(sock, err)))
		return -1;
	a = calloc(1, sizeof *a);
	if (!a) {
		snprintf(err, KEYS_ERR_MAX, "out of memory");
		return -1;
	}
	strcpy(a->sock, sock);
	if (pick_key(a->sock, want_pk, user, a->pk, err) < 0) {
		free(a);
		return -1;
	}
	memcpy(id->pk, a->pk, 32);
	id->sign = agent_sign_cb;
	id->ctx = a;
	id->release = free;
	return 0;
}
