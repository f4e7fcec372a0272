/* cmd_checksum.c — `infractl checksum FILE...`: Flyway's checksum of each
 * file, as flyway_schema_history.checksum would hold it. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "mig_script.h"

static const char checksum_usage[] =
	"usage: infractl checksum FILE...\n"
	"\n"
	"Print Flyway's checksum of each FILE: one line per file, the checksum\n"
	"(a signed 32-bit integer), a tab, the file name. The checksum is CRC-32\n"
	"over the UTF-8 bytes of each line without its terminator, a leading\n"
	"byte-order mark removed.\n"
	"\n"
	"Exit status: 0 when every file was read, 1 otherwise.\n";

int cmd_checksum(int argc, char **argv)
{
	int rc = CTL_OK;

	if (argc < 2) {
		fputs(checksum_usage, stderr);
		return CTL_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(checksum_usage, stdout);
		return CTL_OK;
	}
	for (int i = 1; i < argc; i++) {
		struct infra_error err;
		int32_t sum;

		if (mig_script_checksum_file(argv[i], &sum, &err) != 0) {
			fprintf(stderr, "infractl: %s\n", err.message);
			rc = CTL_FAILED;
			continue;
		}
		printf("%d\t%s\n", (int)sum, argv[i]);
	}
	return rc;
}
