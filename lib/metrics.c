/* metrics.c — process-shared counters in one anonymous shared mapping
 * (see metrics.h). Updates are lock-free atomics; the labelled table takes
 * a spinlock only to create a series. */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "log.h"
#include "metrics.h"
#include "timeutil.h"

/* Status codes kept apart; anything else is counted as "other". */
static const int tracked_status[] = {
	200, 201, 202, 204, 304, 400, 401, 403, 404, 405, 409, 412, 413,
	415, 422, 428, 429, 500, 502, 503, 504,
};
#define NSTATUS (sizeof(tracked_status) / sizeof(tracked_status[0]) + 1)

/* Latency histogram bounds in microseconds (le=, in seconds when shown). */
static const int64_t bucket_us[] = {
	250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
	500000, 1000000, 2500000, 5000000, 10000000,
};
#define NBUCKETS (sizeof(bucket_us) / sizeof(bucket_us[0]))

struct route_stats {
	_Atomic int64_t by_status[NSTATUS];
	_Atomic int64_t bucket[NBUCKETS];	/* non-cumulative; summed when shown */
	_Atomic int64_t count;
	_Atomic int64_t sum_us;
};

struct labelled {
	_Atomic int used;
	bool gauge;
	char name[48];
	char labels[128];
	_Atomic int64_t value;
};

struct metrics_shared {
	int64_t started_wall;
	int64_t started_mono_ms;
	_Atomic int64_t fixed[METRIC__COUNT];
	struct route_stats routes[METRICS_MAX_ROUTES];
	atomic_flag lock;
	_Atomic int64_t dropped;
	struct labelled labelled[METRICS_MAX_LABELLED];
	_Atomic int stream_pid[METRICS_MAX_STREAMS];	/* 0: free */
};

static struct metrics_shared *shm;

int metrics_init(void)
{
	void *p = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return log_errno("mmap", "metrics");
	shm = p;
	memset(shm, 0, sizeof(*shm));
	atomic_flag_clear(&shm->lock);
	shm->started_wall = time_wall_s();
	shm->started_mono_ms = time_mono_ms();
	return 0;
}

void metrics_add(enum metric_id id, int64_t n)
{
	if (shm)
		atomic_fetch_add_explicit(&shm->fixed[id], n, memory_order_relaxed);
}

void metrics_set(enum metric_id id, int64_t v)
{
	if (shm)
		atomic_store_explicit(&shm->fixed[id], v, memory_order_relaxed);
}

int64_t metrics_get(enum metric_id id)
{
	return shm ? atomic_load_explicit(&shm->fixed[id], memory_order_relaxed) : 0;
}

static size_t status_index(int status)
{
	for (size_t i = 0; i < NSTATUS - 1; i++)
		if (tracked_status[i] == status)
			return i;
	return NSTATUS - 1;
}

void metrics_observe_request(int route, int status, int64_t duration_us)
{
	struct route_stats *r;
	size_t b = 0;

	if (shm == NULL || route < 0 || route >= METRICS_MAX_ROUTES)
		return;
	r = &shm->routes[route];
	atomic_fetch_add_explicit(&r->by_status[status_index(status)], 1, memory_order_relaxed);
	while (b < NBUCKETS && duration_us > bucket_us[b])
		b++;
	if (b < NBUCKETS)
		atomic_fetch_add_explicit(&r->bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->sum_us, duration_us, memory_order_relaxed);
}

static struct labelled *find_or_create(const char *name, const char *labels, bool gauge)
{
	struct labelled *slot = NULL;

	if (strlen(name) >= sizeof(slot->name) || strlen(labels) >= sizeof(slot->labels))
		return NULL;
	for (int i = 0; i < METRICS_MAX_LABELLED; i++) {
		struct labelled *l = &shm->labelled[i];

		if (!atomic_load_explicit(&l->used, memory_order_acquire))
			break;
		if (strcmp(l->name, name) == 0 && strcmp(l->labels, labels) == 0)
			return l;
	}
	while (atomic_flag_test_and_set_explicit(&shm->lock, memory_order_acquire))
		;
	for (int i = 0; i < METRICS_MAX_LABELLED; i++) {
		struct labelled *l = &shm->labelled[i];

		if (!atomic_load_explicit(&l->used, memory_order_acquire)) {
			l->gauge = gauge;
			strcpy(l->name, name);
			strcpy(l->labels, labels);
			atomic_store_explicit(&l->used, 1, memory_order_release);
			slot = l;
			break;
		}
		if (strcmp(l->name, name) == 0 && strcmp(l->labels, labels) == 0) {
			slot = l;
			break;
		}
	}
	atomic_flag_clear_explicit(&shm->lock, memory_order_release);
	return slot;
}

void metrics_count(const char *name, const char *labels, int64_t n)
{
	struct labelled *l;

	if (shm == NULL)
		return;
	l = find_or_create(name, labels, false);
	if (l == NULL) {
		atomic_fetch_add_explicit(&shm->dropped, 1, memory_order_relaxed);
		return;
	}
	atomic_fetch_add_explicit(&l->value, n, memory_order_relaxed);
}

void metrics_gauge(const char *name, const char *labels, int64_t v)
{
	struct labelled *l;

	if (shm == NULL)
		return;
	l = find_or_create(name, labels, true);
	if (l == NULL) {
		atomic_fetch_add_explicit(&shm->dropped, 1, memory_order_relaxed);
		return;
	}
	atomic_store_explicit(&l->value, v, memory_order_relaxed);
}

int metrics_streams_open(void)
{
	int n = 0;

	for (int i = 0; shm != NULL && i < METRICS_MAX_STREAMS; i++)
		n += atomic_load_explicit(&shm->stream_pid[i], memory_order_acquire) != 0;
	return n;
}

int metrics_stream_acquire(int pid, int limit)
{
	if (shm == NULL || pid <= 0 || metrics_streams_open() >= limit)
		return -1;
	for (int i = 0; i < METRICS_MAX_STREAMS; i++) {
		int expected = 0;

		if (!atomic_compare_exchange_strong(&shm->stream_pid[i], &expected, pid))
			continue;
		/* Two workers may have passed the count together: the one
		 * that finds the limit exceeded gives its place back. */
		if (metrics_streams_open() > limit) {
			atomic_store_explicit(&shm->stream_pid[i], 0, memory_order_release);
			return -1;
		}
		return 0;
	}
	return -1;
}

void metrics_stream_release(int pid)
{
	for (int i = 0; shm != NULL && pid > 0 && i < METRICS_MAX_STREAMS; i++) {
		int expected = pid;

		atomic_compare_exchange_strong(&shm->stream_pid[i], &expected, 0);
	}
}

int64_t metrics_uptime_s(void)
{
	return shm ? (time_mono_ms() - shm->started_mono_ms) / 1000 : 0;
}

static int64_t load(_Atomic int64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

static void render_requests(struct strbuf *out, const char *const *route_names, int nroutes)
{
	strbuf_addstr(out, "# HELP infra_http_requests_total HTTP requests by route and status\n"
			   "# TYPE infra_http_requests_total counter\n");
	for (int r = 0; r < nroutes && r < METRICS_MAX_ROUTES; r++) {
		for (size_t s = 0; s < NSTATUS; s++) {
			int64_t v = load(&shm->routes[r].by_status[s]);

			if (v == 0)
				continue;
			if (s < NSTATUS - 1)
				strbuf_addf(out, "infra_http_requests_total{route=\"%s\",status=\"%d\"} %lld\n",
					    route_names[r], tracked_status[s], (long long)v);
			else
				strbuf_addf(out, "infra_http_requests_total{route=\"%s\",status=\"other\"} %lld\n",
					    route_names[r], (long long)v);
		}
	}
	strbuf_addstr(out, "# HELP infra_http_request_duration_seconds time from accept to the last byte written\n"
			   "# TYPE infra_http_request_duration_seconds histogram\n");
	for (int r = 0; r < nroutes && r < METRICS_MAX_ROUTES; r++) {
		struct route_stats *rs = &shm->routes[r];
		int64_t count = load(&rs->count), cumulative = 0;

		if (count == 0)
			continue;
		for (size_t b = 0; b < NBUCKETS; b++) {
			cumulative += load(&rs->bucket[b]);
			strbuf_addf(out, "infra_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %lld\n",
				    route_names[r], (double)bucket_us[b] / 1e6, (long long)cumulative);
		}
		strbuf_addf(out, "infra_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %lld\n",
			    route_names[r], (long long)count);
		strbuf_addf(out, "infra_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n",
			    route_names[r], (double)load(&rs->sum_us) / 1e6);
		strbuf_addf(out, "infra_http_request_duration_seconds_count{route=\"%s\"} %lld\n",
			    route_names[r], (long long)count);
	}
}

static void render_labelled(struct strbuf *out)
{
	bool shown[METRICS_MAX_LABELLED] = { false };

	/* Group series by name so each name gets one HELP/TYPE header. */
	for (int i = 0; i < METRICS_MAX_LABELLED; i++) {
		struct labelled *l = &shm->labelled[i];

		if (!atomic_load_explicit(&l->used, memory_order_acquire))
			break;
		if (shown[i])
			continue;
		strbuf_addf(out, "# TYPE %s %s\n", l->name, l->gauge ? "gauge" : "counter");
		for (int j = i; j < METRICS_MAX_LABELLED; j++) {
			struct labelled *m = &shm->labelled[j];

			if (!atomic_load_explicit(&m->used, memory_order_acquire))
				break;
			if (shown[j] || strcmp(m->name, l->name) != 0)
				continue;
			shown[j] = true;
			if (m->labels[0])
				strbuf_addf(out, "%s{%s} %lld\n", m->name, m->labels,
					    (long long)load(&m->value));
			else
				strbuf_addf(out, "%s %lld\n", m->name, (long long)load(&m->value));
		}
	}
}

void metrics_render(struct strbuf *out, const char *const *route_names, int nroutes)
{
	static const struct { const char *name, *type, *help; } fixed[] = {
#define METRIC_ROW(id, name, type, help) { name, type, help },
		METRICS_LIST(METRIC_ROW)
#undef METRIC_ROW
	};

	if (shm == NULL)
		return;
	strbuf_addf(out, "# HELP infra_uptime_seconds seconds since the master started\n"
			 "# TYPE infra_uptime_seconds gauge\ninfra_uptime_seconds %lld\n",
		    (long long)metrics_uptime_s());
	strbuf_addf(out, "# HELP infra_start_time_seconds when the master started\n"
			 "# TYPE infra_start_time_seconds gauge\ninfra_start_time_seconds %lld\n",
		    (long long)shm->started_wall);
	for (int i = 0; i < METRIC__COUNT; i++)
		strbuf_addf(out, "# HELP %s %s\n# TYPE %s %s\n%s %lld\n", fixed[i].name,
			    fixed[i].help, fixed[i].name, fixed[i].type, fixed[i].name,
			    (long long)load(&shm->fixed[i]));
	strbuf_addf(out, "# HELP infra_sse_streams event streams (SSE) open on this host\n"
			 "# TYPE infra_sse_streams gauge\ninfra_sse_streams %d\n", metrics_streams_open());
	render_requests(out, route_names, nroutes);
	render_labelled(out);
	strbuf_addf(out, "# TYPE infra_metrics_dropped_total counter\ninfra_metrics_dropped_total %lld\n",
		    (long long)load(&shm->dropped));
}
