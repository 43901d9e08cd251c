/* Unit tests for lqd's VM spec validator (control/lqd_spec.c): good
 * specs round-trip, and every kind of bad input is refused with a
 * message and leaves nothing allocated behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <errno.h>
#include <string.h>

#include "control/lqd_spec.c"

static const struct lqd_spec_limits lim = { .host_memory_mib = 4096 };

static int parse(const char *json, struct lqd_spec *s, bool *start, char *err, size_t len)
{
	cJSON *o = cJSON_Parse(json);
	int rc;

	assert_non_null(o);
	rc = lqd_spec_parse(o, &lim, s, start, err, len);
	cJSON_Delete(o);
	return rc;
}

static void test_minimal(void **state)
{
	struct lqd_spec s;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse("{\"name\":\"vm1\",\"memory_mib\":128,\"kernel\":\"/k\"}", &s, NULL,
			       err, sizeof(err)), 0);
	assert_string_equal(s.name, "vm1");
	assert_int_equal(s.cpus, 1);
	assert_int_equal(s.memory_mib, 128);
	assert_string_equal(s.kernel, "/k");
	assert_null(s.initrd);
	assert_string_equal(s.cmdline, "");
	assert_int_equal(s.restart_policy, LQD_RESTART_ON_FAILURE);
	lqd_spec_free(&s);
}

static void test_full_roundtrip(void **state)
{
	const char *j = "{\"name\":\"web-01\",\"cpus\":2,\"memory_mib\":256,\"kernel\":\"/boot/k\","
			"\"initrd\":\"/boot/i\",\"cmdline\":\"console=ttyS0 quiet\","
			"\"disks\":[{\"path\":\"/d/a.img\"},{\"path\":\"/d/b.img\",\"readonly\":true,\"format\":\"qcow2\"}],"
			"\"rng\":true,\"labels\":{\"app\":\"web\",\"team.io/owner\":\"ops\"},"
			"\"restart_policy\":\"always\",\"start\":true}";
	struct lqd_spec s, s2;
	char err[256] = "", *text;
	bool start = false;
	cJSON *o;

	(void)state;
	assert_int_equal(parse(j, &s, &start, err, sizeof(err)), 0);
	assert_true(start);
	assert_int_equal(s.cpus, 2);
	assert_int_equal(s.nr_disks, 2);
	assert_false(s.disks[0].readonly);
	assert_true(s.disks[1].readonly);
	assert_string_equal(s.disks[0].format, "");
	assert_string_equal(s.disks[1].format, "qcow2");
	assert_true(s.rng);
	assert_int_equal(s.restart_policy, LQD_RESTART_ALWAYS);
	/* to_json then parse again gives the same spec (the store relies on it) */
	o = lqd_spec_to_json(&s);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	assert_int_equal(parse(text, &s2, NULL, err, sizeof(err)), 0);
	assert_string_equal(s2.cmdline, "console=ttyS0 quiet");
	assert_string_equal(s2.disks[1].path, "/d/b.img");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(s2.labels, "app")), "web");
	free(text);
	lqd_spec_free(&s);
	lqd_spec_free(&s2);
}

static void test_names(void **state)
{
	(void)state;
	assert_true(lqd_spec_name_ok("a"));
	assert_true(lqd_spec_name_ok("0-vm-x"));
	assert_true(lqd_spec_name_ok("abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij123"));
	assert_false(lqd_spec_name_ok("abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234"));
	assert_false(lqd_spec_name_ok(""));
	assert_false(lqd_spec_name_ok(NULL));
	assert_false(lqd_spec_name_ok("-a"));
	assert_false(lqd_spec_name_ok("A"));
	assert_false(lqd_spec_name_ok("a/b"));
	assert_false(lqd_spec_name_ok(".."));
	assert_false(lqd_spec_name_ok("a..b"));
	assert_false(lqd_spec_name_ok("a b"));
	assert_false(lqd_spec_name_ok("a_b"));
	assert_false(lqd_spec_name_ok("vm\n"));
}

/* Each must fail with a message naming what is wrong. */
static const struct {
	const char *json;
	const char *msg;
} bad[] = {
	{ "[]", "JSON object" },
	{ "{\"memory_mib\":128,\"kernel\":\"/k\"}", "name is required" },
	{ "{\"name\":\"v\",\"kernel\":\"/k\"}", "memory_mib is required" },
	{ "{\"name\":\"v\",\"memory_mib\":128}", "kernel is required" },
	{ "{\"name\":\"v/x\",\"memory_mib\":128,\"kernel\":\"/k\"}", "name:" },
	{ "{\"name\":\"..\",\"memory_mib\":128,\"kernel\":\"/k\"}", "name:" },
	{ "{\"name\":7,\"memory_mib\":128,\"kernel\":\"/k\"}", "name:" },
	{ "{\"name\":\"v\",\"memory_mib\":0,\"kernel\":\"/k\"}", "memory_mib" },
	{ "{\"name\":\"v\",\"memory_mib\":15,\"kernel\":\"/k\"}", "memory_mib" },
	{ "{\"name\":\"v\",\"memory_mib\":4097,\"kernel\":\"/k\"}", "memory_mib" },
	{ "{\"name\":\"v\",\"memory_mib\":1e300,\"kernel\":\"/k\"}", "memory_mib" },
	{ "{\"name\":\"v\",\"memory_mib\":128.5,\"kernel\":\"/k\"}", "memory_mib" },
	{ "{\"name\":\"v\",\"memory_mib\":\"128\",\"kernel\":\"/k\"}", "memory_mib" },
	{ "{\"name\":\"v\",\"memory_mib\":-128,\"kernel\":\"/k\"}", "memory_mib" },
	{ "{\"name\":\"v\",\"memory_mib\":128,\"kernel\":\"/k\",\"cpus\":0}", "cpus" },
	{ "{\"name\":\"v\",\"memory_mib\":128,\"kernel\":\"/k\",\"cpus\":256}", "cpus" },
	{ "{\"name\":\"v\",\"memory_mib\":128,\"kernel\":\"/k\",\"cpus\":true}", "cpus" },
	{ "{\"name\":\"v\",\"memory_mib\":128,\"kernel\":\"k\"}", "kernel: expected an absolute" },
	{ "{\"name\":\"v\",\"memory_mib\":128,\"kernel\":[\"/k\"]}", "kernel: expected a string" },
	{ "{\"name\":\"v\",\"memory_mib\":128,\"kernel\":\"/k\\n\"}", "kernel" },
	{ "{\"name\":\"v\",\"memory_mib\":128,\"kernel\":\"/k\",\"cmdline\":\"a\\u0001\"}", "cmdline" },
	{ "{\"name\":\"v\",\"memory_mib\":128,\"kernel\":\"/k\",\"memroy_mib\":1}", "unknown member 'memroy_mib'" },
	{ "{\"name\":\"v\",\"memory_mib\":128,\"kernel\":\"/k\",\"start\":true}", "unknown member 'start'" },
	{ "{\"name\":\"v\",\"name\":\"w\",\"memory_mib\":128,\"kernel\":\"/k\"}", "given twice" },
	{ "{\"name\":\"v\",\"memory_mib\":128,\"kernel\":\"/k\",\"disks\":{}}", "disks: expected an array" },
	{ "{\"name\":\"v\",\"memory_mib\":128,\"kernel\":\"/k\",\"disks\":[{}]}", "disks[0]: path is required" },
	{ "{\"name\":\"v\",\"memory_mib\":128,\"kernel\":\"/k\",\"disks\":[{\"path\":\"/a,b\"}]}", "','" },
	{ "{\"name\":\"v\",\"memory_mib\":128,\"kernel\":\"/k\",\"disks\":[{\"path\":\"/a\",\"ro\":1}]}", "unknown member 'ro'" },
	{ "{\"name\":\"v\",\"memory_mib\":128,\"kernel\":\"/k\",\"disks\":[{\"path\":\"/a\",\"readonly\":1}]}", "readonly" },
	{ "{\"name\":\"v\",\"memory_mib\":128,\"kernel\":\"/k\",\"disks\":[{\"path\":\"/a\",\"format\":\"vmdk\"}]}", "disks[0].format: expected \"raw\" or \"qcow2\"" },
	{ "{\"name\":\"v\",\"memory_mib\":128,\"kernel\":\"/k\",\"disks\":[{\"path\":\"/a\",\"format\":1}]}", "disks[0].format" },
	{ "{\"name\":\"v\",\"memory_mib\":128,\"kernel\":\"/k\",\"disks\":[{\"path\":\"/a\"},{\"path\":\"/a\"},{\"path\":\"/a\"},{\"path\":\"/a\"},{\"path\":\"/a\"},{\"path\":\"/a\"},{\"path\":\"/a\"},{\"path\":\"/a\"},{\"path\":\"/a\"}]}", "at most 8" },
	{ "{\"name\":\"v\",\"memory_mib\":128,\"kernel\":\"/k\",\"rng\":\"yes\"}", "rng" },
	{ "{\"name\":\"v\",\"memory_mib\":128,\"kernel\":\"/k\",\"labels\":[]}", "labels" },
	{ "{\"name\":\"v\",\"memory_mib\":128,\"kernel\":\"/k\",\"labels\":{\"a\":1}}", "labels.a" },
	{ "{\"name\":\"v\",\"memory_mib\":128,\"kernel\":\"/k\",\"labels\":{\"-a\":\"x\"}}", "labels: key" },
	{ "{\"name\":\"v\",\"memory_mib\":128,\"kernel\":\"/k\",\"restart_policy\":\"sometimes\"}", "restart_policy" },
	{ "{\"name\":\"v\",\"memory_mib\":128,\"kernel\":\"/k\",\"restart_policy\":null}", "restart_policy" },
};

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct lqd_spec s;
		char err[256] = "";
		int rc = parse(bad[i].json, &s, NULL, err, sizeof(err));

		if (rc != -EINVAL || !strstr(err, bad[i].msg))
			fail_msg("case %zu %s: rc %d, message '%s', expected '%s'", i, bad[i].json, rc,
				 err, bad[i].msg);
		/* refused specs are left empty (nothing to free, nothing half-set) */
		assert_null(s.kernel);
		assert_null(s.labels);
		assert_int_equal(s.nr_disks, 0);
	}
}

static void test_host_memory_limit(void **state)
{
	const struct lqd_spec_limits tiny = { .host_memory_mib = 8 };
	cJSON *o = cJSON_Parse("{\"name\":\"v\",\"memory_mib\":16,\"kernel\":\"/k\"}");
	struct lqd_spec s;
	char err[256];

	(void)state;
	assert_int_equal(lqd_spec_parse(o, &tiny, &s, NULL, err, sizeof(err)), -EINVAL);
	cJSON_Delete(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_full_roundtrip),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_host_memory_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
