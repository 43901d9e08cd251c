/* virtio/pci: the modern virtio-pci transport (virtio 1.2, 4.1), no
 * legacy interface. One 32 KiB memory BAR holds the common, ISR, device
 * and notify structures and the MSI-X table and PBA. Queue kicks are
 * ioeventfds handled on the event loop; interrupts are MSI-X messages
 * delivered by irqfds. */
#ifndef LQ_VIRTIO_PCI_H
#define LQ_VIRTIO_PCI_H

#include <stdint.h>

#include "devices/pci.h"
#include "virtio/dev.h"

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_NO_VECTOR 0xffff
#define VIRTIO_PCI_BAR_SIZE 0x8000
#define VIRTIO_PCI_COMMON 0x0000
#define VIRTIO_PCI_ISR 0x1000
#define VIRTIO_PCI_DEVICE 0x2000
#define VIRTIO_PCI_NOTIFY 0x3000
#define VIRTIO_PCI_NOTIFY_MULT 4
#define VIRTIO_PCI_MSIX_TABLE 0x4000
#define VIRTIO_PCI_MSIX_PBA 0x5000
#define VIRTIO_PCI_MAX_VECTORS (VIRTIO_MAX_QUEUES + 1)

struct kvm_irq;
struct evl;

struct virtio_pci_queue {
	struct virtio_pci *vp;  /* back-pointers for the kick callback */
	unsigned idx;
	uint16_t size, vector;
	uint64_t desc, driver, device;
	int kick_efd;
};

struct virtio_pci_vector {
	uint32_t addr_lo, addr_hi, data, ctrl;
	int efd;      /* irqfd */
	uint32_t gsi;
	bool pending;
};

struct virtio_pci {
	struct pci_dev pci;
	struct virtio_dev *dev;
	struct kvm_irq *irq;
	struct evl *evl;
	int msix_cap;
	int cfg_cap;         /* VIRTIO_PCI_CAP_PCI_CFG, the config-space window */
	uint32_t dfselect, gfselect;
	uint16_t queue_select, config_vector;
	uint8_t isr;
	uint64_t bar_addr;   /* where the BAR is mapped, 0 if not */
	unsigned nr_vectors;
	struct virtio_pci_queue q[VIRTIO_MAX_QUEUES];
	struct virtio_pci_vector vec[VIRTIO_PCI_MAX_VECTORS];
};

/* Wraps dev in a PCI function on bus, wires kicks to evl and interrupts
 * through irq. dev must be initialised (virtio_dev_init) by its model. */
int virtio_pci_create(struct virtio_dev *dev, struct pci_bus *bus, struct kvm_irq *irq,
		      struct evl *evl, const struct guest_mem *mem, struct virtio_pci **out);
void virtio_pci_destroy(struct virtio_pci *vp);

#endif
