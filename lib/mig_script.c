/* mig_script.c — Flyway migration file names and loading the scripts of a
 * location (see mig_script.h). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mig_alloc.h"
#include "mig_checksum.h"
#include "mig_placeholder.h"
#include "mig_script.h"
#include "strbuf.h"
#include "utf8.h"

#define SQL_SUFFIX ".sql"
#define SEPARATOR "__"
#define MAX_DEPTH 16

int mig_name_parse(const char *filename, struct mig_name *out, struct infra_error *err)
{
	size_t len = strlen(filename), suffix = strlen(SQL_SUFFIX);
	const char *sep, *desc, *end;
	size_t dlen;

	if (filename[0] == '.' || len <= suffix ||
	    strcmp(filename + len - suffix, SQL_SUFFIX) != 0)
		return 0;
	end = filename + len - suffix;
	switch (filename[0]) {
	case 'V': out->kind = MIG_VERSIONED; break;
	case 'U': out->kind = MIG_UNDO; break;
	case 'R': out->kind = MIG_REPEATABLE; break;
	default:
		return infra_fail(err, INFRA_EMIGRATION,
				  "'%s' is not a migration name: expected V<version>__<description>.sql, U<version>__<description>.sql or R__<description>.sql",
				  filename);
	}
	sep = strstr(filename + 1, SEPARATOR);
	if (sep == NULL || sep >= end)
		return infra_fail(err, INFRA_EMIGRATION,
				  "'%s' is not a migration name: no '%s' between the version and the description",
				  filename, SEPARATOR);
	out->version[0] = '\0';
	if (out->kind == MIG_REPEATABLE) {
		if (sep != filename + 1)
			return infra_fail(err, INFRA_EMIGRATION,
					  "'%s' is not a migration name: a repeatable migration has no version (R__<description>.sql)",
					  filename);
	} else if (mig_version_parse(filename + 1, (size_t)(sep - filename - 1), out->version,
				     err) != 0) {
		char why[INFRA_ERRMSG_MAX];

		snprintf(why, sizeof(why), "%s", err ? err->message : "");
		return infra_fail(err, INFRA_EMIGRATION, "'%s': %s", filename, why);
	}
	desc = sep + strlen(SEPARATOR);
	dlen = (size_t)(end - desc);
	if (dlen >= sizeof(out->description))
		return infra_fail(err, INFRA_EMIGRATION, "'%s': the description is too long",
				  filename);
	for (size_t i = 0; i < dlen; i++)
		out->description[i] = desc[i] == '_' ? ' ' : desc[i];
	out->description[dlen] = '\0';
	if (out->kind == MIG_REPEATABLE && dlen == 0)
		return infra_fail(err, INFRA_EMIGRATION,
				  "'%s' is not a migration name: a repeatable migration needs a description",
				  filename);
	return 1;
}

void mig_set_init(struct mig_set *set)
{
	memset(set, 0, sizeof(*set));
}

static void script_release(struct mig_script *sc)
{
	free(sc->version);
	free(sc->description);
	free(sc->script);
	free(sc->sql);
	free(sc->stmts);
}

void mig_set_release(struct mig_set *set)
{
	for (size_t i = 0; i < set->nversioned; i++)
		script_release(&set->versioned[i]);
	for (size_t i = 0; i < set->nundo; i++)
		script_release(&set->undo[i]);
	for (size_t i = 0; i < set->nrepeatable; i++)
		script_release(&set->repeatable[i]);
	free(set->versioned);
	free(set->undo);
	free(set->repeatable);
	free(set->location);
	mig_set_init(set);
}

static int line_of(const char *s, size_t off)
{
	int line = 1;

	for (size_t i = 0; i < off; i++)
		if (s[i] == '\n')
			line++;
	return line;
}

static int read_file(const char *path, const char *script, char **out, size_t *outlen,
		     struct infra_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	char chunk[8192];
	size_t n, valid;
	FILE *f = fopen(path, "rb");

	if (f == NULL)
		return infra_fail(err, INFRA_EMIGRATION, "cannot read '%s': %s", script,
				  strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		strbuf_add(&sb, chunk, n);
	if (ferror(f)) {
		int e = errno;

		fclose(f);
		strbuf_release(&sb);
		return infra_fail(err, INFRA_EMIGRATION, "cannot read '%s': %s", script,
				  strerror(e));
	}
	fclose(f);
	/* A leading byte-order mark is not part of the SQL (nor of the checksum). */
	if (sb.len >= 3 && memcmp(sb.buf, "\xEF\xBB\xBF", 3) == 0) {
		memmove(sb.buf, sb.buf + 3, sb.len - 2);
		sb.len -= 3;
	}
	valid = utf8_valid_prefix(sb.buf, sb.len);
	if (valid != sb.len) {
		int line = line_of(sb.buf, valid);

		strbuf_release(&sb);
		return infra_fail(err, INFRA_EMIGRATION,
				  "'%s' is not valid UTF-8 (line %d): PostgreSQL would refuse it",
				  script, line);
	}
	*out = strbuf_detach(&sb, outlen);
	return 0;
}

/* Split the script and derive how it must run. */
static int analyse(struct mig_script *sc, struct infra_error *err)
{
	const struct mig_stmt *notx = NULL, *tx = NULL;

	if (mig_sql_split(sc->sql, sc->sql_len, &sc->stmts, &sc->nstmts, err) != 0) {
		char why[INFRA_ERRMSG_MAX];

		snprintf(why, sizeof(why), "%s", err ? err->message : "");
		return infra_fail(err, INFRA_EMIGRATION, "'%s': %s", sc->script, why);
	}
	for (size_t i = 0; i < sc->nstmts; i++) {
		const struct mig_stmt *st = &sc->stmts[i];

		if (st->copy_stdin)
			return infra_fail(err, INFRA_EMIGRATION,
					  "'%s' line %d: COPY … FROM STDIN is not supported in migrations",
					  sc->script, st->line);
		if (st->tx == MIG_STMT_TX_NEVER) {
			notx = notx ? notx : st;
		} else {
			tx = tx ? tx : st;
			if (st->tx == MIG_STMT_TX_BEFORE_12)
				sc->autocommit_before_12 = true;
		}
	}
	if (notx != NULL && tx != NULL)
		return infra_fail(err, INFRA_EMIGRATION,
				  "'%s' mixes a statement that cannot run in a transaction (line %d) with others (line %d): give it a migration of its own",
				  sc->script, notx->line, tx->line);
	sc->autocommit_always = notx != NULL;
	sc->placeholders = mig_placeholders_present(sc->sql, sc->sql_len);
	return 0;
}

static struct mig_script *push(struct mig_script **arr, size_t *n)
{
	*arr = mig_realloc(*arr, (*n + 1) * sizeof(**arr));
	memset(&(*arr)[*n], 0, sizeof((*arr)[*n]));
	return &(*arr)[(*n)++];
}

static int load_file(struct mig_set *set, const char *path, const char *script,
		     const struct mig_name *name, struct infra_error *err)
{
	struct mig_script *sc;

	/* Its name goes into the history and every report: UTF-8 only. */
	if (!utf8_valid(script, strlen(script))) {
		char *shown = mig_strdup(script);

		utf8_scrub(shown);
		infra_fail(err, INFRA_EMIGRATION, "the name of '%s' is not valid UTF-8: PostgreSQL "
			   "would refuse it in the history", shown);
		free(shown);
		return -1;
	}
	switch (name->kind) {
	case MIG_VERSIONED: sc = push(&set->versioned, &set->nversioned); break;
	case MIG_UNDO:      sc = push(&set->undo, &set->nundo); break;
	default:            sc = push(&set->repeatable, &set->nrepeatable); break;
	}
	sc->kind = name->kind;
	sc->version = name->kind == MIG_REPEATABLE ? NULL : mig_strdup(name->version);
	sc->description = mig_strdup(name->description);
	sc->script = mig_strdup(script);
	if (read_file(path, script, &sc->sql, &sc->sql_len, err) != 0)
		return -1;
	sc->checksum = mig_checksum(sc->sql, sc->sql_len);
	return analyse(sc, err);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Load the migrations in directory `dir` (`rel` is its path relative to the
 * location, "" at the top), recursing into subdirectories in name order. */
static int scan_dir(struct mig_set *set, const char *dir, const char *rel, int depth,
		    struct infra_error *err)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	int rc = 0;

	if (depth > MAX_DEPTH)
		return infra_fail(err, INFRA_EMIGRATION, "'%s' nests folders too deeply", rel);
	d = opendir(dir);
	if (d == NULL) {
		int e = errno;

		if (depth == 0)
			return infra_fail(err, e == ENOENT ? INFRA_ENOTFOUND : INFRA_EMIGRATION,
					  "cannot open migration location '%s': %s", dir, strerror(e));
		return infra_fail(err, INFRA_EMIGRATION, "cannot open '%s': %s", rel, strerror(e));
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		names = mig_realloc(names, (n + 1) * sizeof(*names));
		names[n++] = mig_strdup(de->d_name);
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct strbuf path = STRBUF_INIT, script = STRBUF_INIT;
		struct mig_name name;
		struct stat st;

		strbuf_addf(&path, "%s/%s", dir, names[i]);
		strbuf_addf(&script, "%s%s%s", rel, rel[0] ? "/" : "", names[i]);
		if (stat(path.buf, &st) != 0) {
			rc = infra_fail(err, INFRA_EMIGRATION, "cannot read '%s': %s", script.buf,
					strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			rc = scan_dir(set, path.buf, script.buf, depth + 1, err);
		} else if (S_ISREG(st.st_mode)) {
			int r = mig_name_parse(names[i], &name, err);

			if (r < 0)
				rc = -1;
			else if (r > 0)
				rc = load_file(set, path.buf, script.buf, &name, err);
		}
		strbuf_release(&path);
		strbuf_release(&script);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

static int cmp_version(const void *a, const void *b)
{
	return mig_version_cmp(((const struct mig_script *)a)->version,
			       ((const struct mig_script *)b)->version);
}

static int cmp_description(const void *a, const void *b)
{
	return strcmp(((const struct mig_script *)a)->description,
		      ((const struct mig_script *)b)->description);
}

/* Sort `n` scripts and fail on two that compare equal. */
static int sort_unique(struct mig_script *arr, size_t n,
		       int (*cmp)(const void *, const void *), const char *what,
		       struct infra_error *err)
{
	if (n > 1)
		qsort(arr, n, sizeof(*arr), cmp);
	for (size_t i = 1; i < n; i++)
		if (cmp(&arr[i - 1], &arr[i]) == 0)
			return infra_fail(err, INFRA_EMIGRATION,
					  "found more than one %s migration with %s '%s': '%s' and '%s'",
					  what, arr[i].version ? "version" : "description",
					  arr[i].version ? arr[i].version : arr[i].description,
					  arr[i - 1].script, arr[i].script);
	return 0;
}

int mig_set_load(struct mig_set *set, const char *location, struct infra_error *err)
{
	mig_set_init(set);
	set->location = mig_strdup(location);
	if (scan_dir(set, location, "", 0, err) != 0 ||
	    sort_unique(set->versioned, set->nversioned, cmp_version, "versioned", err) != 0 ||
	    sort_unique(set->undo, set->nundo, cmp_version, "undo", err) != 0 ||
	    sort_unique(set->repeatable, set->nrepeatable, cmp_description, "repeatable", err) != 0) {
		mig_set_release(set);
		return -1;
	}
	return 0;
}

const struct mig_script *mig_set_find(const struct mig_set *set, enum mig_kind kind,
				      const char *version)
{
	const struct mig_script *arr = kind == MIG_UNDO ? set->undo : set->versioned;
	size_t lo = 0, hi = kind == MIG_UNDO ? set->nundo : set->nversioned;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = mig_version_cmp(arr[mid].version, version);

		if (c == 0)
			return &arr[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool mig_script_autocommit(const struct mig_script *sc, int server_version)
{
	return sc->autocommit_always || (sc->autocommit_before_12 && server_version < 120000);
}

int mig_script_checksum_file(const char *path, int32_t *out, struct infra_error *err)
{
	char *text;
	size_t len;

	if (read_file(path, path, &text, &len, err) != 0)
		return -1;
	*out = mig_checksum(text, len);
	free(text);
	return 0;
}

const char *mig_script_type(const struct mig_script *sc)
{
	return sc->kind == MIG_UNDO ? "UNDO_SQL" : "SQL";
}
