/* Walking one descriptor chain, direct or through an indirect table,
 * into iovecs: every descriptor is checked before its buffer is used. */
#include <errno.h>

#include "virtio/virtq_internal.h"
#include "vmm/guest_mem.h"

struct virtq_walk {
	struct virtq *vq;
	struct virtq_elem *e;
	bool seen_write;
};

/* One buffer: direction order, bounds, room for it. */
static int virtq_add_buf(struct virtq_walk *w, const struct virtq_desc *d)
{
	struct virtq_elem *e = w->e;
	bool write = d->flags & VIRTQ_DESC_F_WRITE;
	void *p;

	if (!write && w->seen_write) {
		virtq_fail(w->vq, "readable descriptor after a writable one", e->head, d->len);
		return -EINVAL;
	}
	w->seen_write |= write;
	if (d->len == 0)
		return 0; /* allowed, carries nothing */
	p = guest_mem_ptr(w->vq->mem, d->addr, d->len);
	if (!p) {
		virtq_fail(w->vq, "buffer outside guest RAM (head, length)", e->head, d->len);
		return -EINVAL;
	}
	if (e->n_out + e->n_in == VIRTQ_MAX_IOV) {
		virtq_fail(w->vq, "chain has more buffers than the device takes", e->head,
			   VIRTQ_MAX_IOV);
		return -ENOSPC;
	}
	if ((write ? e->in_len : e->out_len) > UINT32_MAX - d->len) {
		virtq_fail(w->vq, "chain length overflows 32 bits", e->head, d->len);
		return -EINVAL;
	}
	e->iov[e->n_out + e->n_in] = (struct iovec){ p, d->len };
	if (write) {
		e->n_in++;
		e->in_len += d->len;
	} else {
		e->n_out++;
		e->out_len += d->len;
	}
	return 0;
}

static void virtq_read_desc(const struct virtq_desc *table, unsigned i, struct virtq_desc *d)
{
	/* The guest may change it under us: take one copy and use only that. */
	d->addr = __atomic_load_n(&table[i].addr, __ATOMIC_RELAXED);
	d->len = __atomic_load_n(&table[i].len, __ATOMIC_RELAXED);
	d->flags = __atomic_load_n(&table[i].flags, __ATOMIC_RELAXED);
	d->next = __atomic_load_n(&table[i].next, __ATOMIC_RELAXED);
}

/* An indirect table: its own chain, at most len/16 entries, no nesting. */
static int virtq_walk_indirect(struct virtq_walk *w, const struct virtq_desc *ind)
{
	struct virtq *vq = w->vq;
	const struct virtq_desc *table;
	unsigned n = ind->len / 16, i = 0, count = 0;

	if (!vq->indirect || ind->len == 0 || ind->len % 16 || n > VIRTQ_MAX_SIZE ||
	    (ind->flags & VIRTQ_DESC_F_NEXT)) {
		virtq_fail(vq, "bad indirect descriptor (head, length)", w->e->head, ind->len);
		return -EINVAL;
	}
	table = guest_mem_ptr(vq->mem, ind->addr, ind->len);
	if (!table || ind->addr % 16) {
		virtq_fail(vq, "indirect table outside guest RAM or misaligned", w->e->head, ind->len);
		return -EINVAL;
	}
	for (;;) {
		struct virtq_desc d;
		int err;

		virtq_read_desc(table, i, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			virtq_fail(vq, "indirect descriptor inside an indirect table", w->e->head, i);
			return -EINVAL;
		}
		err = virtq_add_buf(w, &d);
		if (err)
			return err;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		i = d.next;
		if (i >= n || ++count >= n) {
			virtq_fail(vq, "indirect chain runs off its table or loops", w->e->head, i);
			return -EINVAL;
		}
	}
}

int virtq_walk(struct virtq *vq, uint16_t head, struct virtq_elem *e)
{
	struct virtq_walk w = { vq, e, false };
	unsigned i = head, count = 0;

	e->head = head;
	e->n_out = e->n_in = 0;
	e->out_len = e->in_len = 0;
	for (;;) {
		struct virtq_desc d;
		int err;

		virtq_read_desc(vq->desc, i, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			/* Only as the one descriptor of a chain (spec 2.7.5.3.1). */
			if (count) {
				virtq_fail(vq, "indirect descriptor in the middle of a chain", head, i);
				return -EINVAL;
			}
			err = virtq_walk_indirect(&w, &d);
			return err ? err : 1;
		}
		err = virtq_add_buf(&w, &d);
		if (err)
			return err;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 1;
		i = d.next;
		/* A chain can never be longer than the table: if it is, it loops. */
		if (i >= vq->size || ++count >= vq->size) {
			virtq_fail(vq, "chain runs off the table or loops (head, next)", head, i);
			return -EINVAL;
		}
	}
}
