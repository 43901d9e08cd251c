/* libcurl client for lq-vmm's per-VM API (control/lqd_vmm_client.h). */
#include "control/lqd_vmm_client.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#define LQD_VMM_REPLY_MAX (256u * 1024)

struct lqd_vmm_buf {
	char *data;
	size_t len;
	bool too_big;
};

static size_t lqd_vmm_write(char *ptr, size_t size, size_t n, void *ud)
{
	struct lqd_vmm_buf *b = ud;
	size_t add = size * n;
	char *nd;

	if (b->len + add > LQD_VMM_REPLY_MAX) {
		b->too_big = true;
		return 0; /* aborts the transfer */
	}
	nd = realloc(b->data, b->len + add + 1);
	if (!nd)
		return 0;
	memcpy(nd + b->len, ptr, add);
	b->data = nd;
	b->len += add;
	b->data[b->len] = '\0';
	return add;
}

int lqd_vmm_client_init(void)
{
	return curl_global_init(CURL_GLOBAL_NOTHING) == CURLE_OK ? 0 : -EIO;
}

void lqd_vmm_client_cleanup(void)
{
	curl_global_cleanup();
}

int lqd_vmm_call(const char *sock, const char *method, const char *path, long *status,
		 cJSON **reply)
{
	struct lqd_vmm_buf b = { 0 };
	char url[256];
	CURL *c = curl_easy_init();
	CURLcode cc;
	int rc = 0;

	if (reply)
		*reply = NULL;
	if (!c)
		return -ENOMEM;
	/* The host part is ignored on a unix socket; it only fills Host:. */
	snprintf(url, sizeof(url), "http://lq-vmm%s", path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (!strcmp(method, "PUT")) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	}
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)LQD_VMM_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, lqd_vmm_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		log_debug("%s %s on %s: %s", method, path, sock, curl_easy_strerror(cc));
		rc = cc == CURLE_COULDNT_CONNECT ? -ECONNREFUSED
		     : cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
	} else {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
		if (reply && b.data)
			*reply = cJSON_Parse(b.data);
	}
	curl_easy_cleanup(c);
	free(b.data);
	return rc;
}
