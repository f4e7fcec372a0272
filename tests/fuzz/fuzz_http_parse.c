/* fuzz_http_parse.c — libFuzzer target for the HTTP layer's parsers: the
 * input is split into a query string, a path and a content type, each fed
 * to its parser; ASan/UBSan report any out-of-bounds access or UB.
 * fuzz-sources: handlers/parse.c lib/arena.c */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_param params[HTTP_MAX_PARAMS], path_params[HTTP_MAX_PATH_PARAMS];
	static const char *const patterns[] = {
		"/health", "/databases/{id}", "/databases/{id}/test",
		"/migrations/{id}/events", "/auth/roles/{role}", "/",
	};
	struct arena a;
	char *buf = malloc(size + 1), *parts[3] = { "", "", "" };
	int n = 0, np;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	/* Split on the first two NUL-free '\n' into query, path, content type. */
	parts[0] = buf;
	for (size_t i = 0; i < size && n < 2; i++)
		if (buf[i] == '\n') {
			buf[i] = '\0';
			parts[++n] = buf + i + 1;
		}
	arena_init(&a, 1024);
	http_parse_query(&a, parts[0], params, HTTP_MAX_PARAMS);
	for (size_t p = 0; p < sizeof(patterns) / sizeof(patterns[0]); p++)
		http_match_path(&a, patterns[p], parts[1], path_params, &np);
	http_percent_decode(&a, parts[1], strlen(parts[1]), true);
	http_content_type_is_json(parts[2]);
	http_request_id_sane(parts[2]);
	arena_release(&a);
	free(buf);
	return 0;
}
