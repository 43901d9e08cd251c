/* vmm/guest_mem: guest RAM backed by one memfd, and the one accessor
 * through which every guest-physical address is checked.
 *
 * Layout (x86): RAM below 4 GiB is [0, low_size) with low_size at most
 * GUEST_MEM_HOLE_START; the rest starts at 4 GiB. The 32-bit hole holds
 * the IOAPIC, LAPIC and (later) PCI MMIO. The memfd keeps RAM sparse and
 * shareable, ready for snapshot and migration. */
#ifndef LQ_VMM_GUEST_MEM_H
#define LQ_VMM_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

#define GUEST_MEM_HOLE_START 0xc0000000ULL
#define GUEST_MEM_HIGH_START 0x100000000ULL
#define GUEST_MEM_MAX_REGIONS 2

struct guest_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
	uint64_t fd_offset;
};

struct guest_mem {
	int fd;
	uint8_t *base;     /* mapping of the whole memfd */
	uint64_t size;     /* total RAM */
	unsigned nr;
	struct guest_mem_region regions[GUEST_MEM_MAX_REGIONS];
};

int guest_mem_init(struct guest_mem *m, uint64_t size);
void guest_mem_free(struct guest_mem *m);
/* Host pointer for [gpa, gpa+len) if the whole range is RAM in one
 * region, else NULL. The only way device and loader code reaches RAM. */
void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);
int guest_mem_read(const struct guest_mem *m, uint64_t gpa, void *buf, size_t len);
int guest_mem_write(const struct guest_mem *m, uint64_t gpa, const void *buf, size_t len);
uint64_t guest_mem_low_size(const struct guest_mem *m);
uint64_t guest_mem_high_size(const struct guest_mem *m);

#endif
