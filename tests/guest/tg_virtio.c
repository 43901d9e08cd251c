#include "tg_virtio.h"

#include "tg_arch.h"
#include "tg_console.h"
#include "tg_string.h"
#include "tg_layout.h"
#include "tg_tsc.h"

#define TG_PCI_ADDR(slot, off) (0x80000000u | (slot) << 11 | ((off) & 0xfc))

/* Common configuration offsets (virtio 1.2, 4.1.4.3). */
enum { C_DFSEL = 0, C_DF = 4, C_GFSEL = 8, C_GF = 12, C_STATUS = 20, C_QSEL = 22,
       C_QSIZE = 24, C_QENABLE = 28, C_QNOFF = 30, C_QDESC = 32, C_QDRIVER = 40,
       C_QDEVICE = 48 };

static uint32_t tg_pci_read(unsigned slot, unsigned off)
{
	tg_outl(0xcf8, TG_PCI_ADDR(slot, off));
	return tg_inl(0xcfc);
}

/* A memory BAR's address (64-bit BARs span two registers); 0 if it is
 * not a usable memory BAR below 4 GiB, the part the guest maps. */
static uint64_t tg_pci_bar(unsigned slot, unsigned bar)
{
	uint32_t lo = tg_pci_read(slot, 0x10 + 4 * bar);
	uint64_t a = lo & ~0xfULL;

	if (lo & 1)
		return 0; /* I/O BAR */
	if ((lo & 6) == 4 && bar < 5)
		a |= (uint64_t)tg_pci_read(slot, 0x14 + 4 * bar) << 32;
	return a < (1ULL << 32) ? a : 0;
}

static void tg_virtio_cap(struct tg_virtio *d, unsigned slot, unsigned cap)
{
	uint32_t w0 = tg_pci_read(slot, cap), off = tg_pci_read(slot, cap + 8);
	uint8_t type = (uint8_t)(w0 >> 24), bar = (uint8_t)tg_pci_read(slot, cap + 4);
	uint64_t base = bar < 6 ? tg_pci_bar(slot, bar) : 0;
	volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)(base + off);

	if (type == 5)
		d->cfg_cap = cap; /* a window in config space: no BAR address needed */
	if (!base)
		return;
	switch (type) {
	case 1:
		d->common = p;
		d->common_bar = bar;
		d->common_off = off;
		break;
	case 2:
		d->notify_base = base + off;
		d->notify_mult = tg_pci_read(slot, cap + 16);
		break;
	case 3: d->isr = p; break;
	case 4:
		d->device = p;
		d->device_off = off;
		break;
	default: break;
	}
}

bool tg_virtio_find(uint16_t device_id, unsigned from, struct tg_virtio *d)
{
	for (unsigned slot = from; slot < 32; slot++) {
		uint32_t id = tg_pci_read(slot, 0);
		unsigned cap;

		if (id != (0x1af4u | (uint32_t)device_id << 16))
			continue;
		memset(d, 0, sizeof(*d));
		d->device_id = device_id;
		d->slot = slot;
		/* Memory decoding and bus mastering on (firmware did the BAR). */
		tg_outl(0xcf8, TG_PCI_ADDR(slot, 4));
		tg_outw(0xcfc, (uint16_t)(tg_inl(0xcfc) | 0x6));
		d->queue_vector = 0xffff;
		for (cap = tg_pci_read(slot, 0x34) & 0xff; cap; cap = (tg_pci_read(slot, cap) >> 8) & 0xff) {
			if ((tg_pci_read(slot, cap) & 0xff) == 0x09)
				tg_virtio_cap(d, slot, cap);
			if ((tg_pci_read(slot, cap) & 0xff) == 0x11)
				d->msix_cap = cap;
		}
		return d->common && d->notify_base && d->isr;
	}
	return false;
}

bool tg_virtio_msix_enable(struct tg_virtio *d)
{
	uint32_t table;

	if (!d->msix_cap)
		return false;
	table = tg_pci_read(d->slot, d->msix_cap + 4);
	if (!tg_pci_bar(d->slot, table & 7))
		return false;
	d->msix = (volatile uint32_t *)(uintptr_t)(tg_pci_bar(d->slot, table & 7) + (table & ~7u));
	d->msix[0] = 0xfee00000u; /* BSP: LAPIC id 0, physical destination */
	d->msix[1] = 0;
	d->msix[2] = TG_VEC_VIRTIO;
	d->msix[3] = 0;           /* unmasked */
	tg_outl(0xcf8, TG_PCI_ADDR(d->slot, d->msix_cap));
	tg_outl(0xcfc, tg_inl(0xcfc) | 0x80000000u); /* MSI-X enable */
	d->queue_vector = 0;
	return true;
}

static void w8(volatile uint8_t *b, unsigned o, uint8_t v) { *(volatile uint8_t *)(b + o) = v; }
static void w16(volatile uint8_t *b, unsigned o, uint16_t v) { *(volatile uint16_t *)(b + o) = v; }
static void w32(volatile uint8_t *b, unsigned o, uint32_t v) { *(volatile uint32_t *)(b + o) = v; }
static uint8_t r8(volatile uint8_t *b, unsigned o) { return *(volatile uint8_t *)(b + o); }
static uint16_t r16(volatile uint8_t *b, unsigned o) { return *(volatile uint16_t *)(b + o); }
static uint32_t r32(volatile uint8_t *b, unsigned o) { return *(volatile uint32_t *)(b + o); }

uint8_t tg_virtio_status(struct tg_virtio *d)
{
	return r8(d->common, C_STATUS);
}

uint64_t tg_virtio_init(struct tg_virtio *d, uint64_t wanted)
{
	volatile uint8_t *c = d->common;
	uint64_t accept;

	w8(c, C_STATUS, 0);
	while (r8(c, C_STATUS))
		;
	w8(c, C_STATUS, 1); /* ACKNOWLEDGE */
	w8(c, C_STATUS, 3); /* DRIVER */
	w32(c, C_DFSEL, 0);
	d->features = r32(c, C_DF);
	w32(c, C_DFSEL, 1);
	d->features |= (uint64_t)r32(c, C_DF) << 32;
	accept = d->features & (wanted | 1ULL << 32);
	if (!(accept & 1ULL << 32))
		return ~0ULL;
	w32(c, C_GFSEL, 0);
	w32(c, C_GF, (uint32_t)accept);
	w32(c, C_GFSEL, 1);
	w32(c, C_GF, (uint32_t)(accept >> 32));
	w8(c, C_STATUS, 11); /* + FEATURES_OK */
	if (!(r8(c, C_STATUS) & 8))
		return ~0ULL;
	return accept;
}

bool tg_virtio_queue(struct tg_virtio *d, uint16_t index, struct tg_vq *q)
{
	volatile uint8_t *c = d->common;
	uint64_t a;

	memset(q, 0, sizeof(*q));
	w16(c, C_QSEL, index);
	/* The rings are laid out for TG_VQ_SIZE; a smaller queue uses their
	 * first entries (no event index, so nothing sits after the rings). */
	q->size = r16(c, C_QSIZE) < TG_VQ_SIZE ? r16(c, C_QSIZE) : TG_VQ_SIZE;
	if (q->size < 4 || (q->size & (q->size - 1)))
		return false;
	w16(c, C_QSIZE, q->size);
	a = (uintptr_t)q->desc;
	w32(c, C_QDESC, (uint32_t)a);
	w32(c, C_QDESC + 4, (uint32_t)(a >> 32));
	a = (uintptr_t)&q->avail;
	w32(c, C_QDRIVER, (uint32_t)a);
	w32(c, C_QDRIVER + 4, (uint32_t)(a >> 32));
	a = (uintptr_t)&q->used;
	w32(c, C_QDEVICE, (uint32_t)a);
	w32(c, C_QDEVICE + 4, (uint32_t)(a >> 32));
	w16(c, 26, d->queue_vector); /* queue_msix_vector */
	if (r16(c, 26) != d->queue_vector)
		return false;
	q->index = index;
	q->notify = (volatile uint16_t *)(uintptr_t)(d->notify_base +
						     (uint64_t)r16(c, C_QNOFF) * d->notify_mult);
	w16(c, C_QENABLE, 1);
	return r16(c, C_QENABLE) == 1;
}

void tg_virtio_driver_ok(struct tg_virtio *d)
{
	w8(d->common, C_STATUS, 15);
}

int64_t tg_virtio_xfer(struct tg_vq *q, const uint64_t *addr, const uint32_t *len,
		       const uint16_t *flags, unsigned n)
{
	uint16_t slot = q->avail.idx % q->size;
	uint64_t t0 = tg_rdtsc(), limit = 5000ULL * tg_tsc_khz; /* 5 s */
	int64_t got;

	for (unsigned i = 0; i < n; i++) {
		q->desc[i].addr = addr[i];
		q->desc[i].len = len[i];
		q->desc[i].flags = (uint16_t)(flags[i] | (i + 1 < n ? 1 : 0));
		q->desc[i].next = (uint16_t)(i + 1);
	}
	q->avail.ring[slot] = 0;
	__atomic_store_n(&q->avail.idx, (uint16_t)(q->avail.idx + 1), __ATOMIC_RELEASE);
	tg_virtio_kick(q);
	while (__atomic_load_n(&q->used.idx, __ATOMIC_ACQUIRE) == q->last_used)
		if (tg_rdtsc() - t0 > limit)
			return -1;
	got = q->used.ring[q->last_used % q->size].len;
	q->last_used++;
	return got;
}
