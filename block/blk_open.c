/* block/blk_open: picks the backend from the file's first bytes. */
#include "block/blk_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "block/qcow2.h"
#include "common/log.h"

/* Returns true when path starts with the qcow2 magic. A file too short
 * to hold it, or one we cannot read (a directory), is left to the raw
 * backend, which reports why it is no disk. */
static bool blk_is_qcow2(const char *path)
{
	uint8_t magic[4];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool yes;

	if (fd < 0)
		return false;
	yes = pread(fd, magic, sizeof(magic), 0) == (ssize_t)sizeof(magic) &&
	      !memcmp(magic, QCOW2_MAGIC, sizeof(magic));
	close(fd);
	return yes;
}

/* Probing trusts the file's first bytes: a guest that writes the qcow2
 * magic and a backing file name to sector 0 of a raw disk would have it
 * opened as qcow2 next time, reading a host file of its choosing. So a
 * probed image may not have a backing file; an explicit format=qcow2
 * (what lqd passes for the volumes it made) trusts the header. */
int blk_open(const char *path, const struct blk_open_opts *o, struct blk_backend **out)
{
	bool qcow2 = blk_is_qcow2(path);
	int err;

	switch (o->format) {
	case BLK_FORMAT_RAW:
		return blk_raw_open(path, o, out);
	case BLK_FORMAT_QCOW2:
		if (!qcow2) {
			log_error("disk %s: format=qcow2, but the file has no qcow2 header", path);
			return -EINVAL;
		}
		return blk_qcow2_open(path, o, out);
	case BLK_FORMAT_AUTO:
		break;
	}
	if (!qcow2)
		return blk_raw_open(path, o, out);
	err = blk_qcow2_open(path, o, out);
	if (!err && blk_qcow2_has_backing(*out)) {
		log_error("disk %s: a qcow2 image with a backing file must be named as such: add "
			  "format=qcow2 (a guest that can write a raw disk could forge this header)",
			  path);
		blk_backend_close(*out);
		*out = NULL;
		return -EPERM;
	}
	return err;
}
