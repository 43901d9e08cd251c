/* block/qcow2_create: makes new qcow2 (version 3) images, for lq-img
 * and, later, lqd's volume service. */
#ifndef LQ_BLOCK_QCOW2_CREATE_H
#define LQ_BLOCK_QCOW2_CREATE_H

#include <stdint.h>

#define QCOW2_CREATE_DEFAULT_CLUSTER_BITS 16

/* Creates path (which must not exist: -EEXIST) as an empty qcow2 v3 image
 * of size bytes (a multiple of 512) with 16-bit refcounts, every metadata cluster's refcount
 * set. backing (NULL: none) is stored as given, so a relative name stays
 * relative to the new image's directory; backing_fmt ("raw", "qcow2" or
 * NULL) goes into the backing-format extension. Returns 0 or -errno
 * (-EINVAL for a size or cluster size out of range, -ENAMETOOLONG when
 * the backing name does not fit the first cluster); on failure no file
 * is left behind. */
int qcow2_create(const char *path, uint64_t size, unsigned cluster_bits, const char *backing,
		 const char *backing_fmt);

#endif
