/* mig_placeholder.c — Flyway placeholder definitions, checking and
 * replacement (see mig_placeholder.h). */
#include <stdlib.h>
#include <string.h>

#include "mig_alloc.h"
#include "mig_placeholder.h"

#define BUILTIN_PREFIX "flyway:"

void mig_placeholders_init(struct mig_placeholders *ph)
{
	ph->names = NULL;
	ph->values = NULL;
	ph->n = 0;
}

void mig_placeholders_release(struct mig_placeholders *ph)
{
	for (size_t i = 0; i < ph->n; i++) {
		free(ph->names[i]);
		free(ph->values[i]);
	}
	free(ph->names);
	free(ph->values);
	mig_placeholders_init(ph);
}

static int set_n(struct mig_placeholders *ph, const char *name, size_t nlen,
		 const char *value, struct infra_error *err)
{
	if (nlen == 0)
		return infra_fail_field(err, "placeholder", "placeholder name is empty");
	if (memchr(name, '}', nlen) != NULL || memchr(name, '{', nlen) != NULL)
		return infra_fail_field(err, "placeholder",
					"placeholder name '%.*s' may not hold '{' or '}'",
					(int)nlen, name);
	if (nlen >= strlen(BUILTIN_PREFIX) &&
	    strncmp(name, BUILTIN_PREFIX, strlen(BUILTIN_PREFIX)) == 0)
		return infra_fail_field(err, "placeholder",
					"placeholder name '%.*s' uses the reserved prefix '%s'",
					(int)nlen, name, BUILTIN_PREFIX);
	for (size_t i = 0; i < ph->n; i++) {
		if (strlen(ph->names[i]) == nlen && memcmp(ph->names[i], name, nlen) == 0) {
			free(ph->values[i]);
			ph->values[i] = mig_strdup(value);
			return 0;
		}
	}
	ph->names = mig_realloc(ph->names, (ph->n + 1) * sizeof(*ph->names));
	ph->values = mig_realloc(ph->values, (ph->n + 1) * sizeof(*ph->values));
	ph->names[ph->n] = mig_strndup(name, nlen);
	ph->values[ph->n] = mig_strdup(value);
	ph->n++;
	return 0;
}

int mig_placeholders_set(struct mig_placeholders *ph, const char *name,
			 const char *value, struct infra_error *err)
{
	return set_n(ph, name, strlen(name), value, err);
}

int mig_placeholders_parse(struct mig_placeholders *ph, const char *assignment,
			   struct infra_error *err)
{
	const char *eq = strchr(assignment, '=');

	if (eq == NULL)
		return infra_fail_field(err, "placeholder",
					"placeholder '%s' is not NAME=VALUE", assignment);
	return set_n(ph, assignment, (size_t)(eq - assignment), eq + 1, err);
}

bool mig_placeholders_present(const char *text, size_t len)
{
	for (const char *p = text; (p = memchr(p, '$', len - (size_t)(p - text))) != NULL; p++)
		if ((size_t)(p - text) + 1 < len && p[1] == '{')
			return true;
	return false;
}

/* The value of the placeholder `name` (`n` bytes): *known is false when the
 * name is neither defined nor built in; otherwise the value, which is NULL
 * for a built-in whose value `bi` does not give. */
static const char *lookup(const struct mig_placeholders *ph, const struct mig_builtins *bi,
			  const char *name, size_t n, bool *known)
{
	static const struct {
		const char *name;
		size_t offset;
	} builtins[] = {
		{ "defaultSchema", offsetof(struct mig_builtins, default_schema) },
		{ "user", offsetof(struct mig_builtins, user) },
		{ "database", offsetof(struct mig_builtins, database) },
		{ "timestamp", offsetof(struct mig_builtins, timestamp) },
		{ "filename", offsetof(struct mig_builtins, filename) },
		{ "workingDirectory", offsetof(struct mig_builtins, working_directory) },
		{ "table", offsetof(struct mig_builtins, table) },
	};
	size_t plen = strlen(BUILTIN_PREFIX);

	*known = true;
	if (n > plen && memcmp(name, BUILTIN_PREFIX, plen) == 0) {
		for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++) {
			if (strlen(builtins[i].name) == n - plen &&
			    memcmp(builtins[i].name, name + plen, n - plen) == 0)
				return bi ? *(const char *const *)((const char *)bi + builtins[i].offset)
					  : NULL;
		}
	} else {
		for (size_t i = 0; i < ph->n; i++)
			if (strlen(ph->names[i]) == n && memcmp(ph->names[i], name, n) == 0)
				return ph->values[i];
	}
	*known = false;
	return NULL;
}

/* Walk `text`; for each placeholder either append its value to `out` (when
 * `out` is not NULL) or just check that it is known. */
static int walk(const struct mig_placeholders *ph, const struct mig_builtins *bi,
		const char *text, size_t len, const char *script, struct strbuf *out,
		struct infra_error *err)
{
	size_t i = 0, copied = 0;

	while (i + 1 < len) {
		const char *close, *name, *value;
		size_t n;
		bool known;

		if (text[i] != '$' || text[i + 1] != '{') {
			i++;
			continue;
		}
		name = text + i + 2;
		close = memchr(name, '}', len - i - 2);
		if (close == NULL)
			break;	/* no closing brace: plain text, as Flyway leaves it */
		n = (size_t)(close - name);
		value = lookup(ph, bi, name, n, &known);
		if (!known)
			return infra_fail(err, INFRA_EMIGRATION,
					  "no value for placeholder '${%.*s}' in '%s'", (int)n, name,
					  script);
		if (out != NULL) {
			if (value == NULL)
				return infra_fail(err, INFRA_EMIGRATION,
						  "placeholder '${%.*s}' in '%s' has no value here",
						  (int)n, name, script);
			strbuf_add(out, text + copied, i - copied);
			strbuf_addstr(out, value);
		}
		i = (size_t)(close - text) + 1;
		copied = i;
	}
	if (out != NULL)
		strbuf_add(out, text + copied, len - copied);
	return 0;
}

int mig_placeholders_check(const struct mig_placeholders *ph, const char *text,
			   size_t len, const char *script, struct infra_error *err)
{
	return walk(ph, NULL, text, len, script, NULL, err);
}

int mig_placeholders_expand(const struct mig_placeholders *ph,
			    const struct mig_builtins *bi, const char *text,
			    size_t len, const char *script, struct strbuf *out,
			    struct infra_error *err)
{
	return walk(ph, bi, text, len, script, out, err);
}
