#include "devices/debug_exit.h"

#include <string.h>

static int debug_exit_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct debug_exit *d = opaque;
	uint32_t v = 0;

	(void)off;
	memcpy(&v, data, len < sizeof(v) ? len : sizeof(v));
	d->exit(d->ctx, (int)(((v << 1) | 1) & 0xff));
	return 0;
}

static int debug_exit_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	(void)opaque;
	(void)off;
	memset(data, 0xff, len);
	return 0;
}

static const struct bus_ops debug_exit_ops = { .read = debug_exit_read, .write = debug_exit_write };

int debug_exit_attach(struct debug_exit *d, struct bus *pio)
{
	return bus_register(pio, DEBUG_EXIT_PORT, 4, &debug_exit_ops, d);
}
