/* alert.c — raising alerts in the control database and delivering them to
 * the webhooks with libcurl's multi interface, every call of a batch at
 * once under one timeout (see alert.h). */
#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "backoff.h"
#include "log.h"
#include "metrics.h"
#include "strbuf.h"
#include "timeutil.h"

#define ALERT_BATCH 16			/* alerts claimed and sent at once */
#define ALERT_MAX_HOOKS 16		/* webhooks used; more are ignored (logged) */
#define ALERT_IDLE_MS 1000		/* how often an idle runner looks */
#define ALERT_SKIP_IDLE_MS 5000		/* … while no webhook is configured */
#define ALERT_RETRY_BASE_MS 1000
#define ALERT_RETRY_MAX_MS 300000
#define ALERT_POLL_MS 200

static const char *const kind_names[] = {
	[ALERT_EXECUTION_FAILED] = "execution.failed",
	[ALERT_EVENT_DEAD] = "event.dead",
	[ALERT_DATABASE_UNHEALTHY] = "database.unhealthy",
};

const char *alert_kind_name(enum alert_kind kind)
{
	return (size_t)kind < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[kind] : "?";
}

/* --- raising --- */

int alert_raise(struct db *db, enum alert_kind kind, const char *summary,
		json_object *details, struct infra_error *err)
{
	json_object *o = json_object_new_object();
	char ts[ISO8601_MAX];
	const char *params[2];
	int rc;

	json_object_object_add(o, "kind", json_object_new_string(alert_kind_name(kind)));
	json_object_object_add(o, "at", json_object_new_string(time_iso8601_now_ms(ts)));
	json_object_object_add(o, "summary", json_object_new_string(summary));
	json_object_object_add(o, "details", details ? json_object_get(details) : json_object_new_object());
	params[0] = alert_kind_name(kind);
	params[1] = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	rc = db_exec_command(db, err, "INSERT INTO alerts (kind, payload) VALUES ($1, $2::jsonb)",
			     2, params);
	json_object_put(o);
	return rc;
}

/* Member `key` of `o` (a new reference, or NULL). */
static json_object *member(json_object *o, const char *key)
{
	json_object *v = NULL;

	return json_object_object_get_ex(o, key, &v) ? json_object_get(v) : NULL;
}

int alert_execution_failed(struct db *db, json_object *execution, struct infra_error *err)
{
	static const char *const copied[] = {
		"kind", "source", "scope", "filters", "target_version", "status", "error_message",
		"executed_by", "started_at", "completed_at",
	};
	static const char *const counts[] = { "total_targets", "failed_targets", "skipped_targets" };
	json_object *details = json_object_new_object(), *progress = NULL, *id = NULL, *msg = NULL;
	char summary[INFRA_ERRMSG_MAX + 96];
	int rc;

	json_object_object_get_ex(execution, "id", &id);
	json_object_object_get_ex(execution, "error_message", &msg);
	json_object_object_add(details, "execution_id", json_object_get(id));
	for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++)
		json_object_object_add(details, copied[i], member(execution, copied[i]));
	if (json_object_object_get_ex(execution, "progress", &progress))
		for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
			json_object_object_add(details, counts[i], member(progress, counts[i]));
	snprintf(summary, sizeof(summary), "migration execution %s failed%s%s",
		 id ? json_object_get_string(id) : "?", msg ? ": " : "",
		 msg ? json_object_get_string(msg) : "");
	rc = alert_raise(db, ALERT_EXECUTION_FAILED, summary, details, err);
	json_object_put(details);
	return rc;
}

/* --- the webhooks --- */

void alert_url_digest(const char *url, size_t len, char out[ALERT_URL_DIGEST_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(url, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen < 8)
		abort();	/* no SHA-256: nothing sensible to do */
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

struct hook {
	char *url;			/* owned; may hold a token: never logged */
	char digest[ALERT_URL_DIGEST_LEN];
};

struct hooks {
	struct hook items[ALERT_MAX_HOOKS];
	int n;
};

/* WEBHOOK_URLS (validated by config_load) into `h`. */
static void hooks_parse(struct hooks *h, const char *spec)
{
	const char *p = spec ? spec : "";

	h->n = 0;
	while (*p != '\0') {
		size_t len;

		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		len = strcspn(p, ", \t");
		if (len == 0)
			break;
		if (h->n == ALERT_MAX_HOOKS) {
			log_warn("ignoring webhooks after the first %d in 'WEBHOOK_URLS'", ALERT_MAX_HOOKS);
			break;
		}
		h->items[h->n].url = strndup(p, len);
		if (h->items[h->n].url == NULL)
			abort();
		alert_url_digest(p, len, h->items[h->n].digest);
		h->n++;
		p += len;
	}
}

static void hooks_release(struct hooks *h)
{
	for (int i = 0; i < h->n; i++)
		free(h->items[i].url);
	h->n = 0;
}

/* --- delivering --- */

enum { AC_ID, AC_KIND, AC_PAYLOAD, AC_ATTEMPTS, AC_DELIVERED };

/* One POST of one alert to one webhook. */
struct call {
	CURL *easy;
	int row;			/* the alert's row in the claim */
	int hook;
	bool ok;
	char curl_error[CURL_ERROR_SIZE];	/* libcurl's; names a host at most */
	char error[CURL_ERROR_SIZE + 48];	/* "webhook N: …", recorded */
};

static size_t discard(char *data, size_t size, size_t n, void *arg)
{
	(void)data;
	(void)arg;
	return size * n;
}

static PGresult *claim(struct runner_ctx *ctx, struct infra_error *err)
{
	char lease[16], limit[16];
	const char *params[3] = { ctx->owner, lease, limit };

	/* Long enough for every call of the batch, which run at once. */
	snprintf(lease, sizeof(lease), "%d", ctx->cfg->webhook_timeout_ms / 1000 * 2 + 30);
	snprintf(limit, sizeof(limit), "%d", ALERT_BATCH);
	return db_exec(&ctx->db, err,
		       "UPDATE alerts a SET lease_owner = $1, attempts = a.attempts + 1, "
		       "lease_expires_at = clock_timestamp() + make_interval(secs => $2::int) "
		       "FROM (SELECT id FROM alerts WHERE status = 'pending' "
		       "AND next_attempt_at <= clock_timestamp() AND (lease_expires_at IS NULL "
		       "OR lease_expires_at < clock_timestamp()) ORDER BY id LIMIT $3::int "
		       "FOR UPDATE SKIP LOCKED) c WHERE a.id = c.id "
		       "RETURNING a.id, a.kind, (a.payload || jsonb_build_object('id', a.id))::text, "
		       "a.attempts, array_to_string(a.delivered_to, ',')", 3, params);
}

static int call_start(CURLM *multi, struct call *c, const struct hook *hook, const char *payload,
		      struct curl_slist *headers, long timeout_ms)
{
	c->easy = curl_easy_init();
	if (c->easy == NULL) {
		snprintf(c->error, sizeof(c->error), "curl_easy_init failed");
		return -1;
	}
	curl_easy_setopt(c->easy, CURLOPT_URL, hook->url);
	curl_easy_setopt(c->easy, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(c->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, payload);
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
	curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->easy, CURLOPT_USERAGENT, "infra-alerts/1");
	curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, c->curl_error);
	curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
	if (curl_multi_add_handle(multi, c->easy) != CURLM_OK) {
		curl_easy_cleanup(c->easy);
		c->easy = NULL;
		snprintf(c->error, sizeof(c->error), "curl_multi_add_handle failed");
		return -1;
	}
	return 0;
}

/* Run every started call until each has finished (each is bounded by
 * WEBHOOK_TIMEOUT_MS) or the runner must stop; record the outcomes. */
static void calls_run(struct runner_ctx *ctx, CURLM *multi)
{
	int running = 1, left;
	CURLMsg *msg;

	while (running > 0 && !*ctx->stop) {
		if (curl_multi_perform(multi, &running) != CURLM_OK)
			break;
		if (running > 0)
			curl_multi_poll(multi, NULL, 0, ALERT_POLL_MS, NULL);
	}
	while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
		struct call *c = NULL;
		long status = 0;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
		curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
		if (msg->data.result != CURLE_OK) {
			snprintf(c->error, sizeof(c->error), "webhook %d: %s", c->hook + 1,
				 c->curl_error[0] ? c->curl_error : curl_easy_strerror(msg->data.result));
		} else if (status < 200 || status > 299) {
			snprintf(c->error, sizeof(c->error), "webhook %d: HTTP status %ld", c->hook + 1, status);
		} else {
			c->ok = true;
		}
	}
}

static void count(const char *kind, const char *result)
{
	char labels[96];

	snprintf(labels, sizeof(labels), "kind=\"%s\",result=\"%s\"", kind, result);
	metrics_count("infra_alerts_total", labels, 1);
}

/* Write the outcome of alert row `row` after this round's `calls`. */
static void record(struct runner_ctx *ctx, const PGresult *res, int row, const struct hooks *hooks,
		   const struct call *calls, int ncalls)
{
	const char *delivered_before = PQgetvalue(res, row, AC_DELIVERED);
	int attempts = atoi(PQgetvalue(res, row, AC_ATTEMPTS)), done = 0;
	struct strbuf now_to = STRBUF_INIT, errors = STRBUF_INIT;
	const char *status, *result;
	char delay[24];
	const char *params[6];
	struct infra_error err;
	json_object *f;

	strbuf_addch(&now_to, '{');
	for (int h = 0; h < hooks->n; h++) {
		bool ok = strstr(delivered_before, hooks->items[h].digest) != NULL;

		for (int k = 0; k < ncalls && !ok; k++) {
			if (calls[k].row != row || calls[k].hook != h)
				continue;
			if (calls[k].ok) {
				strbuf_addf(&now_to, "%s%s", now_to.len > 1 ? "," : "", hooks->items[h].digest);
				ok = true;
			} else {
				strbuf_addf(&errors, "%s%s", errors.len ? "; " : "", calls[k].error[0]
					    ? calls[k].error : "a webhook call did not finish");
			}
		}
		done += ok;
	}
	strbuf_addch(&now_to, '}');
	if (done == hooks->n) {
		status = "delivered";
		result = "delivered";
	} else if (attempts > ctx->cfg->webhook_retry_attempts) {
		status = "failed";
		result = "failed";
	} else {
		status = "pending";
		result = "retry";
	}
	snprintf(delay, sizeof(delay), "%lld", (long long)backoff_ms(attempts, ALERT_RETRY_BASE_MS,
								     ALERT_RETRY_MAX_MS, arc4random()));
	params[0] = PQgetvalue(res, row, AC_ID);
	params[1] = now_to.buf;
	params[2] = status;
	params[3] = errors.len ? errors.buf : NULL;
	params[4] = delay;
	params[5] = ctx->owner;
	if (db_exec_command(&ctx->db, &err,
			    "UPDATE alerts SET delivered_to = delivered_to || $2::text[], status = $3, "
			    "last_error = $4, next_attempt_at = clock_timestamp() + "
			    "make_interval(secs => $5::bigint / 1000.0), delivered_at = CASE "
			    "WHEN $3 = 'delivered' THEN clock_timestamp() END, lease_owner = NULL, "
			    "lease_expires_at = NULL WHERE id = $1::bigint AND lease_owner = $6",
			    6, params) != 0) {
		/* The lease expires and the alert is sent again: at least once. */
		f = json_object_new_object();
		json_object_object_add(f, "alert_id", json_object_new_string(params[0]));
		json_object_object_add(f, "error", json_object_new_string(err.message));
		log_emit(LOG_LEVEL_WARN, "cannot record an alert's delivery", f);
	} else {
		count(PQgetvalue(res, row, AC_KIND), result);
		if (strcmp(status, "delivered") != 0) {
			f = json_object_new_object();
			json_object_object_add(f, "alert_id", json_object_new_string(params[0]));
			json_object_object_add(f, "kind", json_object_new_string(PQgetvalue(res, row, AC_KIND)));
			json_object_object_add(f, "attempts", json_object_new_int(attempts));
			json_object_object_add(f, "error", json_object_new_string(errors.buf));
			log_emit(strcmp(status, "failed") == 0 ? LOG_LEVEL_ERROR : LOG_LEVEL_WARN,
				 strcmp(status, "failed") == 0 ? "alert not delivered; giving up"
				 : "alert not delivered; retrying", f);
		}
	}
	strbuf_release(&now_to);
	strbuf_release(&errors);
}

static void deliver(struct runner_ctx *ctx, const PGresult *res, const struct hooks *hooks)
{
	int n = PQntuples(res), ncalls = 0;
	struct call *calls = calloc((size_t)n * (size_t)hooks->n, sizeof(*calls));
	struct curl_slist *headers = NULL;
	CURLM *multi = curl_multi_init();

	if (calls == NULL || multi == NULL)
		abort();
	headers = curl_slist_append(headers, "Content-Type: application/json; charset=utf-8");
	for (int row = 0; row < n; row++) {
		const char *delivered = PQgetvalue(res, row, AC_DELIVERED);

		for (int h = 0; h < hooks->n; h++) {
			struct call *c;

			if (strstr(delivered, hooks->items[h].digest) != NULL)
				continue;
			c = &calls[ncalls++];
			c->row = row;
			c->hook = h;
			/* a call that cannot start fails with its reason */
			call_start(multi, c, &hooks->items[h], PQgetvalue(res, row, AC_PAYLOAD), headers,
				   ctx->cfg->webhook_timeout_ms);
		}
	}
	calls_run(ctx, multi);
	for (int row = 0; row < n; row++)
		record(ctx, res, row, hooks, calls, ncalls);
	for (int k = 0; k < ncalls; k++) {
		if (calls[k].easy == NULL)
			continue;
		curl_multi_remove_handle(multi, calls[k].easy);
		curl_easy_cleanup(calls[k].easy);
	}
	curl_multi_cleanup(multi);
	curl_slist_free_all(headers);
	free(calls);
}

/* No webhook configured: every pending alert is skipped, and counted —
 * but one a runner of another configuration is delivering (its lease
 * alive) is left to it, whose outcome must find the row as it left it. */
static void skip_pending(struct runner_ctx *ctx)
{
	struct infra_error err;
	PGresult *res = db_exec(&ctx->db, &err,
				"UPDATE alerts SET status = 'skipped', last_error = 'no webhook configured "
				"(WEBHOOK_URLS)' WHERE id IN (SELECT id FROM alerts WHERE status = 'pending' "
				"AND (lease_expires_at IS NULL OR lease_expires_at < clock_timestamp()) "
				"ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED) RETURNING kind", 0, NULL);

	if (res == NULL)
		return;
	for (int i = 0; i < PQntuples(res); i++)
		count(PQgetvalue(res, i, 0), "skipped");
	PQclear(res);
}

int64_t alert_task(struct runner_ctx *ctx)
{
	static bool curl_ready;
	struct hooks hooks;
	struct infra_error err;
	PGresult *res;
	int n;

	hooks_parse(&hooks, ctx->cfg->webhook_urls);
	if (hooks.n == 0) {
		skip_pending(ctx);
		return ALERT_SKIP_IDLE_MS;
	}
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			log_error("cannot deliver alerts: curl_global_init failed");
			hooks_release(&hooks);
			return ALERT_SKIP_IDLE_MS;
		}
		curl_ready = true;
	}
	res = claim(ctx, &err);
	if (res == NULL) {
		json_object *f = json_object_new_object();

		json_object_object_add(f, "error", json_object_new_string(err.message));
		log_emit(LOG_LEVEL_WARN, "cannot claim alerts", f);
		hooks_release(&hooks);
		return ALERT_SKIP_IDLE_MS;
	}
	n = PQntuples(res);
	if (n > 0)
		deliver(ctx, res, &hooks);
	PQclear(res);
	hooks_release(&hooks);
	return n == ALERT_BATCH ? 0 : ALERT_IDLE_MS;
}
