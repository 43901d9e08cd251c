/* block/qcow2_image: opens one image of a chain (qcow2 or a raw backing
 * file), validates its header and L1 table, loads refcounts when it is
 * writable, and opens what lies below it. */
#include "block/qcow2.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

int qcow2_pread(struct qcow2_image *img, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(img->fd, (char *)buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* metadata past the end: the file is truncated */
		done += (size_t)n;
	}
	return 0;
}

int qcow2_pwrite(struct qcow2_image *img, const void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(img->fd, (const char *)buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

int qcow2_sync(struct qcow2_image *img)
{
	return fdatasync(img->fd) < 0 ? -errno : 0;
}

static int image_file_size(struct qcow2_image *img)
{
	struct stat st;

	if (fstat(img->fd, &st) < 0)
		return -errno;
	img->dev = st.st_dev;
	img->ino = st.st_ino;
	if (S_ISREG(st.st_mode)) {
		img->file_size = (uint64_t)st.st_size;
		return 0;
	}
	if (S_ISBLK(st.st_mode))
		return ioctl(img->fd, BLKGETSIZE64, &img->file_size) < 0 ? -errno : 0;
	log_error("disk %s: not a regular file or block device", img->path);
	return -EINVAL;
}

/* The whole L1 table, each entry checked so later lookups can trust it. */
static int image_l1(struct qcow2_image *img)
{
	uint64_t n = img->h.l1_size;
	int err;

	img->l1 = calloc(n ? n : 1, 8);
	if (!img->l1)
		return -ENOMEM;
	err = n ? qcow2_pread(img, img->l1, n * 8, img->h.l1_offset) : 0;
	if (err)
		return err;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t e = be64toh(img->l1[i]), off = e & QCOW2_OFFSET_MASK;

		img->l1[i] = e;
		if (e & QCOW2_L1_RESERVED) {
			log_error("qcow2 %s: L1 entry %llu (%#llx) has reserved bits set", img->path,
				  (unsigned long long)i, (unsigned long long)e);
			return -EINVAL;
		}
		if (off & (img->cluster_size - 1)) {
			log_error("qcow2 %s: L1 entry %llu: L2 table offset %#llx is not aligned to the cluster size",
				  img->path, (unsigned long long)i, (unsigned long long)off);
			return -EINVAL;
		}
		if (off && (off < img->cluster_size || off + img->cluster_size > img->file_size)) {
			log_error("qcow2 %s: L1 entry %llu: L2 table offset %#llx is outside the file (%llu bytes)",
				  img->path, (unsigned long long)i, (unsigned long long)off,
				  (unsigned long long)img->file_size);
			return -EINVAL;
		}
	}
	return 0;
}

static int image_header(struct qcow2_image *img)
{
	size_t len = img->file_size < (1u << QCOW2_MAX_CLUSTER_BITS) ? (size_t)img->file_size :
								     1u << QCOW2_MAX_CLUSTER_BITS;
	uint8_t *buf = malloc(len ? len : 1);
	char msg[256];
	int err;

	if (!buf)
		return -ENOMEM;
	err = qcow2_pread(img, buf, len, 0);
	if (!err) {
		err = qcow2_header_parse(buf, len, img->file_size, &img->h, msg, sizeof(msg));
		if (err)
			log_error("qcow2 %s: %s", img->path, msg);
	}
	free(buf);
	return err;
}

/* What a writable open needs beyond reading: refuses what we cannot keep
 * consistent, then loads and reserves refcounts. */
static int image_writable(struct qcow2_image *img)
{
	const char *why = NULL;
	int err;

	if (img->h.incompat & QCOW2_INCOMPAT_DIRTY)
		why = "the dirty bit is set (refcounts may be stale): run 'qemu-img check -r all'";
	else if (img->h.incompat & QCOW2_INCOMPAT_CORRUPT)
		why = "it is marked corrupt: run 'qemu-img check -r all'";
	else if (img->h.nb_snapshots)
		why = "it has internal snapshots (not supported for writing)";
	else if (img->h.refcount_order < 3)
		why = "refcount_order below 3 is not supported for writing";
	if (why) {
		log_error("qcow2 %s: cannot open for writing: %s; open it read-only", img->path, why);
		return -ENOTSUP;
	}
	if (img->h.version == 3 && img->h.autoclear) {
		/* Bits we do not maintain (bitmaps) become invalid once we write. */
		uint64_t zero = 0;

		err = qcow2_pwrite(img, &zero, 8, 88);
		if (err)
			return err;
		img->h.autoclear = 0;
	}
	err = qcow2_refcount_load(img);
	return err ? err : qcow2_refcount_reserve(img);
}

static int image_backing_path(const struct qcow2_image *img, char *out, size_t len)
{
	const char *name = img->h.backing_file, *slash = strrchr(img->path, '/');
	int n;

	if (name[0] == '/' || !slash)
		n = snprintf(out, len, "%s", name);
	else
		n = snprintf(out, len, "%.*s/%s", (int)(slash - img->path), img->path, name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int image_backing(struct qcow2_image *img, unsigned depth)
{
	const char *fmt = img->h.backing_fmt;
	char path[4096];
	int err;

	if (!img->h.backing_file[0])
		return 0;
	if (fmt[0] && strcmp(fmt, "raw") && strcmp(fmt, "qcow2")) {
		log_error("qcow2 %s: backing file format '%s' is not supported (raw or qcow2)", img->path, fmt);
		return -ENOTSUP;
	}
	err = image_backing_path(img, path, sizeof(path));
	if (!err)
		err = qcow2_image_open(path, true, depth + 1, img, &img->backing);
	if (!err && !strcmp(fmt, "qcow2") && img->backing->raw) {
		log_error("qcow2 %s: backing file %s is declared qcow2 but is not", img->path, path);
		err = -EINVAL;
	}
	if (err)
		log_error("qcow2 %s: cannot open backing file %s", img->path, path);
	return err;
}

static int image_check_loop(const struct qcow2_image *img, unsigned depth)
{
	if (depth > QCOW2_MAX_CHAIN) {
		log_error("qcow2 %s: backing chain deeper than %d images", img->path, QCOW2_MAX_CHAIN);
		return -ELOOP;
	}
	for (const struct qcow2_image *a = img->above; a; a = a->above)
		if (a->dev == img->dev && a->ino == img->ino) {
			log_error("qcow2 %s: backing chain loop: the file is already in the chain above (%s)",
				  img->path, a->path);
			return -ELOOP;
		}
	return 0;
}

static int image_setup(struct qcow2_image *img, unsigned depth)
{
	uint8_t magic[4] = { 0 };
	int err = image_file_size(img);

	if (!err)
		err = image_check_loop(img, depth);
	if (err)
		return err;
	/* Raw: a backing file declared raw (its bytes are the disk, whatever
	 * they look like), or one without the magic. The top image is never
	 * raw here: blk_open probed it. */
	if ((img->above && !strcmp(img->above->h.backing_fmt, "raw")) || img->file_size < 4 ||
	    qcow2_pread(img, magic, 4, 0) || memcmp(magic, QCOW2_MAGIC, 4)) {
		img->raw = true;
		img->size = img->file_size;
		return 0;
	}
	err = image_header(img);
	if (err)
		return err;
	img->cluster_bits = img->h.cluster_bits;
	img->cluster_size = 1u << img->cluster_bits;
	img->l2_bits = img->cluster_bits - 3;
	img->size = img->h.size;
	img->end_cluster = (img->file_size + img->cluster_size - 1) >> img->cluster_bits;
	err = image_l1(img);
	if (!err)
		err = qcow2_cache_init(&img->cache, img->cluster_size);
	if (!err && !img->read_only)
		err = image_writable(img);
	if (!err)
		err = image_backing(img, depth);
	return err;
}

int qcow2_image_open(const char *path, bool read_only, unsigned depth,
		     const struct qcow2_image *above, struct qcow2_image **out)
{
	struct qcow2_image *img = calloc(1, sizeof(*img));
	int err;

	if (!img)
		return -ENOMEM;
	img->above = above;
	img->read_only = read_only;
	img->path = strdup(path);
	img->fd = img->path ? open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC) : -1;
	if (img->fd < 0) {
		err = img->path ? -errno : -ENOMEM;
		log_error("disk %s: cannot open: %s", path, strerror(-err));
		qcow2_image_close(img);
		return err;
	}
	err = image_setup(img, depth);
	if (err) {
		qcow2_image_close(img);
		return err;
	}
	img->above = NULL;
	*out = img;
	return 0;
}

void qcow2_image_close(struct qcow2_image *img)
{
	if (!img)
		return;
	qcow2_image_close(img->backing);
	qcow2_cache_free(&img->cache);
	qcow2_refcount_free(img);
	free(img->l1);
	if (img->fd >= 0)
		close(img->fd);
	free(img->path);
	free(img);
}
