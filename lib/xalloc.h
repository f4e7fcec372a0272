/* xalloc.h — allocation that never fails: an exhausted heap aborts (the
 * master replaces the process), so callers need no out-of-memory paths, as
 * with strbuf. The engine's mig_alloc.h builds on it. */
#ifndef INFRA_XALLOC_H
#define INFRA_XALLOC_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* `p`, which an allocation returned; NULL aborts the process. */
static inline void *xoom(void *p)
{
	if (p == NULL) {
		fputs("infra: out of memory\n", stderr);
		abort();
	}
	return p;
}

/* A copy of `s` ("" for NULL). The caller frees it. */
static inline char *xstrdup(const char *s)
{
	return xoom(strdup(s != NULL ? s : ""));
}

#endif
