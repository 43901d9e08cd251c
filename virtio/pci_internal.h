/* virtio/pci internals shared by pci.c, pci_common.c and pci_msix.c. */
#ifndef LQ_VIRTIO_PCI_INTERNAL_H
#define LQ_VIRTIO_PCI_INTERNAL_H

#include "virtio/pci.h"

/* Common configuration structure offsets (virtio 1.2, 4.1.4.3). */
enum {
	VPCI_DFSELECT = 0, VPCI_DF = 4, VPCI_GFSELECT = 8, VPCI_GF = 12,
	VPCI_MSIX_CONFIG = 16, VPCI_NUM_QUEUES = 18, VPCI_STATUS = 20,
	VPCI_CFG_GENERATION = 21, VPCI_Q_SELECT = 22, VPCI_Q_SIZE = 24,
	VPCI_Q_MSIX = 26, VPCI_Q_ENABLE = 28, VPCI_Q_NOFF = 30,
	VPCI_Q_DESC_LO = 32, VPCI_Q_DESC_HI = 36, VPCI_Q_DRIVER_LO = 40,
	VPCI_Q_DRIVER_HI = 44, VPCI_Q_DEVICE_LO = 48, VPCI_Q_DEVICE_HI = 52,
	VPCI_Q_NOTIFY_DATA = 56, VPCI_Q_RESET = 58, VPCI_COMMON_SIZE = 60,
};

/* All with dev->lock held. */
uint32_t virtio_pci_common_read(struct virtio_pci *vp, unsigned off, unsigned len);
void virtio_pci_common_write(struct virtio_pci *vp, unsigned off, unsigned len, uint32_t v);
void virtio_pci_reset(struct virtio_pci *vp);

int virtio_pci_msix_init(struct virtio_pci *vp);
void virtio_pci_msix_free(struct virtio_pci *vp);
uint32_t virtio_pci_msix_read(struct virtio_pci *vp, unsigned off, unsigned len);
void virtio_pci_msix_write(struct virtio_pci *vp, unsigned off, unsigned len, uint32_t v);
uint32_t virtio_pci_pba_read(struct virtio_pci *vp, unsigned off, unsigned len);
/* MSI-X enable or function mask changed in config space. */
void virtio_pci_msix_control(struct virtio_pci *vp);
void virtio_pci_signal(struct virtio_dev *d, int q);

/* The BAR 0 accessors, also used by the config-space window. */
extern const struct bus_ops virtio_pci_bar_ops;
/* VIRTIO_PCI_CAP_PCI_CFG (pci_cfg.c): adds the capability, returns its
 * offset or -errno; the hooks run under the PCI bus lock. */
int virtio_pci_cfg_window_add(struct virtio_pci *vp);
void virtio_pci_cfg_window_written(struct virtio_pci *vp, unsigned off, unsigned len);
void virtio_pci_cfg_window_reading(struct virtio_pci *vp, unsigned off, unsigned len);

#endif
