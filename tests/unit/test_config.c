#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <cmocka.h>

#include "vmm/config.h"

static void test_sizes(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(config_parse_size("512M", &v), 0);
	assert_int_equal(v, 512ULL << 20);
	assert_int_equal(config_parse_size("8G", &v), 0);
	assert_int_equal(v, 8ULL << 30);
	assert_int_equal(config_parse_size("64MiB", &v), 0);
	assert_int_equal(v, 64ULL << 20);
	assert_int_equal(config_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(config_parse_size("", &v), -EINVAL);
	assert_int_equal(config_parse_size("-1G", &v), -EINVAL);
	assert_int_equal(config_parse_size("12Q", &v), -EINVAL);
	assert_int_equal(config_parse_size("99999999999999999999", &v), -EINVAL);
	assert_int_equal(config_parse_size("17179869184G", &v), -EINVAL);
}

static void test_flags(void **state)
{
	struct vm_config c;
	char *ok[] = { "lq-vmm", "--kernel", "k", "--cpus", "4", "--memory", "1G",
		       "--serial", "unix:/tmp/x.sock", "--reboot", "exit", NULL };
	char *bad_cpus[] = { "lq-vmm", "--kernel", "k", "--cpus", "0", NULL };
	char *bad_serial[] = { "lq-vmm", "--kernel", "k", "--serial", "tcp:1", NULL };
	char *no_kernel[] = { "lq-vmm", "--cpus", "2", NULL };
	char *unknown[] = { "lq-vmm", "--kernel", "k", "--bogus", NULL };

	(void)state;
	assert_int_equal(config_parse(&c, 11, ok), 0);
	assert_int_equal(c.cpus, 4);
	assert_int_equal(c.memory, 1ULL << 30);
	assert_int_equal(c.serial, SERIAL_UNIX);
	assert_string_equal(c.serial_path, "/tmp/x.sock");
	assert_int_equal(c.reboot, REBOOT_EXIT);
	assert_int_equal(config_parse(&c, 5, bad_cpus), -EINVAL);
	assert_int_equal(config_parse(&c, 5, bad_serial), -EINVAL);
	assert_int_equal(config_parse(&c, 3, no_kernel), -EINVAL);
	assert_int_equal(config_parse(&c, 4, unknown), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_sizes), cmocka_unit_test(test_flags) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
