/* devices/pci: PCI bus 0 behind a host bridge, configuration mechanism
 * #1 (ports 0xcf8/0xcfc). lq-vmm plays the firmware: BARs get addresses
 * from a window in the 32-bit MMIO hole when a device is added, and a BAR
 * is on the MMIO bus only while the guest has memory decoding enabled at
 * a valid address, so a guest that sizes or moves BARs sees a real bus. */
#ifndef LQ_DEVICES_PCI_H
#define LQ_DEVICES_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"

#define PCI_MAX_SLOTS 32
#define PCI_CFG_SIZE 256
#define PCI_MAX_BARS 6

#define PCI_VENDOR_ID 0x00
#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_BAR0 0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_CAP_PTR 0x34
#define PCI_INTERRUPT_PIN 0x3d
#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_MSIX 0x11

struct pci_dev;

struct pci_dev_ops {
	/* After the guest wrote [off, off+len) of config space (already
	 * stored under the write mask): device reactions such as MSI-X enable. */
	void (*cfg_written)(struct pci_dev *d, unsigned off, unsigned len);
	/* A memory BAR appeared at addr (mapped) or went away (addr 0): for
	 * ioeventfds that live at BAR addresses. */
	void (*bar_mapped)(struct pci_dev *d, unsigned bar, uint64_t addr);
	/* Before the guest reads [off, off+len): a device may refresh bytes
	 * of config space that are a window onto something else. */
	void (*cfg_reading)(struct pci_dev *d, unsigned off, unsigned len);
};

struct pci_bar {
	uint64_t size;          /* power of two >= 16, 0 = unused */
	const struct bus_ops *ops;
	void *opaque;
	uint64_t mapped_at;     /* where it is on the MMIO bus, 0 if not */
};

struct pci_dev {
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];  /* bits the guest may change */
	struct pci_bar bars[PCI_MAX_BARS];
	uint8_t next_cap;             /* where the next capability goes */
	const struct pci_dev_ops *ops;
	void *opaque;
	struct pci_bus *bus;
	unsigned slot;
};

struct pci_bus {
	pthread_mutex_t lock;   /* config space of every device, BAR maps */
	struct bus *mmio;
	uint32_t cf8;
	struct pci_dev *devs[PCI_MAX_SLOTS];
	struct pci_dev host_bridge;
	uint64_t win_base, win_next, win_end;  /* BAR window */
};

/* Creates bus 0 with its host bridge at 00:00.0 and registers the
 * configuration ports on pio. BARs are placed in [win_base, win_end). */
int pci_bus_init(struct pci_bus *b, struct bus *pio, struct bus *mmio, uint64_t win_base,
		 uint64_t win_end);
void pci_bus_free(struct pci_bus *b);

void pci_dev_init(struct pci_dev *d, uint16_t vendor, uint16_t device, uint32_t class_code,
		  uint8_t revision, uint16_t subsys_vendor, uint16_t subsys_id);
/* A 32-bit non-prefetchable memory BAR of size bytes (power of two). */
int pci_dev_add_bar(struct pci_dev *d, unsigned bar, uint64_t size, const struct bus_ops *ops,
		    void *opaque);
/* Appends a capability (body excludes the id/next bytes). Returns its
 * offset in config space, or -ENOSPC. The guest may write nothing in it
 * unless the caller opens bits in wmask. */
int pci_dev_add_cap(struct pci_dev *d, uint8_t id, const void *body, unsigned len);
/* Takes the next free slot, gives the BARs addresses and turns on memory
 * decoding, as firmware would. -ENOSPC when the bus or window is full. */
int pci_bus_add(struct pci_bus *b, struct pci_dev *d);

/* Config space access (exported for tests and for ECAM later); the lock
 * is taken inside. Unknown slots read as all ones. */
void pci_cfg_read(struct pci_bus *b, unsigned slot, unsigned off, void *data, unsigned len);
void pci_cfg_write(struct pci_bus *b, unsigned slot, unsigned off, const void *data, unsigned len);

static inline uint32_t pci_cfg_get32(const struct pci_dev *d, unsigned off)
{
	return (uint32_t)d->cfg[off] | (uint32_t)d->cfg[off + 1] << 8 |
	       (uint32_t)d->cfg[off + 2] << 16 | (uint32_t)d->cfg[off + 3] << 24;
}

#endif
