/* routes.c — the routing table: every route with its method, path
 * pattern, permission and handler, in one place, so a route without a
 * permission cannot hide (a unit test walks this table). */
#include "http.h"
#include "routes.h"

const struct route http_routes[] = {
	/* health and system */
	{ "GET", "/health", PERM_PUBLIC, handle_health_get, 0 },
	{ "GET", "/health/ready", PERM_PUBLIC, handle_health_ready_get, 0 },
	{ "GET", "/metrics", PERM_PUBLIC, handle_metrics_get, 0 },
	{ "GET", "/health/detailed", "infrastructure:read", handle_health_detailed_get, 0 },
	{ "GET", "/health/services/{name}", "infrastructure:read", handle_health_service_get, 0 },
	{ "GET", "/system/info", "infrastructure:read", handle_system_info_get, 0 },
	{ "GET", "/system/config", "infrastructure:admin", handle_system_config_get, 0 },
	{ "GET", "/system/audit", "infrastructure:admin", handle_system_audit_get, 0 },
	{ "GET", "/system/events", "infrastructure:admin", handle_system_events_list, 0 },
	{ "GET", "/system/events/{id}", "infrastructure:admin", handle_system_events_get, 0 },
	{ "POST", "/system/events/{id}/retry", "infrastructure:admin", handle_system_events_retry, 0 },
	{ "GET", "/system/alerts", "infrastructure:admin", handle_system_alerts_list, 0 },
	{ "GET", "/system/alerts/{id}", "infrastructure:admin", handle_system_alerts_get, 0 },
	{ "POST", "/system/alerts/{id}/retry", "infrastructure:admin", handle_system_alerts_retry, 0 },

	/* auth */
	{ "GET", "/auth/me", PERM_ANY_TOKEN, handle_auth_me_get, 0 },
	{ "GET", "/auth/permissions", PERM_ANY_TOKEN, handle_auth_permissions_get, 0 },
	{ "POST", "/auth/validate", "infrastructure:read", handle_auth_validate_post, 0 },
	{ "POST", "/auth/logout", PERM_ANY_TOKEN, handle_auth_logout_post, 0 },
	{ "GET", "/auth/roles", "infrastructure:admin", handle_auth_roles_get, 0 },
	{ "PUT", "/auth/roles/{role}", "infrastructure:admin", handle_auth_role_put, 0 },

	/* databases (databases.c); /databases/test before /databases/{id}:
	 * the first row whose pattern and method match wins */
	{ "POST", "/databases", "databases:manage", handle_databases_create, 0 },
	{ "GET", "/databases", "databases:read", handle_databases_list, 0 },
	{ "POST", "/databases/test", "databases:manage", handle_databases_test_unsaved, 0 },
	{ "GET", "/databases/{id}", "databases:read", handle_databases_get, 0 },
	{ "PATCH", "/databases/{id}", "databases:manage", handle_databases_update, 0 },
	{ "DELETE", "/databases/{id}", "databases:manage", handle_databases_delete, 0 },
	{ "POST", "/databases/{id}/test", "databases:read", handle_databases_test, 0 },
	{ "GET", "/databases/{id}/health", "databases:read", handle_databases_health_get, 0 },

	/* tenants (tenants.c) */
	{ "POST", "/tenants", "tenants:manage", handle_tenants_create, 0 },
	{ "GET", "/tenants", "tenants:read", handle_tenants_list, 0 },
	{ "GET", "/tenants/{id}", "tenants:read", handle_tenants_get, 0 },
	{ "DELETE", "/tenants/{id}", "tenants:manage", handle_tenants_delete, 0 },
	{ "POST", "/tenants/{id}/migrate", "migrations:execute", handle_tenants_migrate, 0 },

	/* migrations (migrations.c, migration_events.c, schedules.c); the
	 * fixed paths before /migrations/{id} */
	{ "POST", "/migrations/execute", "migrations:execute", handle_migrations_execute, 0 },
	{ "GET", "/migrations", "migrations:read", handle_migrations_list, 0 },
	{ "GET", "/migrations/plan", "migrations:read", handle_migrations_plan, 0 },
	{ "GET", "/migrations/history", "migrations:read", handle_migrations_history, 0 },
	{ "POST", "/migrations/validate", "migrations:read", handle_migrations_validate, 0 },
	{ "POST", "/migrations/repair", "migrations:manage", handle_migrations_repair, 0 },
	{ "POST", "/migrations/baseline", "migrations:manage", handle_migrations_baseline, 0 },
	{ "POST", "/migrations/rollback", "migrations:manage", handle_migrations_rollback_body, 0 },
	{ "GET", "/migrations/schedules", "migrations:read", handle_schedules_list, 0 },
	{ "POST", "/migrations/schedules", "migrations:manage", handle_schedules_create, 0 },
	{ "GET", "/migrations/schedules/{id}", "migrations:read", handle_schedules_get, 0 },
	{ "PATCH", "/migrations/schedules/{id}", "migrations:manage", handle_schedules_update, 0 },
	{ "DELETE", "/migrations/schedules/{id}", "migrations:manage", handle_schedules_delete, 0 },
	{ "GET", "/migrations/{id}", "migrations:read", handle_migrations_get, 0 },
	{ "GET", "/migrations/{id}/targets", "migrations:read", handle_migrations_targets, 0 },
	{ "GET", "/migrations/{id}/events", "migrations:read", handle_migrations_events, ROUTE_STREAM },
	{ "POST", "/migrations/{id}/cancel", "migrations:execute", handle_migrations_cancel, 0 },
	{ "POST", "/migrations/{id}/rollback", "migrations:manage", handle_migrations_rollback, 0 },
};

const int http_nroutes = sizeof(http_routes) / sizeof(http_routes[0]);
