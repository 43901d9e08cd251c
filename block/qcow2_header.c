/* block/qcow2_header: parses and validates a qcow2 header and its
 * extensions. Pure (no I/O) so the fuzz target can drive it: every
 * offset and length read from the file is checked before use. */
#include "block/qcow2.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define EXT_END 0
#define EXT_BACKING_FMT 0xe2792acau
#define EXT_FEATURES 0x6803f857u

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

__attribute__((format(printf, 3, 4)))
static int hdr_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Names of incompatible features, from the image's feature table when it
 * has one (so a newer feature is refused by its name), else our own. */
struct hdr_names {
	char incompat[64][47];
};

static const char *hdr_incompat_name(const struct hdr_names *n, unsigned bit)
{
	static const char *const known[] = { "dirty bit", "corrupt bit", "external data file",
					     "compression type", "extended L2 entries" };

	if (n->incompat[bit][0])
		return n->incompat[bit];
	return bit < sizeof(known) / sizeof(known[0]) ? known[bit] : "unknown";
}

/* A table at off of len bytes: aligned to the cluster, after the header
 * cluster, inside the file. */
static int hdr_table(uint64_t off, uint64_t len, uint64_t cs, uint64_t file_size,
		     const char *what, char *err, size_t errlen)
{
	if (off & (cs - 1))
		return hdr_fail(err, errlen, "%s offset %#llx is not aligned to the cluster size %llu",
				what, (unsigned long long)off, (unsigned long long)cs);
	if (off < cs)
		return hdr_fail(err, errlen, "%s offset %#llx overlaps the header", what,
				(unsigned long long)off);
	if (off > file_size || len > file_size - off)
		return hdr_fail(err, errlen, "%s at %#llx (%llu bytes) is past the end of the file (%llu bytes)",
				what, (unsigned long long)off, (unsigned long long)len,
				(unsigned long long)file_size);
	return 0;
}

static int hdr_ext(struct qcow2_header *h, struct hdr_names *n, const uint8_t *buf, size_t end,
		   size_t at, char *err, size_t errlen)
{
	while (at + 8 <= end) {
		uint32_t type = be32(buf + at), len = be32(buf + at + 4);
		const uint8_t *d = buf + at + 8;

		if (type == EXT_END)
			return 0;
		if (len > end - at - 8)
			return hdr_fail(err, errlen, "header extension %#x at %zu: length %u runs past the header cluster",
					type, at, len);
		if (type == EXT_BACKING_FMT) {
			if (len >= sizeof(h->backing_fmt))
				return hdr_fail(err, errlen, "backing format extension: name of %u bytes is too long", len);
			memcpy(h->backing_fmt, d, len);
			h->backing_fmt[len] = 0;
		} else if (type == EXT_FEATURES) {
			for (uint32_t i = 0; i + 48 <= len; i += 48)
				if (d[i] == 0 && d[i + 1] < 64) {
					memcpy(n->incompat[d[i + 1]], d + i + 2, 46);
					n->incompat[d[i + 1]][46] = 0;
				}
		}
		/* others (bitmaps, encryption, data file) are ignored or refused by feature bit */
		at += 8 + (((size_t)len + 7) & ~(size_t)7);
	}
	return 0;
}

static int hdr_features(const struct qcow2_header *h, const struct hdr_names *n, char *err,
			size_t errlen)
{
	const uint64_t ok = QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT | QCOW2_INCOMPAT_COMPRESSION;

	for (unsigned bit = 0; bit < 64; bit++)
		if ((h->incompat & ~ok) & (1ULL << bit)) {
			snprintf(err, errlen, "unsupported incompatible feature '%s' (bit %u)",
				 hdr_incompat_name(n, bit), bit);
			return -ENOTSUP;
		}
	if (h->compression > QCOW2_COMPRESS_ZSTD) {
		snprintf(err, errlen, "unsupported compression type %u", h->compression);
		return -ENOTSUP;
	}
	if (h->compression && !(h->incompat & QCOW2_INCOMPAT_COMPRESSION))
		return hdr_fail(err, errlen, "compression type %u set without its incompatible feature bit",
				h->compression);
	return 0;
}

static int hdr_backing(struct qcow2_header *h, const uint8_t *buf, uint64_t off, uint32_t len,
		       size_t end, char *err, size_t errlen)
{
	if (!off)
		return 0;
	if (len == 0 || len >= sizeof(h->backing_file))
		return hdr_fail(err, errlen, "backing file name length %u out of range 1..%zu", len,
				sizeof(h->backing_file) - 1);
	if (off < h->header_length || off > end || len > end - off)
		return hdr_fail(err, errlen, "backing file name at %#llx (%u bytes) is outside the header cluster",
				(unsigned long long)off, len);
	memcpy(h->backing_file, buf + off, len);
	h->backing_file[len] = 0;
	if (strlen(h->backing_file) != len)
		return hdr_fail(err, errlen, "backing file name contains a NUL byte");
	return 0;
}

static int hdr_fields(struct qcow2_header *h, const uint8_t *buf, size_t len, char *err,
		      size_t errlen)
{
	if (len < QCOW2_HEADER_V2_LEN)
		return hdr_fail(err, errlen, "truncated header: %zu bytes, need at least %d", len,
				QCOW2_HEADER_V2_LEN);
	if (memcmp(buf, QCOW2_MAGIC, 4))
		return hdr_fail(err, errlen, "bad magic: not a qcow2 image");
	h->version = be32(buf + 4);
	h->cluster_bits = be32(buf + 20);
	h->size = be64(buf + 24);
	h->l1_size = be32(buf + 36);
	h->l1_offset = be64(buf + 40);
	h->reftable_offset = be64(buf + 48);
	h->reftable_clusters = be32(buf + 56);
	h->nb_snapshots = be32(buf + 60);
	h->snapshots_offset = be64(buf + 64);
	if (h->version != 2 && h->version != 3)
		return hdr_fail(err, errlen, "unsupported version %u (need 2 or 3)", h->version);
	if (h->cluster_bits < QCOW2_MIN_CLUSTER_BITS || h->cluster_bits > QCOW2_MAX_CLUSTER_BITS)
		return hdr_fail(err, errlen, "cluster_bits %u out of range %d..%d", h->cluster_bits,
				QCOW2_MIN_CLUSTER_BITS, QCOW2_MAX_CLUSTER_BITS);
	if (be32(buf + 32) != 0) {
		snprintf(err, errlen, "encrypted images (crypt_method %u) are not supported", be32(buf + 32));
		return -ENOTSUP;
	}
	h->refcount_order = 4;
	h->header_length = QCOW2_HEADER_V2_LEN;
	if (h->version == 2)
		return 0;
	if (len < QCOW2_HEADER_V3_LEN)
		return hdr_fail(err, errlen, "truncated version 3 header: %zu bytes, need %d", len,
				QCOW2_HEADER_V3_LEN);
	h->incompat = be64(buf + 72);
	h->compat = be64(buf + 80);
	h->autoclear = be64(buf + 88);
	h->refcount_order = be32(buf + 96);
	h->header_length = be32(buf + 100);
	if (h->refcount_order > 6)
		return hdr_fail(err, errlen, "refcount_order %u out of range 0..6", h->refcount_order);
	if (h->header_length < QCOW2_HEADER_V3_LEN || h->header_length % 8 ||
	    h->header_length > (1u << h->cluster_bits) || h->header_length > len)
		return hdr_fail(err, errlen, "header_length %u invalid (a multiple of 8, %d up to the cluster size)",
				h->header_length, QCOW2_HEADER_V3_LEN);
	if (h->header_length > QCOW2_HEADER_V3_LEN)
		h->compression = buf[104];
	return 0;
}

/* L1 must cover the virtual size; sizes are bounded so no sum overflows. */
static int hdr_l1(const struct qcow2_header *h, uint64_t file_size, char *err, size_t errlen)
{
	uint64_t cs = 1ULL << h->cluster_bits, per_l2 = cs / 8 * cs;
	uint64_t need;

	if (h->size > (1ULL << 61) || h->size / per_l2 >= QCOW2_MAX_L1_ENTRIES)
		return hdr_fail(err, errlen, "virtual size %llu is too large for cluster_bits %u",
				(unsigned long long)h->size, h->cluster_bits);
	need = (h->size + per_l2 - 1) / per_l2;
	if (h->l1_size < need)
		return hdr_fail(err, errlen, "l1_size %u too small for virtual size %llu (need %llu)",
				h->l1_size, (unsigned long long)h->size, (unsigned long long)need);
	if (h->l1_size > QCOW2_MAX_L1_ENTRIES)
		return hdr_fail(err, errlen, "l1_size %u exceeds the limit of %u entries", h->l1_size,
				(unsigned)QCOW2_MAX_L1_ENTRIES);
	if (h->l1_size == 0)
		return 0;
	return hdr_table(h->l1_offset, (uint64_t)h->l1_size * 8, cs, file_size, "L1 table", err, errlen);
}

static int hdr_reftable(const struct qcow2_header *h, uint64_t file_size, char *err, size_t errlen)
{
	uint64_t cs = 1ULL << h->cluster_bits;
	uint64_t rlen = (uint64_t)h->reftable_clusters * cs;
	uint64_t l1_end = h->l1_offset + (uint64_t)h->l1_size * 8;
	int e;

	if (h->reftable_clusters == 0 || rlen > QCOW2_MAX_REFTABLE_BYTES)
		return hdr_fail(err, errlen, "reftable_clusters %u out of range 1..%llu", h->reftable_clusters,
				(unsigned long long)(QCOW2_MAX_REFTABLE_BYTES / cs));
	e = hdr_table(h->reftable_offset, rlen, cs, file_size, "refcount table", err, errlen);
	if (e)
		return e;
	if (h->l1_size && h->reftable_offset < l1_end && h->l1_offset < h->reftable_offset + rlen)
		return hdr_fail(err, errlen, "refcount table at %#llx overlaps the L1 table at %#llx",
				(unsigned long long)h->reftable_offset, (unsigned long long)h->l1_offset);
	if (h->nb_snapshots && (h->snapshots_offset & (cs - 1) || h->snapshots_offset < cs ||
				h->snapshots_offset >= file_size))
		return hdr_fail(err, errlen, "snapshot table offset %#llx invalid",
				(unsigned long long)h->snapshots_offset);
	return 0;
}

int qcow2_header_parse(const uint8_t *buf, size_t len, uint64_t file_size,
		       struct qcow2_header *h, char *err, size_t errlen)
{
	struct hdr_names names;
	size_t end;
	int e;

	memset(h, 0, sizeof(*h));
	memset(&names, 0, sizeof(names));
	if (len > file_size)
		len = (size_t)file_size;
	e = hdr_fields(h, buf, len, err, errlen);
	if (e)
		return e;
	/* Extensions and the backing name live in the first cluster. */
	end = len < (1ULL << h->cluster_bits) ? len : (size_t)1 << h->cluster_bits;
	/* Extensions stop where the backing name starts (old v2 images
	 * have no end marker before it). */
	e = hdr_ext(h, &names, buf, be64(buf + 8) && be64(buf + 8) < end ? (size_t)be64(buf + 8) : end,
		    h->header_length, err, errlen);
	if (!e)
		e = hdr_features(h, &names, err, errlen);
	if (!e)
		e = hdr_backing(h, buf, be64(buf + 8), be32(buf + 16), end, err, errlen);
	if (!e)
		e = hdr_l1(h, file_size, err, errlen);
	if (!e)
		e = hdr_reftable(h, file_size, err, errlen);
	return e;
}
