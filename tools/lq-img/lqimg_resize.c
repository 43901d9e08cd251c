/* tools/lq-img: resize (grow only). Raw: the file grows sparse. qcow2:
 * the L1 table grows in place when its last cluster has room, else a
 * bigger copy is written elsewhere; either way the new table is durable
 * before the header names it, and the old clusters are freed only
 * after, so a crash leaves the old size or the new one, never a header
 * pointing at a half-written table (at worst leaked clusters). */
#include "tools/lq-img/lqimg.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int resize_raw(const char *path, uint64_t size)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;
	off_t end;

	if (fd < 0)
		return -errno;
	end = lseek(fd, 0, SEEK_END);
	if (end < 0)
		err = -errno;
	else if ((uint64_t)end > size)
		err = -EOPNOTSUPP;
	else if (ftruncate(fd, (off_t)size) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* The L1 table with n entries (old ones first, then zeros) at off. */
static int resize_write_l1(struct qcow2_image *img, uint64_t off, uint64_t n, uint64_t bytes)
{
	uint64_t *t = calloc(1, bytes);
	int err;

	if (!t)
		return -ENOMEM;
	for (uint64_t i = 0; i < img->h.l1_size && i < n; i++)
		t[i] = htobe64(img->l1[i]);
	err = qcow2_pwrite(img, t, bytes, off);
	free(t);
	return err ? err : qcow2_sync(img);
}

/* size, crypt_method, l1_size, l1_offset: one 24-byte write. */
static int resize_header(struct qcow2_image *img, uint64_t size, uint32_t l1_size, uint64_t l1_off)
{
	uint8_t b[24] = { 0 };
	uint64_t v64;
	uint32_t v32;
	int err;

	v64 = htobe64(size);
	memcpy(b, &v64, 8);
	v32 = htobe32(l1_size);
	memcpy(b + 12, &v32, 4);
	v64 = htobe64(l1_off);
	memcpy(b + 16, &v64, 8);
	err = qcow2_pwrite(img, b, sizeof(b), 24);
	return err ? err : qcow2_sync(img);
}

static int resize_qcow2(struct qcow2_image *img, uint64_t size)
{
	uint64_t cs = img->cluster_size, per_l2 = cs / 8 * cs;
	uint64_t n = (size + per_l2 - 1) / per_l2, old = img->h.l1_size;
	uint64_t old_clusters = (old * 8 + cs - 1) / cs, new_clusters = (n * 8 + cs - 1) / cs;
	uint64_t off = img->h.l1_offset;
	int err;

	if (size < img->size)
		return -EOPNOTSUPP;
	if (n > QCOW2_MAX_L1_ENTRIES)
		return -EFBIG;
	if (n <= old)
		n = old; /* the table already covers the new size */
	err = n > old && new_clusters > old_clusters ?
		      qcow2_alloc_clusters(img, (unsigned)new_clusters, true, &off) : 0;
	if (!err && n > old)
		err = resize_write_l1(img, off, n, new_clusters * cs);
	if (!err)
		err = resize_header(img, size, (uint32_t)n, off);
	for (uint64_t k = 0; !err && off != img->h.l1_offset && k < old_clusters; k++)
		err = qcow2_refcount_set(img, (img->h.l1_offset >> img->cluster_bits) + k, 0, true);
	return err ? err : qcow2_sync(img);
}

int lqimg_resize(int argc, char **argv)
{
	struct qcow2_image *img;
	enum blk_format fmt;
	uint64_t size;
	int err;

	if (argc != 3) {
		fprintf(stderr, "lq-img resize: expected FILE SIZE\n");
		return 1;
	}
	if (lqimg_parse_size(argv[2], &size) || !size || size > UINT64_MAX - 511) {
		fprintf(stderr, "lq-img resize: invalid size '%s'\n", argv[2]);
		return 1;
	}
	size = (size + 511) & ~511ULL; /* whole sectors, as create */
	err = lqimg_probe(argv[1], &fmt);
	if (!err && fmt == BLK_FORMAT_RAW) {
		err = resize_raw(argv[1], size);
	} else if (!err) {
		if (lqimg_open(argv[1], true, &img))
			return 1;
		err = resize_qcow2(img, size);
		qcow2_image_close(img);
	}
	if (err) {
		fprintf(stderr, "lq-img resize: '%s': %s\n", argv[1],
			err == -EOPNOTSUPP ? "shrinking is not supported" :
			err == -EFBIG ? "size too large for this cluster size" : strerror(-err));
		return 1;
	}
	printf("Image resized.\n");
	return 0;
}
