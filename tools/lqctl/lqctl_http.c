/* lqctl's HTTP client (tools/lqctl/lqctl.h): libcurl on lqd's socket. */
#include "tools/lqctl/lqctl.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static size_t lqctl_http_write(char *ptr, size_t size, size_t n, void *ud)
{
	struct lqctl_resp *r = ud;
	size_t add = size * n;
	char *nb = realloc(r->body, r->len + add + 1);

	if (!nb)
		return 0;
	memcpy(nb + r->len, ptr, add);
	r->body = nb;
	r->len += add;
	r->body[r->len] = '\0';
	return add;
}

/* Copies "Name: value" into dst when the header is name. */
static void lqctl_http_header_copy(const char *line, size_t n, const char *name, char *dst,
				   size_t dlen)
{
	size_t nl = strlen(name);
	size_t vlen;

	if (n <= nl + 1 || strncasecmp(line, name, nl) || line[nl] != ':')
		return;
	line += nl + 1;
	n -= nl + 1;
	while (n && (*line == ' ' || *line == '\t'))
		line++, n--;
	while (n && (line[n - 1] == '\r' || line[n - 1] == '\n'))
		n--;
	vlen = n < dlen - 1 ? n : dlen - 1;
	memcpy(dst, line, vlen);
	dst[vlen] = '\0';
}

static size_t lqctl_http_header(char *buf, size_t size, size_t n, void *ud)
{
	struct lqctl_resp *r = ud;

	lqctl_http_header_copy(buf, size * n, "X-Lq-Console-Offset", r->offset, sizeof(r->offset));
	lqctl_http_header_copy(buf, size * n, "X-Lq-Vm-State", r->vm_state, sizeof(r->vm_state));
	return size * n;
}

int lqctl_http(const struct lqctl *c, const char *method, const char *path, const char *body,
	       long timeout_s, struct lqctl_resp *r)
{
	struct curl_slist *hdrs = NULL;
	char url[1024];
	CURL *h;
	CURLcode cc;

	memset(r, 0, sizeof(*r));
	h = curl_easy_init();
	if (!h) {
		fprintf(stderr, "lqctl: out of memory\n");
		return LQCTL_UNREACHABLE;
	}
	snprintf(url, sizeof(url), "http://lqd%s", path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->socket);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	}
	curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, lqctl_http_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, lqctl_http_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	cc = curl_easy_perform(h);
	if (cc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	if (cc != CURLE_OK) {
		fprintf(stderr, "lqctl: cannot reach lqd on %s: %s (is lqd running? --socket or LQD_SOCKET picks another socket)\n",
			c->socket, curl_easy_strerror(cc));
		free(r->body);
		r->body = NULL;
		return LQCTL_UNREACHABLE;
	}
	return 0;
}

int lqctl_fail(const struct lqctl_resp *r, const char *what)
{
	cJSON *o = r->body ? cJSON_Parse(r->body) : NULL;
	const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "error"));
	int code;

	fprintf(stderr, "lqctl: %s: %s (HTTP %ld)\n", what, msg ? msg : "request failed", r->status);
	cJSON_Delete(o);
	code = r->status == 404 ? LQCTL_NOT_FOUND
	       : r->status == 409 ? LQCTL_CONFLICT
	       : r->status >= 500 ? LQCTL_DAEMON : LQCTL_USAGE;
	return code;
}

int lqctl_call(const struct lqctl *c, const char *method, const char *path, const char *body,
	       long timeout_s, void (*show)(const cJSON *o))
{
	struct lqctl_resp r;
	char what[512];
	int rc = lqctl_http(c, method, path, body, timeout_s, &r);

	if (rc)
		return rc;
	if (r.status < 200 || r.status >= 300) {
		snprintf(what, sizeof(what), "%s %s", method, path);
		rc = lqctl_fail(&r, what);
	} else if (c->json) {
		if (r.len)
			printf("%s\n", r.body);
	} else if (show) {
		cJSON *o = r.body ? cJSON_Parse(r.body) : NULL;

		show(o);
		cJSON_Delete(o);
	}
	free(r.body);
	return rc;
}
