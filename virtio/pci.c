#include "virtio/pci_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/event_loop.h"
#include "vmm/kvm_irq.h"

#define VIRTIO_PCI_DEVICE_BASE 0x1040 /* + device id: modern devices */
#define VIRTIO_PCI_CAP_COMMON 1
#define VIRTIO_PCI_CAP_NOTIFY 2
#define VIRTIO_PCI_CAP_ISR 3
#define VIRTIO_PCI_CAP_DEVICE 4

static uint32_t virtio_pci_class(uint16_t device_id)
{
	switch (device_id) {
	case VIRTIO_ID_BLOCK: return 0x018000;   /* mass storage, other */
	case VIRTIO_ID_NET: return 0x020000;     /* ethernet */
	case VIRTIO_ID_CONSOLE: return 0x078000; /* communication, other */
	default: return 0x00ff00;
	}
}

static int virtio_pci_bar_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct virtio_pci *vp = opaque;
	struct virtio_dev *d = vp->dev;
	uint64_t v = 0;

	/* 64-bit accesses only make sense for device configuration fields. */
	if (len > 4 && off < VIRTIO_PCI_DEVICE) {
		memset(data, 0xff, len);
		return 0;
	}
	pthread_mutex_lock(&d->lock);
	if (off < VIRTIO_PCI_COMMON + VPCI_COMMON_SIZE) {
		v = virtio_pci_common_read(vp, (unsigned)off, len);
	} else if (off == VIRTIO_PCI_ISR) {
		v = vp->isr; /* reading acknowledges */
		vp->isr = 0;
	} else if (off >= VIRTIO_PCI_DEVICE && off - VIRTIO_PCI_DEVICE + len <= d->config_size) {
		if (d->ops->config_read)
			d->ops->config_read(d, (unsigned)(off - VIRTIO_PCI_DEVICE), &v, len);
	} else if (off >= VIRTIO_PCI_MSIX_TABLE && off < VIRTIO_PCI_MSIX_PBA) {
		v = virtio_pci_msix_read(vp, (unsigned)(off - VIRTIO_PCI_MSIX_TABLE), len);
	} else if (off >= VIRTIO_PCI_MSIX_PBA && off < VIRTIO_PCI_MSIX_PBA + 8) {
		v = virtio_pci_pba_read(vp, (unsigned)(off - VIRTIO_PCI_MSIX_PBA), len);
	}
	pthread_mutex_unlock(&d->lock);
	memcpy(data, &v, len);
	return 0;
}

static int virtio_pci_bar_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct virtio_pci *vp = opaque;
	struct virtio_dev *d = vp->dev;
	uint64_t v = 0;

	if (len > 4 && off < VIRTIO_PCI_DEVICE)
		return 0;
	memcpy(&v, data, len);
	if (off >= VIRTIO_PCI_NOTIFY && off < VIRTIO_PCI_NOTIFY + VIRTIO_PCI_NOTIFY_MULT * d->nr_queues) {
		/* Only when no ioeventfd caught it: hand it to the event loop. */
		eventfd_write(vp->q[(off - VIRTIO_PCI_NOTIFY) / VIRTIO_PCI_NOTIFY_MULT].kick_efd, 1);
		return 0;
	}
	pthread_mutex_lock(&d->lock);
	if (off < VIRTIO_PCI_COMMON + VPCI_COMMON_SIZE)
		virtio_pci_common_write(vp, (unsigned)off, len, (uint32_t)v);
	else if (off >= VIRTIO_PCI_DEVICE && off - VIRTIO_PCI_DEVICE + len <= d->config_size &&
		 d->ops->config_write)
		d->ops->config_write(d, (unsigned)(off - VIRTIO_PCI_DEVICE), &v, len);
	else if (off >= VIRTIO_PCI_MSIX_TABLE && off < VIRTIO_PCI_MSIX_PBA)
		virtio_pci_msix_write(vp, (unsigned)(off - VIRTIO_PCI_MSIX_TABLE), len, (uint32_t)v);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

const struct bus_ops virtio_pci_bar_ops = { virtio_pci_bar_read, virtio_pci_bar_write };

/* Running, so queue work is done (by a kick or the poller). */
static bool virtio_pci_live(const struct virtio_dev *d)
{
	return (d->status & VIRTIO_STATUS_DRIVER_OK) && !(d->status & VIRTIO_STATUS_NEEDS_RESET);
}

/* A queue was kicked (ioeventfd or the MMIO fallback). */
static void virtio_pci_kick(struct virtio_pci *vp, unsigned q)
{
	struct virtio_dev *d = vp->dev;
	eventfd_t n;

	if (eventfd_read(vp->q[q].kick_efd, &n) < 0)
		return;
	pthread_mutex_lock(&d->lock);
	if (virtio_pci_live(d) && d->vq[q].ready) {
		d->kicks++;
		d->ops->queue_notify(d, q);
		if (d->vq[q].broken)
			virtio_dev_fail(d, "malformed descriptor chain");
	}
	pthread_mutex_unlock(&d->lock);
}

/* The event loop's poller: requests the driver made available, found
 * before its kick's eventfd would wake us. */
static bool virtio_pci_poll(void *opaque)
{
	struct virtio_pci *vp = opaque;
	struct virtio_dev *d = vp->dev;
	bool did = false;

	pthread_mutex_lock(&d->lock);
	if (virtio_pci_live(d)) {
		for (unsigned q = 0; q < d->nr_queues; q++) {
			if (!virtq_has_avail(&d->vq[q]))
				continue;
			d->polled++;
			d->ops->queue_notify(d, q);
			if (d->vq[q].broken)
				virtio_dev_fail(d, "malformed descriptor chain");
			did = true;
		}
	}
	pthread_mutex_unlock(&d->lock);
	return did;
}

static void virtio_pci_poll_start(void *opaque)
{
	struct virtio_dev *d = ((struct virtio_pci *)opaque)->dev;

	pthread_mutex_lock(&d->lock);
	for (unsigned q = 0; q < d->nr_queues; q++)
		virtq_poll_start(&d->vq[q]);
	pthread_mutex_unlock(&d->lock);
}

static bool virtio_pci_poll_stop(void *opaque)
{
	struct virtio_dev *d = ((struct virtio_pci *)opaque)->dev;
	bool more = false;

	pthread_mutex_lock(&d->lock);
	for (unsigned q = 0; q < d->nr_queues; q++)
		more |= virtq_poll_stop(&d->vq[q]);
	/* Work only counts where the poller would do it (else the loop
	 * would spin on buffers of a device that waits for a reset). */
	more &= virtio_pci_live(d);
	pthread_mutex_unlock(&d->lock);
	return more;
}

static void virtio_pci_kick_cb(void *opaque, uint32_t events)
{
	struct virtio_pci_queue *q = opaque;

	(void)events;
	virtio_pci_kick(q->vp, q->idx);
}

static void virtio_pci_bar_mapped(struct pci_dev *pd, unsigned bar, uint64_t addr)
{
	struct virtio_pci *vp = pd->opaque;

	if (bar != 0)
		return;
	for (unsigned q = 0; q < vp->dev->nr_queues; q++) {
		uint64_t off = VIRTIO_PCI_NOTIFY + VIRTIO_PCI_NOTIFY_MULT * q;

		if (vp->bar_addr)
			kvm_ioeventfd(vp->irq, vp->bar_addr + off, vp->q[q].kick_efd, false);
		if (addr && kvm_ioeventfd(vp->irq, addr + off, vp->q[q].kick_efd, true))
			log_debug("%s: no ioeventfd for queue %u: kicks go through the vCPU",
				  vp->dev->name, q);
	}
	vp->bar_addr = addr;
}

static void virtio_pci_cfg_written(struct pci_dev *pd, unsigned off, unsigned len)
{
	struct virtio_pci *vp = pd->opaque;
	unsigned ctrl = (unsigned)vp->msix_cap + 2;

	virtio_pci_cfg_window_written(vp, off, len);

	if (off <= ctrl + 1 && off + len > ctrl) {
		pthread_mutex_lock(&vp->dev->lock);
		virtio_pci_msix_control(vp);
		pthread_mutex_unlock(&vp->dev->lock);
	}
}

static void virtio_pci_cfg_reading(struct pci_dev *pd, unsigned off, unsigned len)
{
	virtio_pci_cfg_window_reading(pd->opaque, off, len);
}

static const struct pci_dev_ops virtio_pci_dev_ops = { virtio_pci_cfg_written,
						       virtio_pci_bar_mapped, virtio_pci_cfg_reading };
static const struct virtio_transport_ops virtio_pci_tops = { virtio_pci_signal };

static int virtio_pci_add_cap(struct virtio_pci *vp, uint8_t type, uint32_t off, uint32_t len,
			      bool notify)
{
	uint8_t body[18] = { 0 };

	body[0] = notify ? 20 : 16; /* cap_len, counting id and next */
	body[1] = type;
	body[2] = 0;                /* BAR 0 */
	memcpy(&body[6], &off, 4);
	memcpy(&body[10], &len, 4);
	if (notify) {
		uint32_t mult = VIRTIO_PCI_NOTIFY_MULT;

		memcpy(&body[14], &mult, 4);
	}
	return pci_dev_add_cap(&vp->pci, PCI_CAP_ID_VNDR, body, notify ? 18 : 14);
}

static int virtio_pci_caps(struct virtio_pci *vp)
{
	struct virtio_dev *d = vp->dev;
	uint8_t msix[10];
	uint16_t ctrl = (uint16_t)(vp->nr_vectors - 1);
	uint32_t table = VIRTIO_PCI_MSIX_TABLE, pba = VIRTIO_PCI_MSIX_PBA; /* BIR 0 */
	int err = 0;

	if (virtio_pci_add_cap(vp, VIRTIO_PCI_CAP_COMMON, VIRTIO_PCI_COMMON, VPCI_COMMON_SIZE, false) < 0 ||
	    virtio_pci_add_cap(vp, VIRTIO_PCI_CAP_NOTIFY, VIRTIO_PCI_NOTIFY,
			       VIRTIO_PCI_NOTIFY_MULT * d->nr_queues, true) < 0 ||
	    virtio_pci_add_cap(vp, VIRTIO_PCI_CAP_ISR, VIRTIO_PCI_ISR, 1, false) < 0 ||
	    (d->config_size &&
	     virtio_pci_add_cap(vp, VIRTIO_PCI_CAP_DEVICE, VIRTIO_PCI_DEVICE, d->config_size, false) < 0))
		return -ENOSPC;
	vp->cfg_cap = virtio_pci_cfg_window_add(vp);
	if (vp->cfg_cap < 0)
		return vp->cfg_cap;
	memcpy(&msix[0], &ctrl, 2);
	memcpy(&msix[2], &table, 4);
	memcpy(&msix[6], &pba, 4);
	vp->msix_cap = pci_dev_add_cap(&vp->pci, PCI_CAP_ID_MSIX, msix, sizeof(msix));
	if (vp->msix_cap < 0)
		return vp->msix_cap;
	vp->pci.wmask[vp->msix_cap + 3] = 0xc0; /* enable, function mask */
	return err;
}

int virtio_pci_create(struct virtio_dev *d, struct pci_bus *bus, struct kvm_irq *irq,
		      struct evl *evl, const struct guest_mem *mem, struct virtio_pci **out)
{
	struct virtio_pci *vp = calloc(1, sizeof(*vp));
	int err;

	if (!vp)
		return -ENOMEM;
	vp->dev = d;
	vp->irq = irq;
	vp->evl = evl;
	vp->nr_vectors = d->nr_queues + 1;
	d->mem = mem;
	d->evl = evl;
	d->tops = &virtio_pci_tops;
	d->transport = vp;
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		vp->q[q].kick_efd = -1;
	pci_dev_init(&vp->pci, VIRTIO_PCI_VENDOR, (uint16_t)(VIRTIO_PCI_DEVICE_BASE + d->device_id),
		     virtio_pci_class(d->device_id), 1, VIRTIO_PCI_VENDOR, d->device_id);
	vp->pci.ops = &virtio_pci_dev_ops;
	vp->pci.opaque = vp;
	err = pci_dev_add_bar(&vp->pci, 0, VIRTIO_PCI_BAR_SIZE, &virtio_pci_bar_ops, vp);
	if (!err)
		err = virtio_pci_caps(vp);
	if (!err)
		err = virtio_pci_msix_init(vp);
	for (unsigned q = 0; !err && q < d->nr_queues; q++) {
		vp->q[q].vp = vp;
		vp->q[q].idx = q;
		vp->q[q].kick_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vp->q[q].kick_efd < 0)
			err = -errno;
		else
			err = evl_add(evl, vp->q[q].kick_efd, EPOLLIN, virtio_pci_kick_cb, &vp->q[q]);
	}
	pthread_mutex_lock(&d->lock);
	virtio_pci_reset(vp);
	pthread_mutex_unlock(&d->lock);
	if (!err)
		err = evl_add_poller(evl, virtio_pci_poll, vp);
	if (!err)
		evl_set_poll_mode(evl, vp, virtio_pci_poll_start, virtio_pci_poll_stop);
	if (!err)
		err = pci_bus_add(bus, &vp->pci);
	if (err) {
		log_error("%s: setting up its PCI function failed: %s", d->name, strerror(-err));
		virtio_pci_destroy(vp);
		return err;
	}
	*out = vp;
	return 0;
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
	if (!vp)
		return;
	evl_del_poller(vp->evl, vp);
	for (unsigned q = 0; q < vp->dev->nr_queues; q++) {
		if (vp->q[q].kick_efd < 0)
			continue;
		evl_del(vp->evl, vp->q[q].kick_efd);
		close(vp->q[q].kick_efd);
	}
	virtio_pci_msix_free(vp);
	free(vp);
}
