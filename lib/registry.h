/* registry.h — the registry of managed databases: validated input, CRUD in
 * the control database with optimistic concurrency and keyset pagination,
 * and the decrypted connection target of a registered database.
 *
 * Passwords are write-only: they are sealed (lib/crypto.h) with the row's
 * id as additional data before they reach SQL, and nothing here returns
 * them except registry_target_load, for a connection test or a probe.
 *
 * Tenant scope: every read and write takes `scope`, the tenant slug of a
 * tenant-bound caller (NULL for a platform-scoped one). A scoped call sees
 * only rows whose tenant equals it; other rows are "not found", so their
 * existence does not leak. */
#ifndef INFRA_REGISTRY_H
#define INFRA_REGISTRY_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "cache.h"
#include "crypto.h"
#include "db.h"
#include "error.h"
#include "page_cursor.h"
#include "pgprobe.h"
#include "uuid.h"

/* --- input validation (registry_validate.c) --- */

enum registry_field {
	REGISTRY_NAME,
	REGISTRY_HOST,
	REGISTRY_PORT,
	REGISTRY_DATABASE_NAME,
	REGISTRY_USERNAME,
	REGISTRY_PASSWORD,
	REGISTRY_DATABASE_TYPE,
	REGISTRY_REGION,
	REGISTRY_SCHEMA,
	REGISTRY_SSLMODE,
	REGISTRY_LABELS,
	REGISTRY_AUTO_MIGRATE,
	REGISTRY_IS_ACTIVE,
	REGISTRY_TENANT,
	REGISTRY__NFIELDS
};

/* What a request body may say about a database. Strings are borrowed from
 * the parsed JSON body and live as long as it does; `region` and `tenant`
 * may be NULL when present (JSON null clears them). */
struct registry_input {
	unsigned present;		/* bit (1u << field) per field given */
	const char *name, *host, *database_name, *username, *password;
	const char *database_type, *region, *schema, *sslmode, *tenant;
	int port;
	json_object *labels;		/* a flat object of strings; borrowed */
	bool auto_migrate, is_active;
};

#define REGISTRY_HAS(in, f) (((in)->present & (1u << (f))) != 0)

/* What the body is for: which fields are required and which allowed. */
enum registry_mode {
	REGISTRY_FOR_CREATE,	/* name, host, database_name, username, password, database_type */
	REGISTRY_FOR_UPDATE,	/* any subset, at least one field */
	REGISTRY_FOR_TEST,	/* host, database_name, username, password; the rest optional */
};

/* Limits, documented in docs/API.md. */
#define REGISTRY_NAME_MAX 100
#define REGISTRY_HOST_MAX 253
#define REGISTRY_IDENT_MAX 63		/* PostgreSQL's NAMEDATALEN - 1 */
#define REGISTRY_PASSWORD_MAX 1024
#define REGISTRY_REGION_MAX 64
#define REGISTRY_LABELS_MAX 32
#define REGISTRY_LABEL_KEY_MAX 63
#define REGISTRY_LABEL_VALUE_MAX 255

/* Validate `body` (a JSON object) field by field through the declared table
 * of field → validator, filling `in` with defaults applied for a create
 * (port 5432, schema "public", sslmode "prefer", labels {}, auto_migrate
 * false, is_active true). Returns 0, or -1 with *problems set to a new
 * JSON object naming every bad, missing, unknown or read-only field with
 * its reason (the caller puts it, e.g. into respond_invalid_fields). */
int registry_input_parse(json_object *body, enum registry_mode mode,
			 struct registry_input *in, json_object **problems);

/* The pure syntax checks behind the table, exposed for tests: each returns
 * NULL when `s` is acceptable, or why not. */
const char *registry_check_host(const char *s);
const char *registry_check_identifier(const char *s, size_t len);
const char *registry_check_name(const char *s);
const char *registry_check_region(const char *s);
const char *registry_check_tenant(const char *s);
const char *registry_check_labels(json_object *labels);

/* 1 when `s` is one of the database types / sslmodes. */
bool registry_database_type_valid(const char *s);
bool registry_sslmode_valid(const char *s);

/* --- rows --- */

/* One registered database as stored (never its password). Strings point
 * into the result that owns them (struct registry_rows) and die with it;
 * region and tenant may be NULL; labels is a JSON object's text. */
struct registry_database {
	const char *id, *name, *host, *database_name, *username, *database_type;
	const char *region, *schema, *sslmode, *labels, *tenant;
	const char *created_by, *updated_by;
	int port, version;
	bool auto_migrate, is_active;
	int64_t created_at_us, updated_at_us;	/* microseconds since the epoch */
};

/* Zero or more databases and, for a list, the page's context. */
struct registry_rows {
	PGresult *res;			/* the strings live in it */
	struct registry_database *items;
	int n;
	long long total;		/* a list: rows matching the filters */
	char next_cursor[PAGE_CURSOR_MAX];	/* a list: "" on the last page */
};

void registry_rows_init(struct registry_rows *rows);
/* Free the rows; every string taken from them becomes invalid. */
void registry_rows_release(struct registry_rows *rows);

/* Register a database described by `in` (validated for create) under a new
 * id, created_by `actor`; in the same transaction create its circuit (a
 * probe due now) and, when auto_migrate is true, a database.registered
 * outbox event. `in->tenant` is stored as given: the caller has applied
 * its scope. Returns 0 with the new row in `out`, or -1: INFRA_ECONFLICT
 * when an active database has that name, INFRA_EINTERNAL when the key ring
 * cannot seal, or what db_exec says. */
int registry_create(struct db *db, const struct crypto_keyring *ring,
		    const struct registry_input *in, const char *actor,
		    struct registry_rows *out, struct infra_error *err);

/* Read database `id` (active or not) within `scope`. Returns 0 with one
 * row in `out`, or -1: INFRA_ENOTFOUND (also for a malformed id). */
int registry_get(struct db *db, const char *id, const char *scope,
		 struct registry_rows *out, struct infra_error *err);

struct registry_filter {
	const char *scope;		/* tenant slug, or NULL */
	const char *region;		/* NULL: any */
	const char *database_type;	/* NULL: any */
	const char *q;			/* substring of the name, any case; NULL: any */
	int active;			/* 1 active, 0 deleted, -1 both */
	int limit;			/* 1..100 */
	const char *cursor;		/* from a previous page's next_cursor, or NULL */
};

/* One page of databases in creation order (created_at, id), starting after
 * `cursor`. Keyset pagination: rows inserted while a client pages appear
 * at the end, never shifting what it has not read yet, and no row is
 * returned twice. Returns 0 with the page, `total` and `next_cursor` in
 * `out`, or -1: INFRA_EINVAL (field "cursor") for a cursor that is not
 * one of ours. */
int registry_list(struct db *db, const struct registry_filter *filter,
		  struct registry_rows *out, struct infra_error *err);

/* --- the list cache ---
 * Rendered list pages may be kept in memcached for REGISTRY_LIST_CACHE_TTL
 * seconds under a key that includes a registry generation, a counter in
 * memcached that every write through the API increments: a write makes
 * every cached page unreachable at once, on every host. A page can be
 * stale only when memcached lost the counter or a write bypassed the API,
 * and then for at most the TTL. */
#define REGISTRY_LIST_CACHE_TTL 10

/* The key of page `f` under the current generation, into `out`. */
void registry_list_cache_key(struct cache *cache, const struct registry_filter *f,
			     char out[CACHE_KEY_MAX]);

/* Note a committed write: pages cached before it are not used again. */
void registry_cache_bump(struct cache *cache);

/* Apply the fields present in `in` (validated for update) to database `id`
 * within `scope`, by `actor`, when its version is `if_version` (0: any).
 * A new password is sealed under the ring's first key. The version goes up
 * by one. Returns 0 with the updated row, or -1: INFRA_ENOTFOUND,
 * INFRA_EPRECOND (the version moved on), INFRA_ECONFLICT (the name is taken
 * among active databases). */
int registry_update(struct db *db, const struct crypto_keyring *ring,
		    const char *id, const char *scope, const struct registry_input *in,
		    int if_version, const char *actor, struct registry_rows *out,
		    struct infra_error *err);

/* Soft-delete database `id` within `scope`: is_active false, deleted_at and
 * deleted_by set, version up by one; its name is free again and probes
 * stop. Returns 0, or -1: INFRA_ENOTFOUND (also when already deleted),
 * INFRA_EPRECOND when its version is not `if_version` (0: any). */
int registry_delete(struct db *db, const char *id, const char *scope,
		    int if_version, const char *actor, struct infra_error *err);

/* --- credentials --- */

/* The additional data binding a sealed password to row `id`. */
#define REGISTRY_AAD_MAX (UUID_STR_LEN + 16)
void registry_password_aad(char out[REGISTRY_AAD_MAX], const char *id);

/* Open a stored password: `enc` is the bytea column as text ("\x…" hex).
 * Returns 0 with a NUL-terminated password in *password (free it with
 * crypto_secret_free), or -1 with crypto_open's reason. */
int registry_password_open(const struct crypto_keyring *ring, const char *id,
			   const char *kid, const char *enc, char **password,
			   struct infra_error *err);

/* A registered database's connection target with its password decrypted. */
struct registry_target {
	struct pgprobe_target pg;	/* strings owned by this struct */
	char id[UUID_STR_LEN];
	char name[REGISTRY_NAME_MAX + 1];
	bool credentials_ok;		/* false: pg.password is NULL, see error */
	char error[INFRA_ERRMSG_MAX + 64];	/* why the credentials could not be opened */
	PGresult *res;
	char *password;
};

void registry_target_init(struct registry_target *t);
/* Wipe the password and free what `t` owns. */
void registry_target_release(struct registry_target *t);

/* Load database `id` within `scope` and open its password. Returns 0 with
 * `t` filled — credentials_ok false and `error` saying why when the
 * password does not decrypt (a key missing from the ring, a tampered
 * value): a clear error for that database, never a garbage password — or
 * -1: INFRA_ENOTFOUND, or what db_exec says. */
int registry_target_load(struct db *db, const struct crypto_keyring *ring,
			 const char *id, const char *scope, struct registry_target *t,
			 struct infra_error *err);

/* Re-seal under the ring's first key, in batches of `batch` rows, every
 * stored password not already under it; each batch is its own transaction
 * holding row locks (FOR UPDATE), so it runs online beside the API, and an
 * interrupted run resumes where it stopped. Rows whose password does not
 * open are counted in *failed and left as they are (each logged with its
 * id and reason). Returns 0 with the counts, or -1 with `err`. */
int registry_rotate_keys(struct db *db, const struct crypto_keyring *ring, int batch,
			 long *rotated, long *failed, struct infra_error *err);

/* Rows whose password is not under the ring's first key. 0 or -1. */
int registry_count_stale_keys(struct db *db, const struct crypto_keyring *ring,
			      long *count, struct infra_error *err);

#endif
