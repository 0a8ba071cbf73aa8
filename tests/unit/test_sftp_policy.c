/*
 * The sftp root policy (handler/sftp/sftp_policy.c): which root a session
 * gets and whether it may write there. The narrower of the root's own flag
 * (sftp-root ro|rw, user-sftp-root [ro|rw], ROOT with or without -R) and
 * the user's permission (sftp:ro, sftp:rw) wins; without the secure layer
 * the root's flag alone decides. One loop case per combination.
 */
#include <check.h>
#include <string.h>

#include "exitcode.h"
#include "support_sftp.h"

enum root_kind { CLI, CLI_R, CONF_RO, CONF_RW, USER_RO, USER_RW, USER_DEF };

struct policy_case {
	enum root_kind root;
	const char *perm;  /* NULL: no secure layer */
	int writable;      /* -1: refused at start (EXIT_PERM) */
};

static const struct policy_case cases[] = {
	{ CONF_RO, "sftp:ro", 0 },  { CONF_RO, "sftp:rw", 0 },
	{ CONF_RW, "sftp:ro", 0 },  { CONF_RW, "sftp:rw", 1 },
	{ USER_RO, "sftp:ro", 0 },  { USER_RO, "sftp:rw", 0 },
	{ USER_RW, "sftp:ro", 0 },  { USER_RW, "sftp:rw", 1 },
	{ USER_DEF, "sftp:ro", 0 }, { USER_DEF, "sftp:rw", 1 },
	{ CLI, "sftp:ro", 0 },      { CLI, "sftp:rw", 1 },
	{ CLI_R, "sftp:ro", 0 },    { CLI_R, "sftp:rw", 0 },
	{ CONF_RW, "admin", -1 },   { CLI, "admin", -1 },
	{ CLI, NULL, 1 },           { CLI_R, NULL, 0 },
	{ CONF_RO, NULL, 0 },       { CONF_RW, NULL, 1 },
	/* A user-sftp-root is for secure-layer users only. */
	{ USER_RW, NULL, -2 },
};

static struct conf_user user;
static char *perm[1];
static struct sftp_user_root uroot;

static void set_user(const char *p)
{
	if (!p)
		return;
	memset(&user, 0, sizeof user);
	strcpy(user.name, "alice");
	perm[0] = (char *)p;
	user.perms = perm;
	user.nperms = 1;
	sftpt.s.user = &user;
}

static void set_user_root(int rw)
{
	memset(&uroot, 0, sizeof uroot);
	strcpy(uroot.user, "alice");
	uroot.root = sftpt.root;
	uroot.rw = rw;
	sftpt.conf.user_roots = &uroot;
	sftpt.conf.nuser_roots = 1;
	/* The default root is elsewhere: the user's own must win. */
	sftpt.conf.root = sftpt.outside;
	sftpt.conf.rw = 1;
}

/* Sets up the configuration; returns the module's arguments. */
static void set_root(enum root_kind k, const char **a1, const char **a2)
{
	*a1 = *a2 = NULL;
	switch (k) {
	case CLI:
		*a1 = sftpt.root;
		break;
	case CLI_R:
		*a1 = "-R";
		*a2 = sftpt.root;
		break;
	case CONF_RO:
	case CONF_RW:
		sftpt.conf.root = sftpt.root;
		sftpt.conf.rw = k == CONF_RW;
		break;
	case USER_RO:
	case USER_RW:
	case USER_DEF:
		set_user_root(k != USER_RO);
		break;
	}
}

START_TEST(root_flag_and_permission)
{
	const struct policy_case *c = &cases[_i];
	const char *a1, *a2;
	uint8_t h[SFTP_HANDLE_LEN];
	uint32_t st;

	set_root(c->root, &a1, &a2);
	set_user(c->perm);
	if (c->writable == -1) {
		ck_assert_int_eq(sftpt_start(a1, a2, NULL), EXIT_PERM);
		return;
	}
	sftpt_start_init(a1, a2, NULL);
	/* hello.txt is in the fixture's root, not in outside/. */
	if (c->writable == -2) {
		ck_assert_uint_eq(sftpt_open_file(1, "hello.txt", SSH_FXF_READ,
						  h), SSH_FX_NO_SUCH_FILE);
		return;
	}
	ck_assert_uint_eq(sftpt_open_file(1, "hello.txt", SSH_FXF_READ, h), 0);
	st = sftpt_open_file(2, "new", SSH_FXF_WRITE | SSH_FXF_CREAT, h);
	ck_assert_msg(st == (c->writable ? SSH_FX_OK
					 : SSH_FX_PERMISSION_DENIED),
		      "case %d: OPEN for writing answered %u", _i, st);
	ck_assert_int_eq(sftpt_exists_in(sftpt.root, "new"), c->writable);
	sftpt_req_path(SSH_FXP_MKDIR, 3, "d");
	ck_assert_uint_eq(sftpt_status_of(3),
			  c->writable ? SSH_FX_OK : SSH_FX_PERMISSION_DENIED);
}
END_TEST

static Suite *sftp_policy_suite(void)
{
	Suite *s = suite_create("sftp_policy");
	TCase *tc = sftpt_tcase("roots");

	tcase_add_loop_test(tc, root_flag_and_permission, 0,
			    (int)(sizeof cases / sizeof cases[0]));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return sftpt_run(sftp_policy_suite());
}
