/* page_cursor.h — the opaque cursor of keyset pagination over (a timestamp
 * in microseconds, a uuid id): base64url("<micros>.<id>"), the form the
 * registry's list uses, for any list that pages by (created_at, id). */
#ifndef INFRA_PAGE_CURSOR_H
#define INFRA_PAGE_CURSOR_H

#include <stddef.h>

#include "uuid.h"

#define PAGE_CURSOR_MAX 96
#define PAGE_CURSOR_MICROS_MAX 24

/* Write the cursor of the row (`micros`, `id`) into `out` ("" when it
 * does not fit). */
void page_cursor_encode(char *out, size_t outlen, const char *micros, const char *id);

/* Read a cursor back into its parts. Returns 0, or -1 when `cursor` is
 * not one page_cursor_encode wrote (the caller answers 422). */
int page_cursor_decode(const char *cursor, char micros[PAGE_CURSOR_MICROS_MAX],
		       char id[UUID_STR_LEN]);

#endif
