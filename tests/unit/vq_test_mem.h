/* Guest-side accessors for tests that play the driver against crafted
 * rings in plain memory: what a driver writes and reads, checked (a
 * failed access fails the test). Include after cmocka.h. */
#ifndef LQ_TESTS_VQ_TEST_MEM_H
#define LQ_TESTS_VQ_TEST_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/guest_mem.h"

/* The guest memory the accessors below use. */
void vqt_use(struct guest_mem *mem);
void vqt_wr(uint64_t gpa, const void *v, size_t len);
uint16_t vqt_rd16(uint64_t gpa);
uint32_t vqt_rd32(uint64_t gpa);

#endif
