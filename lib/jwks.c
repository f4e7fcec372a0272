/* jwks.c — trusted signature keys from a file and/or the issuer's URL,
 * shared through memcached, refreshed on unknown kids under a local and a
 * fleet-wide rate limit (see jwks.h). */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "jwks.h"
#include "log.h"
#include "strbuf.h"
#include "timeutil.h"

/* How often an unknown kid may re-check the file and memcached's copy
 * (both cheap); fetching is limited by refresh_min_interval_s. */
#define JWKS_RECHECK_MS 1000

struct jwks {
	char *file, *url, *ca_file;
	int min_interval_s;
	struct cache *cache;
	struct jwk_set file_keys, url_keys;
	struct timespec file_mtime;
	off_t file_size;
	char *url_doc;			/* the document url_keys came from */
	int64_t url_fetched_at;		/* when that document was fetched (wall s) */
	int64_t checked_ms;		/* last re-check of file and memcached */
	int64_t fetched_ms;		/* last fetch attempt of this process; 0: none */
	char doc_key[CACHE_KEY_MAX];	/* memcached: "<fetched_at>\n<document>" */
	char lock_key[CACHE_KEY_MAX];	/* memcached: held while one host fetches */
	struct jwks_status st;		/* nkeys and ready filled by jwks_status */
};

static char *dup_opt(const char *s)
{
	return s != NULL && s[0] != '\0' ? strdup(s) : NULL;
}

struct jwks *jwks_new(const struct jwks_options *o, struct cache *cache)
{
	struct jwks *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return NULL;
	j->file = dup_opt(o->file);
	j->url = dup_opt(o->url);
	j->ca_file = dup_opt(o->ca_file);
	j->min_interval_s = o->refresh_min_interval_s > 0 ? o->refresh_min_interval_s : 1;
	j->cache = cache;
	jwk_set_init(&j->file_keys);
	jwk_set_init(&j->url_keys);
	if (j->url != NULL) {
		cache_key(j->doc_key, "jwks", j->url);
		cache_key(j->lock_key, "jwks-lock", j->url);
	}
	j->st.has_url = j->url != NULL;
	j->st.last_fetch_ok = j->url == NULL;
	return j;
}

void jwks_free(struct jwks *j)
{
	if (j == NULL)
		return;
	jwk_set_release(&j->file_keys);
	jwk_set_release(&j->url_keys);
	free(j->file);
	free(j->url);
	free(j->ca_file);
	free(j->url_doc);
	free(j);
}

static void log_problem(const char *msg, const char *subject, const char *error)
{
	json_object *f = json_object_new_object();

	json_object_object_add(f, "subject", json_object_new_string(subject));
	json_object_object_add(f, "error", json_object_new_string(error));
	log_emit(LOG_LEVEL_WARN, msg, f);
}

/* (Re-)read the file when it changed, or always when `force`. A file that
 * cannot be read or parsed leaves the keys it gave before. */
static void read_file(struct jwks *j, bool force)
{
	struct stat sb;
	struct strbuf doc = STRBUF_INIT;
	struct jwk_set set;
	struct infra_error err;
	FILE *f;
	char buf[8192];
	size_t n;

	if (stat(j->file, &sb) != 0) {
		log_problem("jwks file cannot be read", j->file, strerror(errno));
		return;
	}
	if (!force && sb.st_mtim.tv_sec == j->file_mtime.tv_sec &&
	    sb.st_mtim.tv_nsec == j->file_mtime.tv_nsec && sb.st_size == j->file_size)
		return;
	f = fopen(j->file, "r");
	if (f == NULL) {
		log_problem("jwks file cannot be read", j->file, strerror(errno));
		return;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0 && doc.len <= JWKS_MAX_DOCUMENT)
		strbuf_add(&doc, buf, n);
	fclose(f);
	if (doc.len > JWKS_MAX_DOCUMENT) {
		log_problem("jwks file too large; keeping the keys it gave before", j->file, "over 1 MiB");
	} else if (jwk_set_parse(&set, doc.buf, doc.len, &err) != 0) {
		log_problem("jwks file is invalid; keeping the keys it gave before", j->file, err.message);
	} else {
		jwk_set_move(&j->file_keys, &set);
		j->file_mtime = sb.st_mtim;
		j->file_size = sb.st_size;
		log_info("jwks file '%s' loaded: %zu signature key(s)", j->file, j->file_keys.n);
	}
	strbuf_release(&doc);
}

/* Take `doc` (fetched at `fetched_at`) as the URL's keys. Returns 0, or -1
 * when it is invalid or holds no signature key (the old set is kept). */
static int adopt(struct jwks *j, const char *doc, size_t len, int64_t fetched_at,
		 const char *from)
{
	struct jwk_set set;
	struct infra_error err;
	char url[512];

	if (jwk_set_parse(&set, doc, len, &err) != 0 ||
	    (set.n == 0 && infra_fail(&err, INFRA_EINVAL, "no signature key") != 0)) {
		log_redact_conninfo(j->url, url, sizeof(url));
		log_problem("jwks document refused; keeping the last good keys", url, err.message);
		jwk_set_release(&set);
		return -1;
	}
	jwk_set_move(&j->url_keys, &set);
	free(j->url_doc);
	j->url_doc = strndup(doc, len);
	j->url_fetched_at = fetched_at;
	j->st.last_ok_at = time_wall_s();
	log_info("jwks from %s: %zu signature key(s)", from, j->url_keys.n);
	return 0;
}

/* Adopt memcached's copy when it is another document fetched no earlier
 * than ours (never go back to an older one), and take its fetch time when
 * it is the same document fetched again. Returns 1 when a document was
 * adopted. */
static int from_memcached(struct jwks *j)
{
	size_t len;
	char *v = cache_get(j->cache, j->doc_key, &len), *nl, *end;
	int64_t fetched_at;
	int adopted = 0;

	if (v == NULL)
		return 0;
	nl = memchr(v, '\n', len);
	fetched_at = strtoll(v, &end, 10);
	if (nl != NULL && end == nl) {
		size_t doclen = len - (size_t)(nl + 1 - v);

		bool same = j->url_doc != NULL && strlen(j->url_doc) == doclen &&
			    memcmp(j->url_doc, nl + 1, doclen) == 0;

		if (!same && fetched_at >= j->url_fetched_at)
			adopted = adopt(j, nl + 1, doclen, fetched_at, "memcached") == 0;
		else if (same && fetched_at > j->url_fetched_at)
			j->url_fetched_at = fetched_at;
	}
	free(v);
	return adopted;
}

struct body {
	struct strbuf sb;
	bool too_large;
};

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
	struct body *b = arg;

	if (b->sb.len + size * n > JWKS_MAX_DOCUMENT) {
		b->too_large = true;
		return 0;	/* aborts the transfer */
	}
	strbuf_add(&b->sb, data, size * n);
	return size * n;
}

/* GET the URL into `b`. Returns 0, or -1 with a message in `why`. */
static int http_get(struct jwks *j, struct body *b, char why[CURL_ERROR_SIZE])
{
	static bool curl_ready;
	CURL *c;
	CURLcode rc;
	long status = 0;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			snprintf(why, CURL_ERROR_SIZE, "curl_global_init failed");
			return -1;
		}
		curl_ready = true;
	}
	c = curl_easy_init();
	if (c == NULL) {
		snprintf(why, CURL_ERROR_SIZE, "curl_easy_init failed");
		return -1;
	}
	why[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, j->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (j->ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, j->ca_file);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)JWKS_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)JWKS_FETCH_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "infra-jwks/1");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, why);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		if (b->too_large)
			snprintf(why, CURL_ERROR_SIZE, "document larger than 1 MiB");
		else if (why[0] == '\0')
			snprintf(why, CURL_ERROR_SIZE, "%s", curl_easy_strerror(rc));
		return -1;
	}
	if (status != 200) {
		snprintf(why, CURL_ERROR_SIZE, "HTTP status %ld", status);
		return -1;
	}
	return 0;
}

/* Fetch the URL; on success adopt the document and share it. */
static void fetch(struct jwks *j)
{
	struct body b = { .sb = STRBUF_INIT, .too_large = false };
	char why[CURL_ERROR_SIZE], url[512];
	int64_t now = time_wall_s();

	j->fetched_ms = time_mono_ms();
	j->st.last_fetch_at = now;
	j->st.fetches++;
	if (http_get(j, &b, why) != 0) {
		j->st.last_fetch_ok = false;
		log_redact_conninfo(j->url, url, sizeof(url));
		log_problem("jwks fetch failed; keeping the last good keys", url, why);
	} else if (adopt(j, b.sb.buf, b.sb.len, now, "the issuer") != 0) {
		j->st.last_fetch_ok = false;
	} else {
		struct strbuf shared = STRBUF_INIT;

		j->st.last_fetch_ok = true;
		strbuf_addf(&shared, "%" PRId64 "\n", now);
		strbuf_add(&shared, b.sb.buf, b.sb.len);
		cache_set(j->cache, j->doc_key, shared.buf, shared.len, JWKS_MAX_AGE_S);
		strbuf_release(&shared);
	}
	strbuf_release(&b.sb);
}

/* Refresh the URL's keys: memcached's copy first; then, if this process
 * may fetch again and no other process in the fleet fetched within the
 * interval (the add-lock), a fetch. */
static void refresh_url(struct jwks *j)
{
	int locked;

	if (from_memcached(j))
		return;
	if (j->fetched_ms != 0 && time_mono_ms() - j->fetched_ms < (int64_t)j->min_interval_s * 1000)
		return;
	locked = cache_add(j->cache, j->lock_key, "1", 1, j->min_interval_s);
	if (locked == 1)
		return;		/* another process fetched: its copy comes through memcached */
	fetch(j);		/* the lock is ours, or memcached is down (local limit only) */
}

int jwks_load(struct jwks *j, struct infra_error *err)
{
	if (j->file != NULL)
		read_file(j, true);
	if (j->url != NULL && !from_memcached(j))
		fetch(j);	/* at start a process fetches whatever the lock says */
	j->checked_ms = time_mono_ms();
	if (j->file_keys.n + j->url_keys.n == 0)
		return infra_fail(err, INFRA_EUNAVAIL, "no signature keys available");
	return 0;
}

static const struct jwk *lookup(const struct jwks *j, const char *kid)
{
	const struct jwk *k = jwk_set_find(&j->file_keys, kid);

	return k != NULL ? k : jwk_set_find(&j->url_keys, kid);
}

const struct jwk *jwks_find(struct jwks *j, const char *kid)
{
	const struct jwk *k = lookup(j, kid);
	bool stale = j->url != NULL && time_wall_s() - j->url_fetched_at > JWKS_MAX_AGE_S;
	int64_t now = time_mono_ms();

	if (k != NULL && !stale)
		return k;
	if (now - j->checked_ms < JWKS_RECHECK_MS)
		return k;
	j->checked_ms = now;
	if (j->file != NULL)
		read_file(j, false);
	if (j->url != NULL)
		refresh_url(j);
	return lookup(j, kid);
}

void jwks_status(const struct jwks *j, struct jwks_status *out)
{
	*out = j->st;
	out->nkeys = j->file_keys.n + j->url_keys.n;
	out->ready = out->nkeys > 0;
}
