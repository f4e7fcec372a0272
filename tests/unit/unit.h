/* unit.h — the one main() every CUnit test program shares: a test file
 * lists its tests in a CU_TestInfo table and ends with UNIT_MAIN(name,
 * table); the program runs them verbosely and exits non-zero on any
 * failure. */
#ifndef INFRA_UNIT_H
#define INFRA_UNIT_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

int unit_run(const char *suite, CU_TestInfo *tests);

#define UNIT_MAIN(suite, tests) \
	int main(void) { return unit_run(suite, tests); }

#endif
