/* mig_checksum.h — Flyway's checksum of a migration script.
 *
 * CRC-32 (IEEE 802.3) over the UTF-8 bytes of each line without its
 * terminator (\n, \r\n or \r), a leading byte-order mark removed, read as a
 * signed 32-bit integer: the value Flyway stores in
 * flyway_schema_history.checksum. Since lines are fed back to back, this is
 * the CRC of the text with every CR and LF byte left out. */
#ifndef INFRA_MIG_CHECKSUM_H
#define INFRA_MIG_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* The checksum of the `len` bytes at `text` (valid UTF-8). Never fails;
 * "hello\n" gives 907060870 and an empty text 0. */
int32_t mig_checksum(const char *text, size_t len);

#endif
