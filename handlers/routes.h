/* routes.h — the handlers the routing table (routes.c) points at, one
 * group per resource file. Each answers exactly once (see http.h). */
#ifndef INFRA_ROUTES_H
#define INFRA_ROUTES_H

#include "http.h"

/* health.c */
int handle_health_get(struct request *r);
int handle_health_ready_get(struct request *r);
int handle_health_detailed_get(struct request *r);
int handle_health_service_get(struct request *r);

/* system.c */
int handle_system_info_get(struct request *r);
int handle_system_config_get(struct request *r);
int handle_system_audit_get(struct request *r);

/* events.c */
int handle_system_events_list(struct request *r);
int handle_system_events_get(struct request *r);
int handle_system_events_retry(struct request *r);

/* alerts.c */
int handle_system_alerts_list(struct request *r);
int handle_system_alerts_get(struct request *r);
int handle_system_alerts_retry(struct request *r);

/* auth.c */
int handle_auth_me_get(struct request *r);
int handle_auth_permissions_get(struct request *r);
int handle_auth_validate_post(struct request *r);
int handle_auth_logout_post(struct request *r);
int handle_auth_roles_get(struct request *r);
int handle_auth_role_put(struct request *r);

/* metrics.c */
int handle_metrics_get(struct request *r);

/* databases.c */
int handle_databases_create(struct request *r);
int handle_databases_list(struct request *r);
int handle_databases_get(struct request *r);
int handle_databases_update(struct request *r);
int handle_databases_delete(struct request *r);
int handle_databases_test(struct request *r);
int handle_databases_test_unsaved(struct request *r);
int handle_databases_health_get(struct request *r);

/* migrations.c, migration_events.c */
int handle_migrations_execute(struct request *r);
int handle_migrations_list(struct request *r);
int handle_migrations_get(struct request *r);
int handle_migrations_targets(struct request *r);
int handle_migrations_events(struct request *r);
int handle_migrations_cancel(struct request *r);
int handle_migrations_rollback(struct request *r);
int handle_migrations_rollback_body(struct request *r);
int handle_migrations_plan(struct request *r);
int handle_migrations_history(struct request *r);
int handle_migrations_validate(struct request *r);
int handle_migrations_repair(struct request *r);
int handle_migrations_baseline(struct request *r);

/* tenants.c */
int handle_tenants_create(struct request *r);
int handle_tenants_list(struct request *r);
int handle_tenants_get(struct request *r);
int handle_tenants_delete(struct request *r);
int handle_tenants_migrate(struct request *r);

/* schedules.c */
int handle_schedules_create(struct request *r);
int handle_schedules_list(struct request *r);
int handle_schedules_get(struct request *r);
int handle_schedules_update(struct request *r);
int handle_schedules_delete(struct request *r);

#endif
