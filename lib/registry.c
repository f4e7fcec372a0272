/* registry.c — the registry of managed databases in the control database
 * (see registry.h): CRUD with parameters only, optimistic concurrency on a
 * version column, keyset pagination over (created_at, id), passwords sealed
 * with the row id as additional data, and online key rotation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "outbox.h"
#include "page_cursor.h"
#include "registry.h"
#include "strbuf.h"

/* The columns of a database as the API shows it, in registry_database
 * order; timestamps as microseconds since the epoch (exact, for cursors). */
#define COLUMNS                                                                          \
	"d.id, d.name, d.host, d.port, d.database_name, d.username, d.database_type, "   \
	"d.region, d.schema_name, d.sslmode, d.labels, d.auto_migrate, d.is_active, "     \
	"d.tenant, d.version, (extract(epoch FROM d.created_at) * 1000000)::bigint, "    \
	"d.created_by, (extract(epoch FROM d.updated_at) * 1000000)::bigint, d.updated_by"
#define NCOLUMNS 19

/* A tenant-bound caller sees only its tenant's rows ($2 is the scope). */
#define SCOPE_2 "($2::text IS NULL OR d.tenant = $2)"

void registry_rows_init(struct registry_rows *rows)
{
	memset(rows, 0, sizeof(*rows));
}

void registry_rows_release(struct registry_rows *rows)
{
	PQclear(rows->res);
	free(rows->items);
	registry_rows_init(rows);
}

static const char *value(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/* Take the rows of `res` (columns from `first` on, in COLUMNS order; rows
 * whose id is NULL skipped) into `rows`, which then owns `res`. */
static int rows_take(struct registry_rows *rows, PGresult *res, int first,
		     struct infra_error *err)
{
	int n = PQntuples(res);

	rows->res = res;
	rows->n = 0;
	rows->items = calloc(n > 0 ? (size_t)n : 1, sizeof(*rows->items));
	if (rows->items == NULL)
		return infra_fail(err, INFRA_EINTERNAL, "out of memory");
	for (int i = 0; i < n; i++) {
		struct registry_database *d = &rows->items[rows->n];
		int c = first;

		if (PQgetisnull(res, i, c))
			continue;
		d->id = value(res, i, c++);
		d->name = value(res, i, c++);
		d->host = value(res, i, c++);
		d->port = atoi(PQgetvalue(res, i, c++));
		d->database_name = value(res, i, c++);
		d->username = value(res, i, c++);
		d->database_type = value(res, i, c++);
		d->region = value(res, i, c++);
		d->schema = value(res, i, c++);
		d->sslmode = value(res, i, c++);
		d->labels = value(res, i, c++);
		d->auto_migrate = PQgetvalue(res, i, c++)[0] == 't';
		d->is_active = PQgetvalue(res, i, c++)[0] == 't';
		d->tenant = value(res, i, c++);
		d->version = atoi(PQgetvalue(res, i, c++));
		d->created_at_us = strtoll(PQgetvalue(res, i, c++), NULL, 10);
		d->created_by = value(res, i, c++);
		d->updated_at_us = strtoll(PQgetvalue(res, i, c++), NULL, 10);
		d->updated_by = value(res, i, c++);
		rows->n++;
	}
	return 0;
}

/* --- credentials --- */

void registry_password_aad(char out[REGISTRY_AAD_MAX], const char *id)
{
	snprintf(out, REGISTRY_AAD_MAX, "databases:%s", id);
}

/* Seal `password` for row `id` and hex-encode it as a bytea literal
 * ("\x…") into `hex` (malloc'ed, the caller frees). */
static int seal_password(const struct crypto_keyring *ring, const char *id,
			 const char *password, char kid[CRYPTO_KID_MAX + 1], char **hex,
			 struct infra_error *err)
{
	static const char digits[] = "0123456789abcdef";
	char aad[REGISTRY_AAD_MAX];
	struct crypto_sealed s;
	char *out;

	registry_password_aad(aad, id);
	if (crypto_seal(ring, aad, password, strlen(password), &s, err) != 0)
		return -1;
	out = malloc(2 * s.len + 3);
	if (out == NULL) {
		crypto_sealed_release(&s);
		return infra_fail(err, INFRA_EINTERNAL, "out of memory");
	}
	out[0] = '\\';
	out[1] = 'x';
	for (size_t i = 0; i < s.len; i++) {
		out[2 + 2 * i] = digits[s.data[i] >> 4];
		out[3 + 2 * i] = digits[s.data[i] & 0x0f];
	}
	out[2 + 2 * s.len] = '\0';
	memcpy(kid, s.kid, CRYPTO_KID_MAX + 1);
	crypto_sealed_release(&s);
	*hex = out;
	return 0;
}

int registry_password_open(const struct crypto_keyring *ring, const char *id,
			   const char *kid, const char *enc, char **password,
			   struct infra_error *err)
{
	char aad[REGISTRY_AAD_MAX];
	unsigned char *raw;
	size_t len;
	int rc;

	*password = NULL;
	raw = PQunescapeBytea((const unsigned char *)(enc ? enc : ""), &len);
	if (raw == NULL)
		return infra_fail(err, INFRA_EINTERNAL, "the encrypted value is unreadable");
	registry_password_aad(aad, id);
	rc = crypto_open(ring, kid, aad, raw, len, password, NULL, err);
	PQfreemem(raw);
	return rc;
}

/* --- create, read --- */

static json_object *registered_event(const struct registry_database *d)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "database_id", json_object_new_string(d->id));
	json_object_object_add(o, "name", json_object_new_string(d->name));
	json_object_object_add(o, "database_type", json_object_new_string(d->database_type));
	json_object_object_add(o, "region", d->region ? json_object_new_string(d->region) : NULL);
	json_object_object_add(o, "schema", json_object_new_string(d->schema));
	json_object_object_add(o, "tenant", d->tenant ? json_object_new_string(d->tenant) : NULL);
	return o;
}

int registry_create(struct db *db, const struct crypto_keyring *ring,
		    const struct registry_input *in, const char *actor,
		    struct registry_rows *out, struct infra_error *err)
{
	char id[UUID_STR_LEN], kid[CRYPTO_KID_MAX + 1], port[16];
	char *enc = NULL;
	const char *params[17];
	PGresult *res;

	registry_rows_init(out);
	uuid_generate(id);
	if (seal_password(ring, id, in->password, kid, &enc, err) != 0)
		return -1;
	snprintf(port, sizeof(port), "%d", in->port);
	params[0] = id;
	params[1] = in->name;
	params[2] = in->host;
	params[3] = port;
	params[4] = in->database_name;
	params[5] = in->username;
	params[6] = kid;
	params[7] = enc;
	params[8] = in->database_type;
	params[9] = in->region;
	params[10] = in->schema;
	params[11] = in->sslmode;
	params[12] = in->labels ? json_object_to_json_string_ext(in->labels, JSON_C_TO_STRING_PLAIN)
				: "{}";
	params[13] = in->auto_migrate ? "true" : "false";
	params[14] = in->is_active ? "true" : "false";
	params[15] = in->tenant;
	params[16] = actor;
	if (db_begin(db, err) != 0) {
		free(enc);
		return -1;
	}
	/* A name taken among active rows is a conflict, not an error. */
	res = db_exec(db, err,
		      "INSERT INTO databases AS d (id, name, host, port, database_name, username, "
		      "password_kid, password_enc, database_type, region, schema_name, sslmode, "
		      "labels, auto_migrate, is_active, tenant, created_by, updated_by) "
		      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8::bytea, $9, $10, $11, $12, $13::jsonb, "
		      "$14, $15, $16, $17, $17) "
		      "ON CONFLICT (name) WHERE is_active DO NOTHING RETURNING " COLUMNS,
		      17, params);
	free(enc);
	if (res == NULL)
		goto fail;
	if (PQntuples(res) == 0) {
		PQclear(res);
		infra_fail(err, INFRA_ECONFLICT, "an active database named '%s' already exists",
			   in->name);
		goto fail;
	}
	if (rows_take(out, res, 0, err) != 0)
		goto fail;
	{
		const char *cparams[1] = { id };

		if (db_exec_command(db, err, "INSERT INTO database_circuits (database_id) VALUES ($1)",
				    1, cparams) != 0)
			goto fail;
	}
	if (in->auto_migrate) {
		json_object *event = registered_event(&out->items[0]);
		int rc = outbox_record(db, "database.registered", id, event, err);

		json_object_put(event);
		if (rc != 0)
			goto fail;
	}
	if (db_commit(db, err) != 0)
		goto fail;
	return 0;
fail:
	db_rollback(db);
	registry_rows_release(out);
	return -1;
}

int registry_get(struct db *db, const char *id, const char *scope,
		 struct registry_rows *out, struct infra_error *err)
{
	const char *params[2] = { id, scope };
	PGresult *res;

	registry_rows_init(out);
	if (!uuid_is_valid(id))
		return infra_fail(err, INFRA_ENOTFOUND, "no such database");
	res = db_exec(db, err, "SELECT " COLUMNS " FROM databases d WHERE d.id = $1 AND " SCOPE_2,
		      2, params);
	if (res == NULL)
		return -1;
	if (rows_take(out, res, 0, err) != 0) {
		registry_rows_release(out);
		return -1;
	}
	if (out->n == 0) {
		registry_rows_release(out);
		return infra_fail(err, INFRA_ENOTFOUND, "no such database");
	}
	return 0;
}

/* --- list --- */

/* "%<q>%" with LIKE's metacharacters escaped (ESCAPE '\'). */
static char *like_pattern(const char *q)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addch(&sb, '%');
	for (const char *p = q; *p; p++) {
		if (*p == '%' || *p == '_' || *p == '\\')
			strbuf_addch(&sb, '\\');
		strbuf_addch(&sb, *p);
	}
	strbuf_addch(&sb, '%');
	return strbuf_detach(&sb, NULL);
}

int registry_list(struct db *db, const struct registry_filter *f,
		  struct registry_rows *out, struct infra_error *err)
{
	char micros[PAGE_CURSOR_MICROS_MAX], cursor_id[UUID_STR_LEN], limit[16];
	const char *params[9];
	char *pattern = NULL;
	PGresult *res;
	int rc;

	registry_rows_init(out);
	if (f->cursor != NULL && f->cursor[0] != '\0' &&
	    page_cursor_decode(f->cursor, micros, cursor_id) != 0)
		return infra_fail_field(err, "cursor", "is not a cursor this API returned");
	if (f->q != NULL && f->q[0] != '\0')
		pattern = like_pattern(f->q);
	snprintf(limit, sizeof(limit), "%d", f->limit + 1);	/* one more: is there a next page? */
	params[0] = f->scope;
	params[1] = f->region;
	params[2] = f->database_type;
	params[3] = f->active < 0 ? NULL : f->active ? "true" : "false";
	params[4] = pattern;
	params[5] = f->cursor && f->cursor[0] ? micros : NULL;
	params[6] = f->cursor && f->cursor[0] ? cursor_id : NULL;
	params[7] = limit;
#define FILTERS                                                                        \
	"($1::text IS NULL OR d.tenant = $1) AND ($2::text IS NULL OR d.region = $2) "  \
	"AND ($3::text IS NULL OR d.database_type = $3) "                               \
	"AND ($4::boolean IS NULL OR d.is_active = $4) "                                \
	"AND ($5::text IS NULL OR d.name ILIKE $5 ESCAPE '\\')"
	/* One round trip: the count, and the page beside it (an empty page
	 * still yields the count's row, with NULL columns). */
	/* Prepared once per connection (db_statements.c): on a registry of a
	 * few thousand rows, planning this query costs as much as running it. */
	res = db_exec(db, err,
		      "SELECT c.total, p.* FROM (SELECT count(*) AS total FROM databases d WHERE "
		      FILTERS ") c LEFT JOIN LATERAL (SELECT " COLUMNS " FROM databases d WHERE "
		      FILTERS " AND ($6::bigint IS NULL OR (d.created_at, d.id) > "
		      "('epoch'::timestamptz + $6::bigint * interval '1 microsecond', $7::uuid)) "
		      "ORDER BY d.created_at, d.id LIMIT $8::int) p ON true",
		      8, params);
#undef FILTERS
	free(pattern);
	if (res == NULL)
		return -1;
	out->total = PQntuples(res) > 0 ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
	rc = rows_take(out, res, 1, err);
	if (rc != 0) {
		registry_rows_release(out);
		return -1;
	}
	if (out->n > f->limit) {
		const struct registry_database *last = &out->items[f->limit - 1];
		char us[PAGE_CURSOR_MICROS_MAX];

		out->n = f->limit;
		snprintf(us, sizeof(us), "%lld", (long long)last->created_at_us);
		page_cursor_encode(out->next_cursor, sizeof(out->next_cursor), us, last->id);
	}
	return 0;
}

/* --- the list cache --- */

#define GENERATION_KEY "infra:registry:generation"

void registry_list_cache_key(struct cache *cache, const struct registry_filter *f,
			     char out[CACHE_KEY_MAX])
{
	struct strbuf part = STRBUF_INIT;
	size_t len = 0;
	char *gen = cache_get(cache, GENERATION_KEY, &len);

	/* Every input of the page, length-prefixed so none can run into the
	 * next; NULL ("-") and "" ("0:") differ. */
	strbuf_addf(&part, "%s|%d|%d", gen ? gen : "0", f->active, f->limit);
	free(gen);
	for (int i = 0; i < 5; i++) {
		const char *v = i == 0 ? f->scope : i == 1 ? f->region : i == 2 ? f->database_type
			: i == 3 ? f->q : f->cursor;

		if (v)
			strbuf_addf(&part, "|%zu:%s", strlen(v), v);
		else
			strbuf_addstr(&part, "|-");
	}
	cache_key(out, "dblist", part.buf);
	strbuf_release(&part);
}

void registry_cache_bump(struct cache *cache)
{
	uint64_t v;

	cache_incr(cache, GENERATION_KEY, 1, 1, 0, &v);
}

/* --- update, delete --- */

/* After an UPDATE … WHERE version matched nothing: was it missing, or was
 * its version another? Fills `err` accordingly and returns -1. */
static int missing_or_stale(struct db *db, const char *id, const char *scope,
			    bool active_only, int if_version, struct infra_error *err)
{
	const char *params[2] = { id, scope };
	PGresult *res = db_exec(db, err,
				"SELECT d.version, d.is_active FROM databases d WHERE d.id = $1 AND "
				SCOPE_2, 2, params);
	int rc;

	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0 || (active_only && PQgetvalue(res, 0, 1)[0] != 't'))
		rc = infra_fail(err, INFRA_ENOTFOUND, "no such database");
	else
		rc = infra_fail(err, INFRA_EPRECOND, "the database is at version %s, not %d "
				"(it changed since it was read)", PQgetvalue(res, 0, 0), if_version);
	PQclear(res);
	return rc;
}

int registry_update(struct db *db, const struct crypto_keyring *ring,
		    const char *id, const char *scope, const struct registry_input *in,
		    int if_version, const char *actor, struct registry_rows *out,
		    struct infra_error *err)
{
	/* Column names are constants of this table; values are parameters. */
	static const char *const columns[REGISTRY__NFIELDS] = {
		[REGISTRY_NAME] = "name",
		[REGISTRY_HOST] = "host",
		[REGISTRY_PORT] = "port",
		[REGISTRY_DATABASE_NAME] = "database_name",
		[REGISTRY_USERNAME] = "username",
		[REGISTRY_PASSWORD] = NULL,	/* password_kid and password_enc */
		[REGISTRY_DATABASE_TYPE] = "database_type",
		[REGISTRY_REGION] = "region",
		[REGISTRY_SCHEMA] = "schema_name",
		[REGISTRY_SSLMODE] = "sslmode",
		[REGISTRY_LABELS] = "labels",
		[REGISTRY_AUTO_MIGRATE] = "auto_migrate",
		[REGISTRY_IS_ACTIVE] = "is_active",
		[REGISTRY_TENANT] = "tenant",
	};
	const char *params[4 + REGISTRY__NFIELDS + 1];
	char kid[CRYPTO_KID_MAX + 1], port[16], version[16];
	struct strbuf sql = STRBUF_INIT;
	char *enc = NULL;
	PGresult *res;
	int n = 4;

	registry_rows_init(out);
	if (!uuid_is_valid(id))
		return infra_fail(err, INFRA_ENOTFOUND, "no such database");
	if (REGISTRY_HAS(in, REGISTRY_PASSWORD) &&
	    seal_password(ring, id, in->password, kid, &enc, err) != 0)
		return -1;
	snprintf(port, sizeof(port), "%d", in->port);
	snprintf(version, sizeof(version), "%d", if_version);
	params[0] = id;
	params[1] = scope;
	params[2] = if_version > 0 ? version : NULL;
	params[3] = actor;
	strbuf_addstr(&sql, "UPDATE databases AS d SET version = d.version + 1, "
			    "updated_at = clock_timestamp(), updated_by = $4");
	for (int f = 0; f < REGISTRY__NFIELDS; f++) {
		const char *v;

		if (!REGISTRY_HAS(in, f))
			continue;
		switch (f) {
		case REGISTRY_NAME: v = in->name; break;
		case REGISTRY_HOST: v = in->host; break;
		case REGISTRY_PORT: v = port; break;
		case REGISTRY_DATABASE_NAME: v = in->database_name; break;
		case REGISTRY_USERNAME: v = in->username; break;
		case REGISTRY_DATABASE_TYPE: v = in->database_type; break;
		case REGISTRY_REGION: v = in->region; break;
		case REGISTRY_SCHEMA: v = in->schema; break;
		case REGISTRY_SSLMODE: v = in->sslmode; break;
		case REGISTRY_LABELS:
			v = json_object_to_json_string_ext(in->labels, JSON_C_TO_STRING_PLAIN);
			break;
		case REGISTRY_AUTO_MIGRATE: v = in->auto_migrate ? "true" : "false"; break;
		case REGISTRY_IS_ACTIVE: v = in->is_active ? "true" : "false"; break;
		case REGISTRY_TENANT: v = in->tenant; break;
		case REGISTRY_PASSWORD:
			params[n++] = kid;
			params[n++] = enc;
			strbuf_addf(&sql, ", password_kid = $%d, password_enc = $%d::bytea", n - 1, n);
			continue;
		default:
			continue;
		}
		params[n++] = v;
		strbuf_addf(&sql, ", %s = $%d", columns[f], n);
		if (f == REGISTRY_LABELS)
			strbuf_addstr(&sql, "::jsonb");
		else if (f == REGISTRY_PORT)
			strbuf_addstr(&sql, "::integer");
		else if (f == REGISTRY_AUTO_MIGRATE || f == REGISTRY_IS_ACTIVE)
			strbuf_addstr(&sql, "::boolean");
	}
	/* Reactivating clears the deletion marks. */
	if (REGISTRY_HAS(in, REGISTRY_IS_ACTIVE) && in->is_active)
		strbuf_addstr(&sql, ", deleted_at = NULL, deleted_by = NULL");
	strbuf_addstr(&sql, " WHERE d.id = $1 AND " SCOPE_2
			    " AND ($3::integer IS NULL OR d.version = $3) RETURNING " COLUMNS);
	res = db_exec(db, err, sql.buf, n, params);
	strbuf_release(&sql);
	free(enc);
	if (res == NULL) {
		if (err != NULL && err->kind == INFRA_ECONFLICT)
			infra_fail(err, INFRA_ECONFLICT, "another active database has this name");
		return -1;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		return missing_or_stale(db, id, scope, false, if_version, err);
	}
	if (rows_take(out, res, 0, err) != 0) {
		registry_rows_release(out);
		return -1;
	}
	return 0;
}

int registry_delete(struct db *db, const char *id, const char *scope,
		    int if_version, const char *actor, struct infra_error *err)
{
	char version[16];
	const char *params[4] = { id, scope, NULL, actor };
	PGresult *res;
	int n;

	if (!uuid_is_valid(id))
		return infra_fail(err, INFRA_ENOTFOUND, "no such database");
	snprintf(version, sizeof(version), "%d", if_version);
	params[2] = if_version > 0 ? version : NULL;
	res = db_exec(db, err,
		      "UPDATE databases AS d SET is_active = false, deleted_at = clock_timestamp(), "
		      "deleted_by = $4, version = d.version + 1, updated_at = clock_timestamp(), "
		      "updated_by = $4 WHERE d.id = $1 AND " SCOPE_2 " AND d.is_active "
		      "AND ($3::integer IS NULL OR d.version = $3) RETURNING d.id",
		      4, params);
	if (res == NULL)
		return -1;
	n = PQntuples(res);
	PQclear(res);
	return n > 0 ? 0 : missing_or_stale(db, id, scope, true, if_version, err);
}

/* --- connection targets --- */

void registry_target_init(struct registry_target *t)
{
	memset(t, 0, sizeof(*t));
}

void registry_target_release(struct registry_target *t)
{
	crypto_secret_free(t->password, 0);
	PQclear(t->res);
	registry_target_init(t);
}

int registry_target_load(struct db *db, const struct crypto_keyring *ring,
			 const char *id, const char *scope, struct registry_target *t,
			 struct infra_error *err)
{
	const char *params[2] = { id, scope };
	struct infra_error why;
	PGresult *res;

	registry_target_init(t);
	if (!uuid_is_valid(id))
		return infra_fail(err, INFRA_ENOTFOUND, "no such database");
	res = db_exec(db, err,
		      "SELECT d.id, d.name, d.host, d.port, d.database_name, d.username, d.sslmode, "
		      "d.password_kid, d.password_enc FROM databases d WHERE d.id = $1 AND " SCOPE_2,
		      2, params);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return infra_fail(err, INFRA_ENOTFOUND, "no such database");
	}
	t->res = res;
	snprintf(t->id, sizeof(t->id), "%s", PQgetvalue(res, 0, 0));
	snprintf(t->name, sizeof(t->name), "%s", PQgetvalue(res, 0, 1));
	t->pg.host = PQgetvalue(res, 0, 2);
	t->pg.port = atoi(PQgetvalue(res, 0, 3));
	t->pg.dbname = PQgetvalue(res, 0, 4);
	t->pg.user = PQgetvalue(res, 0, 5);
	t->pg.sslmode = PQgetvalue(res, 0, 6);
	if (registry_password_open(ring, t->id, PQgetvalue(res, 0, 7), PQgetvalue(res, 0, 8),
				   &t->password, &why) != 0) {
		snprintf(t->error, sizeof(t->error), "stored credentials cannot be decrypted: %s",
			 why.message);
		t->credentials_ok = false;
		return 0;
	}
	t->pg.password = t->password;
	t->credentials_ok = true;
	return 0;
}

/* --- key rotation --- */

int registry_count_stale_keys(struct db *db, const struct crypto_keyring *ring,
			      long *count, struct infra_error *err)
{
	const char *params[1] = { crypto_keyring_primary(ring) };
	PGresult *res;

	if (params[0] == NULL)
		return infra_fail(err, INFRA_EINTERNAL, "no encryption key configured");
	res = db_exec(db, err, "SELECT count(*) FROM databases WHERE password_kid <> $1", 1, params);
	if (res == NULL)
		return -1;
	*count = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

/* Re-seal one locked row under the first key. 0, 1 when its password does
 * not open (logged, left as it is), -1 on a database error. */
static int rotate_row(struct db *db, const struct crypto_keyring *ring, const char *id,
		      const char *kid, const char *enc, struct infra_error *err)
{
	char newkid[CRYPTO_KID_MAX + 1];
	char *password, *hex;
	struct infra_error why;
	int rc;

	if (registry_password_open(ring, id, kid, enc, &password, &why) != 0) {
		json_object *f = json_object_new_object();

		json_object_object_add(f, "database_id", json_object_new_string(id));
		json_object_object_add(f, "error", json_object_new_string(why.message));
		log_emit(LOG_LEVEL_WARN, "cannot re-encrypt the stored password of a database", f);
		return 1;
	}
	rc = seal_password(ring, id, password, newkid, &hex, err);
	crypto_secret_free(password, 0);
	if (rc != 0)
		return -1;
	{
		const char *params[3] = { id, newkid, hex };

		rc = db_exec_command(db, err, "UPDATE databases SET password_kid = $2, "
				     "password_enc = $3::bytea WHERE id = $1", 3, params);
	}
	free(hex);
	return rc;
}

int registry_rotate_keys(struct db *db, const struct crypto_keyring *ring, int batch,
			 long *rotated, long *failed, struct infra_error *err)
{
	char last[UUID_STR_LEN] = "00000000-0000-0000-0000-000000000000", limit[16];
	const char *primary = crypto_keyring_primary(ring);

	*rotated = 0;
	*failed = 0;
	if (primary == NULL)
		return infra_fail(err, INFRA_EINTERNAL, "no encryption key configured");
	snprintf(limit, sizeof(limit), "%d", batch > 0 ? batch : 1);
	for (;;) {
		const char *params[3] = { primary, last, limit };
		PGresult *res;
		int n;

		if (db_begin(db, err) != 0)
			return -1;
		/* Walk ids upwards so rows that fail to open are passed once. */
		res = db_exec(db, err,
			      "SELECT id, password_kid, password_enc FROM databases "
			      "WHERE password_kid <> $1 AND id > $2::uuid ORDER BY id LIMIT $3::int "
			      "FOR UPDATE", 3, params);
		if (res == NULL) {
			db_rollback(db);
			return -1;
		}
		n = PQntuples(res);
		for (int i = 0; i < n; i++) {
			int rc = rotate_row(db, ring, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
					    PQgetvalue(res, i, 2), err);

			if (rc < 0) {
				PQclear(res);
				db_rollback(db);
				return -1;
			}
			if (rc == 0)
				(*rotated)++;
			else
				(*failed)++;
		}
		if (n > 0)
			snprintf(last, sizeof(last), "%s", PQgetvalue(res, n - 1, 0));
		PQclear(res);
		if (db_commit(db, err) != 0)
			return -1;
		if (n == 0)
			return 0;
	}
}
