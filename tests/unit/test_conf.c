/* Unit tests for handler/core/conf.c: every item, every error form, lookups. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <sodium.h>

#include "conf.h"
#include "keys.h"
#include "log.h"

static uint8_t pk_a[32], pk_b[32];
static char line_a[KEYS_PUBLINE_MAX], line_b[KEYS_PUBLINE_MAX];

static void keys_setup(void)
{
	uint8_t sk[64];

	ck_assert_int_ge(sodium_init(), 0);
	log_set_level(LOG_FATAL);
	crypto_sign_keypair(pk_a, sk);
	crypto_sign_keypair(pk_b, sk);
	sodium_memzero(sk, sizeof sk);
	ck_assert_int_eq(keys_format_public(pk_a, "alice@host", line_a,
					    sizeof line_a), 0);
	ck_assert_int_eq(keys_format_public(pk_b, "", line_b, sizeof line_b),
			 0);
}

static int parse(struct conf *c, const char *text)
{
	return conf_parse(c, "t.conf", text, strlen(text));
}

/* Parses text that must fail with "t.conf:LINE: ...WHAT...". */
static void bad(const char *text, unsigned line, const char *what)
{
	struct conf c;
	char prefix[32];

	ck_assert_msg(parse(&c, text) == -1, "accepted: %s", text);
	snprintf(prefix, sizeof prefix, "t.conf:%u: ", line);
	ck_assert_msg(strncmp(c.error, prefix, strlen(prefix)) == 0,
		      "error \"%s\" lacks \"%s\"", c.error, prefix);
	ck_assert_msg(strstr(c.error, what) != NULL,
		      "error \"%s\" lacks \"%s\"", c.error, what);
	ck_assert_ptr_null(c.users);
	ck_assert_ptr_null(c.commands);
	ck_assert_ptr_null(c.exports);
}

START_TEST(all_items)
{
	struct conf c;
	char text[4096];
	const struct conf_command *cmd;

	snprintf(text, sizeof text,
		 "# a comment\n"
		 "\n"
		 "   \t# indented comment\n"
		 "server-key /etc/handler/server_key\n"
		 "user alice admin,sftp:rw,run %s\n"
		 "user bob - \"%s\"\n"
		 "user-sftp-root alice /srv/alice\n"
		 "command uptime -- /usr/bin/uptime\n"
		 "command grep perm=run time=5 output=1M args=3 payload=yes "
		 "-- /bin/grep -n -e\n"
		 "describe grep search the payload   for a pattern\n"
		 "command-args grep PATTERN [FILE...]\n"
		 "sftp-root /srv/files rw\n"
		 "nbd-export disk /var/lib/images/disk.img rw a test  disk\n"
		 "nbd-export iso /srv/debian.iso ro\n"
		 "limit idle 60\n"
		 "limit handshake 5\n"
		 "limit frame 128K\n"
		 "limit requests 8\n"
		 "limit args 10\n"
		 "limit arglen 1k\n"
		 "limit cmd-time 30\n"
		 "limit cmd-output 2M\n"
		 "limit sftp-handles 32\n"
		 "require-secure sftp cmd\r\n",
		 line_a, line_b);
	ck_assert_msg(parse(&c, text) == 0, "%s", c.error);
	ck_assert_str_eq(c.error, "");
	ck_assert_str_eq(c.path, "t.conf");
	ck_assert_str_eq(c.server_key, "/etc/handler/server_key");
	ck_assert_uint_eq(c.nusers, 2);
	ck_assert_str_eq(c.users[0].name, "alice");
	ck_assert_mem_eq(c.users[0].pk, pk_a, 32);
	ck_assert_uint_eq(c.users[0].nperms, 3);
	ck_assert_str_eq(c.users[0].perms[1], "sftp:rw");
	ck_assert_str_eq(c.users[0].sftp_root, "/srv/alice");
	ck_assert_str_eq(c.users[1].name, "bob");
	ck_assert_mem_eq(c.users[1].pk, pk_b, 32);
	ck_assert_uint_eq(c.users[1].nperms, 0);
	ck_assert_ptr_null(c.users[1].sftp_root);
	ck_assert_uint_eq(c.ncommands, 2);
	cmd = conf_command_find(&c, "uptime");
	ck_assert_ptr_nonnull(cmd);
	ck_assert_str_eq(cmd->perm, "uptime");
	ck_assert_uint_eq(cmd->argc, 1);
	ck_assert_str_eq(cmd->argv[0], "/usr/bin/uptime");
	ck_assert_ptr_null(cmd->argv[1]);
	ck_assert_uint_eq(cmd->max_args, 0);
	ck_assert_int_eq(cmd->payload, 0);
	ck_assert_uint_eq(cmd->time_limit_ms, 0);
	ck_assert_ptr_null(cmd->desc);
	cmd = conf_command_find(&c, "grep");
	ck_assert_str_eq(cmd->perm, "run");
	ck_assert_uint_eq(cmd->time_limit_ms, 5000);
	ck_assert_uint_eq(cmd->output_limit, 1 << 20);
	ck_assert_uint_eq(cmd->max_args, 3);
	ck_assert_int_eq(cmd->payload, 1);
	ck_assert_uint_eq(cmd->argc, 3);
	ck_assert_str_eq(cmd->argv[2], "-e");
	ck_assert_str_eq(cmd->desc, "search the payload for a pattern");
	ck_assert_str_eq(cmd->args_desc, "PATTERN [FILE...]");
	ck_assert_uint_eq(c.nexports, 2);
	ck_assert_ptr_eq(conf_export_find(&c, "iso"), &c.exports[1]);
	ck_assert_ptr_null(conf_export_find(&c, "nope"));
	ck_assert_str_eq(c.exports[0].file, "/var/lib/images/disk.img");
	ck_assert_int_eq(c.exports[0].rw, 1);
	ck_assert_str_eq(c.exports[0].desc, "a test disk");
	ck_assert_int_eq(c.exports[1].rw, 0);
	ck_assert_ptr_null(c.exports[1].desc);
	ck_assert_str_eq(c.sftp_root, "/srv/files");
	ck_assert_int_eq(c.sftp_rw, 1);
	ck_assert_uint_eq(c.limits.idle_ms, 60000);
	ck_assert_uint_eq(c.limits.handshake_ms, 5000);
	ck_assert_uint_eq(c.limits.max_frame, 128 * 1024);
	ck_assert_uint_eq(c.limits.max_requests, 8);
	ck_assert_uint_eq(c.limits.max_args, 10);
	ck_assert_uint_eq(c.limits.max_arglen, 1024);
	ck_assert_uint_eq(c.limits.cmd_time_ms, 30000);
	ck_assert_uint_eq(c.limits.cmd_output, 2 << 20);
	ck_assert_uint_eq(c.limits.sftp_handles, 32);
	ck_assert_int_eq(conf_requires_secure(&c, "sftp"), 1);
	ck_assert_int_eq(conf_requires_secure(&c, "cmd"), 1);
	ck_assert_int_eq(conf_requires_secure(&c, "nbd"), 0);
	conf_free(&c);
	ck_assert_ptr_null(c.users);
}
END_TEST

START_TEST(quotes)
{
	struct conf c;

	ck_assert_int_eq(parse(&c, "command x -- /bin/echo \"a b\" "
				   "\"q\\\"t\" \"\" a\"b c\"d # comment\n"
				   "describe x \"two  spaces\" #x\n"),
			 0);
	ck_assert_uint_eq(c.commands[0].argc, 5);
	ck_assert_str_eq(c.commands[0].argv[1], "a b");
	ck_assert_str_eq(c.commands[0].argv[2], "q\"t");
	ck_assert_str_eq(c.commands[0].argv[3], "");
	ck_assert_str_eq(c.commands[0].argv[4], "ab cd");
	ck_assert_str_eq(c.commands[0].desc, "two  spaces");
	conf_free(&c);
	/* '#' inside a word is not a comment. */
	ck_assert_int_eq(parse(&c, "command y -- /bin/echo a#b\n"), 0);
	ck_assert_str_eq(c.commands[0].argv[1], "a#b");
	conf_free(&c);
}
END_TEST

START_TEST(defaults)
{
	struct conf c;

	ck_assert_int_eq(conf_load(&c, NULL), 0);
	ck_assert_str_eq(c.path, "(embedded default)");
	ck_assert_uint_eq(c.nusers, 0);
	ck_assert_uint_eq(c.ncommands, 0);
	ck_assert_ptr_null(c.sftp_root);
	ck_assert_int_eq(c.sftp_rw, 0);
	ck_assert_ptr_null(c.server_key);
	ck_assert_uint_eq(c.limits.idle_ms, 300000);
	ck_assert_uint_eq(c.limits.handshake_ms, 10000);
	ck_assert_uint_eq(c.limits.max_frame, 65536);
	ck_assert_int_eq(conf_requires_secure(&c, "cmd"), 1);
	conf_free(&c);
	/* An empty file gets the same limits (defaults live in one table). */
	ck_assert_int_eq(parse(&c, ""), 0);
	ck_assert_uint_eq(c.limits.idle_ms, 300000);
	ck_assert_uint_eq(c.limits.cmd_output, 16 << 20);
	ck_assert_uint_eq(c.limits.sftp_handles, 64);
	conf_free(&c);
}
END_TEST

START_TEST(lookups)
{
	struct conf c;
	char text[2048];
	uint8_t other[32] = { 1 };

	snprintf(text, sizeof text, "user alice a,b %s\nuser bob c %s\n",
		 line_a, line_b);
	ck_assert_int_eq(parse(&c, text), 0);
	ck_assert_ptr_eq(conf_user_find(&c, "bob"), &c.users[1]);
	ck_assert_ptr_null(conf_user_find(&c, "carol"));
	ck_assert_ptr_eq(conf_user_by_key(&c, pk_a), &c.users[0]);
	ck_assert_ptr_null(conf_user_by_key(&c, other));
	ck_assert_int_eq(conf_user_has(&c.users[0], "b"), 1);
	ck_assert_int_eq(conf_user_has(&c.users[0], "c"), 0);
	ck_assert_int_eq(conf_user_has(NULL, "a"), 0);
	ck_assert_ptr_null(conf_command_find(&c, "x"));
	conf_free(&c);
}
END_TEST

START_TEST(keys_agree)
{
	char fp1[64], fp2[KEYS_FP_MAX];
	uint8_t pk[32];
	const char *why;

	conf_key_fingerprint(pk_a, fp1, sizeof fp1);
	keys_fingerprint(pk_a, fp2);
	ck_assert_str_eq(fp1, fp2);
	ck_assert_int_eq(conf_parse_pubkey(line_a, pk, &why), 0);
	ck_assert_mem_eq(pk, pk_a, 32);
	ck_assert_int_eq(conf_parse_pubkey("ssh-rsa AAAA", pk, &why), -1);
	ck_assert_int_eq(conf_parse_pubkey("ssh-ed25519 !!!!", pk, &why), -1);
	/* A valid base64 blob of the wrong type. */
	ck_assert_int_eq(conf_parse_pubkey("ssh-ed25519 AAAAB3NzaC1yc2EAAAA"
					   "DAQABAAAAgQ==", pk, &why), -1);
}
END_TEST

START_TEST(errors)
{
	char text[2048], big[CONF_LINE_MAX + 64];

	bad("frobnicate 1\n", 1, "unknown keyword");
	bad("\n# c\nlimit idle 1x\n", 3, "bad value");
	bad("limit idle 0\n", 1, "bad value");
	bad("limit idle 99999999999999999999999\n", 1, "bad value");
	bad("limit frame 17M\n", 1, "bad value");
	bad("limit idle -1\n", 1, "bad value");
	bad("limit nosuch 1\n", 1, "unknown limit");
	bad("limit idle 5\nlimit idle 6\n", 2, "duplicate limit");
	bad("limit idle\n", 1, "missing arguments");
	bad("limit idle 1 2\n", 1, "too many arguments");
	bad("server-key\n", 1, "missing arguments");
	bad("server-key /a\nserver-key /b\n", 2, "duplicate server-key");
	bad("user alice - ssh-ed25519 AAAA!!\n", 1, "bad base64");
	bad("user alice - ssh-rsa AAAAB3NzaC1yc2E\n", 1, "ssh-ed25519");
	bad("user alice -\n", 1, "missing arguments");
	bad("user alice - ssh-ed25519\n", 1, "missing base64 key");
	snprintf(text, sizeof text, "user al/ice - %s\n", line_a);
	bad(text, 1, "bad user name");
	snprintf(text, sizeof text, "user alice a,,b %s\n", line_a);
	bad(text, 1, "permission list");
	snprintf(text, sizeof text, "user alice a,b! %s\n", line_a);
	bad(text, 1, "bad permission name");
	snprintf(text, sizeof text, "user alice - %s\nuser alice - %s\n",
		 line_a, line_b);
	bad(text, 2, "duplicate user");
	bad("user-sftp-root nobody /x\n", 1, "unknown user");
	snprintf(text, sizeof text, "user alice - %s\nuser-sftp-root alice x\n",
		 line_a);
	bad(text, 2, "absolute path");
	bad("command x /bin/true y\n", 1, "unknown command option");
	bad("command x perm=a\n", 1, "missing arguments");
	bad("command x perm=a --\n", 1, "missing program");
	bad("command x perm=a time=a\n", 1, "bad value");
	bad("command x time=1 time=2 -- /bin/true\n", 1, "duplicate command");
	bad("command x payload=maybe -- /bin/true\n", 1, "bad value");
	bad("command x args=99999 -- /bin/true\n", 1, "bad value");
	bad("command x -- true\n", 1, "absolute path");
	bad("command help -- /bin/true\n", 1, "builtin");
	bad("command x -- /bin/a\ncommand x -- /bin/b\n", 2,
	    "duplicate command");
	bad("describe x hello\n", 1, "unknown command");
	bad("command x -- /bin/a\ndescribe x a\ndescribe x b\n", 3,
	    "duplicate describe");
	bad("command x -- /bin/a\ncommand-args x A\ncommand-args x B\n", 3,
	    "duplicate command-args");
	bad("sftp-root /srv maybe\n", 1, "ro or rw");
	bad("sftp-root srv ro\n", 1, "absolute path");
	bad("sftp-root /a ro\nsftp-root /b ro\n", 2, "duplicate sftp-root");
	bad("nbd-export d /x maybe\n", 1, "ro or rw");
	bad("nbd-export d x ro\n", 1, "absolute path");
	bad("nbd-export d /x\n", 1, "missing arguments");
	bad("nbd-export d /x ro\nnbd-export d /y rw\n", 2,
	    "duplicate nbd-export");
	bad("nbd-export -d /x ro\n", 1, "bad export name");
	bad("command x -- /bin/echo \"open\n", 1, "unterminated quote");
	bad("limit idle 5\001\n", 1, "control character");
	bad("require-secure a/b\n", 1, "bad protocol name");
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = 0;
	memcpy(big, "# ", 2);
	bad(big, 1, "line too long");
	{
		struct conf c;
		static const char nul[] = "limit idle 5\nlim\0it\n";

		ck_assert_int_eq(conf_parse(&c, "t.conf", nul, sizeof nul - 1),
				 -1);
		ck_assert_str_eq(c.error, "t.conf:2: NUL byte");
	}
}
END_TEST

START_TEST(first_error_kept)
{
	struct conf c;

	ck_assert_int_eq(parse(&c, "limit idle 1\nbogus\nlimit idle 2\n"), -1);
	ck_assert_str_eq(c.error, "t.conf:2: unknown keyword \"bogus\"");
}
END_TEST

START_TEST(load_file)
{
	char path[] = "/tmp/test_conf.XXXXXX";
	struct conf c;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "limit idle 7\nbad line\n", 22), 22);
	close(fd);
	ck_assert_int_eq(conf_load(&c, path), -1);
	ck_assert_msg(strstr(c.error, ":2: unknown keyword") != NULL, "%s",
		      c.error);
	fd = open(path, O_WRONLY | O_TRUNC);
	ck_assert_int_eq(write(fd, "limit idle 7\n", 13), 13);
	close(fd);
	ck_assert_int_eq(conf_load(&c, path), 0);
	ck_assert_uint_eq(c.limits.idle_ms, 7000);
	ck_assert_str_eq(c.path, path);
	conf_free(&c);
	unlink(path);
	ck_assert_int_eq(conf_load(&c, path), -1);
	ck_assert_msg(strstr(c.error, "cannot open") != NULL, "%s", c.error);
}
END_TEST

static Suite *conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *core = tcase_create("core");
	TCase *errs = tcase_create("errors");

	tcase_add_checked_fixture(core, keys_setup, NULL);
	tcase_add_checked_fixture(errs, keys_setup, NULL);
	tcase_add_test(core, all_items);
	tcase_add_test(core, quotes);
	tcase_add_test(core, defaults);
	tcase_add_test(core, lookups);
	tcase_add_test(core, keys_agree);
	tcase_add_test(errs, errors);
	tcase_add_test(errs, first_error_kept);
	tcase_add_test(errs, load_file);
	suite_add_tcase(s, core);
	suite_add_tcase(s, errs);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(conf_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
