/* Ring indices, notification suppression and the public entry points;
 * descriptor chains are walked in virtq_chain.c. */
#include "virtio/virtq.h"

#include <errno.h>
#include <string.h>

#include "virtio/virtq_internal.h"
#include "vmm/guest_mem.h"

int virtq_enable(struct virtq *vq, const struct guest_mem *mem, uint16_t size, uint64_t desc,
		 uint64_t avail, uint64_t used, bool event_idx, bool indirect)
{
	uint64_t desc_len = 16ULL * size, avail_len = 6 + 2ULL * size,
		 used_len = 6 + 8ULL * size;

	virtq_reset(vq);
	if (!size || (size & (size - 1)) || desc % 16 || avail % 2 || used % 4)
		return -EINVAL;
	vq->desc = guest_mem_ptr(mem, desc, desc_len);
	vq->avail = guest_mem_ptr(mem, avail, avail_len);
	vq->used = guest_mem_ptr(mem, used, used_len);
	if (!vq->desc || !vq->avail || !vq->used) {
		virtq_reset(vq);
		return -EINVAL;
	}
	vq->mem = mem;
	vq->size = size;
	vq->desc_gpa = desc;
	vq->avail_gpa = avail;
	vq->used_gpa = used;
	vq->event_idx = event_idx;
	vq->indirect = indirect;
	/* Start where the driver's rings are (zero after its reset). */
	vq->last_avail = vq->used_idx = __atomic_load_n(&vq->used[1], __ATOMIC_ACQUIRE);
	vq->ready = true;
	return 0;
}

void virtq_reset(struct virtq *vq)
{
	memset(vq, 0, sizeof(*vq));
}

void virtq_fail(struct virtq *vq, const char *why, unsigned a, unsigned b)
{
	if (!vq->broken)
		log_warn("virtqueue at %#llx: %s (%u, %u)", (unsigned long long)vq->desc_gpa, why, a, b);
	vq->broken = true;
}

int virtq_pop(struct virtq *vq, struct virtq_elem *e)
{
	uint16_t avail_idx, head;

	if (!vq->ready || vq->broken)
		return vq->broken ? -EINVAL : 0;
	avail_idx = __atomic_load_n(&vq->avail[1], __ATOMIC_ACQUIRE);
	if (avail_idx == vq->last_avail)
		return 0;
	/* The driver can be at most a ring's worth ahead of us. */
	if ((uint16_t)(avail_idx - vq->last_avail) > vq->size) {
		virtq_fail(vq, "avail index ran ahead by more than the queue size", avail_idx,
			   vq->last_avail);
		return -EINVAL;
	}
	head = __atomic_load_n(&vq->avail[2 + vq->last_avail % vq->size], __ATOMIC_RELAXED);
	if (head >= vq->size) {
		virtq_fail(vq, "avail ring names a descriptor past the table", head, vq->size);
		return -EINVAL;
	}
	vq->last_avail++;
	if (vq->event_idx) /* avail_event: kick me when you pass this */
		__atomic_store_n(&vq->used[2 + 4 * vq->size], vq->last_avail, __ATOMIC_RELEASE);
	return virtq_walk(vq, head, e);
}

void virtq_push(struct virtq *vq, uint16_t head, uint32_t written)
{
	uint32_t *elem;

	if (!vq->ready)
		return;
	elem = (uint32_t *)&vq->used[2] + 2 * (vq->used_idx % vq->size);
	__atomic_store_n(&elem[0], (uint32_t)head, __ATOMIC_RELAXED);
	__atomic_store_n(&elem[1], written, __ATOMIC_RELAXED);
	vq->used_idx++;
	/* The entry must be visible before the index that publishes it. */
	__atomic_store_n(&vq->used[1], vq->used_idx, __ATOMIC_RELEASE);
}

bool virtq_should_notify(struct virtq *vq)
{
	uint16_t old = vq->signalled_used, new = vq->used_idx, event;
	bool valid = vq->signalled_valid;

	if (!vq->ready)
		return false;
	/* Our used index store must be ordered before reading the driver's
	 * wishes, or an interrupt it asked for could be missed. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vq->event_idx)
		return !(__atomic_load_n(&vq->avail[0], __ATOMIC_RELAXED) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	vq->signalled_used = new;
	vq->signalled_valid = true;
	event = __atomic_load_n(&vq->avail[2 + vq->size], __ATOMIC_RELAXED); /* used_event */
	/* vring_need_event: did new pass event since old? */
	return !valid || (uint16_t)(new - event - 1) < (uint16_t)(new - old);
}

void virtq_disable_notify(struct virtq *vq)
{
	if (vq->ready && !vq->event_idx)
		__atomic_store_n(&vq->used[0], (uint16_t)VIRTQ_USED_F_NO_NOTIFY, __ATOMIC_RELAXED);
}

bool virtq_enable_notify(struct virtq *vq)
{
	if (!vq->ready || vq->broken)
		return false;
	if (vq->event_idx)
		__atomic_store_n(&vq->used[2 + 4 * vq->size], vq->last_avail, __ATOMIC_RELAXED);
	else
		__atomic_store_n(&vq->used[0], (uint16_t)0, __ATOMIC_RELAXED);
	/* Publish "kick me" before looking for buffers that raced it. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(&vq->avail[1], __ATOMIC_ACQUIRE) != vq->last_avail;
}
