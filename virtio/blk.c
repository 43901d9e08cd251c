#include "virtio/blk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "block/blk_backend.h"
#include "common/log.h"
#include "common/iov.h"
#include "vmm/event_loop.h"

/* Feature bits (virtio 1.2, 5.2.3). */
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_MQ 12
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_ID_BYTES 20
#define VIRTIO_BLK_WZ_UNMAP 1u
#define SECTOR 512u

struct virtio_blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct virtio_blk_seg {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

struct virtio_blk_req {
	struct blk_req br;
	struct virtio_blk *blk;
	struct virtio_blk_req *next_free;
	uint64_t gen;
	unsigned q;
	uint16_t head;
	uint8_t *status;        /* the request's status byte, in guest RAM */
	uint32_t written;       /* data bytes written for the driver */
	struct iovec iov[VIRTIO_BLK_SEG_MAX];
};

static struct virtio_blk_req *virtio_blk_req_get(struct virtio_blk *b)
{
	struct virtio_blk_req *r = b->free_reqs;

	if (r)
		b->free_reqs = r->next_free;
	else
		r = malloc(sizeof(*r));
	if (r)
		b->inflight++;
	return r;
}

static void virtio_blk_req_put(struct virtio_blk *b, struct virtio_blk_req *r)
{
	r->next_free = b->free_reqs;
	b->free_reqs = r;
	b->inflight--;
}

/* Gives the chain back with its status; lock held. */
static void virtio_blk_finish(struct virtio_blk *b, unsigned q, uint16_t head, uint8_t *status,
			      uint8_t s, uint32_t written)
{
	*status = s;
	if (s != VIRTIO_BLK_S_OK)
		b->stats.errors++;
	virtq_push(&b->dev.vq[q], head, written + 1);
	b->touched[q] = true;
}

static void virtio_blk_done(struct blk_req *br, int result)
{
	struct virtio_blk_req *r = (struct virtio_blk_req *)br;
	struct virtio_blk *b = r->blk;

	if (r->gen == b->gen) {
		if (result < 0)
			log_debug("%s: request at byte %llu failed: %s", b->name,
				  (unsigned long long)br->offset, strerror(-result));
		virtio_blk_finish(b, r->q, r->head, r->status,
				  result < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK,
				  result < 0 ? 0 : r->written);
	}
	virtio_blk_req_put(b, r);
}

/* Checks a sector range against the disk: false if it runs past it. */
static bool virtio_blk_range_ok(const struct virtio_blk *b, uint64_t sector, uint64_t sectors)
{
	return sector <= b->capacity && sectors <= b->capacity - sector;
}

static uint8_t virtio_blk_get_id(struct virtio_blk *b, const struct virtq_elem *e,
				 uint32_t *written)
{
	char id[VIRTIO_BLK_ID_BYTES] = { 0 };
	size_t room = e->in_len - 1;

	memcpy(id, b->serial, strnlen(b->serial, sizeof(id)));
	*written = (uint32_t)iov_from_buf(&e->iov[e->n_out], e->n_in, 0, id,
					  room < sizeof(id) ? room : sizeof(id));
	b->stats.get_ids++;
	return VIRTIO_BLK_S_OK;
}

/* Fills r->br for a data or range request; returns a status to finish
 * with at once, or VIRTIO_BLK_S_OK when the request goes to the backend. */
static uint8_t virtio_blk_prepare(struct virtio_blk *b, const struct virtq_elem *e,
				  const struct virtio_blk_hdr *h, struct virtio_blk_req *r)
{
	size_t out_data = e->out_len - sizeof(*h), in_data = e->in_len - 1;
	struct virtio_blk_seg seg;
	int n;

	r->br = (struct blk_req){ .offset = h->sector * SECTOR, .done = virtio_blk_done };
	switch (h->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT: {
		bool in = h->type == VIRTIO_BLK_T_IN;
		size_t len = in ? in_data : out_data;

		if (!in && b->read_only)
			return VIRTIO_BLK_S_IOERR;
		if (len % SECTOR || !virtio_blk_range_ok(b, h->sector, len / SECTOR))
			return VIRTIO_BLK_S_IOERR;
		n = in ? iov_slice(&e->iov[e->n_out], e->n_in, 0, len, r->iov, VIRTIO_BLK_SEG_MAX) :
			 iov_slice(e->iov, e->n_out, sizeof(*h), len, r->iov, VIRTIO_BLK_SEG_MAX);
		if (n < 0)
			return VIRTIO_BLK_S_IOERR; /* more segments than seg_max */
		r->br.op = in ? BLK_OP_READ : BLK_OP_WRITE;
		r->br.iov = r->iov;
		r->br.iovcnt = (unsigned)n;
		r->written = in ? (uint32_t)len : 0;
		if (in) {
			b->stats.reads++;
			b->stats.read_bytes += len;
		} else {
			b->stats.writes++;
			b->stats.write_bytes += len;
		}
		return VIRTIO_BLK_S_OK;
	}
	case VIRTIO_BLK_T_FLUSH:
		r->br.op = BLK_OP_FLUSH;
		r->br.offset = 0;
		b->stats.flushes++;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		/* One segment per request (max_*_seg = 1 in the config). */
		if (out_data != sizeof(seg))
			return VIRTIO_BLK_S_UNSUPP;
		iov_to_buf(e->iov, e->n_out, sizeof(*h), &seg, sizeof(seg));
		if (b->read_only)
			return VIRTIO_BLK_S_IOERR;
		if (h->type == VIRTIO_BLK_T_DISCARD ? seg.flags != 0 : (seg.flags & ~VIRTIO_BLK_WZ_UNMAP))
			return VIRTIO_BLK_S_UNSUPP;
		if (!virtio_blk_range_ok(b, seg.sector, seg.num_sectors))
			return VIRTIO_BLK_S_IOERR;
		r->br.op = h->type == VIRTIO_BLK_T_DISCARD ? BLK_OP_DISCARD : BLK_OP_WRITE_ZEROES;
		r->br.offset = seg.sector * SECTOR;
		r->br.len = (uint64_t)seg.num_sectors * SECTOR;
		r->br.unmap = seg.flags & VIRTIO_BLK_WZ_UNMAP;
		if (h->type == VIRTIO_BLK_T_DISCARD)
			b->stats.discards++;
		else
			b->stats.write_zeroes++;
		return VIRTIO_BLK_S_OK;
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

/* One popped chain: answered at once or handed to the backend. */
static void virtio_blk_handle(struct virtio_blk *b, unsigned q, const struct virtq_elem *e)
{
	struct virtio_blk_hdr h;
	struct virtio_blk_req *r;
	uint8_t *status;
	uint32_t written = 0;
	uint8_t s;

	/* Every request has a 16-byte header and a status byte at the very
	 * end of its writable part; without them there is nothing to say. */
	if (e->out_len < sizeof(h) || e->in_len < 1) {
		virtio_dev_fail(&b->dev, "request without header or status byte");
		return;
	}
	iov_to_buf(e->iov, e->n_out, 0, &h, sizeof(h));
	{
		const struct iovec *last = &e->iov[e->n_out + e->n_in - 1];
		unsigned k = e->n_out + e->n_in - 1;

		while (last->iov_len == 0 && k > e->n_out)
			last = &e->iov[--k];
		status = (uint8_t *)last->iov_base + last->iov_len - 1;
	}
	if (h.type == VIRTIO_BLK_T_GET_ID) {
		s = virtio_blk_get_id(b, e, &written);
		virtio_blk_finish(b, q, e->head, status, s, written);
		return;
	}
	r = virtio_blk_req_get(b);
	if (!r) {
		virtio_blk_finish(b, q, e->head, status, VIRTIO_BLK_S_IOERR, 0);
		return;
	}
	r->blk = b;
	r->gen = b->gen;
	r->q = q;
	r->head = e->head;
	r->status = status;
	s = virtio_blk_prepare(b, e, &h, r);
	if (s == VIRTIO_BLK_S_OK && blk_backend_submit(b->be, &r->br) == 0)
		return;
	virtio_blk_finish(b, q, e->head, status, s == VIRTIO_BLK_S_OK ? VIRTIO_BLK_S_IOERR : s, 0);
	virtio_blk_req_put(b, r);
}

static void virtio_blk_notify(struct virtio_dev *d, unsigned q)
{
	struct virtio_blk *b = d->opaque;
	struct virtq *vq = &d->vq[q];
	struct virtq_elem *e = &b->elem;

	/* Drain, then re-enable kicks and look again: a request that came
	 * in between would otherwise wait for the next kick. */
	do {
		virtq_disable_notify(vq);
		while (virtq_pop(vq, e) == 1)
			virtio_blk_handle(b, q, e);
	} while (!vq->broken && virtq_enable_notify(vq));
	blk_backend_kick(b->be);
	/* Reads from the page cache finish inside the submit: reap them now
	 * rather than on another trip through the event loop. */
	if (blk_backend_pending(b->be) && blk_backend_complete(b->be))
		blk_backend_kick(b->be); /* requests that waited for ring space */
	if (b->touched[q]) {
		b->touched[q] = false;
		virtio_dev_used(d, q);
	}
}

static void virtio_blk_completions(void *opaque, uint32_t events)
{
	struct virtio_blk *b = opaque;

	(void)events;
	pthread_mutex_lock(&b->dev.lock);
	blk_backend_complete(b->be);
	blk_backend_kick(b->be); /* requests that waited for ring space */
	for (unsigned q = 0; q < b->dev.nr_queues; q++) {
		if (!b->touched[q])
			continue;
		b->touched[q] = false;
		virtio_dev_used(&b->dev, q);
	}
	pthread_mutex_unlock(&b->dev.lock);
}

/* The event loop's poller: completions found before their eventfd
 * would wake us (writes finish on io_uring's workers). */
static bool virtio_blk_poll(void *opaque)
{
	struct virtio_blk *b = opaque;

	if (!blk_backend_pending(b->be))
		return false;
	virtio_blk_completions(b, 0);
	return true;
}

static void virtio_blk_reset(struct virtio_dev *d)
{
	struct virtio_blk *b = d->opaque;

	b->gen++; /* in-flight requests complete into nothing */
	memset(b->touched, 0, sizeof(b->touched));
}

static void virtio_blk_config_read(struct virtio_dev *d, unsigned off, void *data, unsigned len)
{
	struct virtio_blk *b = d->opaque;

	memcpy(data, &b->config[off], len);
}

static const struct virtio_dev_ops virtio_blk_ops = {
	.queue_notify = virtio_blk_notify,
	.reset = virtio_blk_reset,
	.config_read = virtio_blk_config_read,
	/* config_write: the only writable field (writeback) is not offered */
};

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static void virtio_blk_build_config(struct virtio_blk *b, unsigned nr_queues)
{
	uint8_t *c = b->config;
	uint16_t nq = (uint16_t)nr_queues;
	uint32_t max_sectors = 0x3fffff;

	memcpy(&c[0], &b->capacity, 8);
	put32(&c[12], VIRTIO_BLK_SEG_MAX);
	put32(&c[20], blk_backend_block_size(b->be));
	memcpy(&c[34], &nq, 2);
	put32(&c[36], max_sectors);  /* max_discard_sectors */
	put32(&c[40], 1);            /* max_discard_seg */
	put32(&c[44], 1);            /* discard_sector_alignment */
	put32(&c[48], max_sectors);  /* max_write_zeroes_sectors */
	put32(&c[52], 1);            /* max_write_zeroes_seg */
	c[56] = 1;                   /* write_zeroes_may_unmap */
}

int virtio_blk_create(const struct disk_config *dc, unsigned index, unsigned nr_queues,
		      struct virtio_blk **out)
{
	struct blk_open_opts o = { .format = dc->format, .read_only = dc->read_only,
				   .direct = dc->direct, .queue_depth = 128 };
	struct virtio_blk *b = calloc(1, sizeof(*b));
	uint64_t features;
	int err;

	if (!b)
		return -ENOMEM;
	if (nr_queues < 1)
		nr_queues = 1;
	if (nr_queues > VIRTIO_MAX_QUEUES)
		nr_queues = VIRTIO_MAX_QUEUES;
	snprintf(b->name, sizeof(b->name), "virtio-blk%u", index);
	memcpy(b->serial, dc->serial, sizeof(b->serial));
	err = blk_open(dc->path, &o, &b->be);
	if (err) {
		free(b);
		return err;
	}
	b->read_only = blk_backend_read_only(b->be);
	b->capacity = blk_backend_size(b->be) / SECTOR;
	features = 1ULL << VIRTIO_BLK_F_SEG_MAX | 1ULL << VIRTIO_BLK_F_BLK_SIZE |
		   1ULL << VIRTIO_BLK_F_FLUSH | 1ULL << VIRTIO_BLK_F_MQ;
	if (b->read_only)
		features |= 1ULL << VIRTIO_BLK_F_RO;
	else
		features |= 1ULL << VIRTIO_BLK_F_DISCARD | 1ULL << VIRTIO_BLK_F_WRITE_ZEROES;
	virtio_dev_init(&b->dev, b->name, VIRTIO_ID_BLOCK, features, nr_queues,
			VIRTIO_BLK_QUEUE_SIZE, VIRTIO_BLK_CONFIG_SIZE, &virtio_blk_ops, b);
	virtio_blk_build_config(b, nr_queues);
	*out = b;
	return 0;
}

int virtio_blk_start(struct virtio_blk *b)
{
	int err = evl_add(b->dev.evl, blk_backend_event_fd(b->be), EPOLLIN, virtio_blk_completions, b);

	return err ? err : evl_add_poller(b->dev.evl, virtio_blk_poll, b);
}

void virtio_blk_destroy(struct virtio_blk *b)
{
	if (!b)
		return;
	if (b->dev.evl) {
		evl_del_poller(b->dev.evl, b);
		evl_del(b->dev.evl, blk_backend_event_fd(b->be));
	}
	blk_backend_close(b->be);
	while (b->free_reqs) {
		struct virtio_blk_req *r = b->free_reqs;

		b->free_reqs = r->next_free;
		free(r);
	}
	free(b);
}
