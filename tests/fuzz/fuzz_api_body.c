/* Fuzz target: the per-VM API's request parsing without a server: the
 * first byte picks a route (method and path from a small table, with
 * bytes of the input as a path when odd), the rest is a PUT body for
 * api_body_parse. Checks what the parser promises: on success the reason
 * is at most API_REASON_MAX bytes with no control characters; on failure
 * there is a message. Built with libFuzzer (tools/fuzz api_body) or with
 * replay_main.c for the fuzz suite. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/api.h"

static const char *const fuzz_methods[] = { "GET", "PUT", "POST", "DELETE", "" };
static const char *const fuzz_paths[] = { "/vm", "/vm/pause", "/vm/resume", "/vm/shutdown",
					  "/vm/poweroff", "/vm/reboot", "/vm/counters",
					  "/metrics", "/", "/vm/" };

static void fuzz_route(const uint8_t *data, size_t size)
{
	char path[64];
	enum api_op op;
	const char *allow = NULL;
	const char *method = fuzz_methods[data[0] % 5];
	size_t n = size - 1 < sizeof(path) - 1 ? size - 1 : sizeof(path) - 1;
	int rc;

	if (data[0] & 0x80) {
		memcpy(path, data + 1, n);
		path[n] = '\0';
	} else {
		strcpy(path, fuzz_paths[(data[0] >> 3) % 10]);
	}
	rc = api_route(method, path, &op, &allow);
	if (rc == -EPERM && !allow)
		abort();
	if (rc == 0 && (unsigned)op > API_OP_METRICS)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_args args;
	char err[160] = "";
	int rc;

	if (size == 0)
		return 0;
	fuzz_route(data, size);
	rc = api_body_parse((const char *)data + 1, size - 1, &args, err, sizeof(err));
	if (rc == 0 && args.has_reason) {
		size_t n = strnlen(args.reason, sizeof(args.reason));

		if (n > API_REASON_MAX)
			abort();
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)args.reason[i] < 0x20 || args.reason[i] == 0x7f)
				abort();
	}
	if (rc && (rc != -EINVAL || !err[0]))
		abort();
	return 0;
}
