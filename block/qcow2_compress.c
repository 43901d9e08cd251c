/* block/qcow2_compress: one compressed cluster back to its bytes. The
 * stored data may be followed by unrelated bytes up to the end of its
 * last sector, so both decoders stop once the cluster is full. */
#include "block/qcow2.h"

#include <errno.h>
#include <zlib.h>
#include <zstd.h>

static int decompress_zlib(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len)
{
	z_stream s = { 0 };
	int ret;

	if (inflateInit2(&s, -15) != Z_OK) /* raw deflate, no zlib header */
		return -ENOMEM;
	s.next_in = (Bytef *)in;
	s.avail_in = (uInt)in_len;
	s.next_out = out;
	s.avail_out = (uInt)out_len;
	ret = inflate(&s, Z_FINISH);
	inflateEnd(&s);
	/* A full cluster is success even without the end-of-stream marker. */
	return (ret == Z_STREAM_END || ret == Z_BUF_ERROR || ret == Z_OK) && s.avail_out == 0 ? 0 : -EIO;
}

static int decompress_zstd(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len)
{
	ZSTD_DCtx *d = ZSTD_createDCtx();
	ZSTD_inBuffer ib = { in, in_len, 0 };
	ZSTD_outBuffer ob = { out, out_len, 0 };
	int err = 0;

	if (!d)
		return -ENOMEM;
	while (ob.pos < ob.size) {
		size_t r = ZSTD_decompressStream(d, &ob, &ib);

		if (ZSTD_isError(r) || (r == 0 && ob.pos < ob.size) || (ib.pos == ib.size && ob.pos < ob.size)) {
			err = -EIO;
			break;
		}
	}
	ZSTD_freeDCtx(d);
	return err;
}

int qcow2_decompress(enum qcow2_compression type, const uint8_t *in, size_t in_len,
		     uint8_t *out, size_t out_len)
{
	if (type == QCOW2_COMPRESS_ZSTD)
		return decompress_zstd(in, in_len, out, out_len);
	return decompress_zlib(in, in_len, out, out_len);
}
