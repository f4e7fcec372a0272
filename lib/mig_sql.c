/* mig_sql.c — a PostgreSQL statement splitter and classifier (see mig_sql.h).
 *
 * One pass over the bytes: a small lexer skips quoted text and comments,
 * counts parentheses and BEGIN ATOMIC blocks, and ends a statement at a
 * semicolon outside all of them. Each statement keeps its first few words,
 * upper-cased, which is all the classification needs (Flyway's parser looks
 * at the same leading keywords). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mig_alloc.h"
#include "mig_sql.h"

#define LEAD_WORDS 8
#define WORD_MAX 16

struct splitter {
	const char *s;
	size_t len;
	size_t pos;
	int line;
	/* the statement being read */
	bool started;
	size_t start;
	int start_line;
	char words[LEAD_WORDS][WORD_MAX];
	int nwords;
	const char *prev_word;	/* the previous word at block level, for BEGIN ATOMIC */
	int atomic_depth;	/* BEGIN ATOMIC / CASE nesting inside one */
	/* the result */
	struct mig_stmt *stmts;
	size_t n, alloc;
};

static bool ident_start(unsigned char c)
{
	return isalpha(c) || c == '_' || c >= 0x80;
}

static bool ident_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

static void advance(struct splitter *sp, size_t n)
{
	for (size_t i = 0; i < n && sp->pos < sp->len; i++)
		if (sp->s[sp->pos++] == '\n')
			sp->line++;
}

static void mark_start(struct splitter *sp)
{
	if (!sp->started) {
		sp->started = true;
		sp->start = sp->pos;
		sp->start_line = sp->line;
	}
}

static void add_word(struct splitter *sp, const char *w, size_t n)
{
	if (sp->nwords >= LEAD_WORDS)
		return;
	if (n >= WORD_MAX)
		n = WORD_MAX - 1;
	for (size_t i = 0; i < n; i++)
		sp->words[sp->nwords][i] = (char)toupper((unsigned char)w[i]);
	sp->words[sp->nwords][n] = '\0';
	sp->nwords++;
}

static bool word_is(const struct splitter *sp, int i, const char *w)
{
	return i < sp->nwords && strcmp(sp->words[i], w) == 0;
}

/* Classify the statement from its leading words, as Flyway's
 * PostgreSQLParser does, plus REINDEX … CONCURRENTLY and ALTER DATABASE …
 * SET TABLESPACE, which PostgreSQL refuses in a transaction block too. */
static enum mig_stmt_tx classify(const struct splitter *sp)
{
	int i = 1;

	if (word_is(sp, 0, "CREATE") || word_is(sp, 0, "DROP")) {
		if (word_is(sp, 1, "DATABASE") || word_is(sp, 1, "TABLESPACE") ||
		    word_is(sp, 1, "SUBSCRIPTION"))
			return MIG_STMT_TX_NEVER;
		if (word_is(sp, 1, "UNIQUE"))
			i = 2;
		if (word_is(sp, i, "INDEX") && word_is(sp, i + 1, "CONCURRENTLY"))
			return MIG_STMT_TX_NEVER;
		return MIG_STMT_TX_OK;
	}
	if (word_is(sp, 0, "ALTER") && word_is(sp, 1, "SYSTEM"))
		return MIG_STMT_TX_NEVER;
	if (word_is(sp, 0, "ALTER") && word_is(sp, 1, "DATABASE")) {
		for (i = 2; i + 1 < sp->nwords; i++)
			if (word_is(sp, i, "SET") && word_is(sp, i + 1, "TABLESPACE"))
				return MIG_STMT_TX_NEVER;
		return MIG_STMT_TX_OK;
	}
	if (word_is(sp, 0, "ALTER") && word_is(sp, 1, "TYPE")) {
		for (i = 2; i + 1 < sp->nwords; i++)
			if (word_is(sp, i, "ADD") && word_is(sp, i + 1, "VALUE"))
				return MIG_STMT_TX_BEFORE_12;
		return MIG_STMT_TX_OK;
	}
	if (word_is(sp, 0, "REINDEX")) {
		for (i = 1; i < sp->nwords; i++)
			if (word_is(sp, i, "SCHEMA") || word_is(sp, i, "DATABASE") ||
			    word_is(sp, i, "SYSTEM") || word_is(sp, i, "CONCURRENTLY"))
				return MIG_STMT_TX_NEVER;
		return MIG_STMT_TX_OK;
	}
	if (word_is(sp, 0, "VACUUM"))
		return MIG_STMT_TX_NEVER;
	if (word_is(sp, 0, "DISCARD") && word_is(sp, 1, "ALL"))
		return MIG_STMT_TX_NEVER;
	return MIG_STMT_TX_OK;
}

static bool is_copy_stdin(const struct splitter *sp)
{
	if (!word_is(sp, 0, "COPY"))
		return false;
	for (int i = 1; i + 1 < sp->nwords; i++)
		if (word_is(sp, i, "FROM") && word_is(sp, i + 1, "STDIN"))
			return true;
	return false;
}

static void end_statement(struct splitter *sp, size_t end)
{
	struct mig_stmt *st;

	if (sp->started) {
		if (sp->n == sp->alloc) {
			sp->alloc = sp->alloc ? sp->alloc * 2 : 16;
			sp->stmts = mig_realloc(sp->stmts, sp->alloc * sizeof(*sp->stmts));
		}
		st = &sp->stmts[sp->n++];
		st->off = sp->start;
		st->len = end - sp->start;
		while (st->len > 0 && isspace((unsigned char)sp->s[st->off + st->len - 1]))
			st->len--;
		st->line = sp->start_line;
		st->tx = classify(sp);
		st->copy_stdin = is_copy_stdin(sp);
	}
	sp->started = false;
	sp->nwords = 0;
	sp->prev_word = NULL;
	sp->atomic_depth = 0;
}

/* Skip a quoted run closed by `quote`, where a doubled quote stands for
 * itself and, when `backslash`, a backslash escapes the next byte. */
static int skip_quoted(struct splitter *sp, char quote, bool backslash,
		       struct infra_error *err)
{
	int line = sp->line;

	advance(sp, 1);
	while (sp->pos < sp->len) {
		char c = sp->s[sp->pos];

		if (backslash && c == '\\') {
			advance(sp, 2);
		} else if (c == quote) {
			if (sp->pos + 1 < sp->len && sp->s[sp->pos + 1] == quote) {
				advance(sp, 2);
			} else {
				advance(sp, 1);
				return 0;
			}
		} else {
			advance(sp, 1);
		}
	}
	return infra_fail(err, INFRA_EMIGRATION, "unterminated %s starting on line %d",
			  quote == '"' ? "quoted identifier" : "quoted string", line);
}

static int skip_block_comment(struct splitter *sp, struct infra_error *err)
{
	int line = sp->line, depth = 0;

	while (sp->pos < sp->len) {
		if (sp->s[sp->pos] == '/' && sp->pos + 1 < sp->len && sp->s[sp->pos + 1] == '*') {
			depth++;
			advance(sp, 2);
		} else if (sp->s[sp->pos] == '*' && sp->pos + 1 < sp->len &&
			   sp->s[sp->pos + 1] == '/') {
			advance(sp, 2);
			if (--depth == 0)
				return 0;
		} else {
			advance(sp, 1);
		}
	}
	return infra_fail(err, INFRA_EMIGRATION, "unterminated comment starting on line %d", line);
}

/* At a '$': if a dollar quote opens here ($$ or $tag$), skip to its close
 * and return 1; return 0 when this '$' is something else (a parameter $1). */
static int skip_dollar_quote(struct splitter *sp, struct infra_error *err)
{
	size_t p = sp->pos + 1, taglen;
	int line = sp->line;
	const char *tag = sp->s + sp->pos;

	if (p < sp->len && ident_start((unsigned char)sp->s[p])) {
		while (p < sp->len && ident_char((unsigned char)sp->s[p]) && sp->s[p] != '$')
			p++;
	}
	if (p >= sp->len || sp->s[p] != '$')
		return 0;
	taglen = p - sp->pos + 1;
	advance(sp, taglen);
	while (sp->pos < sp->len) {
		if (sp->s[sp->pos] == '$' && sp->len - sp->pos >= taglen &&
		    memcmp(sp->s + sp->pos, tag, taglen) == 0) {
			advance(sp, taglen);
			return 1;
		}
		advance(sp, 1);
	}
	return infra_fail(err, INFRA_EMIGRATION,
			  "unterminated dollar-quoted string starting on line %d", line);
}

static void on_word(struct splitter *sp, const char *w, size_t n)
{
	add_word(sp, w, n);
	if (n == 6 && strncasecmp(w, "ATOMIC", 6) == 0 && sp->prev_word != NULL &&
	    strncasecmp(sp->prev_word, "BEGIN", 5) == 0 &&
	    !ident_char((unsigned char)sp->prev_word[5])) {
		sp->atomic_depth++;
	} else if (sp->atomic_depth > 0 && n == 4 && strncasecmp(w, "CASE", 4) == 0) {
		sp->atomic_depth++;
	} else if (sp->atomic_depth > 0 && n == 3 && strncasecmp(w, "END", 3) == 0) {
		sp->atomic_depth--;
	}
	sp->prev_word = w;
}

int mig_sql_split(const char *sql, size_t len, struct mig_stmt **out, size_t *n,
		  struct infra_error *err)
{
	struct splitter sp = { .s = sql, .len = len, .line = 1 };

	*out = NULL;
	*n = 0;
	while (sp.pos < sp.len) {
		unsigned char c = (unsigned char)sql[sp.pos];
		unsigned char next = sp.pos + 1 < sp.len ? (unsigned char)sql[sp.pos + 1] : 0;
		int r = 0;

		if (isspace(c)) {
			advance(&sp, 1);
		} else if (c == '-' && next == '-') {
			while (sp.pos < sp.len && sql[sp.pos] != '\n')
				advance(&sp, 1);
		} else if (c == '/' && next == '*') {
			r = skip_block_comment(&sp, err);
		} else if (c == ';') {
			if (sp.atomic_depth > 0) {
				advance(&sp, 1);
			} else {
				end_statement(&sp, sp.pos);
				advance(&sp, 1);
			}
		} else if (c == '\'') {
			mark_start(&sp);
			r = skip_quoted(&sp, '\'', false, err);
		} else if (c == '"') {
			mark_start(&sp);
			add_word(&sp, "\"", 1);
			r = skip_quoted(&sp, '"', false, err);
		} else if (c == '$') {
			mark_start(&sp);
			r = skip_dollar_quote(&sp, err);
			if (r == 0)
				advance(&sp, 1);
		} else if ((c == 'E' || c == 'e') && next == '\'') {
			mark_start(&sp);
			advance(&sp, 1);
			r = skip_quoted(&sp, '\'', true, err);
		} else if (ident_start(c)) {
			size_t w = sp.pos;

			mark_start(&sp);
			while (sp.pos < sp.len && ident_char((unsigned char)sql[sp.pos]))
				advance(&sp, 1);
			on_word(&sp, sql + w, sp.pos - w);
		} else {
			mark_start(&sp);
			advance(&sp, 1);
		}
		if (r < 0) {
			free(sp.stmts);
			return -1;
		}
	}
	end_statement(&sp, sp.pos);
	*out = sp.stmts;
	*n = sp.n;
	return 0;
}

bool mig_stmt_needs_autocommit(const struct mig_stmt *st, int server_version)
{
	return st->tx == MIG_STMT_TX_NEVER ||
	       (st->tx == MIG_STMT_TX_BEFORE_12 && server_version < 120000);
}
