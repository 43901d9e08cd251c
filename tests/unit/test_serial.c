#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "devices/serial.h"

static char out[64];
static size_t out_len;
static int irq_level = -1, space_calls;

static void sink_write(void *ctx, const void *buf, size_t len)
{
	(void)ctx;
	memcpy(out + out_len, buf, len);
	out_len += len;
}

static void sink_space(void *ctx)
{
	(void)ctx;
	space_calls++;
}

static void set_irq(void *ctx, unsigned gsi, int level)
{
	(void)ctx;
	assert_int_equal(gsi, 4);
	irq_level = level;
}

static uint8_t rd(struct bus *b, unsigned reg)
{
	uint8_t v;

	assert_int_equal(bus_access(b, 0x3f8 + reg, &v, 1, false), 0);
	return v;
}

static void wr(struct bus *b, unsigned reg, uint8_t v)
{
	assert_int_equal(bus_access(b, 0x3f8 + reg, &v, 1, true), 0);
}

static void test_uart(void **state)
{
	struct serial_sink sink = { sink_write, sink_space, NULL };
	struct serial *s = serial_create(4, set_irq, NULL, &sink);
	struct bus b;
	uint8_t big[SERIAL_RX_SIZE + 10];

	(void)state;
	bus_init(&b, "pio");
	assert_int_equal(serial_attach(s, &b, 0x3f8), 0);
	/* Transmit */
	wr(&b, 0, 'h');
	wr(&b, 0, 'i');
	assert_int_equal(out_len, 2);
	assert_memory_equal(out, "hi", 2);
	assert_true(rd(&b, 5) & 0x60); /* THRE | TEMT */
	/* Divisor latch does not transmit */
	wr(&b, 3, 0x80);
	wr(&b, 0, 1);
	assert_int_equal(rd(&b, 0), 1);
	wr(&b, 3, 0x03);
	assert_int_equal(out_len, 2);
	/* THRE interrupt: raised on enable, acknowledged by reading IIR */
	wr(&b, 1, 0x02);
	assert_int_equal(irq_level, 1);
	assert_int_equal(rd(&b, 2) & 0x0f, 0x02);
	assert_int_equal(irq_level, 0);
	assert_int_equal(rd(&b, 2) & 0x0f, 0x01);
	/* Receive with RDA interrupt */
	wr(&b, 1, 0x01);
	assert_int_equal(serial_receive(s, "ab", 2), 2);
	assert_int_equal(irq_level, 1);
	assert_true(rd(&b, 5) & 0x01);
	assert_int_equal(rd(&b, 0), 'a');
	assert_int_equal(rd(&b, 0), 'b');
	assert_false(rd(&b, 5) & 0x01);
	assert_int_equal(irq_level, 0);
	/* A full buffer takes only what fits and reports space later */
	memset(big, 'x', sizeof(big));
	assert_int_equal(serial_receive(s, big, sizeof(big)), SERIAL_RX_SIZE);
	assert_int_equal(serial_rx_free(s), 0);
	rd(&b, 0);
	assert_int_equal(space_calls, 1);
	/* Wrong access sizes are refused, not crashes */
	assert_int_not_equal(bus_access(&b, 0x3f8, big, 2, false), 0);
	assert_int_equal(serial_tx_bytes(s), 2);
	serial_destroy(s);
	bus_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_uart) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
