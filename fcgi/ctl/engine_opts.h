/* engine_opts.h — what infractl's migration commands (migrate, info,
 * validate, plan, repair, baseline, undo) share: their options, Flyway's
 * names where Flyway has one, and their output. */
#ifndef INFRA_ENGINE_OPTS_H
#define INFRA_ENGINE_OPTS_H

#include "mig_engine.h"

/* The options every migration command accepts, for each command's --help. */
#define ENGINE_OPTIONS_HELP                                                          \
	"  --url URL                 the database (libpq URL or key=value string); prefer\n" \
	"                            PGPASSWORD or ~/.pgpass to a password in the URL\n"     \
	"  --schemas S1,S2,...       the target schemas (default: public)\n"                 \
	"  --schemas-from FILE       one schema per line ('#' comments, blank lines ignored)\n" \
	"  --targets-from FILE       one target per line: URL SCHEMA (several databases)\n"  \
	"  --locations DIR           the migration scripts (Flyway's filesystem:DIR is accepted)\n" \
	"  --target VERSION          stop at VERSION ('latest', 'current')\n"                \
	"  --placeholder NAME=VALUE  define ${NAME} (repeatable)\n"                           \
	"  --parallel N              targets at once (default: MIGRATION_BATCH_SIZE)\n"      \
	"  --out-of-order            apply versions older than the newest applied one\n"     \
	"  --baseline-version V      the version baseline records (default 1)\n"            \
	"  --baseline-description D  its description (default << Flyway Baseline >>)\n"    \
	"  --baseline-on-migrate     migrate a non-empty schema without history: baseline it first\n" \
	"  --installed-by USER       recorded in installed_by (default: the database user)\n" \
	"  --timeout SECONDS         per target and attempt (default: MIGRATION_TIMEOUT)\n"    \
	"  --statement-timeout SECONDS  per statement (default: MIGRATION_TIMEOUT; 0 none)\n" \
	"  --connect-timeout SECONDS    (default: DB_CONNECT_TIMEOUT)\n"                     \
	"  --retries N               retries of a transient failure (default: MIGRATION_RETRY_ATTEMPTS)\n" \
	"  --json                    one JSON document with a result per target\n"            \
	"\n"                                                                                  \
	"Exit status: 0 when every target succeeded, 1 when one failed, 2 for bad usage.\n"

/* Run `cmd` with the command line `argv` (argv[0] is the command's name);
 * `usage` is the command's --help text. Returns the exit status. */
int engine_command(enum mig_command cmd, int argc, char **argv, const char *usage);

#endif
