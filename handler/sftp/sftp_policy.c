/*
 * The sftp permission policy, all of it: at start, which root a session
 * gets and whether it may write there; then whether each request is
 * allowed (asked by the dispatcher, and by OPEN once its flags are read).
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "exitcode.h"
#include "log.h"
#include "sftp_priv.h"

/*
 * The root and its own flag: ROOT on the command line is writable unless
 * -R; else the user's user-sftp-root with its flag (rw by default); else
 * sftp-root with its ro|rw.
 */
static const char *pick_root(const struct sftp_conf *c,
			     const struct conf_user *u,
			     const struct sftp_args *a, int *rw)
{
	const struct sftp_user_root *ur =
		u ? sftp_conf_user_find(c, u->name) : NULL;

	*rw = !a->readonly;
	if (a->root)
		return a->root;
	if (ur) {
		*rw = *rw && ur->rw;
		return ur->root;
	}
	if (c && c->root) {
		*rw = *rw && c->rw;
		return c->root;
	}
	return NULL;
}

/*
 * The user's permission: 1 sftp:rw, 0 sftp:ro, -1 neither (refused).
 * Without the secure layer there is no user and nothing to narrow: 1.
 */
static int user_rw(const struct conf_user *u)
{
	if (!u)
		return 1;
	if (conf_user_has(u, "sftp:rw"))
		return 1;
	if (conf_user_has(u, "sftp:ro"))
		return 0;
	return -1;
}

/*
 * Which root, and whether it is writable: the narrower of the root's flag
 * and the user's permission wins (docs/sftp.md, "Where the root comes
 * from"). A read-only root stays read-only for an sftp:rw user.
 */
static int choose_root(struct sftp_state *st, struct sftp_args *a)
{
	const struct conf_user *u = st->s->user;
	int root_rw, perm;

	a->root = pick_root(st->s->mconf, u, a, &root_rw);
	if (!a->root) {
		/* The client is told too: the usual cause is a conf that
		 * lacks sftp-root, which only the admin can fix. */
		session_refuse(st->s, "sftp: no root directory: the server's "
			       "command line gives none and its conf has no "
			       "sftp-root");
		return EXIT_PERM;
	}
	if ((perm = user_rw(u)) < 0) {
		session_refuse(st->s, "sftp: user %s lacks permission sftp:ro "
			       "or sftp:rw", u->name);
		return EXIT_PERM;
	}
	st->readonly = !(root_rw && perm);
	return 0;
}

int sftp_policy_root(struct sftp_state *st, struct sftp_args *a)
{
	const struct sftp_conf *c = st->s->mconf;

	st->allow_setid = c && c->allow_setid;
	st->allow_chown = c && c->allow_chown;
	return choose_root(st, a);
}

mode_t sftp_policy_mode(const struct sftp_state *st, uint32_t perm)
{
	return (mode_t)(perm & (st->allow_setid ? 07777u : 01777u));
}

int sftp_policy_owner(const struct sftp_state *st, int fd,
		      const struct sftp_attrs *a)
{
	struct stat sb;

	if (!(a->flags & SSH_FILEXFER_ATTR_UIDGID) || st->allow_chown)
		return 1;
	if (fstat(fd, &sb) < 0)
		return -1;
	/* Setting the owner it already has changes nothing: allowed, so
	 * clients that copy every attribute keep working. */
	return sb.st_uid == (uid_t)a->uid && sb.st_gid == (gid_t)a->gid;
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

/*
 * What OPEN may open: regular files, and the memory character devices a
 * read or write of which is harmless and never blocks (null, zero, full,
 * random, urandom: major 1), so that reading /dev/zero through a link in
 * a root that holds /dev works as with OpenSSH's server. FIFOs, sockets,
 * block devices, other character devices (ttys, tapes, watchdogs,
 * /dev/mem) and directories are refused without ever being opened.
 */
int sftp_policy_openable(const struct stat *sb)
{
	if (S_ISREG(sb->st_mode))
		return 1;
	if (!S_ISCHR(sb->st_mode) || major(sb->st_rdev) != 1)
		return 0;
	switch (minor(sb->st_rdev)) {
	case 3: /* null */
	case 5: /* zero */
	case 7: /* full */
	case 8: /* random */
	case 9: /* urandom */
		return 1;
	default:
		return 0;
	}
}
