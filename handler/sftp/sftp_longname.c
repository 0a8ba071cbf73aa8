/*
 * READDIR long names in the layout OpenSSH's sftp-server uses (`ls -l`):
 * some clients (older sftp, lftp, rclone) parse them instead of the
 * attributes.
 */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sftp_priv.h"

static char mode_type(mode_t m)
{
	if (S_ISDIR(m))
		return 'd';
	if (S_ISLNK(m))
		return 'l';
	if (S_ISREG(m))
		return '-';
	if (S_ISCHR(m))
		return 'c';
	if (S_ISBLK(m))
		return 'b';
	if (S_ISFIFO(m))
		return 'p';
	if (S_ISSOCK(m))
		return 's';
	return '?';
}

/* "drwxr-xr-x " : ten characters and the blank where BSD puts an ACL mark. */
static void mode_string(mode_t m, char out[12])
{
	out[0] = mode_type(m);
	out[1] = (m & S_IRUSR) ? 'r' : '-';
	out[2] = (m & S_IWUSR) ? 'w' : '-';
	out[3] = (m & S_ISUID) ? ((m & S_IXUSR) ? 's' : 'S')
			       : ((m & S_IXUSR) ? 'x' : '-');
	out[4] = (m & S_IRGRP) ? 'r' : '-';
	out[5] = (m & S_IWGRP) ? 'w' : '-';
	out[6] = (m & S_ISGID) ? ((m & S_IXGRP) ? 's' : 'S')
			       : ((m & S_IXGRP) ? 'x' : '-');
	out[7] = (m & S_IROTH) ? 'r' : '-';
	out[8] = (m & S_IWOTH) ? 'w' : '-';
	out[9] = (m & S_ISVTX) ? ((m & S_IXOTH) ? 't' : 'T')
			       : ((m & S_IXOTH) ? 'x' : '-');
	out[10] = ' ';
	out[11] = 0;
}

static const char *user_name(struct sftp_idcache *c, uid_t uid)
{
	struct passwd *pw;

	if (c->have_uid && c->uid == uid)
		return c->user;
	pw = getpwuid(uid);
	if (pw && strlen(pw->pw_name) < sizeof c->user)
		snprintf(c->user, sizeof c->user, "%s", pw->pw_name);
	else
		snprintf(c->user, sizeof c->user, "%u", (unsigned)uid);
	c->uid = uid;
	c->have_uid = 1;
	return c->user;
}

static const char *group_name(struct sftp_idcache *c, gid_t gid)
{
	struct group *gr;

	if (c->have_gid && c->gid == gid)
		return c->group;
	gr = getgrgid(gid);
	if (gr && strlen(gr->gr_name) < sizeof c->group)
		snprintf(c->group, sizeof c->group, "%s", gr->gr_name);
	else
		snprintf(c->group, sizeof c->group, "%u", (unsigned)gid);
	c->gid = gid;
	c->have_gid = 1;
	return c->group;
}

/*
 * Looks up the session's own owner and group once at start. glibc loads
 * its NSS configuration on the first getpwuid()/getgrgid(), and a malloc
 * failing in that first load crashes it (an assertion in
 * nss_database_reload_1, or a NULL dereference): done here, that load
 * falls at start with the session's other allocations, and a READDIR
 * under a shortage later finds the names cached or falls back to numbers
 * (tests/shell/fault_memory.sh).
 */
void sftp_longname_prime(struct sftp_idcache *c)
{
	(void)user_name(c, geteuid());
	(void)group_name(c, getegid());
}

void sftp_longname(struct sftp_idcache *c, char *dst, size_t dstsize,
		   const char *name, const struct stat *sb, time_t now)
{
	char mode[12], when[32];
	const char *user = user_name(c, sb->st_uid);
	char userbuf[34];
	const char *group;
	struct tm tm;
	size_t n = 0;
	int ulen, glen;

	/* getgrgid may reuse getpwuid's storage on some libcs: copy. */
	snprintf(userbuf, sizeof userbuf, "%s", user);
	group = group_name(c, sb->st_gid);
	mode_string(sb->st_mode, mode);
	if (localtime_r(&sb->st_mtime, &tm)) {
		/* Six months, as ls(1): recent files show the time. */
		if (now - 365 * 24 * 60 * 60 / 2 < sb->st_mtime &&
		    now >= sb->st_mtime)
			n = strftime(when, sizeof when, "%b %e %H:%M", &tm);
		else
			n = strftime(when, sizeof when, "%b %e  %Y", &tm);
	}
	if (n == 0)
		when[0] = 0;
	ulen = (int)strlen(userbuf);
	glen = (int)strlen(group);
	snprintf(dst, dstsize, "%s %3u %-*s %-*s %8llu %s %s", mode,
		 (unsigned)sb->st_nlink, ulen < 8 ? 8 : ulen, userbuf,
		 glen < 8 ? 8 : glen, group, (unsigned long long)sb->st_size,
		 when, name);
}
