#include "common/iov.h"

#include <string.h>

size_t iov_size(const struct iovec *iov, unsigned n)
{
	size_t s = 0;

	for (unsigned i = 0; i < n; i++)
		s += iov[i].iov_len;
	return s;
}

enum iov_dir { IOV_TO_BUF, IOV_FROM_BUF, IOV_ZERO };

static size_t iov_copy(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len,
		       enum iov_dir dir)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		size_t l = iov[i].iov_len, take;

		if (off >= l) {
			off -= l;
			continue;
		}
		take = l - off < len - done ? l - off : len - done;
		if (dir == IOV_TO_BUF)
			memcpy((char *)buf + done, (char *)iov[i].iov_base + off, take);
		else if (dir == IOV_FROM_BUF)
			memcpy((char *)iov[i].iov_base + off, (const char *)buf + done, take);
		else
			memset((char *)iov[i].iov_base + off, 0, take);
		done += take;
		off = 0;
	}
	return done;
}

size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len)
{
	return iov_copy(iov, n, off, buf, len, IOV_TO_BUF);
}

size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t off, const void *buf, size_t len)
{
	return iov_copy(iov, n, off, (void *)buf, len, IOV_FROM_BUF);
}

size_t iov_zero(const struct iovec *iov, unsigned n, size_t off, size_t len)
{
	return iov_copy(iov, n, off, NULL, len, IOV_ZERO);
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
