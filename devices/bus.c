#include "devices/bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
	pthread_rwlock_init(&bus->lock, NULL);
}

void bus_free(struct bus *bus)
{
	free(bus->ranges);
	bus->ranges = NULL;
	bus->nr = bus->cap = 0;
	pthread_rwlock_destroy(&bus->lock);
}

static int bus_insert(struct bus *bus, uint64_t base, uint64_t len, const struct bus_ops *ops,
		      void *opaque)
{
	unsigned pos = 0;

	if (!len || base + len < base || !ops)
		return -EINVAL;
	while (pos < bus->nr && bus->ranges[pos].base < base)
		pos++;
	if (pos > 0 && bus->ranges[pos - 1].base + bus->ranges[pos - 1].len > base)
		return -EEXIST;
	if (pos < bus->nr && base + len > bus->ranges[pos].base)
		return -EEXIST;
	if (bus->nr == bus->cap) {
		unsigned cap = bus->cap ? bus->cap * 2 : 16;
		struct bus_range *r = realloc(bus->ranges, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		bus->ranges = r;
		bus->cap = cap;
	}
	memmove(&bus->ranges[pos + 1], &bus->ranges[pos], (bus->nr - pos) * sizeof(*bus->ranges));
	bus->ranges[pos] = (struct bus_range){ base, len, ops, opaque };
	bus->nr++;
	return 0;
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len, const struct bus_ops *ops, void *opaque)
{
	int err;

	pthread_rwlock_wrlock(&bus->lock);
	err = bus_insert(bus, base, len, ops, opaque);
	pthread_rwlock_unlock(&bus->lock);
	return err;
}

int bus_unregister(struct bus *bus, uint64_t base)
{
	int err = -ENOENT;

	pthread_rwlock_wrlock(&bus->lock);
	for (unsigned i = 0; i < bus->nr; i++) {
		if (bus->ranges[i].base != base)
			continue;
		memmove(&bus->ranges[i], &bus->ranges[i + 1], (bus->nr - i - 1) * sizeof(*bus->ranges));
		bus->nr--;
		err = 0;
		break;
	}
	pthread_rwlock_unlock(&bus->lock);
	return err;
}

static const struct bus_range *bus_find(const struct bus *bus, uint64_t addr)
{
	unsigned lo = 0, hi = bus->nr;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		const struct bus_range *r = &bus->ranges[mid];

		if (addr < r->base)
			hi = mid;
		else if (addr - r->base >= r->len)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

int bus_access(struct bus *bus, uint64_t addr, void *data, unsigned len, bool is_write)
{
	const struct bus_range *r;
	int ret = -ENOENT;

	pthread_rwlock_rdlock(&bus->lock);
	r = bus_find(bus, addr);
	if (r && addr - r->base + len <= r->len) {
		if (is_write && r->ops->write)
			ret = r->ops->write(r->opaque, addr - r->base, data, len);
		else if (!is_write && r->ops->read)
			ret = r->ops->read(r->opaque, addr - r->base, data, len);
	}
	pthread_rwlock_unlock(&bus->lock);
	if (ret && !is_write)
		memset(data, 0xff, len);
	return ret;
}
