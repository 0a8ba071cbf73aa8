/*
 * The shared harness of the configuration tests (test_conf.c for the core,
 * test_cmd_conf.c and test_sftp_conf.c for the modules' items): two users'
 * key lines, and parsing that must succeed or fail at a given line.
 *
 * Linked into each of those binaries (UNIT_SUPPORT in the Makefile), so
 * every public name carries the conft_ prefix.
 */
#ifndef SUPPORT_CONF_H
#define SUPPORT_CONF_H

#include <check.h>
#include <stdint.h>

#include "core.h"
#include "keys.h"

/* Two fresh Ed25519 keys and their OpenSSH public lines. */
extern uint8_t conft_pk_a[32], conft_pk_b[32];
extern char conft_line_a[KEYS_PUBLINE_MAX], conft_line_b[KEYS_PUBLINE_MAX];

/* Checked fixture: makes the keys, quiets the log. */
void conft_setup(void);
/* conf_parse of text as "t.conf". */
int conft_parse(struct conf *c, const char *text);
/*
 * Parses text that must fail with "t.conf:LINE: ...WHAT..." as its first
 * error, and leave nothing allocated.
 */
void conft_bad(const char *text, unsigned line, const char *what);
/* Module p's conf in c, which must exist. */
const void *conft_mconf(const struct conf *c, const struct protocol *p);
/* Runs the suite; the exit status for main(). */
int conft_run(Suite *s);

#endif
