/* metrics.h — process-shared counters rendered in Prometheus text format.
 *
 * The master maps one shared anonymous region before it forks; every
 * worker and runner updates it with atomic operations, and whichever worker
 * answers GET /metrics renders the whole host's figures. Counters survive
 * worker restarts and reloads (the master keeps the mapping).
 *
 * Three kinds of series:
 *  - fixed counters and gauges, listed once in METRICS_LIST below;
 *  - requests by route, method class and status, with a latency histogram,
 *    indexed by the routing table's row (no lookup on the hot path);
 *  - labelled counters created on first use (e.g. executions by status),
 *    found by name and labels in a small table. */
#ifndef INFRA_METRICS_H
#define INFRA_METRICS_H

#include <stdint.h>

#include "strbuf.h"

/* name, type, help */
#define METRICS_LIST(X)                                                              \
	X(WORKER_RESTARTS, "infra_worker_restarts_total", "counter",                   \
	  "worker or runner processes replaced after an abnormal exit")                \
	X(WORKER_RECYCLES, "infra_worker_recycles_total", "counter",                   \
	  "workers replaced after serving MAX_REQUESTS")                               \
	X(RELOADS, "infra_reloads_total", "counter", "configuration reloads (SIGHUP)") \
	X(WORKERS_ALIVE, "infra_workers", "gauge", "request worker processes alive")   \
	X(RUNNERS_ALIVE, "infra_runners", "gauge", "job runner processes alive")       \
	X(CACHE_HITS, "infra_cache_hits_total", "counter", "memcached hits")           \
	X(CACHE_MISSES, "infra_cache_misses_total", "counter", "memcached misses")     \
	X(CACHE_ERRORS, "infra_cache_errors_total", "counter",                         \
	  "memcached operations that failed (the cache was skipped)")                  \
	X(DB_RECONNECTS, "infra_db_reconnects_total", "counter",                       \
	  "control database reconnections")

enum metric_id {
#define METRIC_ENUM(id, name, type, help) METRIC_##id,
	METRICS_LIST(METRIC_ENUM)
#undef METRIC_ENUM
	METRIC__COUNT
};

#define METRICS_MAX_ROUTES 96
#define METRICS_MAX_LABELLED 512

/* Map the shared region (call once, in the master, before forking).
 * Returns 0 or -1 (mmap failed; logged). Until called, every update is a
 * no-op and rendering shows zeros, so the CLI and tests need not call it. */
int metrics_init(void);

/* Add to / set a fixed metric. */
void metrics_add(enum metric_id id, int64_t n);
void metrics_set(enum metric_id id, int64_t v);
int64_t metrics_get(enum metric_id id);

/* Count one served request for routing-table row `route` (0..MAX-1; use
 * the last row for "no route"), its HTTP status and its duration. */
void metrics_observe_request(int route, int status, int64_t duration_us);

/* Add `n` to the counter `name` with Prometheus `labels` (e.g.
 * `status="failed"`, or "" for none), creating it on first use. `name` and
 * `labels` must be short (48 / 128 bytes); when the table is full the
 * update is dropped and counted in infra_metrics_dropped_total. */
void metrics_count(const char *name, const char *labels, int64_t n);

/* Set a labelled gauge (created on first use, as metrics_count). */
void metrics_gauge(const char *name, const char *labels, int64_t v);

/* Render every series as Prometheus text into `out`. `route_names[i]` is
 * the pattern of routing-table row i (n rows). */
void metrics_render(struct strbuf *out, const char *const *route_names, int nroutes);

/* --- open event streams (SSE), bounded per host ---
 *
 * A stream pins a request worker for its whole life, so the number open at
 * once is bounded across the host's workers. Each open stream holds one
 * entry naming its worker's pid; the master frees the entries of a worker
 * it reaps, so a worker killed mid-stream never leaks its place. (Entries
 * hold pids rather than worker slot numbers: after a reload, a draining
 * worker and its successor share a slot number.) */

#define METRICS_MAX_STREAMS 256

/* Take a stream place for worker `pid` when fewer than `limit` are taken.
 * Returns 0, or -1 when the host has `limit` streams open already (or
 * metrics_init was never called). */
int metrics_stream_acquire(int pid, int limit);

/* Give back the place of worker `pid` (the worker when its stream ends,
 * the master when it reaps the worker). */
void metrics_stream_release(int pid);

/* Streams open on this host now. */
int metrics_streams_open(void);

/* Seconds since metrics_init() (the master's start). */
int64_t metrics_uptime_s(void);

#endif
