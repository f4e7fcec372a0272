/* config.h — the service's settings: defaults, an optional file, the
 * environment; merged and validated in one step.
 *
 * Each setting has one NAME (e.g. WORKERS). In a config file it is written
 * `NAME = value`; in the environment it is INFRA_NAME and wins over the file.
 * Every problem is reported with the setting, where it came from
 * (file:line or the variable), the bad value (unless secret) and what is
 * allowed. The table in config.c is the one list of settings; README.md's
 * configuration reference is checked against it by a test. */
#ifndef INFRA_CONFIG_H
#define INFRA_CONFIG_H

#include <stdbool.h>
#include <json-c/json.h>

struct config {
	/* server */
	char *listen;			/* unix path, or host:port */
	char *listen_mode;		/* octal, for a unix socket */
	int listen_backlog;
	int workers;
	int runners;
	int max_requests;		/* 0: never recycle */
	int shutdown_timeout_s;
	char *pid_file;
	char *log_level;
	int max_body_bytes;
	char *host_name;
	/* control database */
	char *database_url;		/* secret: holds a password */
	int db_connect_timeout_s;
	int db_statement_timeout_ms;
	/* cache */
	char *memcached_servers;	/* "host:port,host:port"; "" disables */
	int memcached_timeout_ms;
	/* auth */
	char *jwt_issuer;
	char *jwt_audiences;		/* comma-separated */
	char *jwks_file;
	char *jwks_url;
	char *jwks_ca_file;
	int jwt_leeway_s;
	int jwks_refresh_min_interval_s;
	int auth_cache_ttl_s;
	char *role_bindings;		/* "role=perm perm;role2=perm" seed */
	bool emergency_enabled;
	char *emergency_issuer;
	char *emergency_public_key_file;
	int emergency_max_ttl_s;
	int auth_fail_threshold;
	int auth_fail_window_s;
	int auth_lockout_s;
	int audit_auth_failures_per_min;
	/* credentials */
	char *encryption_keys;		/* secret: "kid:base64,kid:base64" */
	/* migrations */
	char *migrations_root;
	int migration_batch_size;
	int migration_timeout_s;
	int migration_retry_attempts;
	int migration_lease_s;
	int sse_max_streams;
	int sse_max_seconds;
	int sse_heartbeat_s;
	/* health probes */
	int probe_interval_s;
	int probe_timeout_s;
	int probe_retention_h;
	int circuit_failure_threshold;
	int circuit_cooldown_s;
	/* events */
	int event_retry_attempts;
	/* alerts */
	char *webhook_urls;		/* comma-separated */
	int webhook_timeout_ms;
	int webhook_retry_attempts;
};

/* What the configuration is loaded for: settings required by the daemon
 * (e.g. JWT_ISSUER) are optional for a CLI command that does not use them. */
enum config_purpose {
	CONFIG_FOR_DAEMON,
	CONFIG_FOR_CLI,
};

/* Fill `cfg` from defaults, then the file at `path` (NULL or "" for none;
 * an unreadable named file is an error), then INFRA_* environment variables,
 * and validate the result. Returns 0, or -1 with every problem found written
 * to *problems, one per line (a malloc'ed string the caller frees). On
 * failure `cfg` is released. */
int config_load(struct config *cfg, const char *path,
		enum config_purpose purpose, char **problems);

/* Free the strings `cfg` owns; it may be loaded again afterwards. */
void config_release(struct config *cfg);

/* The effective configuration as a JSON object, secrets as "***" (and a
 * connection URL with its password masked). The caller owns the result. */
json_object *config_to_json(const struct config *cfg);

/* Print the reference table (name, default, description) to stdout. */
void config_print_reference(void);

#endif
