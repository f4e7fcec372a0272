/* mig_version.c — Flyway migration versions (see mig_version.h).
 *
 * Parts are compared on their decimal text (leading zeros skipped, then by
 * length, then digit by digit), so versions of any size order correctly
 * without big-integer arithmetic, as Flyway's BigInteger parts do. */
#include <ctype.h>
#include <string.h>

#include "mig_version.h"

int mig_version_parse(const char *raw, size_t len, char out[MIG_VERSION_MAX + 1],
		      struct infra_error *err)
{
	bool digit_seen = false;

	if (len == 0)
		return infra_fail(err, INFRA_EMIGRATION, "empty migration version");
	if (len > MIG_VERSION_MAX)
		return infra_fail(err, INFRA_EMIGRATION,
				  "migration version '%.*s…' is longer than %d characters",
				  20, raw, MIG_VERSION_MAX);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)raw[i];

		if (isdigit(c)) {
			out[i] = (char)c;
			digit_seen = true;
		} else if ((c == '.' || c == '_') && digit_seen) {
			out[i] = '.';
			digit_seen = false;
		} else {
			return infra_fail(err, INFRA_EMIGRATION,
					  "invalid migration version '%.*s': only digits separated by '.' or '_' are allowed",
					  (int)len, raw);
		}
	}
	if (!digit_seen)
		return infra_fail(err, INFRA_EMIGRATION,
				  "invalid migration version '%.*s': it ends with a separator",
				  (int)len, raw);
	out[len] = '\0';
	return 0;
}

bool mig_version_valid(const char *s)
{
	char buf[MIG_VERSION_MAX + 1];
	size_t len = strlen(s);

	return strchr(s, '_') == NULL && mig_version_parse(s, len, buf, NULL) == 0;
}

/* The next part of `*p` with its leading zeros skipped: sets *digits and
 * *n (0 for a zero or an absent part) and moves *p past the part and its
 * dot. */
static void next_part(const char **p, const char **digits, size_t *n)
{
	const char *s = *p;

	while (*s == '0')
		s++;
	*digits = s;
	while (*s >= '0' && *s <= '9')
		s++;
	*n = (size_t)(s - *digits);
	if (*s == '.')
		s++;
	*p = s;
}

int mig_version_cmp(const char *a, const char *b)
{
	while (*a != '\0' || *b != '\0') {
		const char *da, *db;
		size_t na, nb;
		int c;

		next_part(&a, &da, &na);
		next_part(&b, &db, &nb);
		if (na != nb)
			return na < nb ? -1 : 1;
		c = memcmp(da, db, na);
		if (c != 0)
			return c < 0 ? -1 : 1;
	}
	return 0;
}
