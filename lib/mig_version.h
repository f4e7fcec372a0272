/* mig_version.h — Flyway migration versions: parsing, normalising, ordering.
 *
 * A version is written with dots or underscores between parts ("1_2" is
 * "1.2"); each part is a non-negative integer of any length, compared
 * numerically, and trailing zero parts are ignored ("1" = "1.0" = "01";
 * "1.10" > "1.9"). Versions are kept as their normalised text (dots), the
 * form Flyway writes to flyway_schema_history. */
#ifndef INFRA_MIG_VERSION_H
#define INFRA_MIG_VERSION_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* flyway_schema_history.version is VARCHAR(50). */
#define MIG_VERSION_MAX 50

/* Normalise the `len` bytes at `raw` (underscores become dots) into `out`
 * (MIG_VERSION_MAX + 1 bytes) after checking that they are digits separated
 * by single dots or underscores. Returns 0, or -1 with INFRA_EMIGRATION and
 * a message naming the bad version. */
int mig_version_parse(const char *raw, size_t len, char out[MIG_VERSION_MAX + 1],
		      struct infra_error *err);

/* True when `s` is a normalised version (digits and single dots). */
bool mig_version_valid(const char *s);

/* Order two valid versions: <0, 0 or >0 as `a` is older than, the same as or
 * newer than `b`. Parts are compared as integers of any length. */
int mig_version_cmp(const char *a, const char *b);

#endif
