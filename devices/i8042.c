#include "devices/i8042.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#define I8042_CMD_READ_CTR 0x20
#define I8042_CMD_WRITE_CTR 0x60
#define I8042_CMD_SELF_TEST 0xaa
#define I8042_CMD_WRITE_OUTPORT 0xd1
#define I8042_CMD_PULSE_RESET 0xfe
#define I8042_STS_OBF 0x01
#define I8042_STS_SYS 0x04

struct i8042 {
	pthread_mutex_t lock;
	void (*reset)(void *ctx);
	void *ctx;
	uint8_t pending_cmd; /* command waiting for its data byte */
	uint8_t ctr;
	uint8_t out;
	bool out_full;
};

static int i8042_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct i8042 *k = opaque;
	uint8_t v;

	if (len != 1)
		return -EINVAL;
	pthread_mutex_lock(&k->lock);
	if (off == 0) { /* 0x60 data */
		v = k->out;
		k->out_full = false;
	} else if (off == 4) { /* 0x64 status */
		v = I8042_STS_SYS | (k->out_full ? I8042_STS_OBF : 0);
	} else {
		v = 0xff;
	}
	pthread_mutex_unlock(&k->lock);
	*(uint8_t *)data = v;
	return 0;
}

static int i8042_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct i8042 *k = opaque;
	uint8_t v = *(const uint8_t *)data;
	bool do_reset = false;

	if (len != 1)
		return -EINVAL;
	pthread_mutex_lock(&k->lock);
	if (off == 4) {
		k->pending_cmd = 0;
		switch (v) {
		case I8042_CMD_READ_CTR:
			k->out = k->ctr;
			k->out_full = true;
			break;
		case I8042_CMD_SELF_TEST:
			k->out = 0x55;
			k->out_full = true;
			break;
		case I8042_CMD_WRITE_CTR:
		case I8042_CMD_WRITE_OUTPORT:
			k->pending_cmd = v;
			break;
		case I8042_CMD_PULSE_RESET:
			do_reset = true;
			break;
		default:
			break;
		}
	} else if (off != 0) {
		/* 0x61-0x63 are not ours (KVM's PIT owns 0x61). */
	} else if (k->pending_cmd == I8042_CMD_WRITE_CTR) {
		k->ctr = v;
		k->pending_cmd = 0;
	} else if (k->pending_cmd == I8042_CMD_WRITE_OUTPORT) {
		/* Output port bit 0 low holds the CPU in reset. */
		do_reset = !(v & 1);
		k->pending_cmd = 0;
	}
	pthread_mutex_unlock(&k->lock);
	if (do_reset && k->reset)
		k->reset(k->ctx);
	return 0;
}

static const struct bus_ops i8042_ops = { .read = i8042_read, .write = i8042_write };

struct i8042 *i8042_create(void (*reset)(void *ctx), void *ctx)
{
	struct i8042 *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	pthread_mutex_init(&k->lock, NULL);
	k->reset = reset;
	k->ctx = ctx;
	return k;
}

void i8042_destroy(struct i8042 *k)
{
	if (!k)
		return;
	pthread_mutex_destroy(&k->lock);
	free(k);
}

int i8042_attach(struct i8042 *k, struct bus *pio)
{
	/* One range 0x60-0x64; the handler tells the ports apart by offset.
	 * 0x61 never reaches us: KVM's PIT emulates it in the kernel. */
	return bus_register(pio, I8042_DATA_PORT, I8042_CMD_PORT - I8042_DATA_PORT + 1, &i8042_ops, k);
}
