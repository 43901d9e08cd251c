/* Host-side kernel decompression: each format round-trips, and corrupt or
 * lying payloads are refused without reading or writing out of bounds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <lz4.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <cmocka.h>

#include "vmm/kernel_unpack.h"

#define PLAIN_LEN (3u << 20)

static uint8_t *plain;

static size_t trailer(uint8_t *buf, size_t len)
{
	uint32_t n = PLAIN_LEN;

	memcpy(buf + len, &n, 4);
	return len + 4;
}

static size_t make_lz4(uint8_t *out)
{
	size_t off = 0;
	uint32_t magic = 0x184c2102u;

	memcpy(out, &magic, 4);
	off = 4;
	for (size_t pos = 0; pos < PLAIN_LEN; pos += 1u << 20) {
		int n = LZ4_compress_default((const char *)plain + pos, (char *)out + off + 4, 1 << 20,
					     LZ4_compressBound(1 << 20));
		uint32_t bsz = (uint32_t)n;

		memcpy(out + off, &bsz, 4);
		off += 4 + (size_t)n;
	}
	return trailer(out, off);
}

static size_t make_zstd(uint8_t *out, size_t cap)
{
	return trailer(out, ZSTD_compress(out, cap, plain, PLAIN_LEN, 3));
}

static size_t make_gzip(uint8_t *out, size_t cap)
{
	z_stream z;

	memset(&z, 0, sizeof(z));
	deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
	z.next_in = plain;
	z.avail_in = PLAIN_LEN;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	deflate(&z, Z_FINISH);
	deflateEnd(&z);
	return trailer(out, z.total_out);
}

static size_t make_xz(uint8_t *out, size_t cap)
{
	size_t pos = 0;

	lzma_easy_buffer_encode(1, LZMA_CHECK_CRC32, NULL, plain, PLAIN_LEN, out, &pos, cap);
	return trailer(out, pos);
}

static void check_format(size_t (*make)(uint8_t *, size_t), const char *name)
{
	size_t cap = PLAIN_LEN * 2, len;
	uint8_t *buf = malloc(cap), *out = NULL;
	size_t out_len = 0;

	len = make(buf, cap);
	assert_string_equal(kernel_unpack_format(buf, len), name);
	assert_int_equal(kernel_unpack(buf, len, &out, &out_len), 0);
	assert_int_equal(out_len, PLAIN_LEN);
	assert_memory_equal(out, plain, PLAIN_LEN);
	free(out);
	/* A size trailer that lies: refused. */
	buf[len - 2] ^= 0x01;
	assert_int_equal(kernel_unpack(buf, len, &out, &out_len), -EINVAL);
	buf[len - 2] ^= 0x01;
	/* Corrupt the middle of the stream: refused, no crash. */
	for (size_t i = len / 3; i < len / 3 + 64; i++)
		buf[i] ^= 0x5a;
	assert_int_not_equal(kernel_unpack(buf, len, &out, &out_len), 0);
	/* Truncated. */
	assert_int_not_equal(kernel_unpack(buf, len / 2, &out, &out_len), 0);
	free(buf);
}

static size_t make_lz4_cap(uint8_t *o, size_t c) { (void)c; return make_lz4(o); }

static void test_lz4(void **s) { (void)s; check_format(make_lz4_cap, "lz4"); }
static void test_zstd(void **s) { (void)s; check_format(make_zstd, "zstd"); }
static void test_gzip(void **s) { (void)s; check_format(make_gzip, "gzip"); }
static void test_xz(void **s) { (void)s; check_format(make_xz, "xz"); }

static void test_unknown_and_tiny(void **s)
{
	uint8_t junk[64] = "BZh91AY&SY", *out;
	size_t out_len;
	uint32_t huge = 0xffffffffu;

	(void)s;
	assert_int_equal(kernel_unpack(junk, sizeof(junk), &out, &out_len), -ENOTSUP);
	memcpy(junk, "\x28\xb5\x2f\xfd", 4);
	assert_int_equal(kernel_unpack(junk, 6, &out, &out_len), -EINVAL);
	memcpy(junk + sizeof(junk) - 4, &huge, 4); /* absurd size: no 4 GiB malloc */
	assert_int_equal(kernel_unpack(junk, sizeof(junk), &out, &out_len), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lz4), cmocka_unit_test(test_zstd), cmocka_unit_test(test_gzip),
		cmocka_unit_test(test_xz), cmocka_unit_test(test_unknown_and_tiny),
	};

	plain = malloc(PLAIN_LEN);
	/* Compressible but not trivial: kernel-like text. */
	for (size_t i = 0; i < PLAIN_LEN; i++)
		plain[i] = (uint8_t)((i * 2654435761u) >> ((i % 7) + 20)) | (uint8_t)(i % 13 == 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
