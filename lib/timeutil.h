/* timeutil.h — clocks and UTC ISO 8601 formatting shared by every module. */
#ifndef INFRA_TIMEUTIL_H
#define INFRA_TIMEUTIL_H

#include <stdint.h>
#include <time.h>

#define ISO8601_MAX 32	/* "2026-11-22T10:00:00.123Z" and its NUL, with room */

/* Milliseconds on the monotonic clock; only differences mean anything. */
int64_t time_mono_ms(void);

/* Microseconds on the monotonic clock; only differences mean anything. */
int64_t time_mono_us(void);

/* Seconds since the epoch on the wall clock. */
int64_t time_wall_s(void);

/* Write `t` (seconds since the epoch, UTC) as "YYYY-MM-DDTHH:MM:SSZ" into
 * `buf` and return `buf`. */
char *time_iso8601(char buf[ISO8601_MAX], int64_t t);

/* As time_iso8601, for now, with milliseconds ("…:SS.mmmZ"). */
char *time_iso8601_now_ms(char buf[ISO8601_MAX]);

/* Parse "YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)" into seconds since the epoch.
 * Returns 0 and fills *out, or -1 when `s` is not such a timestamp or not
 * a real one: month 1-12, day within its month (Feb 29 in leap years only),
 * hour 0-23, minute and second 0-59. A leap second (:60) is refused, as the
 * epoch seconds we count have none; nothing is ever rolled over. */
int time_parse_iso8601(const char *s, int64_t *out);

/* Sleep for `ms` milliseconds, resuming after signals. */
void time_sleep_ms(int64_t ms);

#endif
