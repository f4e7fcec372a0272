/* backoff.h — how long to wait before retrying work that failed: the
 * exponential backoff with jitter that the event consumer and the alert
 * webhooks share, as a pure function (the randomness is a parameter). */
#ifndef INFRA_BACKOFF_H
#define INFRA_BACKOFF_H

#include <stdint.h>

/* The delay in milliseconds before retry number `attempt` (1 for the first
 * retry): `base_ms` doubled for each earlier retry, at most `max_ms`, with
 * "equal jitter" — half of it fixed, the other half scaled by `rnd`
 * (uniform over 0..UINT32_MAX, e.g. arc4random()), so retries by many
 * processes spread out instead of arriving together. Never below
 * base_ms / 2; an attempt below 1 counts as 1. */
int64_t backoff_ms(int attempt, int64_t base_ms, int64_t max_ms, uint32_t rnd);

#endif
