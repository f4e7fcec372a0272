/* infrad.c — the daemon's entry point: parse the command line, load and
 * validate the configuration (-t stops there), apply the control schema,
 * open the FastCGI socket, write the pid file and hand over to the master. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "http.h"
#include "listen.h"
#include "log.h"
#include "metrics.h"
#include "mig_self.h"
#include "proctitle.h"

static const char infrad_usage[] =
	"usage: infrad [-c FILE] [-t] [-r] [-v]\n"
	"\n"
	"  -c FILE  read settings from FILE (NAME = value lines); INFRA_<NAME>\n"
	"           environment variables override it (default: $INFRA_CONFIG)\n"
	"  -t       check the configuration and exit: 0 when valid\n"
	"  -r       print the routing table (method, path, permission) and exit\n"
	"  -v       print the version and exit\n"
	"\n"
	"Signals: SIGHUP reloads the configuration and replaces every process;\n"
	"SIGTERM, SIGQUIT and SIGINT drain and exit.\n";

/* One line per route: method, pattern, permission ("-" when public, "*"
 * for any valid token), tab-separated: what docs/ is checked against. */
static void print_routes(void)
{
	for (int i = 0; i < http_nroutes; i++)
		printf("%s\t%s\t%s\n", http_routes[i].method, http_routes[i].pattern,
		       http_routes[i].permission ? http_routes[i].permission : "-");
}

static int write_pid_file(const char *path)
{
	FILE *f;

	if (path == NULL || path[0] == '\0')
		return 0;
	f = fopen(path, "w");
	if (f == NULL)
		return log_errno("fopen", path);
	fprintf(f, "%d\n", (int)getpid());
	if (fclose(f) != 0)
		return log_errno("fclose", path);
	return 0;
}

/* Bring the control schema up to date (migrations/admin, under the
 * engine's per-schema lock, so several hosts starting together take turns).
 * A control database that is not up yet is waited for, up to
 * DB_CONNECT_TIMEOUT × 6. */
static int apply_control_schema(const struct config *cfg)
{
	struct infra_error err;
	char dir[4096];
	int attempts = 6;

	snprintf(dir, sizeof(dir), "%s/admin", cfg->migrations_root);
	while (mig_migrate_self(cfg->database_url, dir, &err) != 0) {
		if (err.kind != INFRA_EUNAVAIL || --attempts == 0) {
			log_error("control schema not applied: %s", err.message);
			return -1;
		}
		log_warn("control database unavailable (%s); retrying", err.message);
		sleep((unsigned)cfg->db_connect_timeout_s);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *config_path = getenv("INFRA_CONFIG");
	struct config cfg;
	char *problems = NULL, *config_path_copy = NULL;
	enum log_level level;
	int check_only = 0, opt, fd, status;

	while ((opt = getopt(argc, argv, "c:trvh")) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 't':
			check_only = 1;
			break;
		case 'r':
			print_routes();
			return 0;
		case 'v':
			printf("infrad %s (%s)\n", INFRA_VERSION, INFRA_BUILD);
			return 0;
		case 'h':
			fputs(infrad_usage, stdout);
			return 0;
		default:
			fputs(infrad_usage, stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fputs(infrad_usage, stderr);
		return 2;
	}
	if (config_load(&cfg, config_path, CONFIG_FOR_DAEMON, &problems) != 0) {
		fprintf(stderr, "infrad: invalid configuration%s%s%s:\n%s",
			config_path ? " ('" : "", config_path ? config_path : "",
			config_path ? "')" : "", problems);
		free(problems);
		return 1;
	}
	if (check_only) {
		printf("infrad: configuration%s%s%s is valid\n", config_path ? " '" : "",
		       config_path ? config_path : "", config_path ? "'" : "");
		config_release(&cfg);
		return 0;
	}
	/* proctitle_init() reuses argv's memory (and the environment's) for the
	 * process title: keep our own copy of the path for every reload. */
	if (config_path != NULL)
		config_path = config_path_copy = strdup(config_path);
	proctitle_init(argc, argv);
	proctitle_set("infrad: master");
	log_level_parse(cfg.log_level, &level);
	log_init("master", level);
	if (apply_control_schema(&cfg) != 0 || metrics_init() != 0) {
		config_release(&cfg);
		free(config_path_copy);
		return 1;
	}
	fd = listen_open(cfg.listen, cfg.listen_mode, cfg.listen_backlog);
	if (fd < 0 || write_pid_file(cfg.pid_file) != 0) {
		config_release(&cfg);
		free(config_path_copy);
		return 1;
	}
	status = master_run(&cfg, config_path, fd);
	if (cfg.pid_file[0] != '\0')
		unlink(cfg.pid_file);
	config_release(&cfg);
	free(config_path_copy);
	return status;
}
