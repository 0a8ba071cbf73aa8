/*
 * Unit tests for the configuration core (handler/core/conf*.c): the
 * tokenizer, every core item and error form, dispatch to the modules'
 * items and limits, lookups. The modules' own items are tested with the
 * modules (test_cmd_conf.c, test_sftp_conf.c).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "cmd_conf.h"
#include "support_conf.h"

extern const struct protocol proto_cmd;

START_TEST(all_items)
{
	struct conf c;
	char text[4096];

	snprintf(text, sizeof text,
		 "# a comment\n"
		 "\n"
		 "   \t# indented comment\n"
		 "server-key /etc/handler/server_key\n"
		 "user alice admin,sftp:rw,run %s\n"
		 "user bob - \"%s\"\n"
		 "user-sftp-root alice /srv/alice\n"
		 "command uptime -- /usr/bin/uptime\n"
		 "sftp-root /srv/files rw\n"
		 "limit idle 60\n"
		 "limit handshake 5\n"
		 "limit frame 128K\n"
		 "limit requests 8\n"
		 "limit sftp-handles 32\n"
		 "require-secure sftp cmd\r\n",
		 conft_line_a, conft_line_b);
	ck_assert_msg(conft_parse(&c, text) == 0, "%s", c.error);
	ck_assert_str_eq(c.error, "");
	ck_assert_str_eq(c.path, "t.conf");
	ck_assert_str_eq(c.server_key, "/etc/handler/server_key");
	ck_assert_uint_eq(c.nusers, 2);
	ck_assert_str_eq(c.users[0].name, "alice");
	ck_assert_mem_eq(c.users[0].pk, conft_pk_a, 32);
	ck_assert_uint_eq(c.users[0].nperms, 3);
	ck_assert_str_eq(c.users[0].perms[1], "sftp:rw");
	ck_assert_str_eq(c.users[1].name, "bob");
	ck_assert_mem_eq(c.users[1].pk, conft_pk_b, 32);
	ck_assert_uint_eq(c.users[1].nperms, 0);
	ck_assert_uint_eq(c.limits.idle_ms, 60000);
	ck_assert_uint_eq(c.limits.handshake_ms, 5000);
	ck_assert_uint_eq(c.limits.max_frame, 128 * 1024);
	ck_assert_int_eq(conf_requires_secure(&c, "sftp"), 1);
	ck_assert_int_eq(conf_requires_secure(&c, "cmd"), 1);
	ck_assert_int_eq(conf_requires_secure(&c, "nbd"), 0);
	/* Every module got its own conf, whatever protocol runs. */
	for (size_t i = 0; protocols[i]; i++)
		if (protocols[i]->conf)
			conft_mconf(&c, protocols[i]);
	conf_free(&c);
	ck_assert_ptr_null(c.users);
	ck_assert_ptr_null(c.mconf);
}
END_TEST

/* The tokenizer, seen through the words of a cmd item. */
START_TEST(quotes)
{
	const struct cmd_conf *cc;
	struct conf c;

	ck_assert_int_eq(conft_parse(&c, "command x -- /bin/echo \"a b\" "
				   "\"q\\\"t\" \"\" a\"b c\"d # comment\n"
				   "describe x \"two  spaces\" #x\n"),
			 0);
	cc = conft_mconf(&c, &proto_cmd);
	ck_assert_uint_eq(cc->commands[0].argc, 5);
	ck_assert_str_eq(cc->commands[0].argv[1], "a b");
	ck_assert_str_eq(cc->commands[0].argv[2], "q\"t");
	ck_assert_str_eq(cc->commands[0].argv[3], "");
	ck_assert_str_eq(cc->commands[0].argv[4], "ab cd");
	ck_assert_str_eq(cc->commands[0].desc, "two  spaces");
	conf_free(&c);
	/* '#' inside a word is not a comment. */
	ck_assert_int_eq(conft_parse(&c, "command y -- /bin/echo a#b\n"), 0);
	cc = conft_mconf(&c, &proto_cmd);
	ck_assert_str_eq(cc->commands[0].argv[1], "a#b");
	conf_free(&c);
}
END_TEST

START_TEST(defaults)
{
	struct conf c;

	ck_assert_int_eq(conf_load(&c, NULL), 0);
	ck_assert_str_eq(c.path, "(embedded default)");
	ck_assert_uint_eq(c.nusers, 0);
	ck_assert_ptr_null(c.server_key);
	ck_assert_uint_eq(c.limits.idle_ms, 300000);
	ck_assert_uint_eq(c.limits.handshake_ms, 10000);
	ck_assert_uint_eq(c.limits.max_frame, 65536);
	ck_assert_int_eq(conf_requires_secure(&c, "cmd"), 1);
	conf_free(&c);
	/* An empty file gets the same limits (defaults live in one table). */
	ck_assert_int_eq(conft_parse(&c, ""), 0);
	ck_assert_uint_eq(c.limits.idle_ms, 300000);
	ck_assert_uint_eq(c.limits.max_frame, 65536);
	conf_free(&c);
}
END_TEST

START_TEST(lookups)
{
	struct conf c;
	char text[2048];
	uint8_t other[32] = { 1 };

	snprintf(text, sizeof text, "user alice a,b %s\nuser bob c %s\n",
		 conft_line_a, conft_line_b);
	ck_assert_int_eq(conft_parse(&c, text), 0);
	ck_assert_ptr_eq(conf_user_find(&c, "bob"), &c.users[1]);
	ck_assert_ptr_null(conf_user_find(&c, "carol"));
	ck_assert_ptr_eq(conf_user_by_key(&c, conft_pk_a), &c.users[0]);
	ck_assert_ptr_null(conf_user_by_key(&c, other));
	ck_assert_int_eq(conf_user_has(&c.users[0], "b"), 1);
	ck_assert_int_eq(conf_user_has(&c.users[0], "c"), 0);
	ck_assert_int_eq(conf_user_has(NULL, "a"), 0);
	ck_assert_ptr_null(conf_module_conf(&c, NULL));
	conf_free(&c);
}
END_TEST

START_TEST(keys_agree)
{
	char fp1[64], fp2[KEYS_FP_MAX];
	uint8_t pk[32];
	const char *why;

	conf_key_fingerprint(conft_pk_a, fp1, sizeof fp1);
	keys_fingerprint(conft_pk_a, fp2);
	ck_assert_str_eq(fp1, fp2);
	ck_assert_int_eq(conf_parse_pubkey(conft_line_a, pk, &why), 0);
	ck_assert_mem_eq(pk, conft_pk_a, 32);
	ck_assert_int_eq(conf_parse_pubkey("ssh-rsa AAAA", pk, &why), -1);
	ck_assert_int_eq(conf_parse_pubkey("ssh-ed25519 !!!!", pk, &why), -1);
	/* A valid base64 blob of the wrong type. */
	ck_assert_int_eq(conf_parse_pubkey("ssh-ed25519 AAAAB3NzaC1yc2EAAAA"
					   "DAQABAAAAgQ==", pk, &why), -1);
}
END_TEST

/* run-as and account= (privilege separation, docs/secure.md): the key
 * still parses after account=, and a user without it has "". */
START_TEST(run_as_accounts)
{
	struct conf c;
	char text[2048];

	snprintf(text, sizeof text,
		 "run-as handler\nuser alice a account=hA %s\n"
		 "user bob c \"%s\"\n", conft_line_a, conft_line_b);
	ck_assert_int_eq(conft_parse(&c, text), 0);
	ck_assert_str_eq(c.run_as, "handler");
	ck_assert_str_eq(c.users[0].account, "hA");
	ck_assert_mem_eq(c.users[0].pk, conft_pk_a, 32);
	ck_assert_str_eq(c.users[1].account, "");
	ck_assert_mem_eq(c.users[1].pk, conft_pk_b, 32);
	conf_free(&c);
	conft_bad("run-as a\nrun-as b\n", 2, "duplicate run-as");
	conft_bad("run-as -x\n", 1, "bad run-as account");
	conft_bad("user alice a account=h\n", 1, "missing key after");
	snprintf(text, sizeof text, "user alice a account=/x %s\n",
		 conft_line_a);
	conft_bad(text, 1, "bad account");
}
END_TEST

START_TEST(errors)
{
	char text[2048], big[CONF_LINE_MAX + 64];

	conft_bad("frobnicate 1\n", 1, "unknown keyword");
	conft_bad("\n# c\nlimit idle 1x\n", 3, "bad value");
	conft_bad("limit idle 0\n", 1, "bad value");
	conft_bad("limit idle 99999999999999999999999\n", 1, "bad value");
	conft_bad("limit frame 17M\n", 1, "bad value");
	conft_bad("limit idle -1\n", 1, "bad value");
	conft_bad("limit nosuch 1\n", 1, "unknown limit");
	conft_bad("limit idle 5\nlimit idle 6\n", 2, "duplicate limit");
	conft_bad("limit idle\n", 1, "missing arguments");
	conft_bad("limit idle 1 2\n", 1, "too many arguments");
	conft_bad("server-key\n", 1, "missing arguments");
	conft_bad("server-key /a\nserver-key /b\n", 2, "duplicate server-key");
	conft_bad("user alice - ssh-ed25519 AAAA!!\n", 1, "bad base64");
	conft_bad("user alice - ssh-rsa AAAAB3NzaC1yc2E\n", 1, "ssh-ed25519");
	conft_bad("user alice -\n", 1, "missing arguments");
	conft_bad("user alice - ssh-ed25519\n", 1, "missing base64 key");
	snprintf(text, sizeof text, "user al/ice - %s\n", conft_line_a);
	conft_bad(text, 1, "bad user name");
	snprintf(text, sizeof text, "user alice a,,b %s\n", conft_line_a);
	conft_bad(text, 1, "permission list");
	snprintf(text, sizeof text, "user alice a,b! %s\n", conft_line_a);
	conft_bad(text, 1, "bad permission name");
	snprintf(text, sizeof text, "user alice - %s\nuser alice - %s\n",
		 conft_line_a, conft_line_b);
	conft_bad(text, 2, "duplicate user");
	conft_bad("command x -- /bin/echo \"open\n", 1, "unterminated quote");
	conft_bad("limit idle 5\001\n", 1, "control character");
	/* A CR is allowed only as part of a CRLF ending: inside a line it
	 * would split words (or, for another reader, the line). */
	conft_bad("limit idle 5\rlimit frame 1K\n", 1, "carriage return");
	conft_bad("limit idle\r5\r\n", 1, "carriage return");
	conft_bad("command x -- /bin/echo \"a\rb\"\n", 1, "carriage return");
	conft_bad("# a comment\rlimit idle 5\n", 1, "carriage return");
	conft_bad("require-secure a/b\n", 1, "bad protocol name");
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = 0;
	memcpy(big, "# ", 2);
	conft_bad(big, 1, "line too long");
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

	ck_assert_int_eq(conft_parse(&c, "limit idle 1\nbogus\nlimit idle 2\n"),
			 -1);
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

/*
 * A module's items and limits go through the same lines: its errors carry
 * file:line, the core checks its argument counts, and a module limit set
 * twice is refused like a core one.
 */
START_TEST(module_dispatch)
{
	const struct cmd_conf *cc;
	struct conf c;

	conft_bad("limit idle 5\n\ncommand x -- true\n", 3,
		  "command x: program must be an absolute path");
	conft_bad("# c\ndescribe\n", 2, "describe: missing arguments");
	conft_bad("sftp-root /a ro extra\n", 1,
		  "sftp-root: too many arguments");
	conft_bad("limit requests 5\nlimit idle 5\nlimit requests 6\n", 3,
		  "duplicate limit requests");
	conft_bad("limit requests 0\n", 1,
		  "limit requests: bad value \"0\" (1..1024)");
	ck_assert_int_eq(conft_parse(&c, "limit requests 5\nlimit args 7\n"),
			 0);
	cc = conft_mconf(&c, &proto_cmd);
	ck_assert_uint_eq(cc->max_requests, 5);
	ck_assert_uint_eq(cc->max_args, 7);
	conf_free(&c);
}
END_TEST

static void check_limit(const struct conf_module *m, const struct conf_limit *d)
{
	uint64_t top = d->kind == CONF_LIMIT_TIME ? d->max * 1000 : d->max;

	ck_assert_msg(d->size == 4 || d->size == 8, "%s: size", d->name);
	ck_assert_msg(d->offset + d->size <= m->size, "%s: offset", d->name);
	ck_assert_msg(d->min <= d->def && d->def <= d->max, "%s: default",
		      d->name);
	ck_assert_msg(d->size == 8 || top <= UINT32_MAX, "%s: range", d->name);
}

/* Keywords and limit names are one namespace; tables are well formed. */
START_TEST(owner_tables)
{
	const char *seen[256];
	size_t n = 0;

	for (size_t i = 0; i < conf_owners(); i++) {
		const struct conf_module *m = conf_owner(i);
		size_t k;

		for (k = 0; m && m->items && m->items[k].keyword; k++)
			seen[n++] = m->items[k].keyword;
		for (k = 0; m && m->limits && m->limits[k].name; k++) {
			check_limit(m, &m->limits[k]);
			seen[n++] = m->limits[k].name;
		}
		ck_assert_uint_le(k, CONF_MODULE_LIMITS_MAX);
		ck_assert_uint_lt(n, 200);
	}
	for (size_t i = 0; i < n; i++)
		for (size_t k = i + 1; k < n; k++)
			ck_assert_msg(strcmp(seen[i], seen[k]) != 0,
				      "\"%s\" declared twice", seen[i]);
}
END_TEST

static Suite *conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *core = tcase_create("core");
	TCase *errs = tcase_create("errors");
	TCase *mods = tcase_create("modules");

	tcase_add_checked_fixture(core, conft_setup, NULL);
	tcase_add_checked_fixture(errs, conft_setup, NULL);
	tcase_add_checked_fixture(mods, conft_setup, NULL);
	tcase_add_test(core, all_items);
	tcase_add_test(core, quotes);
	tcase_add_test(core, defaults);
	tcase_add_test(core, lookups);
	tcase_add_test(core, keys_agree);
	tcase_add_test(core, run_as_accounts);
	tcase_add_test(errs, errors);
	tcase_add_test(errs, first_error_kept);
	tcase_add_test(errs, load_file);
	tcase_add_test(mods, module_dispatch);
	tcase_add_test(mods, owner_tables);
	suite_add_tcase(s, core);
	suite_add_tcase(s, errs);
	suite_add_tcase(s, mods);
	return s;
}

int main(void)
{
	return conft_run(conf_suite());
}
