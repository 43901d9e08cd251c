/* block/qcow2: the qcow2 image format (version 2 and 3) behind
 * block/blk_backend.h. Internal to block/.
 *
 * An opened disk is a chain of images: the top qcow2 image, then its
 * backing files (qcow2 or raw), each an struct qcow2_image. Guest data
 * moves through one io_uring owned by the device (qcow2_io.c); metadata
 * (header, L1, L2 tables, refcounts) lives in memory with the L2 tables
 * in a cache (qcow2_cache.c).
 *
 * Crash safety comes from a strictly ordered write path, no lazy
 * refcounts and no dirty bit (qcow2_write.c says how): after a crash an
 * image may leak clusters, never point at one it does not own. */
#ifndef LQ_BLOCK_QCOW2_H
#define LQ_BLOCK_QCOW2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "block/blk_backend.h"

#define QCOW2_MAGIC "QFI\xfb"
#define QCOW2_MAX_CHAIN 16               /* backing files below the top image */
#define QCOW2_MIN_CLUSTER_BITS 9
#define QCOW2_MAX_CLUSTER_BITS 21
#define QCOW2_MAX_L1_ENTRIES (32u << 20) / 8 /* qemu's limit: a 32 MiB L1 */
#define QCOW2_MAX_REFTABLE_BYTES (8u << 20)
#define QCOW2_HEADER_V2_LEN 72
#define QCOW2_HEADER_V3_LEN 104
#define QCOW2_CACHE_BYTES (4u << 20)     /* L2 tables cached per image */

/* Incompatible feature bits. */
#define QCOW2_INCOMPAT_DIRTY (1ULL << 0)
#define QCOW2_INCOMPAT_CORRUPT (1ULL << 1)
#define QCOW2_INCOMPAT_DATA_FILE (1ULL << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ULL << 3)
#define QCOW2_INCOMPAT_EXTL2 (1ULL << 4)

/* L1 / L2 entry bits. */
#define QCOW2_OFLAG_COPIED (1ULL << 63)
#define QCOW2_OFLAG_COMPRESSED (1ULL << 62)
#define QCOW2_OFLAG_ZERO 1ULL
#define QCOW2_OFFSET_MASK 0x00fffffffffffe00ULL /* bits 9..55 */
#define QCOW2_L1_RESERVED 0x7f000000000001ffULL
#define QCOW2_L2_RESERVED 0x3f000000000001feULL

enum qcow2_compression { QCOW2_COMPRESS_ZLIB = 0, QCOW2_COMPRESS_ZSTD = 1 };

struct qcow2_header {
	uint32_t version;
	uint32_t cluster_bits;
	uint64_t size;                   /* virtual disk size, bytes */
	uint32_t l1_size;                /* entries */
	uint64_t l1_offset;
	uint64_t reftable_offset;
	uint32_t reftable_clusters;
	uint32_t nb_snapshots;
	uint64_t snapshots_offset;
	uint64_t incompat, compat, autoclear;
	uint32_t refcount_order;         /* refcount width is 1 << order bits */
	uint32_t header_length;
	uint8_t compression;             /* enum qcow2_compression */
	char backing_file[1024];         /* empty: none */
	char backing_fmt[32];            /* empty: probe */
};

/* Parses and validates the header and its extensions in buf, the first
 * bytes of a file of file_size bytes (at least the first cluster when
 * the file has one). On failure returns -EINVAL (-ENOTSUP for a feature
 * we do not implement) and writes a message naming the field in err. */
/* Whether an open qcow2 disk (blk_qcow2_open) has a backing file. */
struct blk_backend;
bool blk_qcow2_has_backing(const struct blk_backend *b);

int qcow2_header_parse(const uint8_t *buf, size_t len, uint64_t file_size,
		       struct qcow2_header *h, char *err, size_t errlen);

/* A set-associative LRU cache of L2 tables (host byte order). */
struct qcow2_l2_slot {
	uint64_t l2_offset;              /* 0: empty */
	uint64_t stamp;
	uint64_t *table;
};

struct qcow2_cache {
	struct qcow2_l2_slot *slots;
	unsigned sets, ways;
	uint64_t clock;
	uint64_t hits, misses;
};

struct qcow2_image {
	char *path;
	int fd;
	bool raw;                        /* a raw backing file: no metadata */
	bool read_only;
	uint64_t size;                   /* virtual size (raw: file size) */
	uint64_t file_size;              /* bytes, at open */
	struct qcow2_header h;
	uint32_t cluster_size;
	unsigned cluster_bits, l2_bits;  /* l2_bits: log2 of entries per L2 table */
	uint64_t *l1;                    /* host byte order */
	struct qcow2_cache cache;
	/* Refcounts (qcow2_refcount.c): the table, and blocks loaded on use. */
	uint64_t *reftable;
	uint32_t reftable_entries;
	uint8_t **refblocks;             /* by reftable index; NULL: not loaded */
	unsigned rb_bits;                /* log2 of refcounts per block */
	uint64_t end_cluster;            /* one past the last cluster in use */
	uint64_t free_hint;              /* no free cluster below this one */
	bool reftable_pending;           /* growing: the new table is not on disk yet */
	struct qcow2_image *backing;
	const struct qcow2_image *above; /* during open: loop detection */
	dev_t dev;
	ino_t ino;
};

/* Opens one image and, below it, its whole backing chain (depth counts
 * the images above; the chain is checked for loops by device+inode). */
int qcow2_image_open(const char *path, bool read_only, unsigned depth,
		     const struct qcow2_image *above, struct qcow2_image **out);
void qcow2_image_close(struct qcow2_image *img);

/* What a guest cluster of one image maps to. */
enum qcow2_kind { QCOW2_UNALLOCATED, QCOW2_ZERO, QCOW2_NORMAL, QCOW2_COMPRESSED };

struct qcow2_map {
	enum qcow2_kind kind;
	uint64_t entry;                  /* the raw L2 entry (0 when no L2 table) */
	uint64_t host;                   /* NORMAL: cluster; COMPRESSED: first byte */
	uint64_t csize;                  /* COMPRESSED: bytes to read */
	bool copied;                     /* NORMAL: refcount is exactly one */
};

/* Looks up guest cluster index gc; -EIO with a logged message when the
 * tables are corrupt (an offset unaligned or past the end). Loads the
 * L2 table on a miss with a synchronous pread (first version). */
int qcow2_map_get(struct qcow2_image *img, uint64_t gc, struct qcow2_map *m);
int qcow2_map_decode(struct qcow2_image *img, uint64_t entry, struct qcow2_map *m);
/* The L2 table for gc, created (zeroed, referenced from L1) if alloc. */
int qcow2_map_l2(struct qcow2_image *img, uint64_t gc, bool alloc, uint64_t **table);

int qcow2_cache_init(struct qcow2_cache *c, uint32_t table_bytes);
void qcow2_cache_free(struct qcow2_cache *c);
uint64_t *qcow2_cache_find(struct qcow2_cache *c, uint64_t l2_offset);
/* A slot for l2_offset, evicting the least recently used of its set. */
uint64_t *qcow2_cache_insert(struct qcow2_cache *c, uint64_t l2_offset);
void qcow2_cache_drop(struct qcow2_cache *c, uint64_t l2_offset);

/* Refcounts. get/set work in memory and load blocks on use; set writes
 * the entry to the file only when sync is true (otherwise the caller
 * writes it, see qcow2_refcount_entry). */
int qcow2_refcount_load(struct qcow2_image *img);
int qcow2_refcount_get(struct qcow2_image *img, uint64_t cluster, uint64_t *rc);
int qcow2_refcount_set(struct qcow2_image *img, uint64_t cluster, uint64_t rc, bool sync);
/* Where cluster's refcount lives in the file, and its big-endian bytes. */
int qcow2_refcount_entry(struct qcow2_image *img, uint64_t cluster, uint64_t *file_off,
			 unsigned *len, uint64_t *be_value);
/* Grows the refcount table at open so that it covers every cluster the
 * image can ever need: refcount blocks are then the only runtime growth. */
int qcow2_refcount_reserve(struct qcow2_image *img);
void qcow2_refcount_free(struct qcow2_image *img);

/* Allocates n contiguous clusters (refcount 1 in memory; the entries are
 * written when sync). Returns the host offset of the first one. */
int qcow2_alloc_clusters(struct qcow2_image *img, unsigned n, bool sync, uint64_t *host);

/* Decompresses one cluster of a compressed-cluster read. */
int qcow2_decompress(enum qcow2_compression type, const uint8_t *in, size_t in_len,
		     uint8_t *out, size_t out_len);

/* Synchronous metadata I/O (open, cache misses, rare allocations). */
int qcow2_pread(struct qcow2_image *img, void *buf, size_t len, uint64_t off);
int qcow2_pwrite(struct qcow2_image *img, const void *buf, size_t len, uint64_t off);
int qcow2_sync(struct qcow2_image *img);

/* Copying and zeroing over a (iov, cnt) list: common/iov.h.
 * A new array describing len bytes of iov after skip; NULL on ENOMEM. */
struct iovec *qcow2_iov_slice(const struct iovec *iov, unsigned cnt, uint64_t skip, uint64_t len,
			      unsigned *outcnt);

#endif
