/* arena.h — a bump allocator for per-request memory.
 *
 * A request worker allocates everything a request needs from one arena and
 * resets it after FCGX_Finish_r (nginx's request pool). Blocks are kept
 * across resets so a steady worker stops calling malloc; a block larger
 * than the arena's block size gets its own allocation, freed on reset. */
#ifndef INFRA_ARENA_H
#define INFRA_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *blocks;	/* the current block first */
	struct arena_block *large;	/* oversized allocations */
	size_t block_size;
};

/* Prepare an empty arena whose blocks hold `block_size` bytes. */
void arena_init(struct arena *a, size_t block_size);

/* Return `size` bytes aligned for any type, valid until the next
 * arena_reset() or arena_release(). Aborts when memory is exhausted (the
 * worker is then replaced by the master). */
void *arena_alloc(struct arena *a, size_t size);

/* As arena_alloc, zero-filled. */
void *arena_calloc(struct arena *a, size_t n, size_t size);

/* Copy a string, or its first `n` bytes, into the arena. NULL gives NULL. */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);

/* printf into arena memory. */
char *arena_printf(struct arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Forget every allocation; keeps the first block for reuse. Everything
 * previously returned is invalid afterwards. */
void arena_reset(struct arena *a);

/* Free all memory; the arena may be initialised again. */
void arena_release(struct arena *a);

#endif
