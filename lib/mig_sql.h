/* mig_sql.h — splitting a PostgreSQL migration script into statements and
 * finding those PostgreSQL refuses inside a transaction block.
 *
 * The lexer knows what can hide a semicolon: 'strings' (with ''), E'strings'
 * (with backslash escapes), "quoted identifiers", $tag$dollar quotes$tag$,
 * -- line comments, nested block comments and SQL-standard function bodies
 * (BEGIN ATOMIC … END). A transactional script is sent whole; the split is
 * used to classify it and to run a non-transactional one statement by
 * statement. */
#ifndef INFRA_MIG_SQL_H
#define INFRA_MIG_SQL_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* Why a statement may not run inside a transaction block. */
enum mig_stmt_tx {
	MIG_STMT_TX_OK = 0,
	MIG_STMT_TX_NEVER,	/* CREATE INDEX CONCURRENTLY, VACUUM, CREATE DATABASE, … */
	MIG_STMT_TX_BEFORE_12,	/* ALTER TYPE … ADD VALUE: refused before PostgreSQL 12 */
};

/* One statement: `len` bytes at offset `off` of the script, from its first
 * significant character up to (excluding) its semicolon. */
struct mig_stmt {
	size_t off;
	size_t len;
	int line;		/* 1-based line of its first character */
	enum mig_stmt_tx tx;
	bool copy_stdin;	/* COPY … FROM STDIN: needs inline data we do not send */
};

/* Split the `len` bytes at `sql`. On success returns 0 and sets *out to a
 * malloc'ed array of *n statements (the caller frees it; NULL when the
 * script holds no statement). Fails with -1 and INFRA_EMIGRATION when a
 * quote, dollar quote or comment is never closed (the message gives the
 * line it opens on). */
int mig_sql_split(const char *sql, size_t len, struct mig_stmt **out, size_t *n,
		  struct infra_error *err);

/* Whether statement `st` must run outside a transaction on a server of
 * `server_version` (PQserverVersion's form, e.g. 150004). */
bool mig_stmt_needs_autocommit(const struct mig_stmt *st, int server_version);

#endif
