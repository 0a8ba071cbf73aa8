/*
 * A small JSON writer for the cmd capabilities and anything else that must
 * be read by other programs. It only writes: there is no parser to trust.
 *
 * Strings are escaped per RFC 8259: quote, backslash and every control byte
 * are escaped; valid UTF-8 passes through unchanged; a byte that is not part
 * of a valid UTF-8 sequence becomes U+FFFD, so the output is always valid
 * UTF-8 whatever a configuration file or a peer put in a name.
 *
 * Errors (out of memory, the size bound, nesting too deep, a value where a
 * key is due) are sticky: check json_ok() once at the end.
 */
#ifndef JSON_H
#define JSON_H

#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 16

struct json {
	char *p;
	size_t len;
	size_t cap;
	size_t max;               /* the text never grows past this */
	int err;
	int nomem;                /* err came from realloc, not max */
	int depth;
	int after_key;            /* a value is due: no comma before it */
	unsigned char nonempty[JSON_MAX_DEPTH]; /* per level: comma needed */
	unsigned char is_obj[JSON_MAX_DEPTH];
};

void json_init(struct json *j, size_t max);
void json_free(struct json *j);
int json_ok(const struct json *j);
/* The NUL-terminated text (valid only when json_ok() and depth is 0). */
const char *json_text(const struct json *j);
size_t json_len(const struct json *j);

void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
void json_key(struct json *j, const char *key);

void json_str(struct json *j, const char *s);   /* NULL writes null */
void json_strn(struct json *j, const void *s, size_t n);
void json_u64(struct json *j, uint64_t v);
void json_i64(struct json *j, int64_t v);
void json_bool(struct json *j, int v);
void json_null(struct json *j);

/* key + value shorthands for objects. */
void json_kv_str(struct json *j, const char *key, const char *s);
void json_kv_u64(struct json *j, const char *key, uint64_t v);
void json_kv_bool(struct json *j, const char *key, int v);

/*
 * Appends the escaped form of s (without quotes) to dst; returns the bytes
 * it needs (like snprintf) so callers can size a buffer. For tests and for
 * callers that build JSON by hand.
 */
size_t json_escape(char *dst, size_t dstsize, const void *s, size_t n);

#endif
