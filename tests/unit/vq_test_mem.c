#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/vq_test_mem.h"

static struct guest_mem *vqt_mem;

void vqt_use(struct guest_mem *mem)
{
	vqt_mem = mem;
}

void vqt_wr(uint64_t gpa, const void *v, size_t len)
{
	assert_int_equal(guest_mem_write(vqt_mem, gpa, v, len), 0);
}

uint16_t vqt_rd16(uint64_t gpa)
{
	uint16_t v;

	assert_int_equal(guest_mem_read(vqt_mem, gpa, &v, 2), 0);
	return v;
}

uint32_t vqt_rd32(uint64_t gpa)
{
	uint32_t v;

	assert_int_equal(guest_mem_read(vqt_mem, gpa, &v, 4), 0);
	return v;
}
