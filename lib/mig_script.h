/* mig_script.h — migration scripts on disk: Flyway's file names and the set
 * of scripts found under a location.
 *
 * Names: V<version>__<description>.sql (versioned), U<version>__<description>.sql
 * (undo of that version), R__<description>.sql (repeatable). Underscores in
 * the description become spaces. Files not ending in ".sql" and hidden files
 * are ignored; any other ".sql" name is an error naming the file, as is a
 * duplicate version or repeatable description. */
#ifndef INFRA_MIG_SCRIPT_H
#define INFRA_MIG_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "mig_sql.h"
#include "mig_version.h"

enum mig_kind {
	MIG_VERSIONED,
	MIG_UNDO,
	MIG_REPEATABLE,
};

/* What a file name says. */
struct mig_name {
	enum mig_kind kind;
	char version[MIG_VERSION_MAX + 1];	/* "" for a repeatable */
	char description[256];			/* underscores turned to spaces */
};

/* Parse a file name (no directory part). Returns 1 for a migration name,
 * 0 for a file to ignore (not ".sql", or hidden), or -1 with
 * INFRA_EMIGRATION for a ".sql" file whose name is not a migration's. */
int mig_name_parse(const char *filename, struct mig_name *out, struct infra_error *err);

/* One script with its content. Everything is owned by the set. */
struct mig_script {
	enum mig_kind kind;
	char *version;		/* normalised; NULL for a repeatable */
	char *description;
	char *script;		/* path relative to the location: history's "script" */
	char *sql;		/* the file's text, NUL-terminated, BOM removed */
	size_t sql_len;
	int32_t checksum;
	bool placeholders;	/* holds "${": expanded per target */
	struct mig_stmt *stmts;	/* its statements (mig_sql_split) */
	size_t nstmts;
	bool autocommit_always;	/* some statement can never run in a transaction */
	bool autocommit_before_12; /* some statement cannot before PostgreSQL 12 */
};

/* The scripts of one location, each kind sorted: versioned and undo by
 * version ascending, repeatables by description. */
struct mig_set {
	char *location;
	struct mig_script *versioned;
	size_t nversioned;
	struct mig_script *undo;
	size_t nundo;
	struct mig_script *repeatable;
	size_t nrepeatable;
};

#define MIG_SET_INIT { NULL, NULL, 0, NULL, 0, NULL, 0 }

void mig_set_init(struct mig_set *set);

/* Read every migration under directory `location` (recursively). Checks
 * names, duplicates, UTF-8, statement syntax enough to split, and that a
 * script does not mix statements that must run outside a transaction with
 * others. Returns 0, or -1 with INFRA_EMIGRATION (a bad file, named) or
 * INFRA_ENOTFOUND (no such directory); `set` is then empty. */
int mig_set_load(struct mig_set *set, const char *location, struct infra_error *err);

/* Free everything `set` holds; pointers into it become invalid. */
void mig_set_release(struct mig_set *set);

/* The versioned or undo script of `version` in `set`, or NULL. */
const struct mig_script *mig_set_find(const struct mig_set *set, enum mig_kind kind,
				      const char *version);

/* Whether `sc` runs outside a transaction on a server of `server_version`. */
bool mig_script_autocommit(const struct mig_script *sc, int server_version);

/* Flyway's checksum of the file at `path` into *out. Returns 0, or -1 with
 * INFRA_EMIGRATION when it cannot be read or is not UTF-8. */
int mig_script_checksum_file(const char *path, int32_t *out, struct infra_error *err);

/* The history's name for a script kind: "SQL" or "UNDO_SQL". */
const char *mig_script_type(const struct mig_script *sc);

#endif
