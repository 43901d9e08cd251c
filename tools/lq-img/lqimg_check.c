/* tools/lq-img: check. Counts every reference the metadata makes (the
 * header, L1 table, refcount table and blocks, L2 tables, data and
 * compressed clusters), compares the counts with the stored refcounts,
 * and reports like qemu-img check: a cluster whose refcount is above
 * its references is leaked (space lost, data safe); one below, or an
 * offset outside the file, or a COPIED flag that disagrees with the
 * refcount, is corruption. --repair lowers the refcounts
 * of leaked clusters and nothing else.
 *
 * Exit: 0 clean, 1 the check could not run, 2 corruption, 3 leaks only. */
#include "tools/lq-img/lqimg.h"

#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct check {
	struct qcow2_image *img;
	uint32_t *ref;                     /* references per cluster of the file */
	uint64_t nclusters;
	uint64_t errors, leaks, leaked_fixed;
	uint64_t *table;                   /* one L2 table */
};

/* One reference to [off, off + len) of the file. */
static void check_ref(struct check *c, uint64_t off, uint64_t len, const char *what)
{
	uint64_t first = off >> c->img->cluster_bits, last;

	if (!len)
		return;
	last = (off + len - 1) >> c->img->cluster_bits;
	if (last >= c->nclusters) {
		printf("ERROR %s at offset %#llx is outside the image file\n", what,
		       (unsigned long long)off);
		c->errors++;
		return;
	}
	for (uint64_t k = first; k <= last; k++)
		c->ref[k]++;
}

static int check_l2(struct check *c, uint64_t l1_index, uint64_t l2_off)
{
	struct qcow2_image *img = c->img;
	uint64_t n = img->cluster_size / 8;
	struct qcow2_map m;
	int err = qcow2_pread(img, c->table, img->cluster_size, l2_off);

	if (err)
		return err;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t e = be64toh(c->table[i]);

		if (!e)
			continue;
		if (qcow2_map_decode(img, e, &m)) {
			printf("ERROR L2 entry %llu of L1 entry %llu (%#llx) is invalid\n",
			       (unsigned long long)i, (unsigned long long)l1_index, (unsigned long long)e);
			c->errors++;
			continue;
		}
		if (m.kind == QCOW2_COMPRESSED)
			check_ref(c, m.host, m.csize, "compressed cluster");
		else if (m.host)
			check_ref(c, m.host, img->cluster_size, "data cluster");
	}
	return 0;
}

static int check_references(struct check *c)
{
	struct qcow2_image *img = c->img;
	const struct qcow2_header *h = &img->h;
	int err;

	check_ref(c, 0, img->cluster_size, "header");
	check_ref(c, h->l1_offset, (uint64_t)h->l1_size * 8, "L1 table");
	check_ref(c, h->reftable_offset, (uint64_t)h->reftable_clusters << img->cluster_bits,
		  "refcount table");
	for (uint64_t i = 0; i < img->reftable_entries; i++)
		check_ref(c, img->reftable[i], img->reftable[i] ? img->cluster_size : 0,
			  "refcount block");
	for (uint64_t i = 0; i < h->l1_size; i++) {
		uint64_t l2 = img->l1[i] & QCOW2_OFFSET_MASK;

		if (!l2)
			continue;
		check_ref(c, l2, img->cluster_size, "L2 table");
		err = check_l2(c, i, l2);
		if (err)
			return err;
	}
	return 0;
}

/* Stored refcounts against references, cluster by cluster. */
static int check_compare(struct check *c, bool repair)
{
	for (uint64_t k = 0; k < c->nclusters; k++) {
		uint64_t rc;
		int err = qcow2_refcount_get(c->img, k, &rc);

		if (err)
			return err;
		if (rc == c->ref[k])
			continue;
		if (rc > c->ref[k] && repair) {
			err = qcow2_refcount_set(c->img, k, c->ref[k], true);
			if (err)
				return err;
			printf("Repairing cluster %llu refcount=%llu reference=%u\n",
			       (unsigned long long)k, (unsigned long long)rc, c->ref[k]);
			c->leaked_fixed++;
			continue;
		}
		printf("%s cluster %llu refcount=%llu reference=%u\n",
		       rc > c->ref[k] ? "Leaked" : "ERROR", (unsigned long long)k,
		       (unsigned long long)rc, c->ref[k]);
		if (rc > c->ref[k])
			c->leaks++;
		else
			c->errors++;
	}
	return repair && c->leaked_fixed ? qcow2_sync(c->img) : 0;
}

/* The COPIED flag says "refcount exactly 1, write in place": wrong in
 * either direction it is corruption (a write could land in a shared
 * cluster, or copy one it owns). Compressed entries never carry it. */
static void check_copied_one(struct check *c, uint64_t entry, uint64_t host, const char *what)
{
	uint64_t rc = 0;

	qcow2_refcount_get(c->img, host >> c->img->cluster_bits, &rc);
	if ((rc == 1) == !!(entry & QCOW2_OFLAG_COPIED))
		return;
	printf("ERROR OFLAG_COPIED %s: entry=%#llx refcount=%llu\n", what,
	       (unsigned long long)entry, (unsigned long long)rc);
	c->errors++;
}

static int check_copied(struct check *c)
{
	struct qcow2_image *img = c->img;
	struct qcow2_map m;
	int err;

	for (uint64_t i = 0; i < img->h.l1_size; i++) {
		uint64_t l2 = img->l1[i] & QCOW2_OFFSET_MASK;

		if (!l2 || (l2 >> img->cluster_bits) >= c->nclusters)
			continue;
		check_copied_one(c, img->l1[i], l2, "L2 table");
		err = qcow2_pread(img, c->table, img->cluster_size, l2);
		if (err)
			return err;
		for (uint64_t k = 0; k < img->cluster_size / 8; k++) {
			uint64_t e = be64toh(c->table[k]);

			if (!e || qcow2_map_decode(img, e, &m))
				continue;
			if (m.kind == QCOW2_COMPRESSED && (e & QCOW2_OFLAG_COPIED)) {
				printf("ERROR compressed cluster entry %#llx has OFLAG_COPIED set\n",
				       (unsigned long long)e);
				c->errors++;
			} else if (m.kind != QCOW2_COMPRESSED && m.host &&
				   (m.host >> img->cluster_bits) < c->nclusters) {
				check_copied_one(c, e, m.host, "data cluster");
			}
		}
	}
	return 0;
}

static int check_run(struct check *c, bool repair)
{
	struct qcow2_image *img = c->img;
	int err;

	if (img->h.nb_snapshots) {
		fprintf(stderr, "lq-img check: '%s' has internal snapshots, which check does not cover yet\n",
			img->path);
		return -ENOTSUP;
	}
	if (!img->reftable) {
		err = qcow2_refcount_load(img);
		if (err)
			return err;
	}
	c->nclusters = img->end_cluster;
	c->ref = calloc(c->nclusters ? c->nclusters : 1, sizeof(*c->ref));
	c->table = malloc(img->cluster_size);
	if (!c->ref || !c->table)
		return -ENOMEM;
	err = check_references(c);
	if (!err)
		err = check_compare(c, repair);
	return err ? err : check_copied(c);
}

static int check_report(const struct check *c)
{
	if (c->leaked_fixed)
		printf("The following inconsistencies were found and repaired:\n\n    %llu leaked clusters\n\n",
		       (unsigned long long)c->leaked_fixed);
	if (c->errors) {
		printf("\n%llu errors were found on the image.\n"
		       "Data may be corrupted, or further writes to the image may corrupt it.\n",
		       (unsigned long long)c->errors);
		if (c->leaks)
			printf("\n%llu leaked clusters were found on the image.\n", (unsigned long long)c->leaks);
		return 2;
	}
	if (c->leaks) {
		printf("\n%llu leaked clusters were found on the image.\n"
		       "This means waste of disk space, but no harm to data.\n"
		       "Run 'lq-img check --repair' to reclaim them.\n", (unsigned long long)c->leaks);
		return 3;
	}
	printf("No errors were found on the image.\n");
	return 0;
}

int lqimg_check(int argc, char **argv)
{
	static const struct option longs[] = { { "repair", no_argument, NULL, 'r' }, { 0 } };
	struct check c = { 0 };
	bool repair = false;
	int opt, err, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		if (opt != 'r')
			return 1;
		repair = true;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "lq-img check: expected one FILE\n");
		return 1;
	}
	err = qcow2_image_open(argv[optind], !repair, 0, NULL, &c.img);
	if (err) {
		/* The header or L1 table failed validation: that is corruption. */
		fprintf(stderr, "lq-img check: cannot open '%s': %s\n", argv[optind], strerror(-err));
		return err == -EINVAL || err == -EIO ? 2 : 1;
	}
	if (c.img->raw) {
		fprintf(stderr, "lq-img check: '%s' is a raw image: nothing to check\n", argv[optind]);
		qcow2_image_close(c.img);
		return 1;
	}
	err = check_run(&c, repair);
	rc = err ? 1 : check_report(&c);
	if (err)
		fprintf(stderr, "lq-img check: '%s': check not completed: %s\n", argv[optind], strerror(-err));
	free(c.ref);
	free(c.table);
	qcow2_image_close(c.img);
	return rc;
}
