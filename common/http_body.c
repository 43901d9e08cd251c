#include "common/http_body.h"

#include <stdlib.h>
#include <string.h>

void http_body_collect(char **body, size_t *len, bool *too_big, size_t max, const char *data,
		       size_t *size)
{
	char *nb = NULL;

	if (!*too_big && *len + *size <= max)
		nb = realloc(*body, *len + *size + 1);
	if (nb) {
		memcpy(nb + *len, data, *size);
		*body = nb;
		*len += *size;
		nb[*len] = '\0';
	} else {
		*too_big = true;
		free(*body);
		*body = NULL;
		*len = 0;
	}
	*size = 0;
}
