/*
 * The child subreaper's strays (lib/reap.c): a grandchild that left its
 * command's group with setsid() comes to us when its parent exits and is
 * killed; an orphan still in a kept command's group, and the children of
 * a running kept command, are left alone.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "proc.h"
#include "reap.h"

/* Spawns sh -c script in a session of its own; the first line it prints
 * (a pid) is returned. */
static pid_t spawn_pid(struct proc *p, const char *script)
{
	char *argv[] = { "/bin/sh", "-c", (char *)script, NULL };
	struct proc_fdmap map[] = { { 1, -1 } };
	char line[32];
	size_t n = 0;
	int out[2];

	ck_assert_int_eq(pipe(out), 0);
	map[0].parent_fd = out[1];
	ck_assert_int_eq(proc_spawn_session(p, argv, NULL, map, 1), 0);
	close(out[1]);
	while (n < sizeof line - 1 && read(out[0], line + n, 1) == 1 &&
	       line[n] != '\n')
		n++;
	close(out[0]);
	line[n] = 0;
	ck_assert_uint_gt(n, 0);
	return (pid_t)atoi(line);
}

static int alive(pid_t pid)
{
	return kill(pid, 0) == 0;
}

START_TEST(setsid_orphan_killed)
{
	struct proc p;
	pid_t leader, orphan;

	ck_assert_int_eq(reap_subreaper(), 0);
	/* The orphan prints its pid itself, after setsid(): the line read
	 * means it has left the group. */
	orphan = spawn_pid(&p, "setsid sh -c 'echo $$; exec sleep 300 "
			       ">/dev/null 2>&1' </dev/null & exit 0");
	leader = p.pid;
	/* The leader has exited: its child is ours now. */
	ck_assert_int_eq(proc_reap(&p, 1), 1);
	ck_assert(alive(orphan));
	ck_assert_uint_ge(reap_strays(&leader, 1), 1);
	ck_assert(!alive(orphan));
	ck_assert_int_eq(errno, ESRCH);
	proc_release(&p);
}
END_TEST

START_TEST(orphan_in_a_kept_group_kept)
{
	struct proc p;
	pid_t leader, orphan;

	ck_assert_int_eq(reap_subreaper(), 0);
	orphan = spawn_pid(&p, "sleep 300 >/dev/null 2>&1 </dev/null & "
			       "echo $!");
	leader = p.pid;
	ck_assert_int_eq(proc_reap(&p, 1), 1);
	ck_assert_uint_eq(reap_strays(&leader, 1), 0);
	ck_assert(alive(orphan));
	/* Its request over: nothing is kept. */
	ck_assert_uint_ge(reap_strays(NULL, 0), 1);
	ck_assert(!alive(orphan));
	proc_release(&p);
}
END_TEST

START_TEST(running_command_children_kept)
{
	struct proc p;
	pid_t leader, child;

	ck_assert_int_eq(reap_subreaper(), 0);
	child = spawn_pid(&p, "setsid sleep 300 >/dev/null 2>&1 </dev/null & "
			      "echo $!; wait");
	leader = p.pid;
	ck_assert_uint_eq(reap_strays(&leader, 1), 0);
	ck_assert(alive(child));
	ck_assert(alive(leader));
	/* Nothing kept: the command and its child go (and are reaped). */
	ck_assert_uint_ge(reap_strays(NULL, 0), 2);
	ck_assert(!alive(child));
	ck_assert(!alive(leader));
	p.pid = 0;
	proc_release(&p);
}
END_TEST

static Suite *reap_suite(void)
{
	Suite *s = suite_create("reap");
	TCase *tc = tcase_create("strays");

	tcase_add_test(tc, setsid_orphan_killed);
	tcase_add_test(tc, orphan_in_a_kept_group_kept);
	tcase_add_test(tc, running_command_children_kept);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(reap_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
