/* tests=pcicfg: the config-space window onto BAR 0 (virtio 1.2,
 * 4.1.4.9) reads and writes the same registers as the BAR itself, at
 * 1, 2 and 4 bytes; with tests=pcicfgbad, windows the spec forbids
 * change nothing. Ring 0
 * throughout: it is all config cycles (port I/O). */
#include "tg_arch.h"
#include "tg_console.h"
#include "tg_tests.h"
#include "tg_virtio.h"

#define TG_CFG_ADDR(slot, off) (0x80000000u | (slot) << 11 | ((off) & 0xfc))

/* Common configuration offsets used here. */
enum { DFSEL = 0, DF = 4, NUMQ = 18, STATUS = 20 };

static uint32_t tg_cfg_read32(unsigned slot, unsigned off)
{
	tg_outl(0xcf8, TG_CFG_ADDR(slot, off));
	return tg_inl(0xcfc);
}

static void tg_cfg_write32(unsigned slot, unsigned off, uint32_t v)
{
	tg_outl(0xcf8, TG_CFG_ADDR(slot, off));
	tg_outl(0xcfc, v);
}

static void tg_cfg_write8(unsigned slot, unsigned off, uint8_t v)
{
	tg_outl(0xcf8, TG_CFG_ADDR(slot, off));
	tg_outb((uint16_t)(0xcfc + (off & 3)), v);
}

static void tg_win_set(const struct tg_virtio *d, uint8_t bar, uint32_t off, uint32_t len)
{
	tg_cfg_write8(d->slot, d->cfg_cap + 4, bar);
	tg_cfg_write32(d->slot, d->cfg_cap + 8, off);
	tg_cfg_write32(d->slot, d->cfg_cap + 12, len);
}

/* off is relative to the BAR that holds the common configuration. */
static uint32_t tg_win_read(const struct tg_virtio *d, uint32_t off, uint32_t len)
{
	uint32_t v;

	tg_win_set(d, d->common_bar, off, len);
	v = tg_cfg_read32(d->slot, d->cfg_cap + 16);
	return len == 4 ? v : v & ((1u << (8 * len)) - 1);
}

static void tg_win_write(const struct tg_virtio *d, uint32_t off, uint32_t len, uint32_t v)
{
	tg_win_set(d, d->common_bar, off, len);
	tg_cfg_write32(d->slot, d->cfg_cap + 16, v);
}

static bool tg_pcicfg_fail(const char *what, uint32_t got, uint32_t want)
{
	tg_printf("LQTG: pcicfg FAIL %s: got 0x%x, want 0x%x\n", what, got, want);
	return false;
}

/* Windows the spec forbids drivers to set up (another BAR, length 3,
 * unaligned, past the BAR), where what a device does is its own choice:
 * lq-vmm's writes must not reach the device and its reads leave the
 * data field as it was (QEMU, for one, ignores the BAR number and the
 * alignment). DFSEL is the canary. */
static bool tg_pcicfg_refused(const struct tg_virtio *d)
{
	const uint32_t at = d->common_off + DFSEL;
	const struct { uint8_t bar; uint32_t off, len; } bad[] = {
		{ (uint8_t)(d->common_bar == 2 ? 3 : 2), at, 4 }, /* a BAR with nothing there */
		{ d->common_bar, at, 3 },                         /* not 1, 2 or 4 bytes */
		{ d->common_bar, at + 2, 4 },                     /* not aligned */
		{ d->common_bar, 0xfffffffc, 4 },                 /* past the BAR */
	};
	volatile uint32_t *c = (volatile uint32_t *)d->common;

	c[DFSEL / 4] = 0;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t v;

		tg_win_set(d, bad[i].bar, bad[i].off, bad[i].len);
		tg_cfg_write32(d->slot, d->cfg_cap + 16, 0x1234567u + i);
		if (c[DFSEL / 4] != 0)
			return tg_pcicfg_fail("a forbidden window wrote the device", c[DFSEL / 4], 0);
		v = tg_cfg_read32(d->slot, d->cfg_cap + 16);
		if (v != 0x1234567u + i)
			return tg_pcicfg_fail("a forbidden window changed the data", v, 0x1234567u + i);
	}
	return true;
}

bool tg_test_pcicfg(bool bad)
{
	struct tg_virtio d;
	volatile uint32_t *c;
	uint32_t direct, got;

	if (!tg_virtio_find(0x1042, 0, &d) || !d.cfg_cap) {
		tg_printf("LQTG: pcicfg FAIL no virtio-blk device with a PCI_CFG capability\n");
		return false;
	}
	c = (volatile uint32_t *)d.common;
	/* A write through the window lands in the BAR... */
	c[DFSEL / 4] = 7;
	tg_win_write(&d, d.common_off + DFSEL, 4, 1);
	if (c[DFSEL / 4] != 1)
		return tg_pcicfg_fail("window write of device_feature_select", c[DFSEL / 4], 1);
	/* ...and reads through it see what the BAR shows, at 4, 2 and 1 bytes. */
	direct = c[DF / 4];
	got = tg_win_read(&d, d.common_off + DF, 4);
	if (got != direct || !(got & 1)) /* VIRTIO_F_VERSION_1 is bit 32 */
		return tg_pcicfg_fail("device_feature (select 1)", got, direct);
	direct = *(volatile uint16_t *)(d.common + NUMQ);
	got = tg_win_read(&d, d.common_off + NUMQ, 2);
	if (got != direct || !got)
		return tg_pcicfg_fail("num_queues", got, direct);
	got = tg_win_read(&d, d.common_off + STATUS, 1);
	if (got != d.common[STATUS])
		return tg_pcicfg_fail("device_status", got, d.common[STATUS]);
	/* The device configuration: capacity's low half, not 0. */
	direct = *(volatile uint32_t *)d.device;
	got = tg_win_read(&d, d.device_off, 4);
	if (got != direct || !direct)
		return tg_pcicfg_fail("capacity (low 32 bits)", got, direct);
	if (bad && !tg_pcicfg_refused(&d))
		return false;
	tg_printf("LQTG: pcicfg%s ok\n", bad ? "bad" : "");
	return true;
}
