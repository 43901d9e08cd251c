/* virtio-net control queue (5.1.6.5): receive modes, the MAC filter
 * table, the MAC address and the queue pairs in use; and the filter
 * frames go through. */
#include "virtio/net.h"

#include <string.h>

#include "common/log.h"
#include "common/iov.h"

#define VIRTIO_NET_CTRL_RX 0
#define VIRTIO_NET_CTRL_RX_PROMISC 0
#define VIRTIO_NET_CTRL_RX_ALLMULTI 1
#define VIRTIO_NET_CTRL_MAC 1
#define VIRTIO_NET_CTRL_MAC_TABLE_SET 0
#define VIRTIO_NET_CTRL_MAC_ADDR_SET 1
#define VIRTIO_NET_CTRL_MQ 4
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 0
#define VIRTIO_NET_OK 0
#define VIRTIO_NET_ERR 1
/* Command data we look at: two tables of 64 entries and their counts
 * (a longer command has a table that overflows). */
#define VIRTIO_NET_CTRL_DATA_MAX (2 * (4 + 6 * VIRTIO_NET_MAC_TABLE))

void virtio_net_filter_reset(struct virtio_net_filter *f)
{
	memset(f, 0, sizeof(*f));
	/* As after reset in QEMU: everything until the driver says what
	 * it wants (a driver without CTRL_RX never does). */
	f->promisc = true;
}

static bool virtio_net_in_table(const uint8_t (*t)[6], unsigned n, const uint8_t dst[6])
{
	for (unsigned i = 0; i < n; i++)
		if (!memcmp(t[i], dst, 6))
			return true;
	return false;
}

bool virtio_net_filter_accept(const struct virtio_net_filter *f, const uint8_t *mac,
			      const uint8_t dst[6])
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	if (f->promisc || !memcmp(dst, mac, 6))
		return true;
	if (dst[0] & 1) {
		if (!memcmp(dst, bcast, 6) || f->allmulti || f->multi_overflow)
			return true;
		return virtio_net_in_table(f->multi, f->n_multi, dst);
	}
	return f->uni_overflow || virtio_net_in_table(f->uni, f->n_uni, dst);
}

/* One table of VIRTIO_NET_CTRL_MAC_TABLE_SET at data[*off]: u32 entries,
 * then the addresses. False if it runs past the command. */
static bool virtio_net_table(const uint8_t *data, size_t len, size_t *off, uint8_t (*t)[6],
			     unsigned *n, bool *overflow)
{
	uint32_t entries;

	if (*off + 4 > len)
		return false;
	memcpy(&entries, data + *off, 4);
	*off += 4;
	if (entries > VIRTIO_NET_MAC_TABLE) {
		/* More than we keep: accept every address of the kind
		 * (the driver's list may also exceed what we copied). */
		*overflow = true;
		*n = 0;
		return true;
	}
	if (*off + 6ULL * entries > len)
		return false;
	memcpy(t, data + *off, 6ULL * entries);
	*off += 6ULL * entries;
	*n = entries;
	*overflow = false;
	return true;
}

static uint8_t virtio_net_ctrl_cmd(struct virtio_net *n, uint8_t cls, uint8_t cmd,
				   const uint8_t *data, size_t len)
{
	struct virtio_net_filter *f = &n->filter;

	if (cls == VIRTIO_NET_CTRL_RX && virtio_has_feature(&n->dev, VIRTIO_NET_F_CTRL_RX)) {
		if (len != 1 || cmd > VIRTIO_NET_CTRL_RX_ALLMULTI)
			return VIRTIO_NET_ERR;
		if (cmd == VIRTIO_NET_CTRL_RX_PROMISC)
			f->promisc = data[0];
		else
			f->allmulti = data[0];
		return VIRTIO_NET_OK;
	}
	if (cls == VIRTIO_NET_CTRL_MAC && cmd == VIRTIO_NET_CTRL_MAC_TABLE_SET &&
	    virtio_has_feature(&n->dev, VIRTIO_NET_F_CTRL_RX)) {
		size_t off = 0;
		struct virtio_net_filter nf = *f;

		if (!virtio_net_table(data, len, &off, nf.uni, &nf.n_uni, &nf.uni_overflow))
			return VIRTIO_NET_ERR;
		if (nf.uni_overflow) {
			/* The multicast table starts past what we copied:
			 * accept all of it too rather than guess. */
			nf.multi_overflow = true;
			nf.n_multi = 0;
		} else if (!virtio_net_table(data, len, &off, nf.multi, &nf.n_multi,
					     &nf.multi_overflow)) {
			return VIRTIO_NET_ERR;
		}
		*f = nf;
		return VIRTIO_NET_OK;
	}
	if (cls == VIRTIO_NET_CTRL_MQ && cmd == VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET &&
	    virtio_has_feature(&n->dev, VIRTIO_NET_F_MQ)) {
		uint16_t k;

		if (len != 2)
			return VIRTIO_NET_ERR;
		memcpy(&k, data, 2);
		return virtio_net_set_pairs(n, k) ? VIRTIO_NET_ERR : VIRTIO_NET_OK;
	}
	if (cls == VIRTIO_NET_CTRL_MAC && cmd == VIRTIO_NET_CTRL_MAC_ADDR_SET &&
	    virtio_has_feature(&n->dev, VIRTIO_NET_F_CTRL_MAC_ADDR)) {
		if (len != 6)
			return VIRTIO_NET_ERR;
		memcpy(n->mac, data, 6);
		memcpy(n->config, data, 6);
		return VIRTIO_NET_OK;
	}
	return VIRTIO_NET_ERR;
}

/* class, command, data..., then one writable ack byte at the end. */
static void virtio_net_ctrl_one(struct virtio_net *n, unsigned q, const struct virtq_elem *e)
{
	uint8_t hdr[2], data[VIRTIO_NET_CTRL_DATA_MAX], ack = VIRTIO_NET_ERR;
	size_t len;

	if (e->out_len >= 2 && e->in_len >= 1) {
		iov_to_buf(e->iov, e->n_out, 0, hdr, 2);
		len = iov_to_buf(e->iov, e->n_out, 2, data, sizeof(data));
		ack = virtio_net_ctrl_cmd(n, hdr[0], hdr[1], data, len);
		if (ack != VIRTIO_NET_OK)
			log_debug("%s: control command %u.%u refused", n->name, hdr[0], hdr[1]);
	}
	if (ack == VIRTIO_NET_OK)
		n->stats.ctrl_ok++;
	else
		n->stats.ctrl_err++;
	if (e->in_len >= 1)
		iov_from_buf(&e->iov[e->n_out], e->n_in, e->in_len - 1, &ack, 1);
	virtq_push(&n->dev.vq[q], e->head, e->in_len >= 1 ? 1 : 0);
}

void virtio_net_ctrl(struct virtio_net *n, unsigned q)
{
	struct virtq *vq = &n->dev.vq[q];
	bool any = false;

	while (virtq_pop(vq, n->elem) == 1) {
		virtio_net_ctrl_one(n, q, n->elem);
		any = true;
	}
	if (any)
		virtio_dev_used(&n->dev, q);
}
