/* mig_placeholder.h — Flyway placeholders in migration scripts.
 *
 * `${name}` is replaced by a value the operator defines (--placeholder
 * NAME=VALUE); `${flyway:defaultSchema}`, `${flyway:user}`,
 * `${flyway:database}`, `${flyway:timestamp}`, `${flyway:filename}`,
 * `${flyway:workingDirectory}` and `${flyway:table}` are Flyway's built-in
 * ones, known per target and per script. Replacement happens everywhere in
 * the text, as Flyway does; the checksum is of the text before it. A name
 * that is neither defined nor built in is an error before anything runs. */
#ifndef INFRA_MIG_PLACEHOLDER_H
#define INFRA_MIG_PLACEHOLDER_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "strbuf.h"

struct mig_placeholders {
	char **names;	/* owned */
	char **values;	/* owned */
	size_t n;
};

/* The built-in values for one script on one target; any may be NULL when
 * the caller cannot know it yet (only checking, not expanding). */
struct mig_builtins {
	const char *default_schema;
	const char *user;
	const char *database;
	const char *timestamp;		/* "yyyy-MM-dd HH:mm:ss", as Flyway */
	const char *filename;
	const char *working_directory;
	const char *table;
};

void mig_placeholders_init(struct mig_placeholders *ph);

/* Free what `ph` owns; it is empty and reusable afterwards. */
void mig_placeholders_release(struct mig_placeholders *ph);

/* Define `name` as `value` (both copied), replacing an earlier definition.
 * Returns 0, or -1 with INFRA_EINVAL when the name is empty, holds '}' or
 * uses the reserved "flyway:" prefix. */
int mig_placeholders_set(struct mig_placeholders *ph, const char *name,
			 const char *value, struct infra_error *err);

/* Define from "NAME=VALUE" (the --placeholder option). Returns 0 or -1 with
 * INFRA_EINVAL. */
int mig_placeholders_parse(struct mig_placeholders *ph, const char *assignment,
			   struct infra_error *err);

/* True when the `len` bytes at `text` hold a "${". */
bool mig_placeholders_present(const char *text, size_t len);

/* Check that every placeholder in `text` is defined or built in. Returns 0,
 * or -1 with INFRA_EMIGRATION naming `script` and the placeholder. */
int mig_placeholders_check(const struct mig_placeholders *ph, const char *text,
			   size_t len, const char *script, struct infra_error *err);

/* Append `text` with every placeholder replaced to `out`. Returns 0, or -1
 * with INFRA_EMIGRATION naming `script` when one is undefined or its
 * built-in value is unknown (NULL in `bi`); `out` then holds a partial copy. */
int mig_placeholders_expand(const struct mig_placeholders *ph,
			    const struct mig_builtins *bi, const char *text,
			    size_t len, const char *script, struct strbuf *out,
			    struct infra_error *err);

#endif
