/* common/iov: copying to and from scattered buffers, zeroing and cutting
 * an iovec array at a byte offset (virtio request headers and trailers
 * split across descriptors anywhere; qcow2 requests split at cluster
 * boundaries). */
#ifndef LQ_COMMON_IOV_H
#define LQ_COMMON_IOV_H

#include <stddef.h>
#include <sys/uio.h>

/* Copies up to len bytes starting at byte off of iov into buf; returns
 * how many were copied. */
size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t off, const void *buf, size_t len);
/* Zeroes up to len bytes starting at byte off; returns how many. */
size_t iov_zero(const struct iovec *iov, unsigned n, size_t off, size_t len);
/* Writes into dst (at most max entries) the part of iov covering bytes
 * [off, off + len). Returns the entry count, or -1 if it needs more than
 * max entries or iov is shorter than off + len. */
int iov_slice(const struct iovec *iov, unsigned n, size_t off, size_t len, struct iovec *dst,
	      unsigned max);
size_t iov_size(const struct iovec *iov, unsigned n);

#endif
