/* The common configuration structure: feature negotiation, device
 * status, queue set-up. Drivers may access fields with any aligned width
 * up to the field's size (and 64-bit fields as two 32-bit halves). */
#include "virtio/pci_internal.h"

#include <stdio.h>

#include "common/log.h"

static bool virtio_pci_queue_ok(const struct virtio_pci *vp)
{
	return vp->queue_select < vp->dev->nr_queues;
}

static uint32_t virtio_pci_q_read(struct virtio_pci *vp, unsigned off)
{
	struct virtio_pci_queue *q = &vp->q[vp->queue_select];
	struct virtq *vq = &vp->dev->vq[vp->queue_select];

	switch (off) {
	case VPCI_Q_SIZE: return q->size;
	case VPCI_Q_MSIX: return q->vector;
	case VPCI_Q_ENABLE: return vq->ready;
	case VPCI_Q_NOFF: return vp->queue_select;
	case VPCI_Q_DESC_LO: return (uint32_t)q->desc;
	case VPCI_Q_DESC_HI: return (uint32_t)(q->desc >> 32);
	case VPCI_Q_DRIVER_LO: return (uint32_t)q->driver;
	case VPCI_Q_DRIVER_HI: return (uint32_t)(q->driver >> 32);
	case VPCI_Q_DEVICE_LO: return (uint32_t)q->device;
	case VPCI_Q_DEVICE_HI: return (uint32_t)(q->device >> 32);
	default: return 0;
	}
}

/* The field that contains byte off, so narrow reads of wide fields work. */
static unsigned virtio_pci_field(unsigned off)
{
	static const uint8_t starts[] = { 0, 4, 8, 12, 16, 18, 20, 21, 22, 24, 26, 28, 30,
					  32, 36, 40, 44, 48, 52, 56, 58 };
	unsigned f = 0;

	for (unsigned i = 0; i < sizeof(starts); i++)
		if (starts[i] <= off)
			f = starts[i];
	return f;
}

uint32_t virtio_pci_common_read(struct virtio_pci *vp, unsigned off, unsigned len)
{
	struct virtio_dev *d = vp->dev;
	unsigned field = virtio_pci_field(off);
	uint32_t v;

	switch (field) {
	case VPCI_DFSELECT: v = vp->dfselect; break;
	case VPCI_DF: v = vp->dfselect < 2 ? (uint32_t)(d->host_features >> (32 * vp->dfselect)) : 0; break;
	case VPCI_GFSELECT: v = vp->gfselect; break;
	case VPCI_GF: v = vp->gfselect < 2 ? (uint32_t)(d->guest_features >> (32 * vp->gfselect)) : 0; break;
	case VPCI_MSIX_CONFIG: v = vp->config_vector; break;
	case VPCI_NUM_QUEUES: v = d->nr_queues; break;
	case VPCI_STATUS: v = d->status; break;
	case VPCI_CFG_GENERATION: v = d->config_generation; break;
	case VPCI_Q_SELECT: v = vp->queue_select; break;
	default: v = virtio_pci_queue_ok(vp) ? virtio_pci_q_read(vp, field) : 0; break;
	}
	v >>= 8 * (off - field);
	return len >= 4 ? v : v & ((1u << (8 * len)) - 1);
}

static void virtio_pci_set_half(uint64_t *f, bool hi, uint32_t v)
{
	*f = hi ? (*f & 0xffffffffULL) | (uint64_t)v << 32 : (*f & ~0xffffffffULL) | v;
}

static void virtio_pci_q_enable(struct virtio_pci *vp)
{
	struct virtio_dev *d = vp->dev;
	unsigned qi = vp->queue_select;
	struct virtio_pci_queue *q = &vp->q[qi];
	int err;

	if (d->vq[qi].ready)
		return;
	err = virtq_enable(&d->vq[qi], d->mem, q->size, q->desc, q->driver, q->device,
			   virtio_has_feature(d, VIRTIO_F_EVENT_IDX),
			   virtio_has_feature(d, VIRTIO_F_INDIRECT_DESC));
	if (err) {
		char why[96];

		snprintf(why, sizeof(why), "queue %u: bad size %u or ring addresses", qi, q->size);
		virtio_dev_fail(d, why);
	}
}

static void virtio_pci_q_write(struct virtio_pci *vp, unsigned off, uint32_t v)
{
	struct virtio_pci_queue *q = &vp->q[vp->queue_select];
	bool live = vp->dev->vq[vp->queue_select].ready;

	/* A queue's set-up is frozen once enabled (virtio 1.2, 4.1.4.3.2). */
	switch (off) {
	case VPCI_Q_SIZE:
		if (!live)
			q->size = (uint16_t)v;
		break;
	case VPCI_Q_MSIX:
		q->vector = v < vp->nr_vectors ? (uint16_t)v : VIRTIO_PCI_NO_VECTOR;
		break;
	case VPCI_Q_ENABLE:
		if (v == 1)
			virtio_pci_q_enable(vp);
		break;
	case VPCI_Q_DESC_LO: case VPCI_Q_DESC_HI:
		if (!live)
			virtio_pci_set_half(&q->desc, off == VPCI_Q_DESC_HI, v);
		break;
	case VPCI_Q_DRIVER_LO: case VPCI_Q_DRIVER_HI:
		if (!live)
			virtio_pci_set_half(&q->driver, off == VPCI_Q_DRIVER_HI, v);
		break;
	case VPCI_Q_DEVICE_LO: case VPCI_Q_DEVICE_HI:
		if (!live)
			virtio_pci_set_half(&q->device, off == VPCI_Q_DEVICE_HI, v);
		break;
	default:
		break;
	}
}

void virtio_pci_reset(struct virtio_pci *vp)
{
	virtio_dev_reset(vp->dev);
	vp->dfselect = vp->gfselect = 0;
	vp->queue_select = 0;
	vp->config_vector = VIRTIO_PCI_NO_VECTOR;
	vp->isr = 0;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		vp->q[i].size = vp->dev->queue_max;
		vp->q[i].vector = VIRTIO_PCI_NO_VECTOR;
		vp->q[i].desc = vp->q[i].driver = vp->q[i].device = 0;
	}
}

static void virtio_pci_status_write(struct virtio_pci *vp, uint8_t v)
{
	struct virtio_dev *d = vp->dev;
	uint8_t added = (uint8_t)(v & ~d->status);

	if (v == 0) {
		virtio_pci_reset(vp);
		return;
	}
	if (added & VIRTIO_STATUS_FEATURES_OK) {
		/* Only what we offered, and only the modern interface. */
		if ((d->guest_features & ~d->host_features) ||
		    !virtio_has_feature(d, VIRTIO_F_VERSION_1)) {
			log_warn("%s: driver accepted features %#llx, offered %#llx: refused",
				 d->name, (unsigned long long)d->guest_features,
				 (unsigned long long)d->host_features);
			v &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
		}
	}
	/* The device sets NEEDS_RESET; the driver cannot clear bits. */
	d->status = (uint8_t)(d->status | (v & ~VIRTIO_STATUS_NEEDS_RESET));
	if ((added & VIRTIO_STATUS_DRIVER_OK) && d->ops->activate && d->ops->activate(d))
		virtio_dev_fail(d, "the device could not start");
}

void virtio_pci_common_write(struct virtio_pci *vp, unsigned off, unsigned len, uint32_t v)
{
	struct virtio_dev *d = vp->dev;

	if ((off % len) != 0)
		return; /* misaligned: ignored */
	switch (off) {
	case VPCI_DFSELECT: vp->dfselect = v; break;
	case VPCI_GFSELECT: vp->gfselect = v; break;
	case VPCI_GF:
		/* Features are fixed once FEATURES_OK is set. */
		if (vp->gfselect < 2 && !(d->status & VIRTIO_STATUS_FEATURES_OK)) {
			unsigned sh = 32 * vp->gfselect;

			d->guest_features = (d->guest_features & ~(0xffffffffULL << sh)) |
					    (uint64_t)v << sh;
		}
		break;
	case VPCI_MSIX_CONFIG:
		vp->config_vector = v < vp->nr_vectors ? (uint16_t)v : VIRTIO_PCI_NO_VECTOR;
		break;
	case VPCI_STATUS: virtio_pci_status_write(vp, (uint8_t)v); break;
	case VPCI_Q_SELECT: vp->queue_select = (uint16_t)v; break;
	default:
		if (virtio_pci_queue_ok(vp))
			virtio_pci_q_write(vp, off, v);
		break;
	}
}
