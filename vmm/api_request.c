/* The parts of a request that need no VM: routing and the body parser.
 * Both are pure, so the fuzz target and unit-level tests can drive them
 * without a server. */
#include "vmm/api.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *path;
	const char *method;
	enum api_op op;
} api_routes[] = {
	{ "/vm", "GET", API_OP_GET_VM },
	{ "/vm/pause", "PUT", API_OP_PAUSE },
	{ "/vm/resume", "PUT", API_OP_RESUME },
	{ "/vm/shutdown", "PUT", API_OP_SHUTDOWN },
	{ "/vm/poweroff", "PUT", API_OP_POWEROFF },
	{ "/vm/reboot", "PUT", API_OP_REBOOT },
	{ "/vm/counters", "GET", API_OP_COUNTERS },
	{ "/metrics", "GET", API_OP_METRICS },
};

int api_route(const char *method, const char *path, enum api_op *op, const char **allow)
{
	for (size_t i = 0; i < sizeof(api_routes) / sizeof(api_routes[0]); i++) {
		if (strcmp(path, api_routes[i].path))
			continue;
		if (strcmp(method, api_routes[i].method)) {
			*allow = api_routes[i].method;
			return -EPERM;
		}
		*op = api_routes[i].op;
		return 0;
	}
	return -ENOENT;
}

bool api_op_is_action(enum api_op op)
{
	return op != API_OP_GET_VM && op != API_OP_COUNTERS && op != API_OP_METRICS;
}

static int api_body_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Printable ASCII or UTF-8 continuation/lead bytes: the reason goes to
 * the log, where control characters could forge lines. */
static bool api_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static int api_body_member(const cJSON *m, struct api_args *out, char *err, size_t errlen)
{
	size_t n;

	if (strcmp(m->string, "reason"))
		return api_body_fail(err, errlen, "unknown field '%.64s' (the only field is \"reason\")",
				     m->string);
	if (out->has_reason)
		return api_body_fail(err, errlen, "field \"reason\" given twice");
	if (!cJSON_IsString(m))
		return api_body_fail(err, errlen, "field \"reason\" must be a string");
	n = strlen(m->valuestring);
	if (n > API_REASON_MAX)
		return api_body_fail(err, errlen, "field \"reason\" is %zu bytes, at most %u allowed",
				     n, API_REASON_MAX);
	if (!api_printable(m->valuestring))
		return api_body_fail(err, errlen, "field \"reason\" contains control characters");
	memcpy(out->reason, m->valuestring, n + 1);
	out->has_reason = true;
	return 0;
}

int api_body_parse(const char *body, size_t len, struct api_args *out, char *err, size_t errlen)
{
	const char *end = NULL;
	cJSON *root;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return 0;
	if (len > API_BODY_MAX)
		return api_body_fail(err, errlen, "body of %zu bytes, at most %u allowed", len,
				     API_BODY_MAX);
	if (memchr(body, '\0', len))
		return api_body_fail(err, errlen, "body contains a NUL byte: not JSON");
	root = cJSON_ParseWithLengthOpts(body, len, &end, false);
	if (!root)
		return api_body_fail(err, errlen, "malformed JSON near byte %zu",
				     end && end >= body ? (size_t)(end - body) : (size_t)0);
	for (const char *p = end; p && p < body + len; p++) {
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
			ret = api_body_fail(err, errlen, "trailing data after the JSON value at byte %zu",
					    (size_t)(p - body));
			goto out;
		}
	}
	if (!cJSON_IsObject(root)) {
		ret = api_body_fail(err, errlen, "the body must be a JSON object");
		goto out;
	}
	for (const cJSON *m = root->child; m && !ret; m = m->next)
		ret = api_body_member(m, out, err, errlen);
out:
	cJSON_Delete(root);
	return ret;
}

void api_reply_error(struct api_reply *r, unsigned status, const char *fmt, ...)
{
	char msg[256];
	cJSON *o = cJSON_CreateObject();
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	free(r->body);
	r->status = status;
	r->content_type = "application/json";
	r->body = NULL;
	if (o && cJSON_AddStringToObject(o, "error", msg))
		r->body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
}
