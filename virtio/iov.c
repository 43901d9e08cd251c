#include "virtio/iov.h"

#include <string.h>

size_t iov_size(const struct iovec *iov, unsigned n)
{
	size_t s = 0;

	for (unsigned i = 0; i < n; i++)
		s += iov[i].iov_len;
	return s;
}

static size_t iov_copy(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len,
		       int to_buf)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		size_t l = iov[i].iov_len, take;

		if (off >= l) {
			off -= l;
			continue;
		}
		take = l - off < len - done ? l - off : len - done;
		if (to_buf)
			memcpy((char *)buf + done, (char *)iov[i].iov_base + off, take);
		else
			memcpy((char *)iov[i].iov_base + off, (const char *)buf + done, take);
		done += take;
		off = 0;
	}
	return done;
}

size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len)
{
	return iov_copy(iov, n, off, buf, len, 1);
}

size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t off, const void *buf, size_t len)
{
	return iov_copy(iov, n, off, (void *)buf, len, 0);
}

int iov_slice(const struct iovec *iov, unsigned n, size_t off, size_t len, struct iovec *dst,
	      unsigned max)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n && len; i++) {
		size_t l = iov[i].iov_len, take;

		if (off >= l) {
			off -= l;
			continue;
		}
		if (k == max)
			return -1;
		take = l - off < len ? l - off : len;
		dst[k].iov_base = (char *)iov[i].iov_base + off;
		dst[k].iov_len = take;
		k++;
		len -= take;
		off = 0;
	}
	return len ? -1 : (int)k;
}
