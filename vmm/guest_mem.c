#include "vmm/guest_mem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int guest_mem_init(struct guest_mem *m, uint64_t size)
{
	uint64_t low = size < GUEST_MEM_HOLE_START ? size : GUEST_MEM_HOLE_START;
	int err;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (size < (2u << 20) || size > (1ULL << 40))
		return -EINVAL;
	m->fd = memfd_create("lq-guest-ram", MFD_CLOEXEC);
	if (m->fd < 0)
		return -errno;
	if (ftruncate(m->fd, (off_t)size) < 0)
		goto fail;
	/* MAP_NORESERVE: RAM stays sparse until the guest touches it. */
	m->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, m->fd, 0);
	if (m->base == MAP_FAILED) {
		m->base = NULL;
		goto fail;
	}
	madvise(m->base, size, MADV_DONTDUMP);
	m->size = size;
	m->regions[0] = (struct guest_mem_region){ 0, low, m->base, 0 };
	m->nr = 1;
	if (size > low) {
		m->regions[1] = (struct guest_mem_region){ GUEST_MEM_HIGH_START, size - low, m->base + low, low };
		m->nr = 2;
	}
	return 0;
fail:
	err = -errno;
	guest_mem_free(m);
	return err;
}

void guest_mem_free(struct guest_mem *m)
{
	if (m->base)
		munmap(m->base, m->size);
	if (m->fd >= 0)
		close(m->fd);
	memset(m, 0, sizeof(*m));
	m->fd = -1;
}

void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < m->nr; i++) {
		const struct guest_mem_region *r = &m->regions[i];

		/* Written so no sum can overflow: gpa and len come from the guest. */
		if (gpa >= r->gpa && gpa - r->gpa < r->size && len <= r->size - (gpa - r->gpa))
			return r->hva + (gpa - r->gpa);
	}
	return NULL;
}

int guest_mem_read(const struct guest_mem *m, uint64_t gpa, void *buf, size_t len)
{
	const void *p = guest_mem_ptr(m, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

int guest_mem_write(const struct guest_mem *m, uint64_t gpa, const void *buf, size_t len)
{
	void *p = guest_mem_ptr(m, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, buf, len);
	return 0;
}

uint64_t guest_mem_low_size(const struct guest_mem *m)
{
	return m->regions[0].size;
}

uint64_t guest_mem_high_size(const struct guest_mem *m)
{
	return m->nr > 1 ? m->regions[1].size : 0;
}
