/* tools/lq-img: create. A raw image is a sparse file; a qcow2 image
 * comes from qcow2_create (block/qcow2_create.c). With a backing file
 * and no size, the new image takes the backing file's virtual size. */
#include "tools/lq-img/lqimg.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "block/qcow2_create.h"

struct create_args {
	enum blk_format fmt;
	const char *backing, *backing_fmt, *file;
	uint64_t size;
	bool have_size, force;
	unsigned cluster_bits;
};

static int create_parse(int argc, char **argv, struct create_args *a)
{
	static const struct option longs[] = { { "force", no_argument, NULL, 'x' }, { 0 } };
	int c;

	*a = (struct create_args){ .fmt = BLK_FORMAT_RAW,
				   .cluster_bits = QCOW2_CREATE_DEFAULT_CLUSTER_BITS };
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:b:F:o:", longs, NULL)) != -1) {
		if (c == 'f' && lqimg_parse_format(optarg, &a->fmt)) {
			fprintf(stderr, "lq-img create: unknown format '%s' (raw or qcow2)\n", optarg);
			return -EINVAL;
		} else if (c == 'b') {
			a->backing = optarg;
		} else if (c == 'F') {
			a->backing_fmt = optarg;
		} else if (c == 'o' && lqimg_parse_cluster_opt(optarg, &a->cluster_bits)) {
			fprintf(stderr, "lq-img create: bad option '%s' (cluster_size=N, a power of two from 512 to 2M)\n",
				optarg);
			return -EINVAL;
		} else if (c == 'x') {
			a->force = true;
		} else if (c == '?') {
			return -EINVAL;
		}
	}
	if (optind >= argc || argc - optind > 2) {
		fprintf(stderr, "lq-img create: expected FILE [SIZE]\n");
		return -EINVAL;
	}
	a->file = argv[optind];
	if (optind + 1 < argc) {
		if (lqimg_parse_size(argv[optind + 1], &a->size) || !a->size) {
			fprintf(stderr, "lq-img create: invalid size '%s' (a positive number, suffix K/M/G/T)\n",
				argv[optind + 1]);
			return -EINVAL;
		}
		a->have_size = true;
	}
	return 0;
}

/* The backing file must exist and open; its format (probed when -F is
 * missing) is written into the header, and its size is the default. */
static int create_backing(struct create_args *a)
{
	enum blk_format bf;
	struct qcow2_image *img;
	char path[4096];
	int err;

	if (a->backing_fmt && lqimg_parse_format(a->backing_fmt, &bf)) {
		fprintf(stderr, "lq-img create: unknown backing format '%s' (raw or qcow2)\n", a->backing_fmt);
		return -EINVAL;
	}
	err = lqimg_backing_path(a->file, a->backing, path, sizeof(path));
	if (!err && !a->backing_fmt)
		err = lqimg_probe(path, &bf);
	if (err) {
		fprintf(stderr, "lq-img create: backing file '%s': %s\n", path, strerror(-err));
		return err;
	}
	a->backing_fmt = bf == BLK_FORMAT_QCOW2 ? "qcow2" : "raw";
	if (bf == BLK_FORMAT_RAW) {
		uint64_t sz;
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		off_t end = fd < 0 ? -1 : lseek(fd, 0, SEEK_END);

		err = end < 0 ? -errno : 0;
		if (fd >= 0)
			close(fd);
		if (err) {
			fprintf(stderr, "lq-img create: backing file '%s': %s\n", path, strerror(-err));
			return err;
		}
		sz = (uint64_t)end;
		if (!a->have_size)
			a->size = sz;
	} else {
		err = lqimg_open(path, false, &img);
		if (err)
			return err;
		if (img->raw) {
			fprintf(stderr, "lq-img create: backing file '%s' is not a qcow2 image\n", path);
			qcow2_image_close(img);
			return -EINVAL;
		}
		if (!a->have_size)
			a->size = img->size;
		qcow2_image_close(img);
	}
	return 0;
}

static int create_raw(const char *path, uint64_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0)
		err = -errno;
	close(fd);
	if (err)
		unlink(path);
	return err;
}

/* The new image is made under a temporary name next to FILE and renamed
 * over it, so --force never leaves the old image deleted and no new one
 * (a failed create, a crash half-way). */
static int create_image(const struct create_args *a)
{
	char tmp[4096];
	int n = snprintf(tmp, sizeof(tmp), "%s.lq-img-%d", a->file, (int)getpid()), err;

	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	err = a->fmt == BLK_FORMAT_RAW ?
		      create_raw(tmp, a->size) :
		      qcow2_create(tmp, a->size, a->cluster_bits, a->backing, a->backing_fmt);
	if (err)
		return err;
	/* Without --force the name must still be free: RENAME_NOREPLACE
	 * (or, where the file system lacks it, link) fails if it is not. */
	if (a->force)
		err = rename(tmp, a->file) ? -errno : 0;
	else if (renameat2(AT_FDCWD, tmp, AT_FDCWD, a->file, RENAME_NOREPLACE))
		err = errno == EINVAL && !link(tmp, a->file) ? 0 : -errno;
	if (err || access(tmp, F_OK) == 0)
		unlink(tmp);
	return err;
}

int lqimg_create(int argc, char **argv)
{
	struct create_args a;
	int err = create_parse(argc, argv, &a);

	if (err)
		return 1;
	if (a.backing && a.fmt != BLK_FORMAT_QCOW2) {
		fprintf(stderr, "lq-img create: a backing file needs -f qcow2\n");
		return 1;
	}
	if (a.backing && create_backing(&a))
		return 1;
	if (!a.have_size && !a.backing) {
		fprintf(stderr, "lq-img create: missing SIZE for '%s'\n", a.file);
		return 1;
	}
	if (!a.size) {
		fprintf(stderr, "lq-img create: size 0 is not a disk\n");
		return 1;
	}
	/* Disks are addressed in 512-byte sectors (qemu-img rounds the same way). */
	if (a.size > UINT64_MAX - 511) {
		fprintf(stderr, "lq-img create: size too large\n");
		return 1;
	}
	a.size = (a.size + 511) & ~511ULL;
	if (!a.force && !access(a.file, F_OK)) {
		fprintf(stderr, "lq-img create: '%s' already exists; use --force to overwrite it\n", a.file);
		return 1;
	}
	err = create_image(&a);
	if (err == -EEXIST) {
		fprintf(stderr, "lq-img create: '%s' already exists; use --force to overwrite it\n", a.file);
		return 1;
	}
	if (err) {
		fprintf(stderr, "lq-img create: '%s': %s\n", a.file,
			err == -EFBIG ? "size too large for this cluster size" : strerror(-err));
		return 1;
	}
	printf("Formatting '%s', fmt=%s size=%llu%s%s\n", a.file,
	       a.fmt == BLK_FORMAT_RAW ? "raw" : "qcow2", (unsigned long long)a.size,
	       a.backing ? " backing_file=" : "", a.backing ? a.backing : "");
	return 0;
}
