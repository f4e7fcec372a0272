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

#endif
