/* mig_checksum.c — Flyway's script checksum (see mig_checksum.h): a
 * table-driven CRC-32 with the reflected IEEE polynomial, as java.util.zip.CRC32
 * computes it. */
#include <stdbool.h>

#include "mig_checksum.h"

static uint32_t crc_table[256];
static bool crc_table_ready;

static void crc_table_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
	crc_table_ready = true;
}

int32_t mig_checksum(const char *text, size_t len)
{
	const unsigned char *p = (const unsigned char *)text;
	uint32_t crc = 0xFFFFFFFFu;
	size_t i = 0;

	if (!crc_table_ready)
		crc_table_init();
	if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
		i = 3;
	for (; i < len; i++) {
		if (p[i] == '\n' || p[i] == '\r')
			continue;
		crc = crc_table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
	}
	/* Java's (int) of the unsigned value: the same bits, read as signed. */
	return (int32_t)(crc ^ 0xFFFFFFFFu);
}
