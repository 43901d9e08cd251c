/* common/http_body: gathering a request body that libmicrohttpd hands
 * over in pieces, with a size limit, for the per-VM API and lqd. */
#ifndef LQ_COMMON_HTTP_BODY_H
#define LQ_COMMON_HTTP_BODY_H

#include <stdbool.h>
#include <stddef.h>

/* Appends the *size bytes at data to *body (NUL-terminated, *len bytes)
 * and sets *size to 0 (consumed). Past max bytes, or when memory runs
 * out, the body is dropped and *too_big set: the rest of the upload is
 * read and thrown away, and the caller answers 413 once it has ended
 * (chunked bodies carry no Content-Length to refuse them up front). */
void http_body_collect(char **body, size_t *len, bool *too_big, size_t max, const char *data,
		       size_t *size);

#endif
