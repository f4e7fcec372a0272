/* unit.h — the one main() every CUnit test program shares: a test file
 * lists its tests in a CU_TestInfo table and ends with UNIT_MAIN(name,
 * table); the program runs them verbosely and exits non-zero on any
 * failure. It also holds the JSON helpers the validation tests share. */
#ifndef INFRA_UNIT_H
#define INFRA_UNIT_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <json-c/json.h>

int unit_run(const char *suite, CU_TestInfo *tests);

/* Parse `text` as JSON; a parse failure fails the test at once. The
 * caller puts the result. */
json_object *unit_json(const char *text);

/* The reason `problems` (a details.fields-like object, or NULL) gives for
 * `field`, or NULL when the field is not reported. */
const char *unit_field_reason(json_object *problems, const char *field);

#define UNIT_MAIN(suite, tests) \
	int main(void) { return unit_run(suite, tests); }

#endif
