/* tools/lq-img: info. What qemu-img info says, with the same JSON field
 * names so scripts written for one read the other; --backing-chain
 * gives one entry per image of the chain (a JSON array with --json). */
#include "tools/lq-img/lqimg.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *info_compression(const struct qcow2_header *h)
{
	return h->compression == QCOW2_COMPRESS_ZSTD ? "zstd" : "zlib";
}

/* One image of an opened chain as a JSON object (qemu-img's names). */
static cJSON *info_json(const struct qcow2_image *img)
{
	cJSON *o = cJSON_CreateObject(), *fs, *d;
	const struct qcow2_header *h = &img->h;
	char full[4096];

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "virtual-size", (double)img->size);
	cJSON_AddStringToObject(o, "filename", img->path);
	if (!img->raw)
		cJSON_AddNumberToObject(o, "cluster-size", img->cluster_size);
	cJSON_AddStringToObject(o, "format", img->raw ? "raw" : "qcow2");
	cJSON_AddNumberToObject(o, "actual-size", (double)lqimg_disk_usage(img->path));
	if (img->raw) {
		cJSON_AddBoolToObject(o, "dirty-flag", false);
		return o;
	}
	fs = cJSON_AddObjectToObject(o, "format-specific");
	cJSON_AddStringToObject(fs, "type", "qcow2");
	d = cJSON_AddObjectToObject(fs, "data");
	cJSON_AddStringToObject(d, "compat", h->version == 2 ? "0.10" : "1.1");
	cJSON_AddStringToObject(d, "compression-type", info_compression(h));
	if (h->version == 3)
		cJSON_AddBoolToObject(d, "lazy-refcounts", h->compat & 1);
	cJSON_AddNumberToObject(d, "refcount-bits", 1u << h->refcount_order);
	if (h->version == 3) {
		cJSON_AddBoolToObject(d, "corrupt", h->incompat & QCOW2_INCOMPAT_CORRUPT);
		cJSON_AddBoolToObject(d, "extended-l2", h->incompat & QCOW2_INCOMPAT_EXTL2);
	}
	if (h->backing_file[0]) {
		if (lqimg_backing_path(img->path, h->backing_file, full, sizeof(full)))
			snprintf(full, sizeof(full), "%s", h->backing_file);
		cJSON_AddStringToObject(o, "full-backing-filename", full);
		cJSON_AddStringToObject(o, "backing-filename", h->backing_file);
		if (h->backing_fmt[0])
			cJSON_AddStringToObject(o, "backing-filename-format", h->backing_fmt);
	}
	cJSON_AddBoolToObject(o, "dirty-flag", h->incompat & QCOW2_INCOMPAT_DIRTY);
	return o;
}

/* Without --backing-chain the top object still names every image below
 * it, in order (a field qemu-img does not have; its own names untouched). */
static void info_json_chain(cJSON *o, const struct qcow2_image *top)
{
	cJSON *arr, *e;

	if (!o || !top->backing)
		return;
	arr = cJSON_AddArrayToObject(o, "backing-chain");
	for (const struct qcow2_image *i = top->backing; arr && i; i = i->backing) {
		e = cJSON_CreateObject();
		if (!e)
			return;
		cJSON_AddStringToObject(e, "filename", i->path);
		cJSON_AddStringToObject(e, "format", i->raw ? "raw" : "qcow2");
		cJSON_AddNumberToObject(e, "virtual-size", (double)i->size);
		cJSON_AddItemToArray(arr, e);
	}
}

static void info_human(const struct qcow2_image *img)
{
	const struct qcow2_header *h = &img->h;
	uint64_t incompat = h->incompat;

	printf("image: %s\n", img->path);
	printf("file format: %s\n", img->raw ? "raw" : "qcow2");
	printf("virtual size: %llu bytes\n", (unsigned long long)img->size);
	printf("disk size: %llu bytes\n", (unsigned long long)lqimg_disk_usage(img->path));
	if (img->raw)
		return;
	printf("cluster_size: %u\n", img->cluster_size);
	if (h->backing_file[0]) {
		printf("backing file: %s\n", h->backing_file);
		if (h->backing_fmt[0])
			printf("backing file format: %s\n", h->backing_fmt);
	}
	printf("version: %u\n", h->version);
	printf("refcount bits: %u\n", 1u << h->refcount_order);
	printf("compression type: %s\n", info_compression(h));
	printf("flags: dirty=%s corrupt=%s\n", incompat & QCOW2_INCOMPAT_DIRTY ? "yes" : "no",
	       incompat & QCOW2_INCOMPAT_CORRUPT ? "yes" : "no");
}

static int info_print(struct qcow2_image *top, bool json, bool chain)
{
	cJSON *arr = NULL, *o;
	char *s;

	if (!json) {
		if (top->backing && !chain) {
			printf("backing chain:");
			for (const struct qcow2_image *i = top; i; i = i->backing)
				printf(" %s%s (%s)", i == top ? "" : "-> ", i->path, i->raw ? "raw" : "qcow2");
			printf("\n");
		}
		for (const struct qcow2_image *i = top; i; i = chain ? i->backing : NULL) {
			info_human(i);
			if (chain && i->backing)
				printf("\n");
		}
		return 0;
	}
	if (chain) {
		arr = cJSON_CreateArray();
		for (const struct qcow2_image *i = top; arr && i; i = i->backing)
			cJSON_AddItemToArray(arr, info_json(i));
		o = arr;
	} else {
		o = info_json(top);
		info_json_chain(o, top);
	}
	s = o ? cJSON_Print(o) : NULL;
	cJSON_Delete(o);
	if (!s) {
		fprintf(stderr, "lq-img info: out of memory\n");
		return 1;
	}
	printf("%s\n", s);
	free(s);
	return 0;
}

int lqimg_info(int argc, char **argv)
{
	static const struct option longs[] = { { "json", no_argument, NULL, 'j' },
					       { "backing-chain", no_argument, NULL, 'c' },
					       { 0 } };
	bool json = false, chain = false;
	struct qcow2_image *img;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else if (c == 'c')
			chain = true;
		else
			return 1;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "lq-img info: expected one FILE\n");
		return 1;
	}
	if (lqimg_open(argv[optind], false, &img))
		return 1;
	rc = info_print(img, json, chain);
	qcow2_image_close(img);
	return rc;
}
