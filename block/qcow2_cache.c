/* block/qcow2_cache: L2 tables in memory, set-associative with LRU
 * eviction inside a set (O(1) lookups even with 512-byte clusters and
 * thousands of tables). A table lives in the cache in host byte order;
 * the file is the authority, so eviction never writes anything. */
#include "block/qcow2.h"

#include <errno.h>
#include <stdlib.h>

#define CACHE_WAYS 4

int qcow2_cache_init(struct qcow2_cache *c, uint32_t table_bytes)
{
	unsigned n = QCOW2_CACHE_BYTES / table_bytes;

	if (n < CACHE_WAYS)
		n = CACHE_WAYS;
	c->ways = CACHE_WAYS;
	c->sets = n / CACHE_WAYS;
	c->clock = 0;
	c->slots = calloc((size_t)c->sets * c->ways, sizeof(*c->slots));
	if (!c->slots)
		return -ENOMEM;
	for (unsigned i = 0; i < c->sets * c->ways; i++) {
		c->slots[i].table = malloc(table_bytes);
		if (!c->slots[i].table)
			return -ENOMEM; /* qcow2_cache_free cleans up */
	}
	return 0;
}

void qcow2_cache_free(struct qcow2_cache *c)
{
	if (!c->slots)
		return;
	for (unsigned i = 0; i < c->sets * c->ways; i++)
		free(c->slots[i].table);
	free(c->slots);
	c->slots = NULL;
}

static struct qcow2_l2_slot *cache_set(struct qcow2_cache *c, uint64_t l2_offset)
{
	/* Tables are cluster-aligned: hash the offset so neighbours spread. */
	uint64_t h = (l2_offset >> 9) * 0x9e3779b97f4a7c15ULL;

	return &c->slots[(h >> 32) % c->sets * c->ways];
}

uint64_t *qcow2_cache_find(struct qcow2_cache *c, uint64_t l2_offset)
{
	struct qcow2_l2_slot *s = cache_set(c, l2_offset);

	for (unsigned i = 0; i < c->ways; i++)
		if (s[i].l2_offset == l2_offset) {
			s[i].stamp = ++c->clock;
			c->hits++;
			return s[i].table;
		}
	c->misses++;
	return NULL;
}

uint64_t *qcow2_cache_insert(struct qcow2_cache *c, uint64_t l2_offset)
{
	struct qcow2_l2_slot *s = cache_set(c, l2_offset), *victim = &s[0];

	for (unsigned i = 1; i < c->ways; i++)
		if (s[i].stamp < victim->stamp)
			victim = &s[i];
	victim->l2_offset = l2_offset;
	victim->stamp = ++c->clock;
	return victim->table;
}

void qcow2_cache_drop(struct qcow2_cache *c, uint64_t l2_offset)
{
	struct qcow2_l2_slot *s = cache_set(c, l2_offset);

	for (unsigned i = 0; i < c->ways; i++)
		if (s[i].l2_offset == l2_offset) {
			s[i].l2_offset = 0;
			s[i].stamp = 0;
		}
}
