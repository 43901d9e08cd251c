/* block/qcow2_iov: byte ranges of a scatter list, for splitting a guest
 * request along cluster boundaries and for bounce buffers. */
#include "block/qcow2.h"

#include <stdlib.h>
#include <string.h>

uint64_t qcow2_iov_len(const struct iovec *iov, unsigned cnt)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < cnt; i++)
		n += iov[i].iov_len;
	return n;
}

/* Calls fn on each piece of [skip, skip + len) of iov; returns the bytes covered. */
static size_t iov_walk(const struct iovec *iov, unsigned cnt, uint64_t skip, size_t len,
		       void (*fn)(void *piece, size_t n, size_t at, void *arg), void *arg)
{
	size_t at = 0;

	for (unsigned i = 0; i < cnt && at < len; i++) {
		size_t l = iov[i].iov_len, n;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		n = l - skip < len - at ? l - skip : len - at;
		fn((char *)iov[i].iov_base + skip, n, at, arg);
		skip = 0;
		at += n;
	}
	return at;
}

static void iov_put(void *piece, size_t n, size_t at, void *arg)
{
	memcpy(piece, (const char *)arg + at, n);
}

static void iov_get(void *piece, size_t n, size_t at, void *arg)
{
	memcpy((char *)arg + at, piece, n);
}

static void iov_clear(void *piece, size_t n, size_t at, void *arg)
{
	(void)at;
	(void)arg;
	memset(piece, 0, n);
}

size_t qcow2_iov_copy_to(const struct iovec *iov, unsigned cnt, uint64_t skip, const void *src,
			 size_t len)
{
	return iov_walk(iov, cnt, skip, len, iov_put, (void *)src);
}

size_t qcow2_iov_copy_from(const struct iovec *iov, unsigned cnt, uint64_t skip, void *dst,
			   size_t len)
{
	return iov_walk(iov, cnt, skip, len, iov_get, dst);
}

void qcow2_iov_zero(const struct iovec *iov, unsigned cnt, uint64_t skip, size_t len)
{
	iov_walk(iov, cnt, skip, len, iov_clear, NULL);
}

struct iovec *qcow2_iov_slice(const struct iovec *iov, unsigned cnt, uint64_t skip, uint64_t len,
			      unsigned *outcnt)
{
	struct iovec *out = malloc((cnt ? cnt : 1) * sizeof(*out));
	unsigned n = 0;

	if (!out)
		return NULL;
	for (unsigned i = 0; i < cnt && len; i++) {
		size_t l = iov[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		out[n].iov_base = (char *)iov[i].iov_base + skip;
		out[n].iov_len = l - skip < len ? l - skip : (size_t)len;
		len -= out[n].iov_len;
		skip = 0;
		n++;
	}
	*outcnt = n;
	return out;
}
