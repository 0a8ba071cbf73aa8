/*
 * Unit tests for the cmd module's configuration (handler/cmd/cmd_conf.c):
 * `command`, `describe`, `command-args`, the cmd limits, every error form,
 * the lookup and the -n summary. Parsed through the core, as handler does.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "cmd_conf.h"
#include "support_conf.h"

extern const struct protocol proto_cmd;

START_TEST(command_items)
{
	const struct conf_command *cmd;
	const struct cmd_conf *cc;
	struct conf c;

	ck_assert_int_eq(conft_parse(&c,
		"command uptime -- /usr/bin/uptime\n"
		"command grep perm=run time=5 output=1M args=3 payload=yes "
		"-- /bin/grep -n -e\n"
		"describe grep search the payload   for a pattern\n"
		"command-args grep PATTERN [FILE...]\n"
		"command up payload=2M -- /bin/true\n"
		"cmd-hide-forbidden yes\n"
		"limit requests 8\n"
		"limit args 10\n"
		"limit arglen 1k\n"
		"limit cmd-time 30\n"
		"limit cmd-output 2M\n"), 0);
	cc = conft_mconf(&c, &proto_cmd);
	ck_assert_uint_eq(cc->ncommands, 3);
	ck_assert_int_eq(cc->hide_forbidden, 1);
	cmd = cmd_conf_find(cc, "up");
	ck_assert_int_eq(cmd->payload, 1);
	ck_assert_uint_eq(cmd->payload_limit, 2 << 20);
	cmd = cmd_conf_find(cc, "uptime");
	ck_assert_ptr_nonnull(cmd);
	ck_assert_str_eq(cmd->perm, "uptime");
	ck_assert_uint_eq(cmd->argc, 1);
	ck_assert_str_eq(cmd->argv[0], "/usr/bin/uptime");
	ck_assert_ptr_null(cmd->argv[1]);
	ck_assert_uint_eq(cmd->max_args, 0);
	ck_assert_int_eq(cmd->payload, 0);
	ck_assert_uint_eq(cmd->time_limit_ms, 0);
	ck_assert_ptr_null(cmd->desc);
	cmd = cmd_conf_find(cc, "grep");
	ck_assert_str_eq(cmd->perm, "run");
	ck_assert_uint_eq(cmd->time_limit_ms, 5000);
	ck_assert_uint_eq(cmd->output_limit, 1 << 20);
	ck_assert_uint_eq(cmd->max_args, 3);
	ck_assert_int_eq(cmd->payload, 1);
	ck_assert_uint_eq(cmd->payload_limit, 0);
	ck_assert_uint_eq(cmd->argc, 3);
	ck_assert_str_eq(cmd->argv[2], "-e");
	ck_assert_str_eq(cmd->desc, "search the payload for a pattern");
	ck_assert_str_eq(cmd->args_desc, "PATTERN [FILE...]");
	ck_assert_ptr_null(cmd_conf_find(cc, "x"));
	ck_assert_uint_eq(cc->max_requests, 8);
	ck_assert_uint_eq(cc->max_args, 10);
	ck_assert_uint_eq(cc->max_arglen, 1024);
	ck_assert_uint_eq(cc->cmd_time_ms, 30000);
	ck_assert_uint_eq(cc->cmd_output, 2 << 20);
	conf_free(&c);
}
END_TEST

/* Without cmd lines (the embedded default, an empty file): the defaults. */
START_TEST(command_defaults)
{
	const struct cmd_conf *cc;
	struct conf c;
	char sum[64];

	ck_assert_int_eq(conf_load(&c, NULL), 0);
	cc = conft_mconf(&c, &proto_cmd);
	ck_assert_uint_eq(cc->ncommands, 0);
	ck_assert_uint_eq(cc->max_requests, 16);
	ck_assert_uint_eq(cc->max_args, 64);
	ck_assert_uint_eq(cc->max_arglen, 4096);
	ck_assert_uint_eq(cc->cmd_time_ms, 60000);
	ck_assert_uint_eq(cc->cmd_output, 16 << 20);
	conf_free(&c);
	ck_assert_int_eq(conft_parse(&c, ""), 0);
	cc = conft_mconf(&c, &proto_cmd);
	ck_assert_uint_eq(cc->cmd_output, 16 << 20);
	proto_cmd.conf->summary(cc, sum, sizeof sum);
	ck_assert_str_eq(sum, "0 commands");
	conf_free(&c);
	ck_assert_int_eq(conft_parse(&c, "command a -- /bin/true\n"
					 "command b -- /bin/false\n"), 0);
	proto_cmd.conf->summary(conft_mconf(&c, &proto_cmd), sum, sizeof sum);
	ck_assert_str_eq(sum, "2 commands");
	conf_free(&c);
}
END_TEST

START_TEST(command_errors)
{
	conft_bad("command x /bin/true y\n", 1, "unknown command option");
	conft_bad("command x perm=a\n", 1, "missing arguments");
	conft_bad("command x perm=a --\n", 1, "missing program");
	conft_bad("command x perm=a time=a\n", 1, "bad value");
	conft_bad("command x time=1 time=2 -- /bin/true\n", 1,
		  "duplicate command");
	conft_bad("command x payload=maybe -- /bin/true\n", 1, "bad value");
	conft_bad("command x args=99999 -- /bin/true\n", 1, "bad value");
	conft_bad("command x -- true\n", 1, "absolute path");
	conft_bad("command help -- /bin/true\n", 1, "builtin");
	conft_bad("command x -- /nonexistent/prog\n", 1,
		  "program /nonexistent/prog: No such file or directory");
	conft_bad("command x -- /etc/passwd\n", 1, "not an executable file");
	conft_bad("command x -- /bin/true\ncommand x -- /bin/false\n", 2,
		  "duplicate command");
	conft_bad("describe x hello\n", 1, "unknown command");
	conft_bad("command x -- /bin/true\ndescribe x a\ndescribe x b\n", 3,
		  "duplicate describe");
	conft_bad("command x -- /bin/true\ncommand-args x A\ncommand-args x B\n",
		  3, "duplicate command-args");
	conft_bad("limit cmd-time 86401\n", 1,
		  "limit cmd-time: bad value \"86401\" (1..86400 seconds)");
	conft_bad("limit cmd-output 1T\n", 1, "bad value");
	conft_bad("command x payload=0 -- /bin/true\n", 1, "bad value");
	conft_bad("command x payload=12Q -- /bin/true\n", 1, "bad value");
	conft_bad("cmd-hide-forbidden maybe\n", 1, "yes or no");
	conft_bad("cmd-hide-forbidden yes\ncmd-hide-forbidden no\n", 2,
		  "duplicate cmd-hide-forbidden");
}
END_TEST

static Suite *cmd_conf_suite(void)
{
	Suite *s = suite_create("cmd_conf");
	TCase *tc = tcase_create("items");

	tcase_add_checked_fixture(tc, conft_setup, NULL);
	tcase_add_test(tc, command_items);
	tcase_add_test(tc, command_defaults);
	tcase_add_test(tc, command_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return conft_run(cmd_conf_suite());
}
