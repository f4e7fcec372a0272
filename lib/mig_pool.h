/* mig_pool.h — sessions the migration engine keeps between runs.
 *
 * A process that calls mig_run() again and again (a job runner taking
 * batch after batch of tenants) would otherwise open new connections to
 * the same databases for every run, and each new backend pays for its
 * password exchange and for warming its catalog caches before its first
 * DDL. Given a pool (mig_options.pool), a run starts with idle sessions to
 * its targets' databases taken from it and gives back every session that
 * ends idle and clean (writers end each target with DISCARD ALL). Sessions
 * are matched by their whole connection string, so changed credentials
 * never reuse an old session; one idle longer than the pool's limit is
 * closed by mig_pool_prune(). Not thread-safe: one pool per thread. */
#ifndef INFRA_MIG_POOL_H
#define INFRA_MIG_POOL_H

#include <stdbool.h>
#include <stddef.h>

#include "mig_session.h"

struct mig_pool;

/* A pool keeping at most `max_idle` sessions (the oldest closed to make
 * room), each for at most `idle_ms` milliseconds. */
struct mig_pool *mig_pool_new(int max_idle, int idle_ms);

/* Close the sessions idle for longer than the pool's limit; every one
 * with `all`. */
void mig_pool_prune(struct mig_pool *p, bool all);

/* Close every session and free the pool. NULL is ignored. */
void mig_pool_free(struct mig_pool *p);

/* Idle sessions held. */
size_t mig_pool_size(const struct mig_pool *p);

/* --- for the engine (mig_fleet.c) --- */

/* Move an idle session to `conninfo`, still connected, into `slot` (a
 * session closed and initialised, whose memory is released first); the
 * newest one first. A session the server closed meanwhile is dropped.
 * Returns true when `slot` got one. */
bool mig_pool_take(struct mig_pool *p, const char *conninfo, struct mig_session *slot);

/* Whether an idle session to `conninfo` is held (it may yet turn out
 * closed when taken). */
bool mig_pool_holds(const struct mig_pool *p, const char *conninfo);

/* Keep the idle session `slot` for `conninfo` (copied) and leave `slot`
 * closed and initialised. */
void mig_pool_put(struct mig_pool *p, const char *conninfo, struct mig_session *slot);

#endif
