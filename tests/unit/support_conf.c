/* The configuration tests' harness: see support_conf.h. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "support_conf.h"

uint8_t conft_pk_a[32], conft_pk_b[32];
char conft_line_a[KEYS_PUBLINE_MAX], conft_line_b[KEYS_PUBLINE_MAX];

void conft_setup(void)
{
	uint8_t sk[64];

	ck_assert_int_ge(sodium_init(), 0);
	log_set_level(LOG_FATAL);
	crypto_sign_keypair(conft_pk_a, sk);
	crypto_sign_keypair(conft_pk_b, sk);
	sodium_memzero(sk, sizeof sk);
	ck_assert_int_eq(keys_format_public(conft_pk_a, "alice@host",
					    conft_line_a,
					    sizeof conft_line_a), 0);
	ck_assert_int_eq(keys_format_public(conft_pk_b, "", conft_line_b,
					    sizeof conft_line_b), 0);
}

int conft_parse(struct conf *c, const char *text)
{
	return conf_parse(c, "t.conf", text, strlen(text));
}

void conft_bad(const char *text, unsigned line, const char *what)
{
	struct conf c;
	char prefix[32];

	ck_assert_msg(conft_parse(&c, text) == -1, "accepted: %s", text);
	snprintf(prefix, sizeof prefix, "t.conf:%u: ", line);
	ck_assert_msg(strncmp(c.error, prefix, strlen(prefix)) == 0,
		      "error \"%s\" lacks \"%s\"", c.error, prefix);
	ck_assert_msg(strstr(c.error, what) != NULL,
		      "error \"%s\" lacks \"%s\"", c.error, what);
	ck_assert_ptr_null(c.users);
	ck_assert_ptr_null(c.mconf);
}

const void *conft_mconf(const struct conf *c, const struct protocol *p)
{
	const void *m = conf_module_conf(c, p);

	ck_assert_ptr_nonnull(m);
	return m;
}

int conft_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
