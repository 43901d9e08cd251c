/* Walking one descriptor chain, direct or through an indirect table,
 * into iovecs: every descriptor is checked before its buffer is used. */
#include <errno.h>
#include <string.h>

#include "virtio/virtq_internal.h"
#include "vmm/guest_mem.h"

struct virtq_walk {
	struct virtq *vq;
	struct virtq_elem *e;
	bool seen_write;
	const char *where;  /* "descriptor" or "indirect entry", for messages */
	unsigned i;         /* its index in its table */
};

/* Our one copy of descriptor i. memcpy: an indirect table need not be
 * aligned. The barrier keeps the compiler from reading the guest's copy
 * again in place of ours, which the guest may have changed (double fetch). */
static void virtq_read_desc(const void *table, unsigned i, struct virtq_desc *d)
{
	memcpy(d, (const uint8_t *)table + 16 * (size_t)i, sizeof(*d));
	__asm__ __volatile__("" ::: "memory");
}

static int virtq_bad(struct virtq_walk *w, int err, const char *what)
{
	virtq_fail(w->vq, "chain at head %u: %s %u: %s", w->e->head, w->where, w->i, what);
	return err;
}

/* Room and 32-bit total for one more buffer of len bytes. */
static int virtq_room(struct virtq_walk *w, uint32_t len)
{
	const struct virtq_elem *e = w->e;

	if (e->n_out + e->n_in == VIRTQ_MAX_IOV)
		return virtq_bad(w, -ENOSPC, "more non-empty buffers than the device takes (1024)");
	/* 2.7.5: a chain is less than 2^32 bytes in total, both ways together. */
	if ((uint64_t)e->out_len + e->in_len + len > UINT32_MAX)
		return virtq_bad(w, -EINVAL, "buffers total 4 GiB or more");
	return 0;
}

/* One buffer: direction order, bounds, room for it. */
static int virtq_add_buf(struct virtq_walk *w, const struct virtq_desc *d)
{
	struct virtq_elem *e = w->e;
	bool write = d->flags & VIRTQ_DESC_F_WRITE;
	void *p;
	int err;

	if (!write && w->seen_write)
		return virtq_bad(w, -EINVAL, "device-readable buffer after a device-writable one");
	w->seen_write |= write;
	if (d->len == 0)
		return 0; /* allowed, carries nothing */
	p = guest_mem_ptr(w->vq->mem, d->addr, d->len);
	if (!p)
		return virtq_bad(w, -EINVAL, "buffer not inside one guest RAM region");
	err = virtq_room(w, d->len);
	if (err)
		return err;
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

/* Follows the NEXT links of table (n entries) from d, our copy of entry
 * w->i: at most n descriptors, so a loop ends the walk. Nested tables are
 * refused. */
static int virtq_walk_table(struct virtq_walk *w, const void *table, unsigned n, bool indirect,
			    struct virtq_desc d)
{
	for (unsigned count = 1;; count++) {
		int err;

		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return virtq_bad(w, -EINVAL, indirect ? "INDIRECT inside an indirect table"
							      : "INDIRECT in the middle of a chain");
		err = virtq_add_buf(w, &d);
		if (err)
			return err;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= n)
			return virtq_bad(w, -EINVAL, "next is past the end of its table");
		if (count == n)
			return virtq_bad(w, -EINVAL, "chain longer than its table: it loops");
		w->i = d.next;
		virtq_read_desc(table, w->i, &d);
	}
}

/* The chain's one descriptor points to an indirect table (2.7.5.3). */
static int virtq_walk_indirect(struct virtq_walk *w, const struct virtq_desc *ind)
{
	struct virtq *vq = w->vq;
	const void *table;
	struct virtq_desc d;

	if (!vq->indirect)
		return virtq_bad(w, -EINVAL, "INDIRECT but VIRTIO_F_INDIRECT_DESC was not negotiated");
	if (ind->flags & VIRTQ_DESC_F_NEXT)
		return virtq_bad(w, -EINVAL, "INDIRECT together with NEXT");
	if (ind->len == 0 || ind->len % 16 || ind->len / 16 > VIRTQ_MAX_SIZE)
		return virtq_bad(w, -EINVAL, "indirect table length is 0, not a multiple of 16 or over 32768 entries");
	table = guest_mem_ptr(vq->mem, ind->addr, ind->len);
	if (!table)
		return virtq_bad(w, -EINVAL, "indirect table not inside one guest RAM region");
	w->where = "indirect entry";
	w->i = 0;
	virtq_read_desc(table, 0, &d);
	return virtq_walk_table(w, table, ind->len / 16, true, d);
}

int virtq_walk(struct virtq *vq, uint16_t head, struct virtq_elem *e)
{
	struct virtq_walk w = { vq, e, false, "descriptor", head };
	struct virtq_desc d;
	int err;

	e->head = head;
	e->n_out = e->n_in = 0;
	e->out_len = e->in_len = 0;
	virtq_read_desc(vq->desc, head, &d);
	if (d.flags & VIRTQ_DESC_F_INDIRECT)
		err = virtq_walk_indirect(&w, &d);
	else /* the head is read once: the guest may change it meanwhile */
		err = virtq_walk_table(&w, vq->desc, vq->size, false, d);
	return err ? err : 1;
}
