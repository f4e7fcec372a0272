/* mig_history.c — Flyway's flyway_schema_history: statements, rows and the
 * advisory-lock key (see mig_history.h). */
#include <stdlib.h>
#include <string.h>

#include "mig_alloc.h"
#include "mig_history.h"
#include "mig_version.h"

#define LOCK_MAGIC INT64_C(0x466C79776179)	/* "Flyway" */

void mig_history_init(struct mig_history *h)
{
	h->rows = NULL;
	h->n = 0;
}

static void row_release(struct mig_applied *r)
{
	free(r->version);
	free(r->description);
	free(r->type);
	free(r->script);
	free(r->installed_by);
	free(r->installed_on);
}

void mig_history_release(struct mig_history *h)
{
	for (size_t i = 0; i < h->n; i++)
		row_release(&h->rows[i]);
	free(h->rows);
	mig_history_init(h);
}

void mig_history_add(struct mig_history *h, const struct mig_applied *row)
{
	struct mig_applied *r;

	h->rows = mig_realloc(h->rows, (h->n + 1) * sizeof(*h->rows));
	r = &h->rows[h->n++];
	*r = *row;
	r->version = mig_strdup(row->version);
	r->description = mig_strdup(row->description ? row->description : "");
	r->type = mig_strdup(row->type ? row->type : "");
	r->script = mig_strdup(row->script ? row->script : "");
	r->installed_by = mig_strdup(row->installed_by ? row->installed_by : "");
	r->installed_on = mig_strdup(row->installed_on ? row->installed_on : "");
}

static char *field(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

int mig_history_from_result(struct mig_history *h, const PGresult *res,
			    struct infra_error *err)
{
	int n = PQntuples(res);

	mig_history_init(h);
	if (PQnfields(res) != 10)
		return infra_fail(err, INFRA_EMIGRATION, "%s does not have Flyway's columns",
				  MIG_HISTORY_TABLE);
	for (int i = 0; i < n; i++) {
		char version[MIG_VERSION_MAX + 1];
		const char *v = field(res, i, 1), *sum = field(res, i, 5);
		const char *ok = field(res, i, 9), *ms = field(res, i, 8);
		struct mig_applied row = {
			.rank = atoi(PQgetvalue(res, i, 0)),
			.description = field(res, i, 2),
			.type = field(res, i, 3),
			.script = field(res, i, 4),
			.has_checksum = sum != NULL,
			.checksum = sum ? (int32_t)strtol(sum, NULL, 10) : 0,
			.installed_by = field(res, i, 6),
			.installed_on = field(res, i, 7),
			.execution_time = ms ? atoi(ms) : 0,
			.success = ok != NULL && ok[0] == 't',
		};

		if (v != NULL) {
			if (mig_version_parse(v, strlen(v), version, NULL) != 0) {
				mig_history_release(h);
				return infra_fail(err, INFRA_EMIGRATION,
						  "%s row %d has an invalid version '%.60s'",
						  MIG_HISTORY_TABLE, row.rank, v);
			}
			row.version = version;
		}
		mig_history_add(h, &row);
	}
	return 0;
}

int mig_history_max_rank(const struct mig_history *h)
{
	int max = 0;

	for (size_t i = 0; i < h->n; i++)
		if (h->rows[i].rank > max)
			max = h->rows[i].rank;
	return max;
}

int64_t mig_history_next_rank(const struct mig_history *h)
{
	return (int64_t)mig_history_max_rank(h) + 1;
}

void mig_history_quote(struct strbuf *out, const char *schema)
{
	strbuf_addch(out, '"');
	for (const char *p = schema; *p; p++) {
		if (*p == '"')
			strbuf_addch(out, '"');
		strbuf_addch(out, *p);
	}
	strbuf_addch(out, '"');
}

/* Decode one UTF-8 character at *p (valid UTF-8 assumed; a stray byte
 * counts as itself) and move past it. */
static uint32_t utf8_next(const unsigned char **p)
{
	const unsigned char *s = *p;
	uint32_t cp;
	int n;

	if (s[0] < 0x80) {
		*p = s + 1;
		return s[0];
	}
	if ((s[0] & 0xE0) == 0xC0) {
		cp = s[0] & 0x1F;
		n = 1;
	} else if ((s[0] & 0xF0) == 0xE0) {
		cp = s[0] & 0x0F;
		n = 2;
	} else if ((s[0] & 0xF8) == 0xF0) {
		cp = s[0] & 0x07;
		n = 3;
	} else {
		*p = s + 1;
		return s[0];
	}
	for (int i = 1; i <= n; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*p = s + 1;
			return s[0];
		}
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	*p = s + n + 1;
	return cp;
}

int64_t mig_history_lock_key(const char *schema)
{
	struct strbuf name = STRBUF_INIT;
	const unsigned char *p;
	uint32_t hash = 0;	/* Java int arithmetic: wraps modulo 2^32 */

	mig_history_quote(&name, schema);
	strbuf_addstr(&name, ".\"" MIG_HISTORY_TABLE "\"");
	p = (const unsigned char *)name.buf;
	while (*p) {
		uint32_t cp = utf8_next(&p);

		if (cp >= 0x10000) {
			cp -= 0x10000;
			hash = hash * 31 + (0xD800 + (cp >> 10));
			hash = hash * 31 + (0xDC00 + (cp & 0x3FF));
		} else {
			hash = hash * 31 + cp;
		}
	}
	strbuf_release(&name);
	return LOCK_MAGIC + (int32_t)hash;
}

static void table_name(struct strbuf *out, const char *schema_ident)
{
	strbuf_addstr(out, schema_ident);
	strbuf_addstr(out, "." MIG_HISTORY_TABLE);
}

void mig_history_select_sql(struct strbuf *out, const char *schema_ident)
{
	strbuf_reset(out);
	strbuf_addstr(out, "SELECT installed_rank, version, description, type, script, checksum,"
		      " installed_by, to_char(installed_on, 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
		      " execution_time, success FROM ");
	table_name(out, schema_ident);
	strbuf_addstr(out, " ORDER BY installed_rank");
}

void mig_history_insert_sql(struct strbuf *out, const char *schema_ident)
{
	strbuf_reset(out);
	strbuf_addstr(out, "INSERT INTO ");
	table_name(out, schema_ident);
	strbuf_addstr(out, " (installed_rank, version, description, type, script, checksum,"
		      " installed_by, execution_time, success)"
		      " VALUES ($1, $2, $3, $4, $5, $6, COALESCE($7, current_user),"
		      " COALESCE($8, (extract(epoch FROM clock_timestamp() - now()) * 1000)::int), $9)"
		      " RETURNING execution_time");
}

void mig_history_delete_failed_sql(struct strbuf *out, const char *schema_ident)
{
	strbuf_reset(out);
	strbuf_addstr(out, "DELETE FROM ");
	table_name(out, schema_ident);
	strbuf_addstr(out, " WHERE NOT success");
}

void mig_history_update_sql(struct strbuf *out, const char *schema_ident)
{
	strbuf_reset(out);
	strbuf_addstr(out, "UPDATE ");
	table_name(out, schema_ident);
	strbuf_addstr(out, " SET description = $1, type = $2, checksum = $3"
		      " WHERE installed_rank = $4");
}

void mig_history_create_sql(struct strbuf *out, const char *schema_ident, int i)
{
	strbuf_reset(out);
	switch (i) {
	case 0:
		strbuf_addstr(out, "CREATE TABLE ");
		table_name(out, schema_ident);
		strbuf_addstr(out, " (\n"
			      "    \"installed_rank\" INT NOT NULL,\n"
			      "    \"version\" VARCHAR(50),\n"
			      "    \"description\" VARCHAR(200) NOT NULL,\n"
			      "    \"type\" VARCHAR(20) NOT NULL,\n"
			      "    \"script\" VARCHAR(1000) NOT NULL,\n"
			      "    \"checksum\" INTEGER,\n"
			      "    \"installed_by\" VARCHAR(100) NOT NULL,\n"
			      "    \"installed_on\" TIMESTAMP NOT NULL DEFAULT now(),\n"
			      "    \"execution_time\" INTEGER NOT NULL,\n"
			      "    \"success\" BOOLEAN NOT NULL\n"
			      ")");
		break;
	case 1:
		strbuf_addstr(out, "ALTER TABLE ");
		table_name(out, schema_ident);
		strbuf_addstr(out, " ADD CONSTRAINT \"" MIG_HISTORY_TABLE "_pk\""
			      " PRIMARY KEY (\"installed_rank\")");
		break;
	default:
		strbuf_addstr(out, "CREATE INDEX \"" MIG_HISTORY_TABLE "_s_idx\" ON ");
		table_name(out, schema_ident);
		strbuf_addstr(out, " (\"success\")");
		break;
	}
}

/* Bytes taken by the first `chars` characters of UTF-8 `s`. */
static size_t utf8_bytes(const char *s, size_t chars)
{
	const unsigned char *p = (const unsigned char *)s;

	while (chars-- > 0 && *p)
		utf8_next(&p);
	return (size_t)((const char *)p - s);
}

static size_t utf8_chars(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;

	while (*p) {
		utf8_next(&p);
		n++;
	}
	return n;
}

void mig_history_abbreviate_description(struct strbuf *out, const char *description)
{
	strbuf_reset(out);
	if (utf8_chars(description) <= MIG_DESCRIPTION_MAX) {
		strbuf_addstr(out, description);
		return;
	}
	strbuf_add(out, description, utf8_bytes(description, MIG_DESCRIPTION_MAX - 3));
	strbuf_addstr(out, "...");
}

void mig_history_abbreviate_script(struct strbuf *out, const char *script)
{
	size_t n = utf8_chars(script);

	strbuf_reset(out);
	if (n <= MIG_SCRIPT_MAX) {
		strbuf_addstr(out, script);
		return;
	}
	strbuf_addstr(out, "...");
	strbuf_addstr(out, script + utf8_bytes(script, n - (MIG_SCRIPT_MAX - 3)));
}
