/* block/qcow2_iov: a request's scatter list cut along cluster
 * boundaries (copying and zeroing are common/iov's). */
#include "block/qcow2.h"

#include <stdlib.h>
#include <string.h>

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
