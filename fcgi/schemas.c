/* schemas.c — the schema service's process: one per generation, creating
 * and dropping tenant schemas for its siblings on one session per
 * database (lib/schema_service.h). */
#include "daemon.h"
#include "log.h"
#include "proctitle.h"
#include "schema_service.h"

int schemas_main(const struct config *cfg)
{
	enum log_level level = LOG_LEVEL_INFO;

	proctitle_set("infrad: schemas");
	log_level_parse(cfg->log_level, &level);
	log_init("schemas", level);
	return schema_service_serve(&child_stop_requested) == 0 ? CHILD_EXIT_OK : CHILD_EXIT_FATAL;
}
