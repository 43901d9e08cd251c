/* The API's request handling that needs no VM: routing and the PUT body
 * parser (vmm/api_request.c). The live server is tested in
 * tests/kvm/vmm_api.py. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/api.h"

static void test_routes(void **state)
{
	enum api_op op;
	const char *allow = NULL;

	(void)state;
	assert_int_equal(api_route("GET", "/vm", &op, &allow), 0);
	assert_int_equal(op, API_OP_GET_VM);
	assert_int_equal(api_route("PUT", "/vm/pause", &op, &allow), 0);
	assert_int_equal(op, API_OP_PAUSE);
	assert_int_equal(api_route("GET", "/metrics", &op, &allow), 0);
	assert_int_equal(op, API_OP_METRICS);
	assert_int_equal(api_route("PUT", "/vm", &op, &allow), -EPERM);
	assert_string_equal(allow, "GET");
	assert_int_equal(api_route("GET", "/vm/reboot", &op, &allow), -EPERM);
	assert_string_equal(allow, "PUT");
	assert_int_equal(api_route("GET", "/vm/", &op, &allow), -ENOENT);
	assert_int_equal(api_route("GET", "", &op, &allow), -ENOENT);
	assert_int_equal(api_route("GET", "/VM", &op, &allow), -ENOENT);
	assert_true(api_op_is_action(API_OP_SHUTDOWN));
	assert_false(api_op_is_action(API_OP_COUNTERS));
}

static int parse(const char *body, struct api_args *a, char *err)
{
	return api_body_parse(body, strlen(body), a, err, 160);
}

static void test_bodies_ok(void **state)
{
	struct api_args a;
	char err[160];

	(void)state;
	assert_int_equal(api_body_parse(NULL, 0, &a, err, sizeof(err)), 0);
	assert_false(a.has_reason);
	assert_int_equal(parse("{}", &a, err), 0);
	assert_false(a.has_reason);
	assert_int_equal(parse(" {\"reason\" : \"maintenance\"}\r\n", &a, err), 0);
	assert_true(a.has_reason);
	assert_string_equal(a.reason, "maintenance");
	assert_int_equal(parse("{\"reason\": \"caf\\u00e9\"}", &a, err), 0);
	assert_string_equal(a.reason, "caf\xc3\xa9");
}

static void test_bodies_bad(void **state)
{
	static const struct { const char *body, *msg; } bad[] = {
		{ "{", "malformed JSON" },
		{ "nul", "malformed JSON" },
		{ "[]", "JSON object" },
		{ "\"x\"", "JSON object" },
		{ "42", "JSON object" },
		{ "{\"reason\": 1}", "must be a string" },
		{ "{\"reason\": [\"a\"]}", "must be a string" },
		{ "{\"reason\": null}", "must be a string" },
		{ "{\"Reason\": \"a\"}", "unknown field 'Reason'" },
		{ "{\"reason\": \"a\", \"x\": 1}", "unknown field 'x'" },
		{ "{\"reason\": \"a\", \"reason\": \"b\"}", "given twice" },
		{ "{} x", "trailing data" },
		{ "{\"reason\": \"a\\tb\"}", "control characters" },
		{ "{\"reason\": \"a\\u007fb\"}", "control characters" },
	};
	struct api_args a;
	char err[160], long_body[400];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(parse(bad[i].body, &a, err), -EINVAL);
		if (!strstr(err, bad[i].msg))
			fail_msg("body %s: message '%s' lacks '%s'", bad[i].body, err, bad[i].msg);
	}
	/* 201 bytes: one over the limit; 200 is fine. */
	snprintf(long_body, sizeof(long_body), "{\"reason\": \"%0201d\"}", 0);
	assert_int_equal(parse(long_body, &a, err), -EINVAL);
	assert_non_null(strstr(err, "at most 200"));
	snprintf(long_body, sizeof(long_body), "{\"reason\": \"%0200d\"}", 0);
	assert_int_equal(parse(long_body, &a, err), 0);
	assert_int_equal(strlen(a.reason), 200);
	/* A NUL inside the body, and a body over the limit. */
	assert_int_equal(api_body_parse("{}\0{}", 5, &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "NUL"));
	assert_int_equal(api_body_parse("{}", API_BODY_MAX + 1, &a, err, sizeof(err)), -EINVAL);
}

static void test_error_reply(void **state)
{
	struct api_reply r = { 0 };

	(void)state;
	api_reply_error(&r, 409, "the VM is %s \"paused\"", "already");
	assert_int_equal(r.status, 409);
	assert_string_equal(r.content_type, "application/json");
	assert_string_equal(r.body, "{\"error\":\"the VM is already \\\"paused\\\"\"}");
	free(r.body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_bodies_ok),
		cmocka_unit_test(test_bodies_bad),
		cmocka_unit_test(test_error_reply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
