/* backoff.c — exponential backoff with equal jitter (see backoff.h). */
#include "backoff.h"

int64_t backoff_ms(int attempt, int64_t base_ms, int64_t max_ms, uint32_t rnd)
{
	int64_t d = base_ms;

	for (int i = 1; i < attempt && d < max_ms; i++)
		d *= 2;
	if (d > max_ms)
		d = max_ms;
	return d / 2 + (int64_t)((double)(d - d / 2) * ((double)rnd / (double)UINT32_MAX));
}
