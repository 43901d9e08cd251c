/* devices/bus: address-space dispatch for port I/O and MMIO.
 * A bus is a sorted table of non-overlapping ranges, each served by one
 * device through bus_ops. vCPU threads look ranges up under a read lock
 * and call the device with it held; (un)registering takes the write lock,
 * so when bus_unregister() returns no vCPU is still inside the old range's
 * handler. A handler must not (un)register on its own bus. */
#ifndef LQ_DEVICES_BUS_H
#define LQ_DEVICES_BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct bus_ops {
	/* offset is relative to the registered base; len is 1, 2, 4 (or 8
	 * for MMIO). Reads fill *data (little endian). Return 0, or -errno
	 * when the access is not handled. */
	int (*read)(void *opaque, uint64_t offset, void *data, unsigned len);
	int (*write)(void *opaque, uint64_t offset, const void *data, unsigned len);
};

struct bus_range {
	uint64_t base;
	uint64_t len;
	const struct bus_ops *ops;
	void *opaque;
};

struct bus {
	const char *name;
	struct bus_range *ranges;
	unsigned nr, cap;
	pthread_rwlock_t lock;
};

/* Raises or lowers an interrupt line (GSI) of the VM. */
typedef void (*irq_set_fn)(void *ctx, unsigned gsi, int level);

void bus_init(struct bus *bus, const char *name);
void bus_free(struct bus *bus);
/* -EEXIST if the range overlaps one already registered. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len, const struct bus_ops *ops, void *opaque);
/* Removes the range registered at exactly base; -ENOENT if none. */
int bus_unregister(struct bus *bus, uint64_t base);
/* -ENOENT if nothing is there: reads then return all ones, writes are dropped. */
int bus_access(struct bus *bus, uint64_t addr, void *data, unsigned len, bool is_write);

#endif
