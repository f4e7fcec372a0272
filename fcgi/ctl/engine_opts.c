/* engine_opts.c — the options and output shared by infractl's migration
 * commands (see engine_opts.h): parse them through one table, take
 * defaults from the service configuration, run the engine, print a line
 * (or a table) per target or one JSON document. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl.h"
#include "engine_opts.h"
#include "strbuf.h"
#include "timeutil.h"

#define SCHEMA_NAME_MAX 63	/* PostgreSQL's NAMEDATALEN - 1 */

struct engine_cli {
	const char *url;
	const char *schemas;
	const char *schemas_from;
	const char *targets_from;
	const char *location;
	bool json;
	struct mig_options opts;
	struct mig_placeholders ph;
	struct mig_target *targets;	/* conninfo, schema and label owned here */
	size_t ntargets;
};

enum opt_kind { OPT_STRING, OPT_FLAG, OPT_INT, OPT_SECONDS, OPT_PLACEHOLDER };

struct opt {
	const char *name;
	enum opt_kind kind;
	size_t offset;		/* into struct engine_cli */
	int min, max;		/* for OPT_INT / OPT_SECONDS */
};

#define O(field) offsetof(struct engine_cli, field)

static const struct opt options[] = {
	{ "--url", OPT_STRING, O(url), 0, 0 },
	{ "--schemas", OPT_STRING, O(schemas), 0, 0 },
	{ "--schemas-from", OPT_STRING, O(schemas_from), 0, 0 },
	{ "--targets-from", OPT_STRING, O(targets_from), 0, 0 },
	{ "--locations", OPT_STRING, O(location), 0, 0 },
	{ "--target", OPT_STRING, O(opts.target), 0, 0 },
	{ "--placeholder", OPT_PLACEHOLDER, O(ph), 0, 0 },
	{ "--parallel", OPT_INT, O(opts.parallel), 1, 256 },
	{ "--out-of-order", OPT_FLAG, O(opts.out_of_order), 0, 0 },
	{ "--baseline-version", OPT_STRING, O(opts.baseline_version), 0, 0 },
	{ "--baseline-description", OPT_STRING, O(opts.baseline_description), 0, 0 },
	{ "--baseline-on-migrate", OPT_FLAG, O(opts.baseline_on_migrate), 0, 0 },
	{ "--installed-by", OPT_STRING, O(opts.installed_by), 0, 0 },
	{ "--timeout", OPT_SECONDS, O(opts.target_timeout_ms), 0, 86400 },
	{ "--statement-timeout", OPT_SECONDS, O(opts.statement_timeout_ms), 0, 86400 },
	{ "--connect-timeout", OPT_INT, O(opts.connect_timeout_s), 1, 300 },
	{ "--retries", OPT_INT, O(opts.retries), 0, 20 },
	{ "--json", OPT_FLAG, O(json), 0, 0 },
};

#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static int usage_error(const char *usage, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;

	fputs("infractl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n\n%s", usage);
	return CTL_USAGE;
}

static int set_option(struct engine_cli *cli, const struct opt *o, const char *value,
		      const char *usage)
{
	void *field = (char *)cli + o->offset;
	struct infra_error err;
	char *end;
	long n;

	switch (o->kind) {
	case OPT_STRING:
		*(const char **)field = value;
		return 0;
	case OPT_FLAG:
		*(bool *)field = true;
		return 0;
	case OPT_PLACEHOLDER:
		if (mig_placeholders_parse(&cli->ph, value, &err) != 0)
			return usage_error(usage, "%s", err.message);
		return 0;
	case OPT_INT:
	case OPT_SECONDS:
		errno = 0;
		n = strtol(value, &end, 10);
		if (errno != 0 || end == value || *end != '\0' || n < o->min || n > o->max) {
			fprintf(stderr, "infractl: %s wants a whole number from %d to %d, not '%s'\n",
				o->name, o->min, o->max, value);
			return CTL_USAGE;
		}
		*(int *)field = o->kind == OPT_SECONDS ? (int)n * 1000 : (int)n;
		return 0;
	}
	return CTL_USAGE;
}

/* Each option once (but --placeholder, which adds one each time): a second
 * --locations or --url silently replacing the first would run part of
 * what was asked. */
static int parse_args(struct engine_cli *cli, int argc, char **argv, const char *usage)
{
	bool seen[NOPTIONS] = { false };

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *eq = strchr(arg, '=');
		size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
		const struct opt *o = NULL;
		const char *value = NULL;
		int rc;

		for (size_t k = 0; k < NOPTIONS && o == NULL; k++)
			if (strlen(options[k].name) == len && strncmp(options[k].name, arg, len) == 0)
				o = &options[k];
		if (o == NULL)
			return usage_error(usage, "unknown option '%s'", arg);
		if (seen[o - options] && o->kind != OPT_PLACEHOLDER)
			return usage_error(usage, "%s is given twice", o->name);
		seen[o - options] = true;
		if (o->kind == OPT_FLAG) {
			if (eq != NULL)
				return usage_error(usage, "%s takes no value", o->name);
		} else if (eq != NULL) {
			value = eq + 1;
		} else if (i + 1 < argc) {
			value = argv[++i];
		} else {
			return usage_error(usage, "%s needs a value", o->name);
		}
		rc = set_option(cli, o, value, usage);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		abort();
	return p;
}

/* Add the target `url` (copied; NULL: --url) and schema (n bytes, trimmed). */
static int add_target(struct engine_cli *cli, const char *url, const char *s, size_t n)
{
	struct mig_target *grown, *t;
	char label[256];

	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	if (n == 0)
		return 0;
	if (n > SCHEMA_NAME_MAX) {
		fprintf(stderr, "infractl: schema name '%.*s…' is longer than %d bytes\n", 20, s,
			SCHEMA_NAME_MAX);
		return -1;
	}
	if (mig_conninfo_nests(url ? url : cli->url)) {
		fprintf(stderr, "infractl: a target's dbname is itself a connection string; libpq "
			"would send it, password and all, as a database name: give one URL\n");
		return -1;
	}
	grown = realloc(cli->targets, (cli->ntargets + 1) * sizeof(*grown));
	if (grown == NULL)
		abort();
	cli->targets = grown;
	t = &grown[cli->ntargets++];
	t->conninfo = xstrndup(url ? url : cli->url, strlen(url ? url : cli->url));
	t->schema = xstrndup(s, n);
	mig_target_describe(t->conninfo, label, sizeof(label));
	t->label = xstrndup(label, strlen(label));
	return 0;
}

/* Lines of FILE, '#' comments and blank lines skipped, each given to
 * `fn`. */
static int each_line(struct engine_cli *cli, const char *path,
		     int (*fn)(struct engine_cli *, const char *, size_t))
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int rc = 0;

	if (f == NULL) {
		fprintf(stderr, "infractl: cannot read '%s': %s\n", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL)
		rc = fn(cli, line, strcspn(line, "#\n"));
	fclose(f);
	return rc;
}

static int schema_line(struct engine_cli *cli, const char *line, size_t n)
{
	return add_target(cli, NULL, line, n);
}

/* "URL SCHEMA": the URL has no blank in it; the schema is the rest. */
static int target_line(struct engine_cli *cli, const char *line, size_t n)
{
	size_t start = strspn(line, " \t"), end;
	char *url;
	int rc;

	if (start >= n)
		return 0;
	end = start + strcspn(line + start, " \t");
	if (end >= n) {
		fprintf(stderr, "infractl: a --targets-from line needs a URL and a schema\n");
		return -1;
	}
	url = xstrndup(line + start, end - start);
	rc = add_target(cli, url, line + end, n - end);
	free(url);
	return rc;
}

static int load_targets(struct engine_cli *cli)
{
	if (cli->url != NULL && cli->schemas != NULL) {
		for (const char *p = cli->schemas;;) {
			const char *comma = strchr(p, ',');
			size_t n = comma ? (size_t)(comma - p) : strlen(p);

			if (add_target(cli, NULL, p, n) != 0)
				return -1;
			if (comma == NULL)
				break;
			p = comma + 1;
		}
	}
	if (cli->url != NULL && cli->schemas_from != NULL &&
	    each_line(cli, cli->schemas_from, schema_line) != 0)
		return -1;
	if (cli->targets_from != NULL && each_line(cli, cli->targets_from, target_line) != 0)
		return -1;
	if (cli->url != NULL && cli->schemas == NULL && cli->schemas_from == NULL)
		return add_target(cli, NULL, "public", 6);
	if (cli->ntargets == 0) {
		fputs("infractl: no target given\n", stderr);
		return -1;
	}
	return 0;
}

/* Defaults from the service configuration (INFRA_* variables, or the file
 * named by INFRA_CONFIG), so the CLI and the daemon behave alike. */
static int config_defaults(struct mig_options *o)
{
	struct config cfg;
	char *problems = NULL;

	if (config_load(&cfg, getenv("INFRA_CONFIG"), CONFIG_FOR_CLI, &problems) != 0) {
		fputs(problems ? problems : "infractl: invalid configuration\n", stderr);
		free(problems);
		return -1;
	}
	o->parallel = cfg.migration_batch_size;
	o->retries = cfg.migration_retry_attempts;
	o->target_timeout_ms = cfg.migration_timeout_s * 1000;
	o->statement_timeout_ms = cfg.migration_timeout_s * 1000;
	o->connect_timeout_s = cfg.db_connect_timeout_s;
	config_release(&cfg);
	return 0;
}

/* ---- output ---- */

static const char *or_none(const char *s)
{
	return s ? s : "(none)";
}

static void print_problems(const struct mig_outcome *o)
{
	for (size_t i = 0; i < o->nproblems; i++)
		printf("    %s%s%s: %s\n", o->problems[i].code, o->problems[i].version[0] ? " " : "",
		       o->problems[i].version, o->problems[i].message);
}

static void print_rows(const struct mig_outcome *o)
{
	if (o->nrows == 0)
		return;
	printf("    %-10s %-8s %-30s %-9s %-24s %s\n", "category", "version", "description",
	       "type", "installed on", "state");
	for (size_t i = 0; i < o->nrows; i++) {
		const struct mig_info_row *r = &o->rows[i];

		printf("    %-10s %-8s %-30s %-9s %-24s %s\n", r->category, r->version ? r->version : "",
		       r->description, r->type, r->installed_on ? r->installed_on : "", r->state);
	}
}

static void print_human(enum mig_command cmd, const struct mig_target *t,
			const struct mig_outcome *o)
{
	printf("%-9s %s %s: ", mig_status_name(o->status), t->label, t->schema);
	if (o->status != MIG_STATUS_OK) {
		printf("%s\n", o->error.message);
		print_problems(o);
		if (o->nsteps > 0)
			printf("    %zu migration%s applied before, now at %s\n", o->nsteps,
			       o->nsteps == 1 ? "" : "s", or_none(o->version_after));
		return;
	}
	switch (cmd) {
	case MIG_CMD_MIGRATE:
		if (o->nsteps == 0)
			printf("up to date at version %s", or_none(o->version_after));
		else
			printf("%zu migration%s applied, now at version %s", o->nsteps,
			       o->nsteps == 1 ? "" : "s", or_none(o->version_after));
		printf("%s\n", o->baselined ? " (baselined first)" : "");
		break;
	case MIG_CMD_UNDO:
		if (o->nsteps == 0)
			printf("nothing to undo, at version %s\n", or_none(o->version_after));
		else
			printf("%zu migration%s undone, now at version %s\n", o->nsteps,
			       o->nsteps == 1 ? "" : "s", or_none(o->version_after));
		break;
	case MIG_CMD_INFO:
		printf("at version %s\n", or_none(o->version_after));
		print_rows(o);
		break;
	case MIG_CMD_PLAN:
		printf("%zu pending from version %s\n", o->nrows, or_none(o->version_before));
		for (size_t i = 0; i < o->nrows; i++)
			printf("    %-8s %s (%s)\n", o->rows[i].version ? o->rows[i].version : "R",
			       o->rows[i].description, o->rows[i].script);
		break;
	case MIG_CMD_VALIDATE:
		printf("valid at version %s\n", or_none(o->version_after));
		break;
	case MIG_CMD_REPAIR:
		printf("%zu failed row%s removed, %zu realigned, %zu marked deleted\n",
		       o->repaired_failed, o->repaired_failed == 1 ? "" : "s", o->repaired_aligned,
		       o->repaired_deleted);
		break;
	case MIG_CMD_BASELINE:
		printf(o->baselined ? "baselined at version %s\n" : "already baselined at version %s\n",
		       or_none(o->version_after));
		break;
	}
}

static void print_json(enum mig_command cmd, const struct mig_target *targets, size_t n,
		       const struct mig_outcome *outs, int64_t elapsed_ms)
{
	json_object *doc = json_object_new_object(), *arr = json_object_new_array(), *sum;
	size_t counts[3] = { 0, 0, 0 };

	for (size_t i = 0; i < n; i++) {
		counts[outs[i].status]++;
		json_object_array_add(arr, mig_outcome_to_json(&outs[i], targets[i].label,
							       targets[i].schema, cmd));
	}
	sum = json_object_new_object();
	json_object_object_add(sum, "targets", json_object_new_int64((int64_t)n));
	json_object_object_add(sum, "ok", json_object_new_int64((int64_t)counts[MIG_STATUS_OK]));
	json_object_object_add(sum, "failed", json_object_new_int64((int64_t)counts[MIG_STATUS_FAILED]));
	json_object_object_add(sum, "cancelled",
			       json_object_new_int64((int64_t)counts[MIG_STATUS_CANCELLED]));
	json_object_object_add(doc, "command", json_object_new_string(mig_command_name(cmd)));
	json_object_object_add(doc, "ok", json_object_new_boolean(counts[MIG_STATUS_OK] == n));
	json_object_object_add(doc, "summary", sum);
	json_object_object_add(doc, "elapsed_ms", json_object_new_int64(elapsed_ms));
	json_object_object_add(doc, "targets", arr);
	puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
						  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(doc);
}

static void cli_release(struct engine_cli *cli)
{
	for (size_t i = 0; i < cli->ntargets; i++) {
		free((char *)cli->targets[i].conninfo);
		free((char *)cli->targets[i].schema);
		free((char *)cli->targets[i].label);
	}
	free(cli->targets);
	mig_placeholders_release(&cli->ph);
}

int engine_command(enum mig_command cmd, int argc, char **argv, const char *usage)
{
	struct engine_cli cli = { 0 };
	struct mig_set set;
	struct mig_outcome *outs;
	struct infra_error err;
	const char *loc;
	int64_t started;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			return CTL_OK;
		}
	}
	mig_placeholders_init(&cli.ph);
	mig_options_init(&cli.opts, cmd);
	if (config_defaults(&cli.opts) != 0) {
		cli_release(&cli);
		return CTL_FAILED;
	}
	rc = parse_args(&cli, argc, argv, usage);
	if (rc == 0 && cli.url == NULL && cli.targets_from == NULL)
		rc = usage_error(usage, "%s is required", "--url (or --targets-from)");
	if (rc == 0 && cli.url != NULL && cli.targets_from != NULL)
		rc = usage_error(usage, "%s and %s are alternatives", "--url", "--targets-from");
	if (rc == 0 && cli.url == NULL && (cli.schemas != NULL || cli.schemas_from != NULL))
		rc = usage_error(usage, "%s needs --url", cli.schemas ? "--schemas" : "--schemas-from");
	if (rc == 0 && cli.location == NULL)
		rc = usage_error(usage, "%s is required", "--locations");
	if (rc == 0 && load_targets(&cli) != 0)
		rc = CTL_USAGE;
	if (rc != 0) {
		cli_release(&cli);
		return rc;
	}
	cli.opts.placeholders = &cli.ph;
	loc = strncmp(cli.location, "filesystem:", 11) == 0 ? cli.location + 11 : cli.location;
	if (mig_set_load(&set, loc, &err) != 0) {
		fprintf(stderr, "infractl: %s\n", err.message);
		cli_release(&cli);
		return CTL_FAILED;
	}
	outs = calloc(cli.ntargets, sizeof(*outs));
	if (outs == NULL)
		abort();
	started = time_mono_ms();
	rc = mig_run(&set, &cli.opts, cli.targets, cli.ntargets, outs, &err);
	if (cli.json) {
		print_json(cmd, cli.targets, cli.ntargets, outs, time_mono_ms() - started);
	} else {
		for (size_t i = 0; i < cli.ntargets; i++)
			print_human(cmd, &cli.targets[i], &outs[i]);
		if (cli.ntargets > 1 || rc != 0)
			printf("%s: %s (%.2f s)\n", mig_command_name(cmd),
			       rc == 0 ? "every target succeeded" : err.message,
			       (double)(time_mono_ms() - started) / 1000.0);
	}
	for (size_t i = 0; i < cli.ntargets; i++)
		mig_outcome_release(&outs[i]);
	free(outs);
	mig_set_release(&set);
	cli_release(&cli);
	return rc == 0 ? CTL_OK : CTL_FAILED;
}
