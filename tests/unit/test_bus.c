#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "devices/bus.h"

static uint64_t last_off;
static int reads;

static int rd(void *opaque, uint64_t off, void *data, unsigned len)
{
	last_off = off;
	reads++;
	memset(data, (int)(uintptr_t)opaque, len);
	return 0;
}

static const struct bus_ops ops = { .read = rd };

static void test_dispatch_and_overlap(void **state)
{
	struct bus b;
	uint8_t v[4];

	(void)state;
	bus_init(&b, "t");
	assert_int_equal(bus_register(&b, 0x3f8, 8, &ops, (void *)0x11), 0);
	assert_int_equal(bus_register(&b, 0x60, 5, &ops, (void *)0x22), 0);
	assert_int_equal(bus_register(&b, 0x3f0, 9, &ops, NULL), -EEXIST);
	assert_int_equal(bus_register(&b, 0x3ff, 1, &ops, NULL), -EEXIST);
	assert_int_equal(bus_register(&b, 0x400, 1, &ops, (void *)0x33), 0);
	assert_int_equal(bus_register(&b, ~0ULL, 2, &ops, NULL), -EINVAL);
	assert_int_equal(bus_access(&b, 0x3fd, v, 1, false), 0);
	assert_int_equal(last_off, 5);
	assert_int_equal(v[0], 0x11);
	assert_int_equal(bus_access(&b, 0x64, v, 1, false), 0);
	assert_int_equal(v[0], 0x22);
	/* Nothing there: all ones, -ENOENT, no handler called. */
	reads = 0;
	assert_int_equal(bus_access(&b, 0x70, v, 4, false), -ENOENT);
	assert_int_equal(v[0] & v[1] & v[2] & v[3], 0xff);
	/* An access running off the end of a range is refused. */
	assert_int_equal(bus_access(&b, 0x3ff, v, 2, false), -ENOENT);
	assert_int_equal(reads, 0);
	/* No write handler: refused, not crashed. */
	assert_int_equal(bus_access(&b, 0x400, v, 1, true), -ENOENT);
	bus_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_dispatch_and_overlap) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
