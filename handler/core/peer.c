/*
 * Who is on the other end, for the logs only (never for access control):
 * the superserver's environment when it sets one (tcpserver: PROTO,
 * TCPREMOTEIP, TCPREMOTEPORT), else getpeername() on fd 0 (inetd and
 * systemd sockets set nothing; xinetd's REMOTE_HOST has no port, so it is
 * only the last resort, as is REMOTE_ADDR). curvecpserver sets no
 * variables at all, so CURVECP* are read only if a wrapper exports them.
 */
#include "core.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

static const char *env_copy(char *dst, size_t size, const char *name)
{
	const char *v = getenv(name);

	if (!v || !*v)
		return NULL;
	snprintf(dst, size, "%s", v);
	return dst;
}

static void peer_from_socket(struct peer_info *p, struct peer_store *st,
			     int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	memset(&ss, 0, sizeof ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0) {
		if (!p->proto)
			p->proto = "pipe";
		return;
	}
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &in->sin_addr, st->ip, sizeof st->ip);
		snprintf(st->port, sizeof st->port, "%u", ntohs(in->sin_port));
		if (!p->proto)
			p->proto = "TCP";
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, st->ip, sizeof st->ip);
		snprintf(st->port, sizeof st->port, "%u",
			 ntohs(in6->sin6_port));
		if (!p->proto)
			p->proto = "TCP6";
	} else {
		if (!p->proto)
			p->proto = ss.ss_family == AF_UNIX ? "unix" : "socket";
		return;
	}
	p->remote_ip = st->ip;
	p->remote_port = st->port;
}

void peer_init(struct peer_info *p, struct peer_store *st, int fd)
{
	int v6;

	memset(p, 0, sizeof *p);
	memset(st, 0, sizeof *st);
	p->proto = env_copy(st->proto, sizeof st->proto, "PROTO");
	v6 = p->proto && strcmp(p->proto, "TCP6") == 0;
	p->remote_ip = env_copy(st->ip, sizeof st->ip,
				v6 ? "TCP6REMOTEIP" : "TCPREMOTEIP");
	p->remote_port = env_copy(st->port, sizeof st->port,
				  v6 ? "TCP6REMOTEPORT" : "TCPREMOTEPORT");
	p->remote_pk = env_copy(st->pk, sizeof st->pk,
				"CURVECPCLIENTPUBLICKEY");
	/* The socket itself has the port, which xinetd's REMOTE_HOST lacks. */
	if (!p->remote_ip)
		peer_from_socket(p, st, fd);
	if (!p->remote_ip)
		p->remote_ip = env_copy(st->ip, sizeof st->ip, "REMOTE_ADDR");
	if (!p->remote_ip)
		p->remote_ip = env_copy(st->ip, sizeof st->ip, "REMOTE_HOST");
	if (!p->proto)
		p->proto = p->remote_ip ? "TCP" : "pipe";
}

void peer_format(const struct peer_info *p, char *dst, size_t size)
{
	if (p->remote_ip && p->remote_port)
		snprintf(dst, size, "%s%s%s:%s", strchr(p->remote_ip, ':') ?
			 "[" : "", p->remote_ip,
			 strchr(p->remote_ip, ':') ? "]" : "", p->remote_port);
	else if (p->remote_ip)
		snprintf(dst, size, "%s", p->remote_ip);
	else if (p->remote_pk)
		snprintf(dst, size, "curvecp:%s", p->remote_pk);
	else
		snprintf(dst, size, "-");
}
