/* config.c — the table of settings, and loading, merging and validating it.
 *
 * Layout after nginx's ngx_conf_file.c: every setting starts unset, each
 * source (defaults, file, environment) may set it, and one pass validates
 * the merged result and reports every problem with where the value came
 * from. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "crypto.h"
#include "log.h"

enum setting_type { SET_STRING, SET_INT, SET_BOOL };

enum setting_check {
	CHECK_NONE,
	CHECK_LISTEN,		/* unix path or host:port */
	CHECK_LOG_LEVEL,
	CHECK_HOSTPORTS,	/* "host:port,host:port" */
	CHECK_HTTP_URL,		/* http(s)://… */
	CHECK_HTTP_URLS,	/* comma-separated http(s) URLs */
	CHECK_READABLE,		/* a file we can read */
	CHECK_NAME,		/* a short printable name */
	CHECK_FILE_MODE,	/* octal permission bits, e.g. 0660 */
	CHECK_KEYRING,		/* kid:base64(32 bytes),… (lib/crypto.h) */
};

struct setting {
	const char *name;
	enum setting_type type;
	size_t offset;
	const char *default_value;	/* NULL: no default */
	long min, max;			/* for SET_INT */
	enum setting_check check;
	bool secret;
	bool required_by_daemon;
	const char *help;
};

#define S(field) offsetof(struct config, field)

static const struct setting settings[] = {
	/* server */
	{ "LISTEN", SET_STRING, S(listen), "127.0.0.1:9000", 0, 0, CHECK_LISTEN, false, false,
	  "FastCGI socket: a unix socket path, or host:port" },
	{ "LISTEN_MODE", SET_STRING, S(listen_mode), "0660", 0, 0, CHECK_FILE_MODE, false, false,
	  "permissions of a unix FastCGI socket (octal); nginx's user must be able to connect" },
	{ "LISTEN_BACKLOG", SET_INT, S(listen_backlog), "1024", 16, 65535, CHECK_NONE, false, false,
	  "listen(2) backlog of the FastCGI socket" },
	{ "WORKERS", SET_INT, S(workers), "4", 1, 256, CHECK_NONE, false, false,
	  "request worker processes" },
	{ "RUNNERS", SET_INT, S(runners), "2", 0, 64, CHECK_NONE, false, false,
	  "job runner processes (migrations, probes, events, schedules)" },
	{ "MAX_REQUESTS", SET_INT, S(max_requests), "10000", 0, INT_MAX, CHECK_NONE, false, false,
	  "requests a worker serves before it is replaced; 0 never" },
	{ "SHUTDOWN_TIMEOUT", SET_INT, S(shutdown_timeout_s), "30", 1, 3600, CHECK_NONE, false, false,
	  "seconds a draining process may take before it is killed" },
	{ "PID_FILE", SET_STRING, S(pid_file), "", 0, 0, CHECK_NONE, false, false,
	  "where the master writes its pid; empty for none" },
	{ "LOG_LEVEL", SET_STRING, S(log_level), "info", 0, 0, CHECK_LOG_LEVEL, false, false,
	  "debug, info, warn or error" },
	{ "MAX_BODY_BYTES", SET_INT, S(max_body_bytes), "1048576", 1024, 67108864, CHECK_NONE, false, false,
	  "largest request body accepted (413 beyond)" },
	{ "HOST_NAME", SET_STRING, S(host_name), "", 0, 0, CHECK_NONE, false, false,
	  "this host's name in /system/info and job leases; empty: gethostname()" },
	/* control database */
	{ "DATABASE_URL", SET_STRING, S(database_url), NULL, 0, 0, CHECK_NONE, true, true,
	  "libpq URL or conninfo of the control database" },
	{ "DB_CONNECT_TIMEOUT", SET_INT, S(db_connect_timeout_s), "5", 1, 300, CHECK_NONE, false, false,
	  "seconds to wait for a database connection" },
	{ "DB_STATEMENT_TIMEOUT", SET_INT, S(db_statement_timeout_ms), "30000", 100, 3600000, CHECK_NONE, false, false,
	  "milliseconds a control-database statement may run" },
	/* cache */
	{ "MEMCACHED_SERVERS", SET_STRING, S(memcached_servers), "127.0.0.1:11211", 0, 0, CHECK_HOSTPORTS, false, false,
	  "memcached servers, host:port comma-separated; empty disables the cache" },
	{ "MEMCACHED_TIMEOUT_MS", SET_INT, S(memcached_timeout_ms), "50", 1, 10000, CHECK_NONE, false, false,
	  "connect and poll timeout towards memcached" },
	/* auth */
	{ "JWT_ISSUER", SET_STRING, S(jwt_issuer), NULL, 0, 0, CHECK_HTTP_URL, false, true,
	  "the exact iss accepted (Keycloak: <base>/realms/<realm>)" },
	{ "JWT_AUDIENCES", SET_STRING, S(jwt_audiences), "infra-api", 0, 0, CHECK_NONE, false, false,
	  "accepted aud/azp values, comma-separated" },
	{ "JWKS_FILE", SET_STRING, S(jwks_file), "", 0, 0, CHECK_READABLE, false, false,
	  "a JWKS file to trust (instead of, or before, JWKS_URL)" },
	{ "JWKS_URL", SET_STRING, S(jwks_url), "", 0, 0, CHECK_HTTP_URL, false, false,
	  "the issuer's JWKS URL (…/protocol/openid-connect/certs)" },
	{ "JWKS_CA_FILE", SET_STRING, S(jwks_ca_file), "", 0, 0, CHECK_READABLE, false, false,
	  "CA bundle used to verify JWKS_URL; empty: the system's" },
	{ "JWT_LEEWAY", SET_INT, S(jwt_leeway_s), "30", 0, 600, CHECK_NONE, false, false,
	  "seconds of clock skew allowed on exp and nbf" },
	{ "JWKS_REFRESH_MIN_INTERVAL", SET_INT, S(jwks_refresh_min_interval_s), "30", 1, 86400, CHECK_NONE, false, false,
	  "fewest seconds between two JWKS fetches caused by unknown kids" },
	{ "AUTH_CACHE_TTL", SET_INT, S(auth_cache_ttl_s), "300", 1, 86400, CHECK_NONE, false, false,
	  "seconds a verified principal stays cached (never past the token's exp)" },
	{ "ROLE_BINDINGS", SET_STRING, S(role_bindings), "", 0, 0, CHECK_NONE, false, false,
	  "seed role bindings: role=perm perm;role=perm" },
	{ "EMERGENCY_ENABLED", SET_BOOL, S(emergency_enabled), "false", 0, 0, CHECK_NONE, false, false,
	  "accept break-glass tokens signed by EMERGENCY_PUBLIC_KEY_FILE" },
	{ "EMERGENCY_ISSUER", SET_STRING, S(emergency_issuer), "", 0, 0, CHECK_NONE, false, false,
	  "the iss break-glass tokens must carry" },
	{ "EMERGENCY_PUBLIC_KEY_FILE", SET_STRING, S(emergency_public_key_file), "", 0, 0, CHECK_READABLE, false, false,
	  "PEM public key of the break-glass issuer" },
	{ "EMERGENCY_MAX_TTL", SET_INT, S(emergency_max_ttl_s), "900", 60, 86400, CHECK_NONE, false, false,
	  "longest lifetime (exp - iat) of a break-glass token" },
	{ "AUTH_FAIL_THRESHOLD", SET_INT, S(auth_fail_threshold), "20", 1, 100000, CHECK_NONE, false, false,
	  "failed authentications per client address before it is locked out" },
	{ "AUTH_FAIL_WINDOW", SET_INT, S(auth_fail_window_s), "60", 1, 86400, CHECK_NONE, false, false,
	  "seconds over which failed authentications are counted" },
	{ "AUTH_LOCKOUT", SET_INT, S(auth_lockout_s), "300", 1, 86400, CHECK_NONE, false, false,
	  "seconds a locked-out address gets 429" },
	{ "AUDIT_AUTH_FAILURES_PER_MIN", SET_INT, S(audit_auth_failures_per_min), "60", 0, 100000, CHECK_NONE, false, false,
	  "authentication failures written to the audit log per minute per host" },
	/* credentials */
	{ "ENCRYPTION_KEYS", SET_STRING, S(encryption_keys), "", 0, 0, CHECK_KEYRING, true, false,
	  "key ring for stored passwords: kid:base64(32 bytes),…; the first encrypts" },
	/* migrations */
	{ "MIGRATIONS_ROOT", SET_STRING, S(migrations_root), "migrations", 0, 0, CHECK_NONE, false, false,
	  "folder holding admin/, tenant/, shared/, analytics/ migration sets" },
	{ "MIGRATION_BATCH_SIZE", SET_INT, S(migration_batch_size), "8", 1, 256, CHECK_NONE, false, false,
	  "targets migrated in parallel by one runner" },
	{ "MIGRATION_TIMEOUT", SET_INT, S(migration_timeout_s), "300", 1, 86400, CHECK_NONE, false, false,
	  "seconds one target may take (also each statement's timeout)" },
	{ "MIGRATION_RETRY_ATTEMPTS", SET_INT, S(migration_retry_attempts), "3", 0, 20, CHECK_NONE, false, false,
	  "retries of a target after a transient failure" },
	{ "MIGRATION_LEASE", SET_INT, S(migration_lease_s), "30", 5, 3600, CHECK_NONE, false, false,
	  "seconds a runner's claim on a job lasts unless renewed" },
	{ "SSE_MAX_STREAMS", SET_INT, S(sse_max_streams), "0", 0, 256, CHECK_NONE, false, false,
	  "concurrent event streams; 0: half the workers" },
	{ "SSE_MAX_SECONDS", SET_INT, S(sse_max_seconds), "300", 5, 3600, CHECK_NONE, false, false,
	  "longest life of one event stream" },
	{ "SSE_HEARTBEAT", SET_INT, S(sse_heartbeat_s), "15", 1, 300, CHECK_NONE, false, false,
	  "seconds between heartbeats on an idle event stream" },
	/* health probes */
	{ "PROBE_INTERVAL", SET_INT, S(probe_interval_s), "30", 1, 86400, CHECK_NONE, false, false,
	  "seconds between health probes of a database" },
	{ "PROBE_TIMEOUT", SET_INT, S(probe_timeout_s), "5", 1, 300, CHECK_NONE, false, false,
	  "connect and statement timeout of a probe or connection test" },
	{ "PROBE_RETENTION_HOURS", SET_INT, S(probe_retention_h), "168", 1, 87600, CHECK_NONE, false, false,
	  "hours of probe history kept" },
	{ "CIRCUIT_FAILURE_THRESHOLD", SET_INT, S(circuit_failure_threshold), "3", 1, 1000, CHECK_NONE, false, false,
	  "consecutive failures that open a database's circuit" },
	{ "CIRCUIT_COOLDOWN", SET_INT, S(circuit_cooldown_s), "60", 1, 86400, CHECK_NONE, false, false,
	  "seconds an open circuit waits before one half-open trial" },
	/* events */
	{ "EVENT_RETRY_ATTEMPTS", SET_INT, S(event_retry_attempts), "8", 1, 50, CHECK_NONE, false, false,
	  "attempts at handling an event before it is dead (backoff from 1 s, doubling, at most 5 min)" },
	/* alerts */
	{ "WEBHOOK_URLS", SET_STRING, S(webhook_urls), "", 0, 0, CHECK_HTTP_URLS, false, false,
	  "alert webhooks, comma-separated http(s) URLs" },
	{ "WEBHOOK_TIMEOUT_MS", SET_INT, S(webhook_timeout_ms), "3000", 100, 60000, CHECK_NONE, false, false,
	  "timeout of one webhook call" },
	{ "WEBHOOK_RETRY_ATTEMPTS", SET_INT, S(webhook_retry_attempts), "5", 0, 20, CHECK_NONE, false, false,
	  "retries of a failed webhook call, with backoff" },
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

/* Where each setting's value came from, for messages. */
struct origin {
	char where[300];
	bool set;
};

struct problems {
	char *text;
	size_t len;
	int count;
};

static void problem(struct problems *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void problem(struct problems *p, const char *fmt, ...)
{
	char line[768];
	va_list ap;
	int n;
	char *grown;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	grown = realloc(p->text, p->len + (size_t)n + 2);
	if (grown == NULL)
		return;
	p->text = grown;
	memcpy(p->text + p->len, line, (size_t)n);
	p->len += (size_t)n;
	p->text[p->len++] = '\n';
	p->text[p->len] = '\0';
	p->count++;
}

static char **string_slot(struct config *cfg, const struct setting *s)
{
	return (char **)((char *)cfg + s->offset);
}

static const struct setting *find_setting(const char *name)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (strcmp(settings[i].name, name) == 0)
			return &settings[i];
	return NULL;
}

/* Store the raw text of a value; typed parsing happens in validate(). */
static void set_raw(char **raw, const struct setting *s, const char *value,
		    struct origin *origins, const char *where)
{
	size_t i = (size_t)(s - settings);

	free(raw[i]);
	raw[i] = strdup(value);
	snprintf(origins[i].where, sizeof(origins[i].where), "%s", where);
	origins[i].set = true;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static void read_file(const char *path, char **raw, struct origin *origins,
		      struct problems *p)
{
	FILE *f = fopen(path, "r");
	char line[4096], where[300];
	int lineno = 0;

	if (f == NULL) {
		problem(p, "config file '%s' cannot be read: %s", path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *name, *value, *eq;
		const struct setting *s;
		size_t vlen;

		lineno++;
		name = trim(line);
		if (*name == '\0' || *name == '#')
			continue;
		eq = strchr(name, '=');
		if (eq == NULL) {
			problem(p, "%s:%d: expected NAME = value", path, lineno);
			continue;
		}
		*eq = '\0';
		name = trim(name);
		value = trim(eq + 1);
		vlen = strlen(value);
		if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
			value[vlen - 1] = '\0';
			value++;
		}
		s = find_setting(name);
		if (s == NULL) {
			problem(p, "%s:%d: unknown setting '%s'", path, lineno, name);
			continue;
		}
		snprintf(where, sizeof(where), "%s:%d", path, lineno);
		set_raw(raw, s, value, origins, where);
	}
	fclose(f);
}

static bool valid_hostport(const char *s, size_t len)
{
	const char *colon = NULL;
	long port;
	char *end, buf[16];

	for (size_t i = 0; i < len; i++)
		if (s[i] == ':')
			colon = s + i;
	if (colon == NULL || colon == s || (size_t)(s + len - colon - 1) >= sizeof(buf) ||
	    colon == s + len - 1)
		return false;
	for (const char *c = s; c < colon; c++)
		if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-' && *c != '_' &&
		    *c != '[' && *c != ']' && *c != ':')
			return false;
	memcpy(buf, colon + 1, (size_t)(s + len - colon - 1));
	buf[s + len - colon - 1] = '\0';
	errno = 0;
	port = strtol(buf, &end, 10);
	return errno == 0 && *end == '\0' && port >= 1 && port <= 65535;
}

static bool valid_http_url(const char *s, size_t len)
{
	if (len > 8 && strncmp(s, "https://", 8) == 0)
		return true;
	return len > 7 && strncmp(s, "http://", 7) == 0;
}

/* Apply `fn` to each comma-separated element of `s`; false if any fails. */
static bool each_element(const char *s, bool (*fn)(const char *, size_t))
{
	while (*s) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);

		while (len > 0 && *s == ' ') {
			s++;
			len--;
		}
		if (len == 0 || !fn(s, len))
			return false;
		s += len;
		if (*s == ',')
			s++;
	}
	return true;
}

static const char *check_string(const struct setting *s, const char *v)
{
	enum log_level level;

	switch (s->check) {
	case CHECK_NONE:
		return NULL;
	case CHECK_LISTEN:
		if (v[0] == '/')
			return strlen(v) < 100 ? NULL : "a unix socket path shorter than 100 bytes";
		return valid_hostport(v, strlen(v)) ? NULL
			: "a unix socket path (starting with /) or host:port with port 1..65535";
	case CHECK_LOG_LEVEL:
		return log_level_parse(v, &level) == 0 ? NULL : "one of debug, info, warn, error";
	case CHECK_HOSTPORTS:
		return v[0] == '\0' || each_element(v, valid_hostport) ? NULL
			: "host:port entries separated by commas, port 1..65535";
	case CHECK_HTTP_URL:
		return v[0] == '\0' || valid_http_url(v, strlen(v)) ? NULL
			: "an http:// or https:// URL";
	case CHECK_HTTP_URLS:
		return v[0] == '\0' || each_element(v, valid_http_url) ? NULL
			: "http:// or https:// URLs separated by commas";
	case CHECK_READABLE:
		return v[0] == '\0' || access(v, R_OK) == 0 ? NULL : "a readable file";
	case CHECK_NAME:
		return NULL;
	case CHECK_KEYRING: {
		struct crypto_keyring ring;
		struct infra_error err;
		int ok;

		if (v[0] == '\0')
			return NULL;
		crypto_keyring_init(&ring);
		ok = crypto_keyring_parse(&ring, v, &err) == 0;
		crypto_keyring_release(&ring);
		return ok ? NULL : "kid:base64 entries of 32-byte keys, separated by commas";
	}
	case CHECK_FILE_MODE:
		return strlen(v) >= 3 && strlen(v) <= 4 && strspn(v, "01234567") == strlen(v)
			? NULL : "octal permission bits such as 0660";
	}
	return NULL;
}

static void validate(struct config *cfg, char **raw, struct origin *origins,
		     enum config_purpose purpose, struct problems *p)
{
	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct setting *s = &settings[i];
		const char *v = raw[i];
		const char *where = origins[i].where;
		const char *shown = s->secret ? "***" : v;

		if (v == NULL) {
			if (s->required_by_daemon && purpose == CONFIG_FOR_DAEMON)
				problem(p, "setting '%s' is required (set INFRA_%s or %s in the config file)",
					s->name, s->name, s->name);
			continue;
		}
		switch (s->type) {
		case SET_STRING: {
			const char *why = check_string(s, v);

			if (why != NULL) {
				problem(p, "setting '%s' (%s): '%s' is invalid: expected %s",
					s->name, where, shown, why);
				break;
			}
			*string_slot(cfg, s) = strdup(v);
			break;
		}
		case SET_INT: {
			char *end;
			long n;

			errno = 0;
			n = strtol(v, &end, 10);
			if (errno != 0 || end == v || *end != '\0' || n < s->min || n > s->max) {
				problem(p, "setting '%s' (%s): '%s' is invalid: expected an integer in %ld..%ld",
					s->name, where, shown, s->min, s->max);
				break;
			}
			*(int *)((char *)cfg + s->offset) = (int)n;
			break;
		}
		case SET_BOOL: {
			bool *slot = (bool *)((char *)cfg + s->offset);

			if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
			    strcmp(v, "yes") == 0 || strcmp(v, "on") == 0)
				*slot = true;
			else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 ||
				 strcmp(v, "no") == 0 || strcmp(v, "off") == 0)
				*slot = false;
			else
				problem(p, "setting '%s' (%s): '%s' is invalid: expected true or false",
					s->name, where, shown);
			break;
		}
		}
	}
	if (purpose != CONFIG_FOR_DAEMON)
		return;
	if ((cfg->jwks_file == NULL || cfg->jwks_file[0] == '\0') &&
	    (cfg->jwks_url == NULL || cfg->jwks_url[0] == '\0'))
		problem(p, "settings 'JWKS_FILE' and 'JWKS_URL' are both empty: set at least one");
	if (cfg->emergency_enabled &&
	    (cfg->emergency_issuer == NULL || cfg->emergency_issuer[0] == '\0' ||
	     cfg->emergency_public_key_file == NULL || cfg->emergency_public_key_file[0] == '\0'))
		problem(p, "setting 'EMERGENCY_ENABLED' is true: 'EMERGENCY_ISSUER' and "
			   "'EMERGENCY_PUBLIC_KEY_FILE' must be set too");
}

int config_load(struct config *cfg, const char *path,
		enum config_purpose purpose, char **problems)
{
	char *raw[NSETTINGS] = { 0 };
	struct origin origins[NSETTINGS];
	struct problems p = { 0 };
	char where[300];

	memset(cfg, 0, sizeof(*cfg));
	memset(origins, 0, sizeof(origins));
	for (size_t i = 0; i < NSETTINGS; i++)
		if (settings[i].default_value != NULL)
			set_raw(raw, &settings[i], settings[i].default_value, origins, "default");
	if (path != NULL && path[0] != '\0')
		read_file(path, raw, origins, &p);
	for (size_t i = 0; i < NSETTINGS; i++) {
		char var[80];
		const char *v;

		snprintf(var, sizeof(var), "INFRA_%s", settings[i].name);
		v = getenv(var);
		if (v != NULL) {
			snprintf(where, sizeof(where), "environment %s", var);
			set_raw(raw, &settings[i], v, origins, where);
		}
	}
	validate(cfg, raw, origins, purpose, &p);
	for (size_t i = 0; i < NSETTINGS; i++)
		free(raw[i]);
	if (cfg->host_name != NULL && cfg->host_name[0] == '\0') {
		char host[256];

		if (gethostname(host, sizeof(host)) == 0) {
			host[sizeof(host) - 1] = '\0';
			free(cfg->host_name);
			cfg->host_name = strdup(host);
		}
	}
	if (p.count > 0) {
		config_release(cfg);
		*problems = p.text;
		return -1;
	}
	*problems = NULL;
	return 0;
}

void config_release(struct config *cfg)
{
	for (size_t i = 0; i < NSETTINGS; i++) {
		if (settings[i].type == SET_STRING) {
			char **slot = string_slot(cfg, &settings[i]);

			free(*slot);
			*slot = NULL;
		}
	}
}

json_object *config_to_json(const struct config *cfg)
{
	json_object *o = json_object_new_object();

	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct setting *s = &settings[i];
		const char *base = (const char *)cfg + s->offset;
		json_object *v;

		switch (s->type) {
		case SET_STRING: {
			const char *str = *(char *const *)base;

			if (str == NULL) {
				v = NULL;
			} else if (s->secret && strstr(str, "://") != NULL) {
				char masked[1024];

				log_redact_conninfo(str, masked, sizeof(masked));
				v = json_object_new_string(masked);
			} else if (s->secret) {
				v = json_object_new_string(str[0] ? "***" : "");
			} else {
				v = json_object_new_string(str);
			}
			break;
		}
		case SET_INT:
			v = json_object_new_int(*(const int *)base);
			break;
		case SET_BOOL:
			v = json_object_new_boolean(*(const bool *)base);
			break;
		default:
			v = NULL;
		}
		json_object_object_add(o, s->name, v);
	}
	return o;
}

void config_print_reference(void)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		printf("%s\t%s\t%s\n", settings[i].name,
		       settings[i].default_value ? settings[i].default_value : "(required)",
		       settings[i].help);
}
