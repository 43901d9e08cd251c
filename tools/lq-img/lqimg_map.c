/* tools/lq-img: map. Walks the virtual disk and says, for each range,
 * which layer of the chain holds it (depth: 0 the top image), whether
 * it reads as zeros, holds data, and where in which file, in the shape
 * of qemu-img map (its JSON lines are reproduced byte for byte, so the
 * two outputs can be compared directly).
 *
 * Ranges are found one cluster (or file extent) at a time and merged
 * with the previous one when everything but the position matches,
 * which is the rule qemu-img uses, so the same image gives the same
 * list whatever the cluster sizes of its layers. */
#include "tools/lq-img/lqimg.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct map_ext {
	uint64_t start, length;
	unsigned depth;
	bool present, zero, data, has_offset;
	uint64_t offset;
	const char *file;
};

/* Data or hole at file offset off of fd, for at most *len bytes: shrinks
 * *len to the run that is all one kind; true for data. */
static bool map_file_data(int fd, uint64_t off, uint64_t *len)
{
	off_t d = lseek(fd, (off_t)off, SEEK_DATA), h;

	if (d < 0 && errno != ENXIO)
		return true; /* no SEEK_DATA here: everything is data */
	if (d < 0 || (uint64_t)d >= off + *len)
		return false;
	if ((uint64_t)d > off) {
		*len = (uint64_t)d - off;
		return false;
	}
	h = lseek(fd, (off_t)off, SEEK_HOLE);
	if (h > 0 && (uint64_t)h < off + *len)
		*len = (uint64_t)h - off;
	return true;
}

/* Whether img looks preallocated with metadata (clusters in use well
 * beyond what the file really occupies): only then are its data
 * clusters checked for holes in the file, which is qemu's rule too. */
static bool map_preallocated(struct qcow2_image *img)
{
	uint64_t real = lqimg_disk_usage(img->path) >> img->cluster_bits, last = img->end_cluster;
	uint64_t threshold = real * 10 / 9 > real + 2 ? real * 10 / 9 : real + 2, rc = 0;

	if (img->raw || (!img->reftable && qcow2_refcount_load(img)))
		return false;
	while (last > 0 && !qcow2_refcount_get(img, last - 1, &rc) && !rc)
		last--;
	return last > threshold;
}

/* What layer img (at depth) says about guest offset off, for at most
 * len bytes: e->length is what one answer covers. */
static int map_one(struct qcow2_image *img, unsigned depth, const bool *prealloc, uint64_t off,
		   uint64_t len, struct map_ext *e)
{
	struct qcow2_map m;
	uint64_t in, l1i;
	unsigned span_bits;
	int err;

	*e = (struct map_ext){ .start = off, .length = len, .depth = depth, .zero = true,
			       .file = img->path };
	if (off >= img->size) {
		/* Past the end of a backing file: zeros, owned by the layer above. */
		e->depth = depth ? depth - 1 : 0;
		return 0;
	}
	if (e->length > img->size - off)
		e->length = img->size - off;
	if (img->raw) {
		e->present = e->has_offset = true;
		e->offset = off;
		e->data = map_file_data(img->fd, off, &e->length);
		e->zero = !e->data;
		return 0;
	}
	/* No L2 table: the whole range it would cover is unallocated, in one
	 * step (a big empty disk would otherwise take a lookup per cluster). */
	span_bits = img->cluster_bits + img->l2_bits;
	l1i = off >> span_bits;
	if (l1i >= img->h.l1_size || !(img->l1[l1i] & QCOW2_OFFSET_MASK)) {
		in = off & ((1ULL << span_bits) - 1);
		m.kind = QCOW2_UNALLOCATED;
	} else {
		in = off & (img->cluster_size - 1);
		err = qcow2_map_get(img, off >> img->cluster_bits, &m);
		if (err)
			return err;
		span_bits = img->cluster_bits;
	}
	if (e->length > (1ULL << span_bits) - in)
		e->length = (1ULL << span_bits) - in;
	switch (m.kind) {
	case QCOW2_UNALLOCATED:
		return img->backing ? map_one(img->backing, depth + 1, prealloc, off, e->length, e) : 0;
	case QCOW2_ZERO:
		e->present = true;
		e->has_offset = m.host != 0;
		e->offset = m.host + in;
		return 0;
	case QCOW2_COMPRESSED:
		e->present = e->data = true;
		e->zero = false;
		return 0;
	case QCOW2_NORMAL:
		e->present = e->has_offset = true;
		e->offset = m.host + in;
		e->data = true;
		/* A preallocated cluster over a hole of the file reads as zeros. */
		e->zero = prealloc[depth] && !map_file_data(img->fd, e->offset, &e->length);
		return 0;
	}
	return -EIO;
}

int lqimg_map_zero(struct qcow2_image *top, uint64_t off, uint64_t *len, bool *zero)
{
	/* Data clusters count as data even over holes: the caller reads them. */
	static const bool no_prealloc[QCOW2_MAX_CHAIN + 1];
	struct map_ext e;
	int err = map_one(top, 0, no_prealloc, off, top->size - off, &e);

	*len = e.length;
	*zero = e.zero;
	return err;
}

static bool map_mergeable(const struct map_ext *a, const struct map_ext *b)
{
	return a->depth == b->depth && a->present == b->present && a->zero == b->zero &&
	       a->data == b->data && a->has_offset == b->has_offset && a->file == b->file &&
	       (!a->has_offset || a->offset + a->length == b->offset);
}

static void map_print(const struct map_ext *e, bool json, bool first)
{
	if (!json) {
		if (e->data && !e->zero && e->has_offset)
			printf("%#-16llx%#-16llx%#-16llx%s\n", (unsigned long long)e->start,
			       (unsigned long long)e->length, (unsigned long long)e->offset, e->file);
		return;
	}
	printf("%s{ \"start\": %llu, \"length\": %llu, \"depth\": %u, \"present\": %s, \"zero\": %s, \"data\": %s",
	       first ? "[" : ",\n", (unsigned long long)e->start, (unsigned long long)e->length,
	       e->depth, e->present ? "true" : "false", e->zero ? "true" : "false",
	       e->data ? "true" : "false");
	if (e->has_offset)
		printf(", \"offset\": %llu", (unsigned long long)e->offset);
	printf("}");
}

static int map_walk(struct qcow2_image *top, bool json)
{
	struct map_ext cur = { 0 }, next;
	bool have = false, first = true, prealloc[QCOW2_MAX_CHAIN + 1] = { 0 };
	uint64_t off = 0;
	unsigned depth = 0;
	int err;

	for (struct qcow2_image *i = top; i && depth <= QCOW2_MAX_CHAIN; i = i->backing)
		prealloc[depth++] = map_preallocated(i);

	if (!json)
		printf("%-16s%-16s%-16s%s\n", "Offset", "Length", "Mapped to", "File");
	while (off < top->size) {
		err = map_one(top, 0, prealloc, off, top->size - off, &next);
		if (err)
			return err;
		off += next.length;
		if (have && map_mergeable(&cur, &next)) {
			cur.length += next.length;
			continue;
		}
		if (have)
			map_print(&cur, json, first);
		first = first && !have;
		cur = next;
		have = true;
	}
	if (have)
		map_print(&cur, json, first);
	if (json)
		printf("%s]\n", have ? "" : "[");
	return 0;
}

int lqimg_map(int argc, char **argv)
{
	static const struct option longs[] = { { "json", no_argument, NULL, 'j' }, { 0 } };
	struct qcow2_image *img;
	bool json = false;
	int c, err;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		if (c != 'j')
			return 1;
		json = true;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "lq-img map: expected one FILE\n");
		return 1;
	}
	if (lqimg_open(argv[optind], false, &img))
		return 1;
	err = map_walk(img, json);
	if (err)
		fprintf(stderr, "lq-img map: '%s': %s\n", argv[optind], strerror(-err));
	qcow2_image_close(img);
	return err ? 1 : 0;
}
