/* test_mig_checksum.c — Flyway's checksum and advisory-lock key. The
 * expected values were computed independently of this code (zlib's CRC-32
 * over the lines as Java's BufferedReader splits them, and Java's
 * String.hashCode over UTF-16), from the rules in DESIGN.md. */
#include <string.h>

#include "mig_checksum.h"
#include "mig_history.h"
#include "unit.h"

static int32_t sum(const char *s)
{
	return mig_checksum(s, strlen(s));
}

static void test_hello(void)
{
	CU_ASSERT_EQUAL(sum("hello\n"), 907060870);
}

static void test_line_endings(void)
{
	/* line terminators are not part of the checksum, whichever they are */
	CU_ASSERT_EQUAL(sum("hello"), 907060870);
	CU_ASSERT_EQUAL(sum("hello\r\n"), 907060870);
	CU_ASSERT_EQUAL(sum("hello\r"), 907060870);
	CU_ASSERT_EQUAL(sum("a\nb\n"), -1635563411);
	CU_ASSERT_EQUAL(sum("ab"), -1635563411);
	CU_ASSERT_EQUAL(sum("a\r\n\r\nb"), -1635563411);
	CU_ASSERT_EQUAL(sum("line one\r\nline two\r\n"), -1539937341);
	CU_ASSERT_EQUAL(sum("SELECT 1;\n"), 78787420);
}

static void test_bom_and_empty(void)
{
	CU_ASSERT_EQUAL(sum("\xEF\xBB\xBFhello\n"), 907060870);
	CU_ASSERT_EQUAL(sum(""), 0);
	CU_ASSERT_EQUAL(sum("\n\n\r\n"), 0);
	/* a BOM that is not first is text like any other */
	CU_ASSERT_NOT_EQUAL(sum("x\xEF\xBB\xBF"), sum("x"));
}

static void test_utf8(void)
{
	CU_ASSERT_EQUAL(sum("caf\xC3\xA9\n"), -1733475659);
}

static void test_lock_key(void)
{
	CU_ASSERT_EQUAL(mig_history_lock_key("public"), 77433833903597LL);
	CU_ASSERT_EQUAL(mig_history_lock_key("tenant_a"), 77432872662058LL);
	CU_ASSERT_EQUAL(mig_history_lock_key("infra"), 77432987829610LL);
	CU_ASSERT_EQUAL(mig_history_lock_key("t0001"), 77433429579877LL);
	/* non-ASCII, a quote (doubled), a character outside the BMP */
	CU_ASSERT_EQUAL(mig_history_lock_key("\xC3\x9Cn\xC3\xAF" "code"), 77432542968944LL);
	CU_ASSERT_EQUAL(mig_history_lock_key("a\"b"), 77433275226805LL);
	CU_ASSERT_EQUAL(mig_history_lock_key("emoji\xF0\x9F\x98\x80"), 77433226455217LL);
}

static CU_TestInfo tests[] = {
	{ "hello\\n is 907060870", test_hello },
	{ "line terminators", test_line_endings },
	{ "byte-order mark and empty text", test_bom_and_empty },
	{ "UTF-8", test_utf8 },
	{ "advisory lock key", test_lock_key },
	CU_TEST_INFO_NULL,
};

UNIT_MAIN("mig_checksum", tests)
