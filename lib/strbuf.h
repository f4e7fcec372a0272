/* strbuf.h — a growable byte buffer, always NUL-terminated (git's strbuf). */
#ifndef INFRA_STRBUF_H
#define INFRA_STRBUF_H

#include <stddef.h>

struct strbuf {
	char *buf;	/* never NULL after strbuf_init; "" when empty */
	size_t len;
	size_t alloc;
};

#define STRBUF_INIT { .buf = strbuf_empty, .len = 0, .alloc = 0 }
extern char strbuf_empty[];

void strbuf_init(struct strbuf *sb, size_t hint);

/* Append bytes, a string, a character or printf output. Abort on OOM. */
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Empty the buffer, keeping its memory. */
void strbuf_reset(struct strbuf *sb);

/* Give up the string: the caller now owns it and must free() it; `sb` is
 * empty afterwards. */
char *strbuf_detach(struct strbuf *sb, size_t *len);

/* Free the memory; `sb` is empty and reusable afterwards. */
void strbuf_release(struct strbuf *sb);

#endif
