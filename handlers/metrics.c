/* metrics.c — GET /metrics: this host's figures in Prometheus text format
 * (nginx admits loopback and configured networks only). */
#include "http.h"
#include "metrics.h"
#include "routes.h"

int handle_metrics_get(struct request *r)
{
	const char *names[METRICS_MAX_ROUTES];
	struct strbuf out = STRBUF_INIT;
	int n = http_nroutes < METRICS_MAX_ROUTES - 1 ? http_nroutes : METRICS_MAX_ROUTES - 1;

	for (int i = 0; i < n; i++)
		names[i] = http_routes[i].pattern;
	names[n] = "unmatched";
	metrics_render(&out, names, n + 1);
	respond_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", out.buf, out.len);
	strbuf_release(&out);
	return 0;
}
