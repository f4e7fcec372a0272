/* mig_pool.c — idle engine sessions kept between runs (see mig_pool.h).
 *
 * A small array used as a stack: put appends, take looks from the newest
 * down (a session just used is the likeliest to be alive and warm), and
 * the oldest is closed when the pool is full or has idled too long. */
#include <openssl/crypto.h>
#include <poll.h>

#include "mig_alloc.h"
#include "mig_pool.h"
#include "timeutil.h"

struct pooled {
	struct mig_session sess;
	char *conninfo;			/* holds a password: wiped when dropped */
	int64_t idle_since_ms;
};

struct mig_pool {
	struct pooled *items;		/* oldest first */
	size_t n;
	size_t max;
	int idle_ms;
};

struct mig_pool *mig_pool_new(int max_idle, int idle_ms)
{
	struct mig_pool *p = mig_calloc(1, sizeof(*p));

	p->max = max_idle > 0 ? (size_t)max_idle : 1;
	p->idle_ms = idle_ms;
	p->items = mig_calloc(p->max, sizeof(*p->items));
	return p;
}

static void forget(struct pooled *it)
{
	OPENSSL_cleanse(it->conninfo, strlen(it->conninfo));
	free(it->conninfo);
	it->conninfo = NULL;
}

/* Remove item `i`, closing its session unless it was moved out. */
static void drop(struct mig_pool *p, size_t i, bool close)
{
	if (close)
		mig_session_release(&p->items[i].sess);
	forget(&p->items[i]);
	memmove(&p->items[i], &p->items[i + 1], (p->n - i - 1) * sizeof(*p->items));
	p->n--;
}

void mig_pool_prune(struct mig_pool *p, bool all)
{
	int64_t now = time_mono_ms();

	if (p == NULL)
		return;
	/* Oldest first: stop at the first one still young enough. */
	while (p->n > 0 && (all || now - p->items[0].idle_since_ms > p->idle_ms))
		drop(p, 0, true);
}

void mig_pool_free(struct mig_pool *p)
{
	if (p == NULL)
		return;
	mig_pool_prune(p, true);
	free(p->items);
	free(p);
}

size_t mig_pool_size(const struct mig_pool *p)
{
	return p != NULL ? p->n : 0;
}

/* An idle connection has nothing to say: any input waiting means the
 * server ended it (a terminated backend sends its FATAL message before
 * closing, which libpq would read without noticing the close yet) or
 * something else went wrong. Either way it is not reused. */
static bool still_open(PGconn *pg)
{
	struct pollfd pfd = { .fd = PQsocket(pg), .events = POLLIN };

	return pfd.fd >= 0 && PQstatus(pg) == CONNECTION_OK &&
	       PQtransactionStatus(pg) == PQTRANS_IDLE && poll(&pfd, 1, 0) == 0;
}

bool mig_pool_take(struct mig_pool *p, const char *conninfo, struct mig_session *slot)
{
	for (size_t i = p->n; i-- > 0;) {
		struct pooled *it = &p->items[i];

		if (strcmp(it->conninfo, conninfo) != 0)
			continue;
		if (!still_open(it->sess.pg)) {
			drop(p, i, true);
			continue;
		}
		mig_session_release(slot);
		*slot = it->sess;
		drop(p, i, false);
		return true;
	}
	return false;
}

bool mig_pool_holds(const struct mig_pool *p, const char *conninfo)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->items[i].conninfo, conninfo) == 0)
			return true;
	return false;
}

void mig_pool_put(struct mig_pool *p, const char *conninfo, struct mig_session *slot)
{
	struct pooled *it;

	if (p->n == p->max)
		drop(p, 0, true);
	it = &p->items[p->n++];
	it->sess = *slot;
	it->conninfo = mig_strdup(conninfo);
	it->idle_since_ms = time_mono_ms();
	mig_session_init(slot);
}
