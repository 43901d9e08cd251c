/* Queue set-up, taking chains from the avail ring and giving them back
 * on the used ring. Chains are walked in virtq_chain.c, notification
 * suppression is in virtq_notify.c. */
#include "virtio/virtq.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "virtio/virtq_internal.h"
#include "vmm/guest_mem.h"

void virtq_set_label(struct virtq *vq, const char *owner, unsigned index)
{
	vq->owner = owner;
	vq->index = index;
}

void virtq_reset(struct virtq *vq)
{
	const char *owner = vq->owner;
	unsigned index = vq->index;

	memset(vq, 0, sizeof(*vq));
	virtq_set_label(vq, owner, index);
}

/* Ring sizes of 2.7 (event fields included) and their alignment. */
static bool virtq_rings_ok(const struct guest_mem *mem, uint16_t size, uint64_t desc,
			   uint64_t avail, uint64_t used)
{
	if (!size || (size & (size - 1)) || size > VIRTQ_MAX_SIZE)
		return false;
	if (desc % 16 || avail % 2 || used % 4)
		return false;
	return guest_mem_ptr(mem, desc, 16ULL * size) && guest_mem_ptr(mem, avail, 6 + 2ULL * size) &&
	       guest_mem_ptr(mem, used, 6 + 8ULL * size);
}

int virtq_enable(struct virtq *vq, const struct guest_mem *mem, uint16_t size, uint64_t desc,
		 uint64_t avail, uint64_t used, bool event_idx, bool indirect)
{
	virtq_reset(vq);
	if (!virtq_rings_ok(mem, size, desc, avail, used))
		return -EINVAL;
	vq->mem = mem;
	vq->size = size;
	vq->desc_gpa = desc;
	vq->avail_gpa = avail;
	vq->used_gpa = used;
	vq->desc = guest_mem_ptr(mem, desc, 16ULL * size);
	vq->avail = guest_mem_ptr(mem, avail, 6 + 2ULL * size);
	vq->used = guest_mem_ptr(mem, used, 6 + 8ULL * size);
	vq->event_idx = event_idx;
	vq->indirect = indirect;
	/* Carry on from where the rings are: 0 for fresh (zeroed) ones. */
	vq->last_avail = vq->used_idx = __atomic_load_n(virtq_used_idx(vq), __ATOMIC_ACQUIRE);
	vq->ready = true;
	return 0;
}

void virtq_fail(struct virtq *vq, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	if (vq->broken)
		return;
	vq->broken = true;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (vq->owner)
		log_warn("%s queue %u: malformed ring: %s", vq->owner, vq->index, why);
	else
		log_warn("virtqueue at %#llx: malformed ring: %s", (unsigned long long)vq->desc_gpa, why);
}

bool virtq_has_avail(const struct virtq *vq)
{
	if (!vq->ready || vq->broken)
		return false;
	return __atomic_load_n(virtq_avail_idx(vq), __ATOMIC_ACQUIRE) != vq->last_avail;
}

int virtq_pop(struct virtq *vq, struct virtq_elem *e)
{
	uint16_t avail_idx, ahead, head;

	if (vq->broken)
		return -EINVAL;
	if (!vq->ready)
		return 0;
	/* Acquire: the ring entries and descriptors behind this index are
	 * read after it. */
	avail_idx = __atomic_load_n(virtq_avail_idx(vq), __ATOMIC_ACQUIRE);
	ahead = (uint16_t)(avail_idx - vq->last_avail);
	if (!ahead)
		return 0;
	/* The driver can be at most a ring's worth ahead (and never behind,
	 * which shows as a huge distance here). */
	if (ahead > vq->size) {
		virtq_fail(vq, "avail idx %u is %u entries past the device's %u, more than the queue size %u",
			   avail_idx, ahead, vq->last_avail, vq->size);
		return -EINVAL;
	}
	head = __atomic_load_n(virtq_avail_ring(vq, vq->last_avail), __ATOMIC_RELAXED);
	if (head >= vq->size) {
		virtq_fail(vq, "avail entry %u names descriptor %u, past the queue size %u",
			   vq->last_avail, head, vq->size);
		return -EINVAL;
	}
	vq->last_avail++;
	if (vq->event_idx && !vq->polling) /* avail_event: no kick needed until the driver passes this */
		__atomic_store_n(virtq_avail_event(vq), vq->last_avail, __ATOMIC_RELEASE);
	return virtq_walk(vq, head, e);
}

void virtq_push(struct virtq *vq, uint16_t head, uint32_t written)
{
	uint32_t *elem;

	if (!vq->ready)
		return;
	elem = virtq_used_elem(vq, vq->used_idx);
	__atomic_store_n(&elem[0], (uint32_t)head, __ATOMIC_RELAXED);
	__atomic_store_n(&elem[1], written, __ATOMIC_RELAXED);
	vq->used_idx++;
	/* Release: the entry is visible before the index that publishes it. */
	__atomic_store_n(virtq_used_idx(vq), vq->used_idx, __ATOMIC_RELEASE);
	/* Half the index space since the last look: signalled_used would
	 * compare the wrong way round in 16 bits, so forget it (one spare
	 * interrupt rather than a missed one). */
	if ((int16_t)(vq->used_idx - vq->signalled_used) <= 0)
		vq->signalled_valid = false;
}
