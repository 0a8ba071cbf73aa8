/*
 * Key files against OpenSSH itself: our keys must satisfy ssh-keygen and
 * ssh-keygen's keys must load here; fingerprints must match ssh-keygen -lf;
 * ssh-agent must sign for us. Tests needing ssh-keygen/ssh-agent skip
 * (saying why) only when those programs are missing.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "bytes.h"
#include "fdutil.h"
#include "keys.h"
#include "secure.h"
#include "sshagent.h"

static char dir[64];

static void setup(void)
{
	ck_assert_int_ge(sodium_init(), 0);
	strcpy(dir, "/tmp/test_keys.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

static int have(const char *prog)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", prog);
	if (system(cmd) == 0)
		return 1;
	fprintf(stderr, "SKIP: %s is not installed\n", prog);
	return 0;
}

static void path(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

/* Runs a shell command and captures its first output line. */
static int run(char *line, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int run(char *line, size_t n, const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	FILE *p;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	if (!line || !fgets(line, (int)n, p)) {
		if (line)
			line[0] = 0;
	}
	while (fgetc(p) != EOF)
		;
	rc = pclose(p);
	if (line)
		line[strcspn(line, "\n")] = 0;
	return rc;
}

static void sign_verify(const struct secure_identity *id)
{
	uint8_t m[100], sig[64];

	randombytes_buf(m, sizeof m);
	ck_assert_int_eq(id->sign(id->ctx, sig, m, sizeof m), 0);
	ck_assert_int_eq(crypto_sign_verify_detached(sig, m, sizeof m, id->pk),
			 0);
}

START_TEST(test_generate_load)
{
	char p[128], pub[160], err[KEYS_ERR_MAX], line[KEYS_PUBLINE_MAX];
	struct keys_secret k;
	struct secure_identity id;
	struct stat st;
	uint8_t pk[32];

	path(p, sizeof p, "id_test");
	ck_assert_int_eq(keys_generate(p, "alice@test", err), 0);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	/* never overwrites */
	ck_assert_int_eq(keys_generate(p, "again", err), -1);
	ck_assert_msg(strstr(err, "exists"), "%s", err);
	ck_assert_int_eq(keys_load_secret(p, &k, err), 0);
	ck_assert_str_eq(k.comment, "alice@test");
	snprintf(pub, sizeof pub, "%s.pub", p);
	ck_assert_int_eq(keys_load_public(pub, pk, err), 0);
	ck_assert_mem_eq(pk, k.pk, 32);
	ck_assert_int_eq(keys_format_public(k.pk, "alice@test", line,
					    sizeof line), 0);
	ck_assert_int_eq(strncmp(line, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA",
				 36), 0);
	keys_secret_wipe(&k);
	ck_assert_int_eq(keys_identity_load(&id, p, err), 0);
	ck_assert_mem_eq(id.pk, pk, 32);
	sign_verify(&id);
	keys_identity_free(&id);
	ck_assert_ptr_null(id.ctx);
	/* missing file: the name and the reason */
	path(p, sizeof p, "nope");
	ck_assert_int_eq(keys_load_secret(p, &k, err), -1);
	ck_assert_msg(strstr(err, "nope") && strstr(err, "No such file"), "%s",
		      err);
}
END_TEST

/* A private key others may read or write is refused, naming the file and
 * its mode; 0600 and 0400 load. */
START_TEST(test_refuse_open_permissions)
{
	static const mode_t bad[] = { 0644, 0640, 0604, 0660, 0606, 0602 };
	char p[128], err[KEYS_ERR_MAX], want[256];
	struct keys_secret k;
	struct secure_identity id;

	path(p, sizeof p, "perm_test");
	ck_assert_int_eq(keys_generate(p, "perm@test", err), 0);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_int_eq(chmod(p, bad[i]), 0);
		ck_assert_int_eq(keys_load_secret(p, &k, err), -1);
		snprintf(want, sizeof want, "permissions %04o for %s are too "
			 "open", (unsigned)bad[i], p);
		ck_assert_msg(strstr(err, want), "%s", err);
		ck_assert_int_eq(keys_identity_load(&id, p, err), -1);
		ck_assert_msg(strstr(err, want), "%s", err);
	}
	ck_assert_int_eq(chmod(p, 0400), 0);
	ck_assert_msg(keys_load_secret(p, &k, err) == 0, "%s", err);
	keys_secret_wipe(&k);
	ck_assert_int_eq(chmod(p, 0600), 0);
	ck_assert_msg(keys_load_secret(p, &k, err) == 0, "%s", err);
	keys_secret_wipe(&k);
}
END_TEST

START_TEST(test_ssh_keygen_reads_ours)
{
	char p[128], err[KEYS_ERR_MAX], line[512], want[KEYS_PUBLINE_MAX];
	char fp[KEYS_FP_MAX];
	struct keys_secret k;

	if (!have("ssh-keygen"))
		return;
	path(p, sizeof p, "ours");
	ck_assert_int_eq(keys_generate(p, "ours@test", err), 0);
	ck_assert_int_eq(keys_load_secret(p, &k, err), 0);
	ck_assert_int_eq(run(line, sizeof line, "ssh-keygen -y -f '%s'", p), 0);
	keys_format_public(k.pk, NULL, want, sizeof want);
	/* ssh-keygen -y prints "type base64 comment" */
	ck_assert_int_eq(strncmp(line, want, strlen(want)), 0);
	ck_assert_int_eq(run(line, sizeof line, "ssh-keygen -lf '%s' | "
				"cut -d' ' -f2", p), 0);
	keys_fingerprint(k.pk, fp);
	ck_assert_str_eq(line, fp);
	keys_secret_wipe(&k);
}
END_TEST

START_TEST(test_load_ssh_keygen_key)
{
	char p[128], pub[160], err[KEYS_ERR_MAX], line[512];
	char fp[KEYS_FP_MAX];
	struct keys_secret k;
	uint8_t pk[32];

	if (!have("ssh-keygen"))
		return;
	path(p, sizeof p, "theirs");
	ck_assert_int_eq(run(NULL, 0, "ssh-keygen -q -t ed25519 -N '' "
			     "-C 'made by ssh-keygen' -f '%s'", p), 0);
	ck_assert_msg(keys_load_secret(p, &k, err) == 0, "%s", err);
	ck_assert_str_eq(k.comment, "made by ssh-keygen");
	snprintf(pub, sizeof pub, "%s.pub", p);
	ck_assert_int_eq(keys_load_public(pub, pk, err), 0);
	ck_assert_mem_eq(pk, k.pk, 32);
	ck_assert_int_eq(run(line, sizeof line, "ssh-keygen -lf '%s' | "
				"cut -d' ' -f2", pub), 0);
	keys_fingerprint(pk, fp);
	ck_assert_str_eq(line, fp);
	keys_secret_wipe(&k);
}
END_TEST

START_TEST(test_refuse_encrypted_and_other_types)
{
	char p[128], pub[160], err[KEYS_ERR_MAX];
	struct keys_secret k;
	uint8_t pk[32];

	if (!have("ssh-keygen"))
		return;
	path(p, sizeof p, "locked");
	ck_assert_int_eq(run(NULL, 0, "ssh-keygen -q -t ed25519 -N secret "
			     "-f '%s'", p), 0);
	ck_assert_int_eq(keys_load_secret(p, &k, err), -1);
	ck_assert_msg(strstr(err, "encrypted keys are not supported; use "
				  "ssh-agent"), "%s", err);
	path(p, sizeof p, "ecdsa");
	ck_assert_int_eq(run(NULL, 0, "ssh-keygen -q -t ecdsa -b 256 -N '' "
			     "-f '%s'", p), 0);
	ck_assert_int_eq(keys_load_secret(p, &k, err), -1);
	ck_assert_msg(strstr(err, "unsupported key type"), "%s", err);
	snprintf(pub, sizeof pub, "%s.pub", p);
	ck_assert_int_eq(keys_load_public(pub, pk, err), -1);
	ck_assert_msg(strstr(err, "unsupported key type") &&
			      strstr(err, ":1:"), "%s", err);
}
END_TEST

START_TEST(test_corrupt_private)
{
	char p[128], err[KEYS_ERR_MAX], text[1024];
	struct keys_secret k, k0;
	const char *why;
	size_t n, accepted = 0;
	FILE *f;

	path(p, sizeof p, "c");
	ck_assert_int_eq(keys_generate(p, "c", err), 0);
	f = fopen(p, "r");
	n = fread(text, 1, sizeof text, f);
	fclose(f);
	ck_assert_int_eq(keys_parse_secret(text, n, &k0, &why), 0);
	/*
	 * Any one-character change in the base64 is refused, or (in the
	 * comment) leaves the key itself intact: never a different key.
	 */
	for (size_t i = 36; i < n - 36; i++) {
		char save = text[i];

		if (text[i] == '\n' || text[i] == '=')
			continue;
		text[i] = text[i] == 'A' ? 'B' : 'A';
		if (keys_parse_secret(text, n, &k, &why) == 0) {
			ck_assert_mem_eq(k.sk, k0.sk, 64);
			accepted++;
		}
		text[i] = save;
		keys_secret_wipe(&k);
	}
	ck_assert_uint_lt(accepted, 8);
	keys_secret_wipe(&k0);
	ck_assert_int_eq(keys_parse_secret(text, n / 2, &k, &why), -1);
	ck_assert_int_eq(keys_parse_secret("hello", 5, &k, &why), -1);
	ck_assert_msg(strstr(why, "not an OpenSSH private key"), "%s", why);
}
END_TEST

START_TEST(test_public_lines)
{
	struct keys_secret k;
	char line[KEYS_PUBLINE_MAX + 16], comment[64];
	const char *why;
	uint8_t pk[32];
	static const char *const bad[] = {
		"",
		"   ",
		"ssh-ed25519",
		"ssh-ed25519 !!!!",
		"ssh-ed25519 AAAA",
		"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ comment",
		"ecdsa-sha2-nistp256 AAAAE2VjZHNh x",
		/* an ssh-rsa blob behind an ssh-ed25519 label */
		"ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAAAAQC7",
		"from=\"1.2.3.4\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE",
	};

	crypto_sign_keypair(k.pk, k.sk);
	ck_assert_int_eq(keys_format_public(k.pk, "a b  c", line, sizeof line),
			 0);
	strcat(line, "\r\n");
	ck_assert_int_eq(keys_parse_public(line, strlen(line), pk, comment,
					   sizeof comment, &why), 0);
	ck_assert_mem_eq(pk, k.pk, 32);
	ck_assert_str_eq(comment, "a b  c");
	/* no comment, leading blanks */
	keys_format_public(k.pk, NULL, line + 2, sizeof line - 2);
	line[0] = ' ';
	line[1] = '\t';
	ck_assert_int_eq(keys_parse_public(line, strlen(line), pk, comment,
					   sizeof comment, &why), 0);
	ck_assert_str_eq(comment, "");
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(keys_parse_public(bad[i], strlen(bad[i]), pk,
						NULL, 0, &why) == -1,
			      "accepted: %s", bad[i]);
	ck_assert_int_eq(keys_parse_public(bad[5], strlen(bad[5]), pk, NULL, 0,
					   &why), -1);
	ck_assert_msg(strstr(why, "unsupported key type"), "%s", why);
	/* a blob cut short (last 4 base64 characters dropped) */
	keys_format_public(k.pk, NULL, line, sizeof line);
	ck_assert_int_eq(keys_parse_public(line, strlen(line) - 4, pk, NULL, 0,
					   &why), -1);
	/* trailing garbage after the base64 goes to the comment, fine; but
	 * base64 with a bad character is not */
	line[30] = '*';
	ck_assert_int_eq(keys_parse_public(line, strlen(line), pk, NULL, 0,
					   &why), -1);
	/* an embedded NUL */
	keys_format_public(k.pk, NULL, line, sizeof line);
	line[20] = 0;
	ck_assert_int_eq(keys_parse_public(line, 40, pk, NULL, 0, &why), -1);
	keys_secret_wipe(&k);
}
END_TEST

START_TEST(test_fingerprint_known)
{
	/* the all-zero key, fingerprinted by ssh-keygen -lf */
	uint8_t pk[32] = { 0 };
	char fp[KEYS_FP_MAX];

	keys_fingerprint(pk, fp);
	ck_assert_int_eq(strlen(fp), 50);
	ck_assert_int_eq(strncmp(fp, "SHA256:", 7), 0);
	ck_assert(!strchr(fp, '='));
}
END_TEST

/* Starts ssh-agent -D on dir/agent.sock; returns its pid. */
static pid_t start_agent(char *sock, size_t n)
{
	pid_t pid;

	snprintf(sock, n, "%s/agent.sock", dir);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execlp("ssh-agent", "ssh-agent", "-D", "-a", sock, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200 && access(sock, F_OK) != 0; i++)
		usleep(10000);
	ck_assert_int_eq(access(sock, F_OK), 0);
	return pid;
}

static void stop_agent(pid_t pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

static int lookup_one(void *ctx, const char *user, uint8_t pk[32])
{
	if (strcmp(user, "agent") != 0)
		return -1;
	memcpy(pk, ctx, 32);
	return 0;
}

static void pump(struct buf *from, struct buf *to)
{
	buf_append(to, buf_data(from), buf_len(from));
	buf_clear(from);
}

/* A whole handshake where ssh-agent signs for the user. */
static void agent_handshake(const struct secure_identity *user)
{
	struct keys_secret sk;
	struct secure_identity sid;
	struct secure *c, *s;
	struct buf ci, co, si, so;
	int rc_c = 0, rc_s = 0;

	crypto_sign_keypair(sk.pk, sk.sk);
	keys_identity_from_secret(&sid, &sk);
	s = secure_server_new(&sid, lookup_one, (void *)user->pk, 0);
	c = secure_client_new(user, "agent", sk.pk, 0);
	buf_init(&ci, 4096);
	buf_init(&co, 4096);
	buf_init(&si, 4096);
	buf_init(&so, 4096);
	for (int i = 0; i < 5; i++) {
		rc_c = secure_handshake(c, &ci, &co);
		pump(&co, &si);
		rc_s = secure_handshake(s, &si, &so);
		pump(&so, &ci);
	}
	ck_assert_msg(rc_c == SECURE_READY && rc_s == SECURE_READY,
		      "%s / %s", secure_error(c), secure_error(s));
	secure_free(c);
	secure_free(s);
	keys_identity_free(&sid);
	buf_free(&ci);
	buf_free(&co);
	buf_free(&si);
	buf_free(&so);
}

START_TEST(test_agent_sign)
{
	char sock[128], p[128], first[128], err[KEYS_ERR_MAX];
	struct secure_identity id;
	uint8_t pks[8][32], other[32], sig[64];
	struct keys_secret k;
	pid_t agent;
	int n;

	if (!have("ssh-agent") || !have("ssh-add") || !have("ssh-keygen"))
		return;
	agent = start_agent(sock, sizeof sock);
	/* empty agent: a clear error */
	ck_assert_int_eq(sshagent_identity(&id, sock, NULL, err), -1);
	ck_assert_msg(strstr(err, "no ed25519 key"), "%s", err);
	path(p, sizeof p, "agentkey");
	ck_assert_int_eq(keys_generate(p, "agent@test", err), 0);
	path(first, sizeof first, "first");
	ck_assert_int_eq(keys_generate(first, "someone@else", err), 0);
	ck_assert_int_eq(run(NULL, 0, "ssh-keygen -q -t ecdsa -N '' -f '%s/e' "
			     "&& SSH_AUTH_SOCK='%s' ssh-add '%s/e' '%s' '%s' "
			     "2>/dev/null", dir, sock, dir, first, p), 0);
	ck_assert_int_eq(keys_load_secret(p, &k, err), 0);
	n = sshagent_list(sock, pks, 8, err);
	ck_assert_int_eq(n, 2); /* the ecdsa key is skipped */
	ck_assert_mem_eq(pks[1], k.pk, 32);
	ck_assert_msg(sshagent_identity(&id, sock, k.pk, err) == 0, "%s", err);
	sign_verify(&id);
	keys_identity_free(&id);
	/* $SSH_AUTH_SOCK, any key: the first, or the one named for the user */
	setenv("SSH_AUTH_SOCK", sock, 1);
	ck_assert_int_eq(sshagent_identity(&id, NULL, NULL, err), 0);
	ck_assert_mem_eq(id.pk, pks[0], 32);
	keys_identity_free(&id);
	ck_assert_int_eq(sshagent_identity_for(&id, NULL, NULL, "agent", err), 0);
	ck_assert_mem_eq(id.pk, k.pk, 32);
	sign_verify(&id);
	agent_handshake(&id);
	keys_identity_free(&id);
	/* a key the agent lacks */
	randombytes_buf(other, sizeof other);
	ck_assert_int_eq(sshagent_identity(&id, sock, other, err), -1);
	ck_assert_msg(strstr(err, "does not hold"), "%s", err);
	ck_assert_int_eq(sshagent_sign(sock, other, sig, (const uint8_t *)"m",
				       1, err), -1);
	ck_assert_msg(strstr(err, "refused"), "%s", err);
	keys_secret_wipe(&k);
	stop_agent(agent);
	/* the agent went away */
	ck_assert_int_eq(sshagent_list(sock, pks, 8, err), -1);
	unsetenv("SSH_AUTH_SOCK");
	ck_assert_int_eq(sshagent_identity(&id, NULL, NULL, err), -1);
	ck_assert_msg(strstr(err, "SSH_AUTH_SOCK"), "%s", err);
}
END_TEST

/* One agent request (length-prefixed) read whole; 0, or -1. */
static int read_request(int c, uint8_t *req, size_t size)
{
	uint32_t len;

	if (fd_read_full(c, req, 4) != 4)
		return -1;
	len = be32_get(req);
	if (len > size)
		return -1;
	return fd_read_full(c, req, len) == (ssize_t)len ? 0 : -1;
}

/*
 * A fake agent on dir/fake.sock: answers one request with reply (n bytes,
 * sent as is), or with nothing at all when reply is NULL.
 */
static pid_t fake_agent(char *sock, size_t socksize, const uint8_t *reply,
			size_t n)
{
	struct sockaddr_un sa;
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	pid_t pid;

	snprintf(sock, socksize, "%s/fake.sock", dir);
	unlink(sock);
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, sock);
	ck_assert_int_ge(l, 0);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(listen(l, 1), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int c = accept(l, NULL, NULL);
		uint8_t req[4096];

		/* The whole request first: answering after a partial read and
		 * exiting would make the client's write fail with EPIPE
		 * instead of reading our reply. */
		if (c >= 0 && read_request(c, req, sizeof req) == 0) {
			if (reply)
				fd_write_all(c, reply, n);
			else
				sleep(10);
			while (read(c, req, sizeof req) > 0)
				;
		}
		_exit(0);
	}
	close(l);
	return pid;
}

static void fake_done(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* Sign request against a fake agent answering reply; the error text. */
static void fake_sign(const uint8_t *reply, size_t n, const char *want)
{
	char sock[128], err[KEYS_ERR_MAX];
	uint8_t pk[32], sig[64];
	pid_t pid = fake_agent(sock, sizeof sock, reply, n);

	randombytes_buf(pk, sizeof pk);
	ck_assert_int_eq(sshagent_sign(sock, pk, sig, (const uint8_t *)"m", 1,
				       err), -1);
	ck_assert_msg(strstr(err, want), "want \"%s\", got \"%s\"", want, err);
	fake_done(pid);
}

START_TEST(test_agent_bad_replies)
{
	static const uint8_t failure[] = { 0, 0, 0, 1, 5 };
	static const uint8_t huge[] = { 0x7f, 0xff, 0xff, 0xff, 14 };
	static const uint8_t short_body[] = { 0, 0, 0, 9, 14, 0, 0 };
	uint8_t resp[4 + 1 + 4 + 4 + 11 + 4 + 64], *p = resp;
	static const uint8_t list[] = { 0, 0, 0, 5, 12, 0, 0, 3, 0xe8 };
	char sock[128], err[KEYS_ERR_MAX];
	uint8_t pks[2][32];
	pid_t pid;
	uint64_t t0;

	fake_sign(failure, sizeof failure, "refused to sign");
	fake_sign(huge, sizeof huge, "bad reply length");
	fake_sign(short_body, sizeof short_body, "ssh-agent:");
	/* a well-formed answer whose signature is wrong */
	memcpy(p, "\0\0\0\x58\x0e\0\0\0\x53\0\0\0\x0bssh-ed25519\0\0\0\x40",
	       4 + 1 + 4 + 4 + 11 + 4);
	randombytes_buf(p + 28, 64);
	fake_sign(resp, sizeof resp, "does not verify");
	/* the same with another key type */
	memcpy(p + 13, "ssh-ed25518", 11);
	fake_sign(resp, sizeof resp, "malformed signature");
	/* a key list claiming 1000 keys and holding none */
	pid = fake_agent(sock, sizeof sock, list, sizeof list);
	ck_assert_int_eq(sshagent_list(sock, pks, 2, err), -1);
	ck_assert_msg(strstr(err, "malformed key list"), "%s", err);
	fake_done(pid);
	/* an agent that never answers: an error after the timeout, no hang */
	pid = fake_agent(sock, sizeof sock, NULL, 0);
	t0 = (uint64_t)time(NULL);
	ck_assert_int_eq(sshagent_list(sock, pks, 2, err), -1);
	ck_assert_msg(strstr(err, "timed out"), "%s", err);
	ck_assert_uint_le((uint64_t)time(NULL) - t0, 8);
	fake_done(pid);
}
END_TEST

static Suite *keys_suite(void)
{
	Suite *s = suite_create("keys");
	TCase *files = tcase_create("files");
	TCase *openssh = tcase_create("openssh");
	TCase *agent = tcase_create("agent");

	tcase_add_checked_fixture(files, setup, teardown);
	tcase_add_checked_fixture(openssh, setup, teardown);
	tcase_add_checked_fixture(agent, setup, teardown);
	tcase_set_timeout(openssh, 60);
	tcase_set_timeout(agent, 60);
	tcase_add_test(files, test_generate_load);
	tcase_add_test(files, test_refuse_open_permissions);
	tcase_add_test(files, test_corrupt_private);
	tcase_add_test(files, test_public_lines);
	tcase_add_test(files, test_fingerprint_known);
	tcase_add_test(openssh, test_ssh_keygen_reads_ours);
	tcase_add_test(openssh, test_load_ssh_keygen_key);
	tcase_add_test(openssh, test_refuse_encrypted_and_other_types);
	tcase_add_test(agent, test_agent_sign);
	tcase_add_test(agent, test_agent_bad_replies);
	suite_add_tcase(s, files);
	suite_add_tcase(s, openssh);
	suite_add_tcase(s, agent);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(keys_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
