/* tools/lq-img: helpers the commands share. */
#include "tools/lq-img/lqimg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int lqimg_parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "BKMGTPE";
	char *end;
	unsigned long long v;
	const char *u;
	unsigned shift;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	shift = 0;
	if (*end) {
		u = strchr(units, *end >= 'a' ? *end - 32 : *end);
		if (!u || end[1])
			return -EINVAL;
		shift = (unsigned)(u - units) * 10;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

int lqimg_parse_cluster_opt(const char *opt, unsigned *bits)
{
	uint64_t cs;

	if (strncmp(opt, "cluster_size=", 13) || lqimg_parse_size(opt + 13, &cs))
		return -EINVAL;
	for (unsigned b = QCOW2_MIN_CLUSTER_BITS; b <= QCOW2_MAX_CLUSTER_BITS; b++)
		if (cs == 1ULL << b) {
			*bits = b;
			return 0;
		}
	return -EINVAL;
}

int lqimg_parse_format(const char *s, enum blk_format *out)
{
	if (!strcmp(s, "raw"))
		*out = BLK_FORMAT_RAW;
	else if (!strcmp(s, "qcow2"))
		*out = BLK_FORMAT_QCOW2;
	else
		return -EINVAL;
	return 0;
}

int lqimg_probe(const char *path, enum blk_format *out)
{
	char magic[4];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pread(fd, magic, 4, 0);
	close(fd);
	if (n < 0)
		return -errno;
	*out = n == 4 && !memcmp(magic, QCOW2_MAGIC, 4) ? BLK_FORMAT_QCOW2 : BLK_FORMAT_RAW;
	return 0;
}

int lqimg_open(const char *path, bool writable, struct qcow2_image **out)
{
	int err = qcow2_image_open(path, !writable, 0, NULL, out);

	/* qcow2_image_open has said what is wrong in detail; say what failed. */
	if (err)
		fprintf(stderr, "lq-img: cannot open '%s': %s\n", path, strerror(-err));
	return err;
}

int lqimg_backing_path(const char *image, const char *name, char *out, size_t len)
{
	const char *slash = strrchr(image, '/');
	int n;

	if (name[0] == '/' || !slash)
		n = snprintf(out, len, "%s", name);
	else
		n = snprintf(out, len, "%.*s/%s", (int)(slash - image), image, name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

uint64_t lqimg_disk_usage(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (uint64_t)st.st_blocks * 512;
}
