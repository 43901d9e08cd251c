#include "devices/pci.h"

#include <errno.h>
#include <string.h>

#include "common/log.h"

#define PCI_CF8_PORT 0xcf8
#define PCI_CFC_PORT 0xcfc
#define PCI_CF8_ENABLE 0x80000000u
#define PCI_INTERRUPT_LINE 0x3c

/* A host bridge at 00:00.0: Linux's conf1 probe wants to see one. */
#define PCI_HOST_VENDOR 0x1b36
#define PCI_HOST_DEVICE 0x0008
#define PCI_CLASS_HOST_BRIDGE 0x060000

static void pci_put16(struct pci_dev *d, unsigned off, uint16_t v)
{
	d->cfg[off] = (uint8_t)v;
	d->cfg[off + 1] = (uint8_t)(v >> 8);
}

void pci_dev_init(struct pci_dev *d, uint16_t vendor, uint16_t device, uint32_t class_code,
		  uint8_t revision, uint16_t subsys_vendor, uint16_t subsys_id)
{
	memset(d, 0, sizeof(*d));
	pci_put16(d, PCI_VENDOR_ID, vendor);
	pci_put16(d, PCI_VENDOR_ID + 2, device);
	d->cfg[8] = revision;
	d->cfg[9] = (uint8_t)class_code;          /* programming interface */
	d->cfg[10] = (uint8_t)(class_code >> 8);  /* subclass */
	d->cfg[11] = (uint8_t)(class_code >> 16); /* class */
	pci_put16(d, PCI_SUBSYSTEM_VENDOR_ID, subsys_vendor);
	pci_put16(d, PCI_SUBSYSTEM_VENDOR_ID + 2, subsys_id);
	/* No INTx: devices here interrupt with MSI-X only. */
	d->cfg[PCI_INTERRUPT_PIN] = 0;
	d->wmask[PCI_COMMAND] = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	d->wmask[PCI_COMMAND + 1] = PCI_COMMAND_INTX_DISABLE >> 8;
	d->wmask[PCI_INTERRUPT_LINE] = 0xff;
	d->next_cap = 0x40;
}

int pci_dev_add_bar(struct pci_dev *d, unsigned bar, uint64_t size, const struct bus_ops *ops,
		    void *opaque)
{
	uint32_t mask;

	if (bar >= PCI_MAX_BARS || size < 16 || size > 0x80000000u || (size & (size - 1)))
		return -EINVAL;
	d->bars[bar] = (struct pci_bar){ .size = size, .ops = ops, .opaque = opaque };
	/* Address bits below the size read back as zero: that is how the
	 * guest learns the size. Bits 3:0 (32-bit memory) are read-only 0. */
	mask = (uint32_t)~(size - 1);
	for (unsigned i = 0; i < 4; i++)
		d->wmask[PCI_BAR0 + 4 * bar + i] = (uint8_t)(mask >> (8 * i));
	return 0;
}

int pci_dev_add_cap(struct pci_dev *d, uint8_t id, const void *body, unsigned len)
{
	unsigned off = d->next_cap, size = (2 + len + 3) & ~3u;
	uint8_t *link = &d->cfg[PCI_CAP_PTR];

	if (off + size > PCI_CFG_SIZE)
		return -ENOSPC;
	while (*link)
		link = &d->cfg[*link + 1];
	*link = (uint8_t)off;
	d->cfg[off] = id;
	d->cfg[off + 1] = 0;
	memcpy(&d->cfg[off + 2], body, len);
	d->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	d->next_cap = (uint8_t)(off + size);
	return (int)off;
}

/* Puts each memory BAR on the MMIO bus while decoding is on and its
 * address is sane; takes it off otherwise. Called with the lock held. */
static void pci_dev_update_bars(struct pci_dev *d)
{
	bool mem_on = d->cfg[PCI_COMMAND] & PCI_COMMAND_MEMORY;

	for (unsigned i = 0; i < PCI_MAX_BARS; i++) {
		struct pci_bar *bar = &d->bars[i];
		uint64_t addr = pci_cfg_get32(d, PCI_BAR0 + 4 * i) & ~0xfULL;
		bool want = mem_on && bar->size && addr && addr + bar->size <= 0x100000000ULL;

		if (!bar->size || (want && bar->mapped_at == addr) || (!want && !bar->mapped_at))
			continue;
		if (bar->mapped_at) {
			bus_unregister(d->bus->mmio, bar->mapped_at);
			bar->mapped_at = 0;
			if (d->ops && d->ops->bar_mapped)
				d->ops->bar_mapped(d, i, 0);
		}
		if (!want)
			continue;
		if (bus_register(d->bus->mmio, addr, bar->size, bar->ops, bar->opaque)) {
			/* Overlaps something (e.g. a BAR being sized): stays off
			 * until the guest puts it somewhere free. */
			log_debug("pci 00:%02x.0: BAR%u at %#llx overlaps another range: not mapped",
				  d->slot, i, (unsigned long long)addr);
			continue;
		}
		bar->mapped_at = addr;
		if (d->ops && d->ops->bar_mapped)
			d->ops->bar_mapped(d, i, addr);
	}
}

void pci_cfg_read(struct pci_bus *b, unsigned slot, unsigned off, void *data, unsigned len)
{
	struct pci_dev *d = slot < PCI_MAX_SLOTS ? b->devs[slot] : NULL;

	if (!d || off >= PCI_CFG_SIZE || len > PCI_CFG_SIZE - off) {
		memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&b->lock);
	if (d->ops && d->ops->cfg_reading)
		d->ops->cfg_reading(d, off, len);
	memcpy(data, &d->cfg[off], len);
	pthread_mutex_unlock(&b->lock);
}

void pci_cfg_write(struct pci_bus *b, unsigned slot, unsigned off, const void *data, unsigned len)
{
	struct pci_dev *d = slot < PCI_MAX_SLOTS ? b->devs[slot] : NULL;
	const uint8_t *v = data;

	if (!d || off >= PCI_CFG_SIZE || len > PCI_CFG_SIZE - off)
		return;
	pthread_mutex_lock(&b->lock);
	for (unsigned i = 0; i < len; i++) {
		uint8_t m = d->wmask[off + i];

		d->cfg[off + i] = (uint8_t)((d->cfg[off + i] & ~m) | (v[i] & m));
	}
	if (off < PCI_BAR0 + 4 * PCI_MAX_BARS && off + len > PCI_COMMAND)
		pci_dev_update_bars(d);
	if (d->ops && d->ops->cfg_written)
		d->ops->cfg_written(d, off, len);
	pthread_mutex_unlock(&b->lock);
}

static int pci_cf8_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct pci_bus *b = opaque;
	uint32_t v = __atomic_load_n(&b->cf8, __ATOMIC_RELAXED) >> (8 * off);

	memcpy(data, &v, len);
	return 0;
}

static int pci_cf8_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct pci_bus *b = opaque;
	uint32_t v = 0, mask = (len == 4 ? 0xffffffffu : (1u << (8 * len)) - 1) << (8 * off);

	memcpy(&v, data, len);
	pthread_mutex_lock(&b->lock);
	b->cf8 = (b->cf8 & ~mask) | ((v << (8 * off)) & mask);
	pthread_mutex_unlock(&b->lock);
	return 0;
}

/* The selected function, or -1: only bus 0, function 0 exist. */
static int pci_cf8_slot(uint32_t cf8)
{
	if (!(cf8 & PCI_CF8_ENABLE) || ((cf8 >> 16) & 0xff) || ((cf8 >> 8) & 7))
		return -1;
	return (int)((cf8 >> 11) & 0x1f);
}

static int pci_cfc_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct pci_bus *b = opaque;
	uint32_t cf8 = __atomic_load_n(&b->cf8, __ATOMIC_RELAXED);
	int slot = pci_cf8_slot(cf8);

	if (slot < 0)
		memset(data, 0xff, len);
	else
		pci_cfg_read(b, (unsigned)slot, (cf8 & 0xfc) + (unsigned)off, data, len);
	return 0;
}

static int pci_cfc_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct pci_bus *b = opaque;
	uint32_t cf8 = __atomic_load_n(&b->cf8, __ATOMIC_RELAXED);
	int slot = pci_cf8_slot(cf8);

	if (slot >= 0)
		pci_cfg_write(b, (unsigned)slot, (cf8 & 0xfc) + (unsigned)off, data, len);
	return 0;
}

static const struct bus_ops pci_cf8_ops = { pci_cf8_read, pci_cf8_write };
static const struct bus_ops pci_cfc_ops = { pci_cfc_read, pci_cfc_write };

int pci_bus_add(struct pci_bus *b, struct pci_dev *d)
{
	unsigned slot = 0;
	uint64_t next = b->win_next;

	while (slot < PCI_MAX_SLOTS && b->devs[slot])
		slot++;
	if (slot == PCI_MAX_SLOTS) {
		log_error("pci: bus 0 is full (%d slots)", PCI_MAX_SLOTS);
		return -ENOSPC;
	}
	for (unsigned i = 0; i < PCI_MAX_BARS; i++) {
		uint64_t size = d->bars[i].size, addr;

		if (!size)
			continue;
		addr = (next + size - 1) & ~(size - 1); /* naturally aligned */
		if (addr + size > b->win_end) {
			log_error("pci: no room for a %llu-byte BAR in the MMIO window",
				  (unsigned long long)size);
			return -ENOSPC;
		}
		for (unsigned k = 0; k < 4; k++)
			d->cfg[PCI_BAR0 + 4 * i + k] = (uint8_t)(addr >> (8 * k));
		next = addr + size;
	}
	pthread_mutex_lock(&b->lock);
	b->win_next = next;
	d->bus = b;
	d->slot = slot;
	d->cfg[PCI_COMMAND] |= PCI_COMMAND_MEMORY;
	b->devs[slot] = d;
	pci_dev_update_bars(d);
	pthread_mutex_unlock(&b->lock);
	return 0;
}

int pci_bus_init(struct pci_bus *b, struct bus *pio, struct bus *mmio, uint64_t win_base,
		 uint64_t win_end)
{
	int err;

	memset(b, 0, sizeof(*b));
	pthread_mutex_init(&b->lock, NULL);
	b->mmio = mmio;
	b->win_base = b->win_next = win_base;
	b->win_end = win_end;
	pci_dev_init(&b->host_bridge, PCI_HOST_VENDOR, PCI_HOST_DEVICE, PCI_CLASS_HOST_BRIDGE, 0,
		     0, 0);
	b->host_bridge.bus = b;
	b->devs[0] = &b->host_bridge;
	err = bus_register(pio, PCI_CF8_PORT, 4, &pci_cf8_ops, b);
	if (!err)
		err = bus_register(pio, PCI_CFC_PORT, 4, &pci_cfc_ops, b);
	if (err)
		log_error("pci: the configuration ports 0xcf8-0xcff are taken: %s", strerror(-err));
	return err;
}

void pci_bus_free(struct pci_bus *b)
{
	pthread_mutex_destroy(&b->lock);
}
