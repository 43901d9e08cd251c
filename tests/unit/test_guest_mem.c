#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <cmocka.h>

#include "vmm/guest_mem.h"

static void test_layout_and_bounds(void **state)
{
	struct guest_mem m;
	uint64_t v = 0x1122334455667788ULL, r = 0;

	(void)state;
	/* 4 GiB of sparse RAM: 3 GiB low, 1 GiB above the hole. */
	assert_int_equal(guest_mem_init(&m, 4ULL << 30), 0);
	assert_int_equal(m.nr, 2);
	assert_int_equal(guest_mem_low_size(&m), GUEST_MEM_HOLE_START);
	assert_int_equal(guest_mem_high_size(&m), (4ULL << 30) - GUEST_MEM_HOLE_START);
	assert_non_null(guest_mem_ptr(&m, 0, 8));
	assert_non_null(guest_mem_ptr(&m, GUEST_MEM_HOLE_START - 8, 8));
	assert_null(guest_mem_ptr(&m, GUEST_MEM_HOLE_START - 4, 8)); /* runs into the hole */
	assert_null(guest_mem_ptr(&m, 0xfee00000, 4));                /* LAPIC, not RAM */
	assert_non_null(guest_mem_ptr(&m, GUEST_MEM_HIGH_START, 4096));
	assert_null(guest_mem_ptr(&m, GUEST_MEM_HIGH_START + (1ULL << 30) - 4, 8));
	/* Sums that overflow must not wrap into RAM. */
	assert_null(guest_mem_ptr(&m, ~0ULL - 3, 8));
	assert_null(guest_mem_ptr(&m, 16, ~0ULL));
	assert_int_equal(guest_mem_write(&m, GUEST_MEM_HIGH_START + 8, &v, 8), 0);
	assert_int_equal(guest_mem_read(&m, GUEST_MEM_HIGH_START + 8, &r, 8), 0);
	assert_int_equal(r, v);
	assert_int_equal(guest_mem_read(&m, 0xc0000000, &r, 8), -EFAULT);
	guest_mem_free(&m);
	assert_int_equal(guest_mem_init(&m, 1024), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_layout_and_bounds) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
