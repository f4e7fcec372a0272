/* page_cursor.h — the opaque cursors of keyset pagination: over (a
 * timestamp in microseconds, a uuid id), base64url("<micros>.<id>"), the
 * form the registry's list uses, for any list that pages by (created_at,
 * id); and over a bigint identity, newest first, base64url("<tag>:<id>"),
 * for the history lists of /system (events, alerts, the audit log). */
#ifndef INFRA_PAGE_CURSOR_H
#define INFRA_PAGE_CURSOR_H

#include <stddef.h>
#include <stdint.h>

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

/* Write the cursor continuing after the row of identity `id` (digits) in
 * a list tagged `tag` ("ev", "al") into `out` ("" when it does not fit). */
void page_cursor_encode_serial(char *out, size_t outlen, const char *tag, const char *id);

/* The identity a cursor of list `tag` continues below, or 0 when `cursor`
 * is not one page_cursor_encode_serial wrote for that list (the caller
 * answers 422). */
int64_t page_cursor_decode_serial(const char *cursor, const char *tag);

#endif
