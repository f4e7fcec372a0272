/* test_crypto.c — the credential key ring and AES-256-GCM sealing: ring
 * parsing errors name the setting and never the key, a value opens only
 * with its key and its AAD, tampering and truncation are refused, and the
 * nonce differs every time. Also the UUID helpers the registry uses. */
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "unit.h"
#include "uuid.h"

/* Two 32-byte keys, base64 (openssl rand -base64 32). */
#define KEY_A "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA="
#define KEY_B "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static void test_ring_parse(void)
{
	struct crypto_keyring ring;
	struct infra_error err;

	crypto_keyring_init(&ring);
	CU_ASSERT_EQUAL(crypto_keyring_parse(&ring, "new:" KEY_B ", old:" KEY_A, &err), 0);
	CU_ASSERT_EQUAL(ring.nkeys, 2);
	CU_ASSERT_STRING_EQUAL(crypto_keyring_primary(&ring), "new");
	CU_ASSERT_TRUE(crypto_keyring_has(&ring, "old"));
	CU_ASSERT_FALSE(crypto_keyring_has(&ring, "other"));
	CU_ASSERT_EQUAL(ring.keys[0].key[31], 0x1f);
	crypto_keyring_release(&ring);
	CU_ASSERT_EQUAL(ring.nkeys, 0);
	CU_ASSERT_PTR_NULL(crypto_keyring_primary(&ring));
}

/* Every bad ring is refused with the setting named and no key echoed. */
static void test_ring_errors(void)
{
	static const char *const bad[] = {
		"", "   ", "nokey", "k1:", ":" KEY_A, "k 1:" KEY_A, "k1:" KEY_A ",",
		"k1:q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeA==",	/* 31 bytes */
		"k1:q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA",	/* no padding */
		"k1:q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWe*A=",	/* bad char */
		"k1:" KEY_A ",k1:" KEY_B,
		"a-very-long-key-identifier-over-32-chars:" KEY_A,
	};
	struct crypto_keyring ring;
	struct infra_error err;

	crypto_keyring_init(&ring);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		infra_error_clear(&err);
		CU_ASSERT_EQUAL(crypto_keyring_parse(&ring, bad[i], &err), -1);
		CU_ASSERT_EQUAL(err.kind, INFRA_EINVAL);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "ENCRYPTION_KEYS"));
		CU_ASSERT_PTR_NULL(strstr(err.message, "q83vEjRW"));
		CU_ASSERT_PTR_NULL(strstr(err.message, "AAECAwQF"));
		CU_ASSERT_EQUAL(ring.nkeys, 0);
	}
}

static void test_seal_open(void)
{
	struct crypto_keyring ring, rotated, other;
	struct crypto_sealed s1, s2;
	struct infra_error err;
	char *plain;
	size_t len;

	crypto_keyring_init(&ring);
	crypto_keyring_init(&rotated);
	crypto_keyring_init(&other);
	CU_ASSERT_EQUAL_FATAL(crypto_keyring_parse(&ring, "old:" KEY_A, &err), 0);
	CU_ASSERT_EQUAL_FATAL(crypto_keyring_parse(&rotated, "new:" KEY_B ",old:" KEY_A, &err), 0);
	CU_ASSERT_EQUAL_FATAL(crypto_keyring_parse(&other, "old:" KEY_B, &err), 0);

	CU_ASSERT_EQUAL_FATAL(crypto_seal(&ring, "databases:1", "s3cret pw", 9, &s1, &err), 0);
	CU_ASSERT_STRING_EQUAL(s1.kid, "old");
	CU_ASSERT_EQUAL(s1.len, CRYPTO_NONCE_BYTES + 9 + CRYPTO_TAG_BYTES);
	CU_ASSERT_PTR_NULL(memmem(s1.data, s1.len, "s3cret", 6));

	/* A second seal of the same value differs (a fresh nonce). */
	CU_ASSERT_EQUAL_FATAL(crypto_seal(&ring, "databases:1", "s3cret pw", 9, &s2, &err), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(s1.data, s2.data, CRYPTO_NONCE_BYTES), 0);
	crypto_sealed_release(&s2);

	CU_ASSERT_EQUAL(crypto_open(&ring, "old", "databases:1", s1.data, s1.len, &plain, &len, &err), 0);
	CU_ASSERT_STRING_EQUAL(plain, "s3cret pw");
	CU_ASSERT_EQUAL(len, 9);
	crypto_secret_free(plain, len);

	/* After a rotation the ring still opens values of the old key. */
	CU_ASSERT_EQUAL(crypto_open(&rotated, "old", "databases:1", s1.data, s1.len, &plain, NULL, &err), 0);
	CU_ASSERT_STRING_EQUAL(plain, "s3cret pw");
	crypto_secret_free(plain, 0);
	CU_ASSERT_EQUAL(crypto_seal(&rotated, "databases:1", "x", 1, &s2, &err), 0);
	CU_ASSERT_STRING_EQUAL(s2.kid, "new");
	crypto_sealed_release(&s2);

	/* Another row's AAD: refused. */
	CU_ASSERT_EQUAL(crypto_open(&ring, "old", "databases:2", s1.data, s1.len, &plain, NULL, &err), -1);
	CU_ASSERT_PTR_NULL(plain);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "does not authenticate"));
	/* A different key under the same kid: refused, never garbage. */
	CU_ASSERT_EQUAL(crypto_open(&other, "old", "databases:1", s1.data, s1.len, &plain, NULL, &err), -1);
	CU_ASSERT_PTR_NULL(plain);
	/* A kid missing from the ring. */
	CU_ASSERT_EQUAL(crypto_open(&other, "gone", "databases:1", s1.data, s1.len, &plain, NULL, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "'gone'"));
	/* Tampering with any byte: nonce, ciphertext or tag. */
	for (size_t i = 0; i < s1.len; i++) {
		s1.data[i] ^= 0x01;
		CU_ASSERT_EQUAL(crypto_open(&ring, "old", "databases:1", s1.data, s1.len, &plain, NULL, &err), -1);
		s1.data[i] ^= 0x01;
	}
	/* Truncated. */
	CU_ASSERT_EQUAL(crypto_open(&ring, "old", "databases:1", s1.data, 20, &plain, NULL, &err), -1);
	CU_ASSERT_EQUAL(crypto_open(&ring, "old", "databases:1", s1.data, s1.len - 1, &plain, NULL, &err), -1);

	/* An empty ring cannot seal. */
	crypto_keyring_release(&other);
	CU_ASSERT_EQUAL(crypto_seal(&other, "databases:1", "x", 1, &s2, &err), -1);
	CU_ASSERT_PTR_NULL(s2.data);

	crypto_sealed_release(&s1);
	crypto_keyring_release(&ring);
	crypto_keyring_release(&rotated);
}

static void test_empty_value(void)
{
	struct crypto_keyring ring;
	struct crypto_sealed s;
	struct infra_error err;
	char *plain;
	size_t len = 99;

	crypto_keyring_init(&ring);
	CU_ASSERT_EQUAL_FATAL(crypto_keyring_parse(&ring, "k:" KEY_A, &err), 0);
	CU_ASSERT_EQUAL_FATAL(crypto_seal(&ring, "a", "", 0, &s, &err), 0);
	CU_ASSERT_EQUAL(crypto_open(&ring, "k", "a", s.data, s.len, &plain, &len, &err), 0);
	CU_ASSERT_EQUAL(len, 0);
	CU_ASSERT_STRING_EQUAL(plain, "");
	crypto_secret_free(plain, len);
	crypto_sealed_release(&s);
	crypto_keyring_release(&ring);
}

static void test_uuid(void)
{
	char a[UUID_STR_LEN], b[UUID_STR_LEN];

	uuid_generate(a);
	uuid_generate(b);
	CU_ASSERT_TRUE(uuid_is_valid(a));
	CU_ASSERT_NOT_EQUAL(strcmp(a, b), 0);
	CU_ASSERT_EQUAL(a[14], '4');
	CU_ASSERT_TRUE(strchr("89ab", a[19]) != NULL);
	CU_ASSERT_TRUE(uuid_is_valid("6F9619FF-8B86-D011-B42D-00C04FC964FF"));
	CU_ASSERT_FALSE(uuid_is_valid("6f9619ff-8b86-d011-b42d-00c04fc964f"));
	CU_ASSERT_FALSE(uuid_is_valid("6f9619ff-8b86-d011-b42d-00c04fc964ff0"));
	CU_ASSERT_FALSE(uuid_is_valid("6f9619ff8b86-d011-b42d-00c04fc964ff0"));
	CU_ASSERT_FALSE(uuid_is_valid("6f9619ff-8b86-d011-b42d-00c04fc964fg"));
	CU_ASSERT_FALSE(uuid_is_valid("test"));
	CU_ASSERT_FALSE(uuid_is_valid(""));
	CU_ASSERT_FALSE(uuid_is_valid(NULL));
}

static CU_TestInfo tests[] = {
	{ "a key ring parses, first key encrypts", test_ring_parse },
	{ "a bad key ring names the setting, never the key", test_ring_errors },
	{ "seal and open; wrong key, AAD, tampering refused", test_seal_open },
	{ "an empty value seals and opens", test_empty_value },
	{ "uuid generate and check", test_uuid },
	CU_TEST_INFO_NULL,
};

UNIT_MAIN("crypto", tests)
