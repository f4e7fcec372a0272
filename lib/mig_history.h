/* mig_history.h — Flyway's schema history table, flyway_schema_history.
 *
 * One per target schema, with Flyway's exact columns, types, primary key
 * and index, so Flyway and this engine can take over each other's schemas.
 * Rows are written as Flyway writes them: installed_rank counts from 1 (0
 * for the SCHEMA marker), version NULL for repeatables, type SQL, UNDO_SQL,
 * BASELINE, SCHEMA or DELETE, installed_on defaulted by the server. This
 * module holds the SQL texts, the row type, reading a result into rows and
 * the advisory-lock key; it sends nothing itself. */
#ifndef INFRA_MIG_HISTORY_H
#define INFRA_MIG_HISTORY_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "strbuf.h"

#define MIG_HISTORY_TABLE "flyway_schema_history"
#define MIG_DESCRIPTION_MAX 200		/* VARCHAR(200) */
#define MIG_SCRIPT_MAX 1000		/* VARCHAR(1000) */
#define MIG_BASELINE_DESCRIPTION "<< Flyway Baseline >>"
#define MIG_SCHEMA_DESCRIPTION "<< Flyway Schema Creation >>"

/* One row of flyway_schema_history; strings owned by the row. */
struct mig_applied {
	int rank;
	char *version;		/* NULL for a repeatable */
	char *description;
	char *type;		/* "SQL", "UNDO_SQL", "BASELINE", "SCHEMA", "DELETE", … */
	char *script;
	bool has_checksum;
	int32_t checksum;
	char *installed_by;
	char *installed_on;	/* ISO 8601 UTC, "…Z" */
	int execution_time;	/* ms */
	bool success;
};

/* The rows of one target's table, by installed_rank. */
struct mig_history {
	struct mig_applied *rows;
	size_t n;
};

void mig_history_init(struct mig_history *h);

/* Free the rows; `h` is empty and reusable afterwards. */
void mig_history_release(struct mig_history *h);

/* Append a copy of `row` (its strings copied). */
void mig_history_add(struct mig_history *h, const struct mig_applied *row);

/* Fill `h` from the result of the statement mig_history_select_sql()
 * builds. Returns 0, or -1 with INFRA_EMIGRATION when a row is not Flyway's
 * shape (e.g. an unparsable version); `h` is then empty. */
int mig_history_from_result(struct mig_history *h, const PGresult *res,
			    struct infra_error *err);

/* The highest installed_rank, or 0 for an empty history. */
int mig_history_max_rank(const struct mig_history *h);

/* The installed_rank the next row would take, the highest plus one, in 64
 * bits: installed_rank is an INT, so above INT_MAX means no row fits. */
int64_t mig_history_next_rank(const struct mig_history *h);

/* `schema` quoted as Flyway quotes it: "schema" with inner quotes doubled.
 * Appended to `out`. */
void mig_history_quote(struct strbuf *out, const char *schema);

/* The advisory lock Flyway takes for the table in `schema`:
 * 0x466C79776179 + Java String.hashCode() of "schema"."flyway_schema_history"
 * (UTF-16 code units of the UTF-8 name). For "public": 77433833903597. */
int64_t mig_history_lock_key(const char *schema);

/* Build a statement on the table in the schema `schema_ident` (already an
 * SQL identifier, from PQescapeIdentifier) into `out` (reset first). Every
 * value is a parameter.
 *  - select: every column, ordered by installed_rank, installed_on as ISO
 *    8601 text (the engine's sessions run in UTC);
 *  - insert: $1 rank, $2 version, $3 description, $4 type, $5 script,
 *    $6 checksum, $7 installed_by (NULL: current_user), $8 execution_time
 *    (NULL: the milliseconds since the transaction began, as the server
 *    measures them), $9 success; returns the row's execution_time;
 *  - delete_failed: removes the rows with success = false;
 *  - update: sets $1 description, $2 type, $3 checksum of installed_rank $4;
 *  - create: statement `i` (0, 1, 2) of Flyway's createMetaDataTable.sql
 *    for PostgreSQL: the table, its primary key flyway_schema_history_pk,
 *    its index flyway_schema_history_s_idx. */
void mig_history_select_sql(struct strbuf *out, const char *schema_ident);
void mig_history_insert_sql(struct strbuf *out, const char *schema_ident);
void mig_history_delete_failed_sql(struct strbuf *out, const char *schema_ident);
void mig_history_update_sql(struct strbuf *out, const char *schema_ident);
void mig_history_create_sql(struct strbuf *out, const char *schema_ident, int i);

#define MIG_HISTORY_CREATE_STATEMENTS 3

/* Flyway's abbreviations: a description longer than 200 characters keeps
 * its first 197 and "..."; a script name longer than 1000 becomes "..." and
 * its last 997. Written to `out` (reset first); characters, not bytes, are
 * counted, so UTF-8 is never cut inside a character. */
void mig_history_abbreviate_description(struct strbuf *out, const char *description);
void mig_history_abbreviate_script(struct strbuf *out, const char *script);

#endif
