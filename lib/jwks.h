/* jwks.h — the signature keys this process trusts: a JWKS file
 * (JWKS_FILE) and/or the issuer's JWKS URL (JWKS_URL, fetched with libcurl,
 * TLS verified against JWKS_CA_FILE or the system's CAs, short timeouts).
 *
 * The fetched document is shared through memcached so one fetch serves
 * every process and host. A token naming an unknown kid triggers a refresh
 * — the file re-read if it changed, memcached's copy adopted if newer, or a
 * fetch — at most once per JWKS_REFRESH_MIN_INTERVAL in this process and,
 * through a memcached add-lock, in the whole fleet, so a flood of forged
 * kids cannot hammer the issuer. A set older than JWKS_MAX_AGE_S is
 * refreshed the same way (keys the issuer withdrew stop being trusted).
 * When the issuer is unreachable the last good set is kept. */
#ifndef INFRA_JWKS_H
#define INFRA_JWKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "error.h"
#include "jwk.h"

#define JWKS_MAX_AGE_S 3600
#define JWKS_CONNECT_TIMEOUT_MS 1000
#define JWKS_FETCH_TIMEOUT_MS 3000
#define JWKS_MAX_DOCUMENT (1024 * 1024)

struct jwks_options {
	const char *file;		/* JWKS_FILE; NULL or "" for none */
	const char *url;		/* JWKS_URL; NULL or "" for none */
	const char *ca_file;		/* JWKS_CA_FILE; NULL or "": the system's CAs */
	int refresh_min_interval_s;	/* JWKS_REFRESH_MIN_INTERVAL */
};

struct jwks_status {
	size_t nkeys;			/* keys usable now */
	bool ready;			/* at least one key */
	bool has_url;			/* keys come (also) from JWKS_URL */
	bool last_fetch_ok;		/* the last fetch succeeded (true without a URL) */
	int64_t last_fetch_at;		/* seconds since the epoch; 0: never */
	int64_t last_ok_at;		/* … of the last successful fetch or adoption */
	uint64_t fetches;		/* fetch attempts by this process */
};

struct jwks;

/* A key source for `o` (the strings are copied), sharing through `cache`
 * (borrowed; may be a disabled client). Loads nothing yet. Returns NULL
 * only when out of memory. */
struct jwks *jwks_new(const struct jwks_options *o, struct cache *cache);

/* Free the keys and the source. NULL is allowed. */
void jwks_free(struct jwks *j);

/* Load the keys now: the file, and for the URL memcached's copy or else a
 * fetch. Returns 0 when at least one key is usable, or -1 (err filled,
 * INFRA_EUNAVAIL) — the source stays usable and retries on lookups. */
int jwks_load(struct jwks *j, struct infra_error *err);

/* The signature key named `kid`, refreshing (rate-limited) when it is
 * unknown or the set is old. The pointer is valid until the next call on
 * `j`. NULL when no such key is trusted. */
const struct jwk *jwks_find(struct jwks *j, const char *kid);

/* For /health/ready's jwks check. */
void jwks_status(const struct jwks *j, struct jwks_status *out);

#endif
