/* mig_alloc.h — allocation for the migration engine's files, on
 * xalloc.h: an exhausted heap aborts (the process is replaced), so callers
 * need no out-of-memory paths. Private to lib/mig_*.c. */
#ifndef INFRA_MIG_ALLOC_H
#define INFRA_MIG_ALLOC_H

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* calloc / realloc that never return NULL (a zero size gets one byte). */
static inline void *mig_calloc(size_t n, size_t size)
{
	return xoom(calloc(n ? n : 1, size ? size : 1));
}

static inline void *mig_realloc(void *p, size_t size)
{
	return xoom(realloc(p, size ? size : 1));
}

/* A copy of `s`, or NULL when `s` is NULL. The caller frees it. */
static inline char *mig_strdup(const char *s)
{
	return s ? xoom(strdup(s)) : NULL;
}

/* A copy of the first `n` bytes of `s`. The caller frees it. */
static inline char *mig_strndup(const char *s, size_t n)
{
	return xoom(strndup(s, n));
}

#endif
