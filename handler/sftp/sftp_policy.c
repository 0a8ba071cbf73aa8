/*
 * The sftp permission policy, all of it: at start, which root a session
 * gets and whether it may write there; then whether each request is
 * allowed (asked by the dispatcher, and by OPEN once its flags are read).
 */
#include "exitcode.h"
#include "log.h"
#include "sftp_priv.h"

/* A missing root is refused as a bad argument is (sftp_session.c). */
static int usage(const char *why)
{
	return sftp_usage(why);
}

/* The root and whether it is writable, from the arguments, the user and
 * the configuration. */
static int choose_root(struct sftp_state *st, struct sftp_args *a)
{
	const struct sftp_conf *c = st->s->mconf;
	const struct conf_user *u = st->s->user;
	const char *user_root = u ? sftp_conf_user_root(c, u->name) : NULL;
	int rw = 1;

	if (!a->root) {
		if (user_root)
			a->root = user_root;
		else if (c && c->root) {
			a->root = c->root;
			rw = c->rw;
		}
	}
	if (!a->root)
		return usage("no root: give ROOT or set sftp-root");
	if (u) {
		if (conf_user_has(u, "sftp:rw"))
			rw = 1;
		else if (conf_user_has(u, "sftp:ro"))
			rw = 0;
		else {
			log_error("sftp: user=%s lacks permission sftp:ro or "
				  "sftp:rw", u->name);
			return EXIT_PERM;
		}
	}
	st->readonly = a->readonly || !rw;
	return 0;
}

int sftp_policy_root(struct sftp_state *st, struct sftp_args *a)
{
	return choose_root(st, a);
}

/*
 * Requests that change nothing. Read-only mode refuses every other type,
 * so a request added to the dispatcher is refused there until listed here.
 */
static int only_reads(uint8_t type)
{
	switch (type) {
	case SSH_FXP_CLOSE:
	case SSH_FXP_READ:
	case SSH_FXP_LSTAT:
	case SSH_FXP_FSTAT:
	case SSH_FXP_OPENDIR:
	case SSH_FXP_READDIR:
	case SSH_FXP_REALPATH:
	case SSH_FXP_STAT:
	case SSH_FXP_READLINK:
		return 1;
	default:
		return 0;
	}
}

int sftp_permitted(const struct sftp_state *st, uint8_t type,
		   const uint8_t *ext, uint32_t extlen, uint32_t pflags)
{
	if (!st->readonly)
		return 1;
	if (type == SSH_FXP_OPEN)
		return !(pflags & (SSH_FXF_WRITE | SSH_FXF_CREAT |
				   SSH_FXF_TRUNC | SSH_FXF_APPEND));
	if (type == SSH_FXP_EXTENDED)
		return !sftp_ext_writes(ext, extlen);
	return only_reads(type);
}
