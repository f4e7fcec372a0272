/* ctl.h — infractl, the operator CLI: one subcommand per file
 * (fcgi/ctl/cmd_<name>.c defining cmd_<name>()), registered in the table in
 * infractl.c. Each returns the process exit status: 0 on success, 1 when
 * the operation failed, 2 for a usage error. */
#ifndef INFRA_CTL_H
#define INFRA_CTL_H

#define CTL_OK 0
#define CTL_FAILED 1
#define CTL_USAGE 2

int cmd_config(int argc, char **argv);
int cmd_jwks(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_rotate_keys(int argc, char **argv);

/* The migration engine's commands (engine_opts.c holds what they share). */
int cmd_migrate(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_repair(int argc, char **argv);
int cmd_baseline(int argc, char **argv);
int cmd_undo(int argc, char **argv);
int cmd_checksum(int argc, char **argv);
int cmd_migrate_self(int argc, char **argv);

#endif
