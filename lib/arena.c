/* arena.c — bump allocation for per-request memory (see arena.h). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

struct arena_block {
	struct arena_block *next;
	size_t used, size;
	max_align_t data[];
};

#define ALIGN (_Alignof(max_align_t))

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL) {
		fputs("infra: out of memory\n", stderr);
		abort();
	}
	return p;
}

void arena_init(struct arena *a, size_t block_size)
{
	a->blocks = NULL;
	a->large = NULL;
	a->block_size = block_size;
}

static struct arena_block *block_new(size_t size)
{
	struct arena_block *b = xmalloc(sizeof(*b) + size);

	b->next = NULL;
	b->used = 0;
	b->size = size;
	return b;
}

void *arena_alloc(struct arena *a, size_t size)
{
	struct arena_block *b = a->blocks;
	size_t need = (size + ALIGN - 1) & ~(ALIGN - 1);

	if (need == 0)
		need = ALIGN;
	if (need > a->block_size / 4) {
		struct arena_block *big = block_new(need);

		big->next = a->large;
		a->large = big;
		return big->data;
	}
	if (b == NULL || b->size - b->used < need) {
		b = block_new(a->block_size);
		b->next = a->blocks;
		a->blocks = b;
	}
	b->used += need;
	return (char *)b->data + b->used - need;
}

void *arena_calloc(struct arena *a, size_t n, size_t size)
{
	void *p;

	if (size != 0 && n > SIZE_MAX / size) {
		fputs("infra: arena_calloc overflow\n", stderr);
		abort();
	}
	p = arena_alloc(a, n * size);
	memset(p, 0, n * size);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p;

	if (s == NULL)
		return NULL;
	p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return arena_strdup(a, "");
	p = arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

static void free_chain(struct arena_block *b)
{
	while (b != NULL) {
		struct arena_block *next = b->next;

		free(b);
		b = next;
	}
}

void arena_reset(struct arena *a)
{
	free_chain(a->large);
	a->large = NULL;
	if (a->blocks != NULL) {
		free_chain(a->blocks->next);
		a->blocks->next = NULL;
		a->blocks->used = 0;
	}
}

void arena_release(struct arena *a)
{
	free_chain(a->large);
	free_chain(a->blocks);
	a->large = NULL;
	a->blocks = NULL;
}
