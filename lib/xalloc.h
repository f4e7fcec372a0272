/* xalloc.h — copies that never fail: an exhausted heap aborts (the master
 * replaces the process), so callers need no out-of-memory paths, as with
 * strbuf and the engine's mig_alloc.h. */
#ifndef INFRA_XALLOC_H
#define INFRA_XALLOC_H

#include <stdlib.h>
#include <string.h>

/* A copy of `s` ("" for NULL). The caller frees it. */
static inline char *xstrdup(const char *s)
{
	char *p = strdup(s != NULL ? s : "");

	if (p == NULL)
		abort();
	return p;
}

#endif
