#include "vmm/kernel_unpack.h"

#include <errno.h>
#include <lz4.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#define UNPACK_MAX (1u << 30) /* no kernel is bigger; bounds a hostile size field */
#define LZ4_LEGACY_MAGIC 0x184c2102u
#define LZ4_LEGACY_BLOCK (8u << 20)

enum unpack_fmt { FMT_UNKNOWN, FMT_LZ4, FMT_ZSTD, FMT_GZIP, FMT_XZ };

static enum unpack_fmt unpack_detect(const uint8_t *p, size_t len)
{
	if (len >= 4 && !memcmp(p, "\x02\x21\x4c\x18", 4))
		return FMT_LZ4;
	if (len >= 4 && !memcmp(p, "\x28\xb5\x2f\xfd", 4))
		return FMT_ZSTD;
	if (len >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return FMT_GZIP;
	if (len >= 6 && !memcmp(p, "\xfd" "7zXZ\0", 6))
		return FMT_XZ;
	return FMT_UNKNOWN;
}

const char *kernel_unpack_format(const uint8_t *p, size_t len)
{
	static const char *const names[] = { "unknown", "lz4", "zstd", "gzip", "xz" };

	return names[unpack_detect(p, len)];
}

static int unpack_lz4(const uint8_t *p, size_t len, uint8_t *dst, size_t cap, size_t *done)
{
	size_t off = 4;

	*done = 0;
	/* Legacy frame: blocks of (le32 compressed size, data); the kernel
	 * build appends the le32 uncompressed size, which ends the walk. */
	while (len - off >= 4) {
		uint32_t bsz;
		int n;

		memcpy(&bsz, p + off, 4);
		off += 4;
		if (bsz == LZ4_LEGACY_MAGIC)
			continue;
		if (bsz > len - off || bsz > (uint32_t)LZ4_compressBound(LZ4_LEGACY_BLOCK))
			break;
		if (*done == cap)
			return -EINVAL;
		n = LZ4_decompress_safe((const char *)p + off, (char *)dst + *done, (int)bsz,
					(int)(cap - *done > LZ4_LEGACY_BLOCK ? LZ4_LEGACY_BLOCK : cap - *done));
		if (n < 0)
			return -EINVAL;
		*done += (size_t)n;
		off += bsz;
	}
	return *done ? 0 : -EINVAL;
}

static int unpack_zstd(const uint8_t *p, size_t len, uint8_t *dst, size_t cap, size_t *done)
{
	size_t n = ZSTD_decompress(dst, cap, p, len);

	if (ZSTD_isError(n)) {
		/* The appended size trailer is not a zstd frame: retry without it. */
		n = len > 4 ? ZSTD_decompress(dst, cap, p, len - 4) : n;
		if (ZSTD_isError(n))
			return -EINVAL;
	}
	*done = n;
	return 0;
}

static int unpack_gzip(const uint8_t *p, size_t len, uint8_t *dst, size_t cap, size_t *done)
{
	z_stream z;
	int ret;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return -ENOMEM;
	z.next_in = (Bytef *)(uintptr_t)p;
	z.avail_in = (uInt)len;
	z.next_out = dst;
	z.avail_out = (uInt)cap;
	ret = inflate(&z, Z_FINISH);
	*done = z.total_out;
	inflateEnd(&z);
	return ret == Z_STREAM_END ? 0 : -EINVAL;
}

static int unpack_xz(const uint8_t *p, size_t len, uint8_t *dst, size_t cap, size_t *done)
{
	uint64_t memlimit = 256u << 20;
	size_t in_pos = 0, out_pos = 0;
	lzma_ret ret;

	/* The kernel's xz stream may be followed by its size trailer. */
	ret = lzma_stream_buffer_decode(&memlimit, LZMA_IGNORE_CHECK, NULL, p, &in_pos, len, dst,
					&out_pos, cap);
	*done = out_pos;
	return (ret == LZMA_OK || (ret == LZMA_DATA_ERROR && out_pos)) ? 0 : -EINVAL;
}

int kernel_unpack(const uint8_t *p, size_t len, uint8_t **out, size_t *out_len)
{
	enum unpack_fmt fmt = unpack_detect(p, len);
	uint32_t size;
	uint8_t *dst;
	size_t done = 0;
	int err;

	if (fmt == FMT_UNKNOWN)
		return -ENOTSUP;
	if (len < 8)
		return -EINVAL;
	memcpy(&size, p + len - 4, 4); /* uncompressed size, appended by the kernel build */
	if (size < 64 || size > UNPACK_MAX)
		return -EINVAL;
	dst = malloc(size);
	if (!dst)
		return -ENOMEM;
	switch (fmt) {
	case FMT_LZ4: err = unpack_lz4(p, len, dst, size, &done); break;
	case FMT_ZSTD: err = unpack_zstd(p, len, dst, size, &done); break;
	case FMT_GZIP: err = unpack_gzip(p, len, dst, size, &done); break;
	default: err = unpack_xz(p, len, dst, size, &done); break;
	}
	if (!err && done != size)
		err = -EINVAL;
	if (err) {
		free(dst);
		return err;
	}
	*out = dst;
	*out_len = done;
	return 0;
}
