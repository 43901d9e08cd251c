/* PCI bus 0: conf1 access as Linux probes it, BAR sizing and mapping,
 * capability chain, and accesses that must not do anything. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "devices/pci.h"

static struct bus pio, mmio;
static struct pci_bus pb;
static struct pci_dev dev;
static uint32_t last_write;
static int bar_calls;
static uint64_t bar_addr;

static int bar_read(void *o, uint64_t off, void *data, unsigned len)
{
	uint32_t v = 0xab000000u | (uint32_t)off;

	(void)o;
	memcpy(data, &v, len);
	return 0;
}

static int bar_write(void *o, uint64_t off, const void *data, unsigned len)
{
	(void)o, (void)off;
	memcpy(&last_write, data, len);
	return 0;
}

static const struct bus_ops bar_ops = { bar_read, bar_write };

static void on_bar(struct pci_dev *d, unsigned bar, uint64_t addr)
{
	(void)d, (void)bar;
	bar_calls++;
	bar_addr = addr;
}

static const struct pci_dev_ops dev_ops = { NULL, on_bar };

static uint32_t cfg_rd(unsigned slot, unsigned off, unsigned len)
{
	uint32_t a = 0x80000000u | slot << 11 | (off & 0xfc), v = 0;

	assert_int_equal(bus_access(&pio, 0xcf8, &a, 4, true), 0);
	assert_int_equal(bus_access(&pio, 0xcfc + (off & 3), &v, len, false), 0);
	return v;
}

static void cfg_wr(unsigned slot, unsigned off, uint32_t v, unsigned len)
{
	uint32_t a = 0x80000000u | slot << 11 | (off & 0xfc);

	assert_int_equal(bus_access(&pio, 0xcf8, &a, 4, true), 0);
	assert_int_equal(bus_access(&pio, 0xcfc + (off & 3), &v, len, true), 0);
}

static int setup(void **state)
{
	uint8_t body[6] = { 1, 2, 3, 4, 5, 6 };

	(void)state;
	bus_init(&pio, "pio");
	bus_init(&mmio, "mmio");
	assert_int_equal(pci_bus_init(&pb, &pio, &mmio, 0xc0000000, 0xc0100000), 0);
	pci_dev_init(&dev, 0x1af4, 0x1044, 0x00ff00, 1, 0x1af4, 4);
	dev.ops = &dev_ops;
	assert_int_equal(pci_dev_add_bar(&dev, 0, 0x8000, &bar_ops, NULL), 0);
	assert_int_equal(pci_dev_add_cap(&dev, 0x09, body, sizeof(body)), 0x40);
	assert_int_equal(pci_dev_add_cap(&dev, 0x11, body, 2), 0x48);
	bar_calls = 0;
	assert_int_equal(pci_bus_add(&pb, &dev), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pci_bus_free(&pb);
	bus_free(&pio);
	bus_free(&mmio);
	return 0;
}

static void test_probe_like_linux(void **state)
{
	uint32_t v = 0x80000000u, tmp;

	(void)state;
	/* Linux: outb 1 to 0xcfb, then 0x80000000 to 0xcf8 must read back. */
	tmp = 1;
	assert_int_equal(bus_access(&pio, 0xcfb, &tmp, 1, true), 0);
	assert_int_equal(bus_access(&pio, 0xcf8, &v, 4, true), 0);
	v = 0;
	assert_int_equal(bus_access(&pio, 0xcf8, &v, 4, false), 0);
	assert_int_equal(v, 0x80000000u);
	/* Host bridge at 00:00.0, class 06/00; our device at slot 1. */
	assert_int_equal(cfg_rd(0, 0x0a, 2), 0x0600);
	assert_int_equal(cfg_rd(1, 0, 4), 0x10441af4);
	assert_int_equal(cfg_rd(1, 0x2e, 2), 4);
	/* Empty slots, other functions and buses read all ones. */
	assert_int_equal(cfg_rd(2, 0, 4), 0xffffffffu);
	v = 0x80000000u | 1 << 11 | 1 << 8; /* function 1 */
	assert_int_equal(bus_access(&pio, 0xcf8, &v, 4, true), 0);
	assert_int_equal(bus_access(&pio, 0xcfc, &v, 4, false), 0);
	assert_int_equal(v, 0xffffffffu);
	/* Capability chain: 0x34 -> 0x40 (vendor) -> 0x48 (MSI-X) -> 0. */
	assert_true(cfg_rd(1, 6, 2) & PCI_STATUS_CAP_LIST);
	assert_int_equal(cfg_rd(1, 0x34, 1), 0x40);
	assert_int_equal(cfg_rd(1, 0x40, 2), 0x4809);
	assert_int_equal(cfg_rd(1, 0x48, 2), 0x0011);
	/* Read-only fields stay put. */
	cfg_wr(1, 0, 0, 4);
	cfg_wr(1, 0x40, 0xffffffff, 4);
	assert_int_equal(cfg_rd(1, 0, 4), 0x10441af4);
	assert_int_equal(cfg_rd(1, 0x40, 2), 0x4809);
}

static void test_bar_sizing_and_mapping(void **state)
{
	uint32_t v;

	(void)state;
	/* Firmware's job done: BAR at the window start, decoding on. */
	assert_int_equal(cfg_rd(1, 0x10, 4), 0xc0000000u);
	assert_int_equal(bar_calls, 1);
	assert_int_equal(bar_addr, 0xc0000000u);
	assert_int_equal(bus_access(&mmio, 0xc0000010, &v, 4, false), 0);
	assert_int_equal(v, 0xab000010u);
	/* Sizing as Linux does it: decode off, all ones, read, restore. */
	cfg_wr(1, 4, 0, 2);
	assert_int_equal(bar_addr, 0);
	assert_int_not_equal(bus_access(&mmio, 0xc0000010, &v, 4, false), 0);
	cfg_wr(1, 0x10, 0xffffffff, 4);
	assert_int_equal(cfg_rd(1, 0x10, 4), 0xffff8000u);
	/* Moving it: it shows up at the new address once decoding is on. */
	cfg_wr(1, 0x10, 0xc0010000, 4);
	cfg_wr(1, 4, PCI_COMMAND_MEMORY, 2);
	assert_int_equal(bar_addr, 0xc0010000u);
	v = 0x1234;
	assert_int_equal(bus_access(&mmio, 0xc0010008, &v, 4, true), 0);
	assert_int_equal(last_write, 0x1234);
	assert_int_not_equal(bus_access(&mmio, 0xc0000008, &v, 4, true), 0);
	/* Low bits of the address are not writable: it stays aligned. */
	cfg_wr(1, 0x10, 0xffffc000, 4);
	assert_int_equal(bar_addr, 0xffff8000u);
}

static void test_hostile_offsets(void **state)
{
	uint8_t b[8];

	(void)state;
	/* Direct accessors refuse out-of-range offsets quietly. */
	pci_cfg_read(&pb, 1, 255, b, 4);
	assert_int_equal(b[0], 0xff);
	pci_cfg_write(&pb, 1, 254, b, 4);
	pci_cfg_read(&pb, 99, 0, b, 4);
	assert_int_equal(b[0], 0xff);
	/* A bus full of devices says so. */
	for (unsigned i = 2; i < PCI_MAX_SLOTS; i++) {
		static struct pci_dev d[PCI_MAX_SLOTS];

		pci_dev_init(&d[i], 0x1af4, 0x1040, 0, 0, 0, 0);
		assert_int_equal(pci_bus_add(&pb, &d[i]), 0);
	}
	{
		struct pci_dev extra;

		pci_dev_init(&extra, 0x1af4, 0x1040, 0, 0, 0, 0);
		assert_int_equal(pci_bus_add(&pb, &extra), -ENOSPC);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_probe_like_linux, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_sizing_and_mapping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_offsets, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
