#include "json.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void json_init(struct json *j, size_t max)
{
	memset(j, 0, sizeof *j);
	j->max = max;
}

void json_free(struct json *j)
{
	free(j->p);
	j->p = NULL;
	j->len = j->cap = 0;
}

int json_ok(const struct json *j)
{
	return !j->err && j->depth == 0 && !j->after_key;
}

const char *json_text(const struct json *j)
{
	return j->p ? j->p : "";
}

size_t json_len(const struct json *j)
{
	return j->len;
}

/* Appends raw bytes, keeping a NUL after them for json_text(). */
static void json_raw(struct json *j, const void *s, size_t n)
{
	if (j->err)
		return;
	if (n > j->max || j->len > j->max - n) {
		j->err = 1;
		return;
	}
	if (j->len + n + 1 > j->cap) {
		size_t cap = j->cap ? j->cap : 256;
		char *p;

		while (cap < j->len + n + 1)
			cap *= 2;
		p = realloc(j->p, cap);
		if (!p) {
			j->err = j->nomem = 1;
			return;
		}
		j->p = p;
		j->cap = cap;
	}
	memcpy(j->p + j->len, s, n);
	j->len += n;
	j->p[j->len] = 0;
}

/*
 * Length of the valid UTF-8 sequence at s, or 0. Overlong forms,
 * surrogates and code points past U+10FFFF are invalid (RFC 3629).
 */
static size_t utf8_valid(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len, i;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* The escape for one ASCII byte, or NULL when it stands for itself. */
static const char *escape_ascii(unsigned char c, char tmp[8])
{
	switch (c) {
	case '"': return "\\\"";
	case '\\': return "\\\\";
	case '\b': return "\\b";
	case '\f': return "\\f";
	case '\n': return "\\n";
	case '\r': return "\\r";
	case '\t': return "\\t";
	default: break;
	}
	if (c < 0x20 || c == 0x7f) {
		snprintf(tmp, 8, "\\u%04x", c);
		return tmp;
	}
	return NULL;
}

size_t json_escape(char *dst, size_t dstsize, const void *src, size_t n)
{
	const unsigned char *s = src;
	size_t need = 0, written = 0, i = 0;
	int full = 0;
	char tmp[8];

	while (i < n) {
		const char *esc = NULL;
		size_t run = utf8_valid(s + i, n - i);
		const void *piece;
		size_t plen;

		if (run == 1)
			esc = escape_ascii(s[i], tmp);
		else if (run == 0)
			esc = "\\ufffd";
		if (esc) {
			piece = esc;
			plen = strlen(esc);
			i++;
		} else {
			piece = s + i;
			plen = run;
			i += run;
		}
		/* Whole escapes only: a cut never splits one. */
		if (!full && written + plen < dstsize) {
			memcpy(dst + written, piece, plen);
			written += plen;
		} else {
			full = 1;
		}
		need += plen;
	}
	if (dstsize)
		dst[written] = 0;
	return need;
}

/* Comma and key bookkeeping before any value. */
static void json_value_prefix(struct json *j)
{
	if (j->depth > 0 && j->is_obj[j->depth - 1] && !j->after_key) {
		j->err = 1; /* a value in an object needs a key first */
		return;
	}
	if (j->after_key) {
		j->after_key = 0;
		return;
	}
	if (j->depth > 0) {
		if (j->nonempty[j->depth - 1])
			json_raw(j, ",", 1);
		j->nonempty[j->depth - 1] = 1;
	}
}

static void json_quoted(struct json *j, const void *s, size_t n)
{
	const unsigned char *p = s;
	char tmp[8];
	size_t i = 0;

	json_raw(j, "\"", 1);
	while (i < n && !j->err) {
		size_t start = i;

		/* Copy runs of plain bytes in one go. */
		while (i < n) {
			size_t run = utf8_valid(p + i, n - i);

			if (run == 0 || (run == 1 && escape_ascii(p[i], tmp)))
				break;
			i += run;
		}
		json_raw(j, p + start, i - start);
		if (i < n) {
			const char *esc = utf8_valid(p + i, n - i) ?
				escape_ascii(p[i], tmp) : "\\ufffd";

			json_raw(j, esc, strlen(esc));
			i++;
		}
	}
	json_raw(j, "\"", 1);
}

static void json_open(struct json *j, int obj)
{
	json_value_prefix(j);
	if (j->err)
		return;
	if (j->depth >= JSON_MAX_DEPTH) {
		j->err = 1;
		return;
	}
	json_raw(j, obj ? "{" : "[", 1);
	j->is_obj[j->depth] = (unsigned char)obj;
	j->nonempty[j->depth] = 0;
	j->depth++;
}

static void json_close(struct json *j, int obj)
{
	if (j->err)
		return;
	if (j->depth == 0 || j->is_obj[j->depth - 1] != obj || j->after_key) {
		j->err = 1;
		return;
	}
	j->depth--;
	json_raw(j, obj ? "}" : "]", 1);
}

void json_obj_begin(struct json *j)
{
	json_open(j, 1);
}

void json_obj_end(struct json *j)
{
	json_close(j, 1);
}

void json_arr_begin(struct json *j)
{
	json_open(j, 0);
}

void json_arr_end(struct json *j)
{
	json_close(j, 0);
}

void json_key(struct json *j, const char *key)
{
	if (j->err)
		return;
	if (j->depth == 0 || !j->is_obj[j->depth - 1] || j->after_key) {
		j->err = 1;
		return;
	}
	if (j->nonempty[j->depth - 1])
		json_raw(j, ",", 1);
	j->nonempty[j->depth - 1] = 1;
	json_quoted(j, key, strlen(key));
	json_raw(j, ":", 1);
	j->after_key = 1;
}

void json_strn(struct json *j, const void *s, size_t n)
{
	json_value_prefix(j);
	json_quoted(j, s, n);
}

void json_str(struct json *j, const char *s)
{
	if (!s)
		json_null(j);
	else
		json_strn(j, s, strlen(s));
}

void json_u64(struct json *j, uint64_t v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v);

	json_value_prefix(j);
	json_raw(j, tmp, (size_t)n);
}

void json_i64(struct json *j, int64_t v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);

	json_value_prefix(j);
	json_raw(j, tmp, (size_t)n);
}

void json_bool(struct json *j, int v)
{
	json_value_prefix(j);
	json_raw(j, v ? "true" : "false", v ? 4 : 5);
}

void json_null(struct json *j)
{
	json_value_prefix(j);
	json_raw(j, "null", 4);
}

void json_kv_str(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_str(j, s);
}

void json_kv_u64(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	json_u64(j, v);
}

void json_kv_bool(struct json *j, const char *key, int v)
{
	json_key(j, key);
	json_bool(j, v);
}
