/* Notification suppression both ways (virtio 1.2, 2.7.7 and 2.7.10):
 * whether the driver wants an interrupt, and whether we want kicks. */
#include "virtio/virtq.h"

#include "virtio/virtq_internal.h"

/* The spec's vring_need_event: did the index move past event, going from
 * old to new? All in 16-bit arithmetic, so it holds across the wrap. */
static bool virtq_need_event(uint16_t event, uint16_t new, uint16_t old)
{
	return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
}

bool virtq_should_notify(struct virtq *vq)
{
	uint16_t old = vq->signalled_used;
	bool valid = vq->signalled_valid;

	if (!vq->ready)
		return false;
	/* Our used->idx store must be ordered before the load of the
	 * driver's wishes, or we could miss an interrupt it asked for while
	 * it was looking at an older used->idx (store-load: a full fence). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vq->event_idx)
		return !(__atomic_load_n(virtq_avail_flags(vq), __ATOMIC_RELAXED) &
			 VIRTQ_AVAIL_F_NO_INTERRUPT);
	vq->signalled_used = vq->used_idx;
	vq->signalled_valid = true;
	return !valid || virtq_need_event(__atomic_load_n(virtq_used_event(vq), __ATOMIC_RELAXED),
					  vq->used_idx, old);
}

void virtq_disable_notify(struct virtq *vq)
{
	/* With event idx, avail_event (moved on by each pop) already says
	 * "no kick until you pass what I took": nothing to write. */
	if (vq->ready && !vq->event_idx)
		__atomic_store_n(virtq_used_flags(vq), (uint16_t)VIRTQ_USED_F_NO_NOTIFY,
				 __ATOMIC_RELAXED);
}

bool virtq_enable_notify(struct virtq *vq)
{
	if (!vq->ready || vq->broken)
		return false;
	if (vq->polling) /* the poller will look: only say whether to drain again */
		return __atomic_load_n(virtq_avail_idx(vq), __ATOMIC_ACQUIRE) != vq->last_avail;
	if (vq->event_idx)
		__atomic_store_n(virtq_avail_event(vq), vq->last_avail, __ATOMIC_RELAXED);
	else
		__atomic_store_n(virtq_used_flags(vq), (uint16_t)0, __ATOMIC_RELAXED);
	/* Publish "kick me" before looking for buffers that raced it: else
	 * the driver may add one, see the old flag, skip the kick, and we
	 * sleep on a non-empty queue (store-load: a full fence). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(virtq_avail_idx(vq), __ATOMIC_ACQUIRE) != vq->last_avail;
}

void virtq_poll_start(struct virtq *vq)
{
	if (!vq->ready || vq->broken)
		return;
	/* With event idx, avail_event is left where the last pop put it:
	 * once the driver is past it, it does not kick again. */
	virtq_disable_notify(vq);
	vq->polling = true;
}

bool virtq_poll_stop(struct virtq *vq)
{
	if (!vq->polling)
		return false;
	vq->polling = false;
	return virtq_enable_notify(vq);
}
