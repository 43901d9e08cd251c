/* MSI-X for virtio-pci: the table lives in the BAR; each vector has an
 * irqfd on its own GSI whose route follows the table entry. A masked
 * vector records a pending bit instead and fires when unmasked. */
#include "virtio/pci_internal.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/kvm_irq.h"

#define MSIX_CTRL_ENABLE 0x8000
#define MSIX_CTRL_FMASK 0x4000
#define MSIX_VEC_MASKED 1u

static uint16_t virtio_pci_msix_ctrl(const struct virtio_pci *vp)
{
	/* Read without the PCI lock (lock order: pci -> dev, never back). */
	const volatile uint8_t *c = &vp->pci.cfg[vp->msix_cap + 2];

	return (uint16_t)(c[0] | c[1] << 8);
}

static bool virtio_pci_vec_live(const struct virtio_pci *vp, unsigned v)
{
	uint16_t ctrl = virtio_pci_msix_ctrl(vp);

	return (ctrl & MSIX_CTRL_ENABLE) && !(ctrl & MSIX_CTRL_FMASK) &&
	       !(vp->vec[v].ctrl & MSIX_VEC_MASKED);
}

static void virtio_pci_vec_fire(struct virtio_pci *vp, unsigned v)
{
	if (!virtio_pci_vec_live(vp, v)) {
		vp->vec[v].pending = true;
		return;
	}
	if (eventfd_write(vp->vec[v].efd, 1) < 0)
		log_warn("%s: MSI-X vector %u: eventfd write failed: %s", vp->dev->name, v,
			 strerror(errno));
}

void virtio_pci_signal(struct virtio_dev *d, int q)
{
	struct virtio_pci *vp = d->transport;
	uint16_t v = q < 0 ? vp->config_vector : vp->q[q].vector;

	vp->isr |= q < 0 ? 2 : 1;
	if (v < vp->nr_vectors)
		virtio_pci_vec_fire(vp, v);
}

static void virtio_pci_vec_update(struct virtio_pci *vp, unsigned v)
{
	struct virtio_pci_vector *e = &vp->vec[v];
	uint64_t addr = (uint64_t)e->addr_hi << 32 | e->addr_lo;

	kvm_irq_msi_route(vp->irq, e->gsi, true, addr, e->data);
	if (e->pending && virtio_pci_vec_live(vp, v)) {
		e->pending = false;
		virtio_pci_vec_fire(vp, v);
	}
}

void virtio_pci_msix_control(struct virtio_pci *vp)
{
	for (unsigned v = 0; v < vp->nr_vectors; v++)
		if (vp->vec[v].pending && virtio_pci_vec_live(vp, v)) {
			vp->vec[v].pending = false;
			virtio_pci_vec_fire(vp, v);
		}
}

uint32_t virtio_pci_msix_read(struct virtio_pci *vp, unsigned off, unsigned len)
{
	unsigned v = off / 16, word = (off % 16) / 4;
	const uint32_t *w;

	if (v >= vp->nr_vectors || len != 4 || off % 4)
		return 0;
	w = (const uint32_t[]){ vp->vec[v].addr_lo, vp->vec[v].addr_hi, vp->vec[v].data,
				vp->vec[v].ctrl };
	return w[word];
}

void virtio_pci_msix_write(struct virtio_pci *vp, unsigned off, unsigned len, uint32_t val)
{
	unsigned v = off / 16, word = (off % 16) / 4;
	struct virtio_pci_vector *e;

	if (v >= vp->nr_vectors || len != 4 || off % 4)
		return; /* the spec allows only aligned dword accesses */
	e = &vp->vec[v];
	switch (word) {
	case 0: e->addr_lo = val & ~3u; break;
	case 1: e->addr_hi = val; break;
	case 2: e->data = val; break;
	default: e->ctrl = val & MSIX_VEC_MASKED; break;
	}
	virtio_pci_vec_update(vp, v);
}

uint32_t virtio_pci_pba_read(struct virtio_pci *vp, unsigned off, unsigned len)
{
	uint64_t bits = 0;

	for (unsigned v = 0; v < vp->nr_vectors; v++)
		if (vp->vec[v].pending)
			bits |= 1ULL << v;
	if (off >= 8)
		return 0;
	bits >>= 8 * off;
	return len == 4 ? (uint32_t)bits : (uint32_t)(bits & ((1ULL << (8 * len)) - 1));
}

int virtio_pci_msix_init(struct virtio_pci *vp)
{
	for (unsigned v = 0; v < vp->nr_vectors; v++) {
		struct virtio_pci_vector *e = &vp->vec[v];
		int err;

		e->ctrl = MSIX_VEC_MASKED; /* the reset state */
		e->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (e->efd < 0)
			return -errno;
		err = kvm_irq_msi_alloc(vp->irq, e->efd, &e->gsi);
		if (err)
			return err;
	}
	return 0;
}

void virtio_pci_msix_free(struct virtio_pci *vp)
{
	for (unsigned v = 0; v < vp->nr_vectors; v++)
		if (vp->vec[v].efd > 0)
			close(vp->vec[v].efd);
}
