/* uuid.h — random (version 4) UUIDs in their canonical text form, and the
 * check that a string is one, for ids made in C before a row exists (the
 * registry binds a credential's ciphertext to its row's id) and for path
 * parameters that must be ids. */
#ifndef INFRA_UUID_H
#define INFRA_UUID_H

#include <stdbool.h>

#define UUID_STR_LEN 37	/* 36 characters and the NUL */

/* Write a new random version-4 UUID, lowercase, into `out`. Aborts when
 * the system has no randomness (a predictable id must never be used). */
void uuid_generate(char out[UUID_STR_LEN]);

/* true when `s` is a UUID in canonical form (8-4-4-4-12 hex digits, any
 * case); NULL gives false. */
bool uuid_is_valid(const char *s);

#endif
