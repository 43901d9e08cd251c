/* ACPI fixed hardware: S5 power-off, reset, PM1 status/enable and the
 * SCI, the PM timer's rate, and guest writes that must not do anything. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "devices/acpi_pm.h"

static int power_offs, resets, sci = -1, sci_gsi = -1;

static void on_power_off(void *ctx) { (void)ctx; power_offs++; }
static void on_reset(void *ctx) { (void)ctx; resets++; }
static void on_irq(void *ctx, unsigned gsi, int level)
{
	(void)ctx;
	sci_gsi = (int)gsi;
	sci = level;
}

static const struct acpi_config cfg = {
	.ncpus = 1, .sci_irq = 9, .pm1a_evt_port = 0x600, .pm1a_cnt_port = 0x604,
	.pm_tmr_port = 0x608, .reset_port = 0xcf9, .reset_value = 6,
};

static struct bus pio;
static struct acpi_pm *pm;

static int setup(void **state)
{
	static const struct acpi_pm_callbacks cb = { on_power_off, on_reset, on_irq, NULL };

	(void)state;
	power_offs = resets = 0;
	sci = sci_gsi = -1;
	bus_init(&pio, "pio");
	pm = acpi_pm_create(&cfg, &cb);
	assert_non_null(pm);
	assert_int_equal(acpi_pm_attach(pm, &pio), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	acpi_pm_destroy(pm);
	bus_free(&pio);
	return 0;
}

static uint32_t rd(uint16_t port, unsigned len)
{
	uint32_t v = 0;

	assert_int_equal(bus_access(&pio, port, &v, len, false), 0);
	return v;
}

static void wr(uint16_t port, uint32_t v, unsigned len)
{
	assert_int_equal(bus_access(&pio, port, &v, len, true), 0);
}

static void test_s5_power_off(void **state)
{
	(void)state;
	assert_int_equal(rd(0x604, 2) & ACPI_PM1_CNT_SCI_EN, ACPI_PM1_CNT_SCI_EN);
	/* Setting the type alone does nothing; SLP_EN triggers. */
	wr(0x604, 5u << 10, 2);
	assert_int_equal(power_offs, 0);
	wr(0x604, 5u << 10 | ACPI_PM1_CNT_SLP_EN, 2);
	assert_int_equal(power_offs, 1);
	assert_int_equal(rd(0x604, 2) & ACPI_PM1_CNT_SLP_EN, 0); /* write-only bit */
	/* S3 is not on this board: no power-off, no crash. */
	wr(0x604, 1u << 10 | ACPI_PM1_CNT_SLP_EN, 2);
	assert_int_equal(power_offs, 1);
	/* Byte writes to the high half work the way Linux's 8-bit path does. */
	wr(0x605, (5u << 10 | ACPI_PM1_CNT_SLP_EN) >> 8, 1);
	assert_int_equal(power_offs, 2);
}

static void test_reset(void **state)
{
	(void)state;
	wr(0xcf9, 2, 1);
	assert_int_equal(resets, 0);
	wr(0xcf9, 6, 1);
	assert_int_equal(resets, 1);
}

static void test_power_button_sci(void **state)
{
	(void)state;
	/* Nobody listening: status set, no SCI. */
	assert_false(acpi_pm_power_button(pm));
	assert_int_equal(rd(0x600, 2), ACPI_PM1_PWRBTN_STS);
	assert_int_equal(sci, -1);
	/* Enabling raises the SCI for the pending status. */
	wr(0x602, ACPI_PM1_PWRBTN_STS, 2);
	assert_int_equal(sci_gsi, 9);
	assert_int_equal(sci, 1);
	assert_int_equal(rd(0x600, 4), ACPI_PM1_PWRBTN_STS | ACPI_PM1_PWRBTN_STS << 16);
	/* Writing 0 to status clears nothing; writing 1 clears. */
	wr(0x600, 0, 2);
	assert_int_equal(sci, 1);
	wr(0x600, ACPI_PM1_PWRBTN_STS, 2);
	assert_int_equal(sci, 0);
	assert_int_equal(rd(0x600, 2), 0);
	assert_true(acpi_pm_power_button(pm));
	assert_int_equal(sci, 1);
	/* A 32-bit write clears status and sets enable in one go. */
	wr(0x600, ACPI_PM1_PWRBTN_STS, 4);
	assert_int_equal(sci, 0);
	assert_int_equal(rd(0x602, 2), 0);
}

static void test_pm_timer(void **state)
{
	struct timespec t0, t1, d = { 0, 20 * 1000 * 1000 };
	uint32_t a, b;
	double secs, hz;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	a = rd(0x608, 4);
	nanosleep(&d, NULL);
	b = rd(0x608, 4);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(a >> 24, 0);
	assert_int_equal(b >> 24, 0);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	hz = (double)((b - a) & 0xffffff) / secs;
	/* The elapsed count can only be below the wall time between reads. */
	assert_true(hz <= ACPI_PM_TIMER_HZ * 1.001);
	assert_true(hz >= ACPI_PM_TIMER_HZ * 0.5);
	wr(0x608, 0, 4); /* read-only: ignored */
}

static void test_bad_accesses(void **state)
{
	uint32_t v = 0;

	(void)state;
	/* Accesses running past a register block are refused, not served. */
	assert_int_not_equal(bus_access(&pio, 0x602, &v, 4, false), 0);
	assert_int_not_equal(bus_access(&pio, 0x605, &v, 2, true), 0);
	assert_int_not_equal(bus_access(&pio, 0x60a, &v, 4, false), 0);
	assert_int_equal(power_offs + resets, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_s5_power_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_power_button_sci, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pm_timer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_accesses, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
