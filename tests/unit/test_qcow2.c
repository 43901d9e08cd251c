/* The qcow2 backend against the reference implementation: images made
 * by qemu-img / qemu-io read byte-identical through blk_open; after our
 * random writes, write-zeroes and discards, `qemu-img check` is clean and
 * `qemu-img convert -O raw` gives exactly the shadow copy we kept. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "block/blk_backend.h"
#include "block/qcow2_dev.h" /* white box: the chain-order counter */
#include "tests/unit/blk_test_util.h"

#define KIB 1024ULL
#define MIB (1024 * 1024ULL)

static int setup(void **state)
{
	(void)state;
	return bt_dir_make("lq-qcow2");
}

static int teardown(void **state)
{
	(void)state;
	return bt_dir_remove();
}

static int do_req(struct blk_backend *b, enum blk_op op, uint64_t off, void *buf, uint64_t len,
		  bool unmap)
{
	struct iovec iov = { buf, len };

	return bt_io(b, op, off, &iov, buf ? 1 : 0, len, unmap);
}

static struct blk_backend *open_disk(const char *path, bool ro)
{
	struct blk_open_opts o = { .format = BLK_FORMAT_QCOW2, .read_only = ro, .queue_depth = 32 };
	struct blk_backend *b = NULL;
	int err = blk_open(path, &o, &b);

	if (err)
		fail_msg("blk_open %s: %d", path, err);
	return b;
}

static uint8_t *slurp(const char *path, uint64_t *len)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc(st.st_size ? st.st_size : 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, st.st_size), st.st_size);
	close(fd);
	*len = (uint64_t)st.st_size;
	return buf;
}

/* Reads the whole disk through b in odd-sized chunks that straddle
 * clusters, with up to 8 requests in flight, into a new buffer. */
static uint8_t *read_all(struct blk_backend *b, uint64_t chunk)
{
	uint64_t size = blk_backend_size(b);
	uint8_t *buf = malloc(size);
	struct bt_req t[8];
	struct iovec iov[8][2];
	uint64_t off = 0;

	assert_non_null(buf);
	memset(buf, 0x5a, size);
	while (off < size) {
		int n = 0, before = bt_done;

		for (; n < 8 && off < size; n++) {
			uint64_t len = size - off < chunk ? size - off : chunk, half = len / 3;

			/* two iovecs so splits fall inside a buffer too */
			iov[n][0] = (struct iovec){ buf + off, half };
			iov[n][1] = (struct iovec){ buf + off + half, len - half };
			bt_req_init(&t[n], BLK_OP_READ, off, iov[n], 2, 0);
			assert_int_equal(blk_backend_submit(b, &t[n].req), 0);
			off += len;
		}
		bt_run_until(b, before + n);
		for (int i = 0; i < n; i++)
			assert_int_equal(t[i].result, 0);
	}
	return buf;
}

/* Our reading of img equals qemu-img's. */
static void assert_reads_like_qemu(const char *img, uint64_t chunk)
{
	struct blk_backend *b = open_disk(img, true);
	uint64_t len;
	uint8_t *want, *got;

	BT_SH("qemu-img convert -O raw %s %s", img, bt_path("want.raw"));
	want = slurp(bt_path("want.raw"), &len);
	assert_int_equal(blk_backend_size(b), len);
	got = read_all(b, chunk);
	for (uint64_t i = 0; i < len; i++)
		if (got[i] != want[i])
			fail_msg("%s: byte %llu: %#x, qemu-img says %#x", img, (unsigned long long)i,
				 got[i], want[i]);
	free(want);
	free(got);
	blk_backend_close(b);
}

/* A raw file of len bytes of a position-dependent, compressible pattern. */
static void make_raw(const char *path, uint64_t len, unsigned seed)
{
	uint8_t *buf = malloc(len);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	assert_non_null(buf);
	for (uint64_t i = 0; i < len; i++)
		buf[i] = (uint8_t)((i / 512) * 13 + seed + (i % 7));
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
	free(buf);
}

static int open_fmt(const char *path, enum blk_format fmt, struct blk_backend **b)
{
	struct blk_open_opts o = { .format = fmt, .read_only = true, .queue_depth = 8 };

	*b = NULL;
	return blk_open(path, &o, b);
}

/* Probing (format AUTO) and explicit formats: a probed qcow2 image may
 * not have a backing file (a guest could forge one on a raw disk). */
static void test_probe_raw_and_qcow2(void **state)
{
	struct blk_backend *b;

	(void)state;
	make_raw(bt_path("d.raw"), MIB, 1);
	BT_SH("qemu-img create -q -f qcow2 %s 3M", bt_path("d.qcow2"));
	BT_SH("qemu-img create -q -f qcow2 -b %s -F raw %s", bt_path("d.raw"), bt_path("o.qcow2"));
	assert_int_equal(open_fmt(bt_path("d.raw"), BLK_FORMAT_AUTO, &b), 0);
	assert_int_equal(blk_backend_size(b), MIB); /* the file itself */
	blk_backend_close(b);
	assert_int_equal(open_fmt(bt_path("d.qcow2"), BLK_FORMAT_AUTO, &b), 0);
	assert_int_equal(blk_backend_size(b), 3 * MIB); /* the virtual size */
	blk_backend_close(b);
	assert_int_equal(open_fmt(bt_path("o.qcow2"), BLK_FORMAT_AUTO, &b), -EPERM);
	assert_null(b);
	assert_int_equal(open_fmt(bt_path("o.qcow2"), BLK_FORMAT_QCOW2, &b), 0);
	assert_int_equal(blk_backend_size(b), MIB);
	blk_backend_close(b);
	assert_int_equal(open_fmt(bt_path("d.qcow2"), BLK_FORMAT_RAW, &b), 0);
	assert_true(blk_backend_size(b) < 3 * MIB); /* the header as data: the file's size */
	blk_backend_close(b);
	assert_int_equal(open_fmt(bt_path("d.raw"), BLK_FORMAT_QCOW2, &b), -EINVAL);
}

static void fill_with_qemu_io(const char *img, const char *fmt)
{
	BT_SH("qemu-io -f %s -c 'write -P 0xab 0 1M' -c 'write -P 0xcd 1572864 300k' "
	   "-c 'write -P 0x11 3145728 1536' -c 'write -z 2097152 65536' -c 'write -P 0x22 4193792 512' %s >/dev/null",
	   fmt, img);
}

static void test_read_cluster_sizes(void **state)
{
	static const char *const sizes[] = { "512", "65536", "2M" };

	(void)state;
	for (unsigned i = 0; i < 3; i++) {
		BT_SH("qemu-img create -q -f qcow2 -o cluster_size=%s %s 4M", sizes[i], bt_path("c.qcow2"));
		fill_with_qemu_io(bt_path("c.qcow2"), "qcow2");
		assert_reads_like_qemu(bt_path("c.qcow2"), 100000);
	}
}

static void test_read_v2(void **state)
{
	(void)state;
	make_raw(bt_path("base.raw"), 4 * MIB, 3);
	BT_SH("qemu-img create -q -f qcow2 -o compat=0.10 -b base.raw -F raw %s", bt_path("v2.qcow2"));
	fill_with_qemu_io(bt_path("v2.qcow2"), "qcow2");
	assert_reads_like_qemu(bt_path("v2.qcow2"), 65536 + 512);
}

/* raw <- qcow2 (512 b clusters) <- qcow2: relative names, a backing file
 * smaller than the overlay (zeros past its end), zero clusters over data. */
static void test_read_backing_chain(void **state)
{
	(void)state;
	make_raw(bt_path("base.raw"), 3 * MIB + 1024, 5);
	BT_SH("qemu-img create -q -f qcow2 -o cluster_size=512 -b base.raw -F raw %s 5M", bt_path("mid.qcow2"));
	BT_SH("qemu-io -f qcow2 -c 'write -P 0x33 100000 200000' -c 'write -z 1M 4096' %s >/dev/null",
	   bt_path("mid.qcow2"));
	BT_SH("cd %s && qemu-img create -q -f qcow2 -b mid.qcow2 -F qcow2 top.qcow2 8M", bt_dir());
	BT_SH("qemu-io -f qcow2 -c 'write -P 0x44 150000 70000' -c 'write -z 2M 64k' %s >/dev/null",
	   bt_path("top.qcow2"));
	assert_reads_like_qemu(bt_path("top.qcow2"), 77777);
	/* no backing format (the extension renamed to an unknown one): probed */
	BT_SH("cd %s && qemu-img create -q -f qcow2 -b mid.qcow2 -F qcow2 top2.qcow2 8M && python3 -c \""
	   "d=open('top2.qcow2','rb').read(); i=d.index(bytes.fromhex('e2792aca'));"
	   "open('top2.qcow2','r+b').write(d[:i]+bytes.fromhex('0000abcd')+d[i+4:])\"", bt_dir());
	assert_reads_like_qemu(bt_path("top2.qcow2"), 1 * MIB);
}

static void test_read_compressed(void **state)
{
	(void)state;
	make_raw(bt_path("src.raw"), 3 * MIB + 4096, 9);
	BT_SH("qemu-img convert -q -c -O qcow2 %s %s", bt_path("src.raw"), bt_path("z.qcow2"));
	assert_reads_like_qemu(bt_path("z.qcow2"), 100000);
	BT_SH("qemu-img convert -q -c -O qcow2 -o compression_type=zstd,cluster_size=4096 %s %s",
	   bt_path("src.raw"), bt_path("zstd.qcow2"));
	assert_reads_like_qemu(bt_path("zstd.qcow2"), 100000);
	BT_SH("qemu-img convert -q -c -O qcow2 -o cluster_size=2M %s %s", bt_path("src.raw"), bt_path("z2m.qcow2"));
	assert_reads_like_qemu(bt_path("z2m.qcow2"), 3 * MIB);
}

/* A small PRNG so a failure is reproducible. */
static uint64_t rng_state;

static uint64_t rnd(uint64_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state % n;
}

struct workload {
	const char *img;
	uint64_t cluster;
	bool v2_backing;                 /* discards of whole clusters keep their data */
	int rounds;
};

/* What our backend does to the shadow for a discard of [off, off+len):
 * whole clusters read as zeros afterwards (except on version 2 images
 * with a backing file, where discard does nothing), partial ones keep. */
static void shadow_discard(const struct workload *w, uint8_t *shadow, uint64_t size,
			   uint64_t off, uint64_t len)
{
	if (w->v2_backing)
		return;
	for (uint64_t c = off / w->cluster * w->cluster; c < off + len; c += w->cluster) {
		uint64_t end = c + w->cluster < size ? c + w->cluster : size;

		if (c >= off && end <= off + len)
			memset(shadow + c, 0, end - c);
	}
}

static bool overlaps(const uint64_t *o, const uint64_t *l, int n, uint64_t off, uint64_t len)
{
	for (int i = 0; i < n; i++)
		if (off < o[i] + l[i] && o[i] < off + len)
			return true;
	return false;
}

/* Batches of disjoint writes, zero-writes, discards and a flush, in
 * flight together; then our reads, qemu-img check and convert agree
 * with the shadow. */
static void run_workload(const struct workload *w)
{
	struct blk_backend *b = open_disk(w->img, false);
	uint64_t size = blk_backend_size(b), len;
	uint8_t *shadow = read_all(b, 1 * MIB), *got, *data;
	enum { BATCH = 6 };
	struct bt_req t[BATCH + 1];
	struct iovec iov[BATCH];
	uint64_t o[BATCH], l[BATCH];

	data = malloc(BATCH * 256 * KIB);
	assert_non_null(data);
	for (int round = 0; round < w->rounds; round++) {
		int before = bt_done, n = 0;

		for (; n < BATCH; n++) {
			uint64_t kind = rnd(10);
			/* big zeroings now and then: most of what is written stays */
			uint64_t max = kind < 6 ? 200 * KIB : rnd(4) ? 64 * KIB : 3 * w->cluster + 1;
			uint8_t *buf = data + n * 256 * KIB;

			do {
				/* sector-aligned, often cluster-aligned */
				len = (rnd(max / 512) + 1) * 512;
				o[n] = (rnd(2) ? rnd(size / w->cluster) * w->cluster : rnd(size / 512) * 512);
				if (o[n] + len > size)
					len = size - o[n];
				l[n] = len;
			} while (overlaps(o, l, n, o[n], len));
			bt_req_init(&t[n], BLK_OP_READ, o[n], NULL, 0, len); /* op set below */
			if (kind < 6) {
				for (uint64_t i = 0; i < len; i++)
					buf[i] = (uint8_t)(round * 31 + n * 7 + i / 512 + 1);
				memcpy(shadow + o[n], buf, len);
				iov[n] = (struct iovec){ buf, len };
				t[n].req.op = BLK_OP_WRITE;
				t[n].req.iov = &iov[n];
				t[n].req.iovcnt = 1;
			} else if (kind < 8) {
				t[n].req.op = BLK_OP_WRITE_ZEROES;
				t[n].req.unmap = rnd(2);
				memset(shadow + o[n], 0, len);
			} else {
				t[n].req.op = BLK_OP_DISCARD;
				shadow_discard(w, shadow, size, o[n], len);
			}
			assert_int_equal(blk_backend_submit(b, &t[n].req), 0);
		}
		if (rnd(3) == 0) {
			bt_req_init(&t[n], BLK_OP_FLUSH, 0, NULL, 0, 0);
			assert_int_equal(blk_backend_submit(b, &t[n].req), 0);
			n++;
		}
		bt_run_until(b, before + n);
		for (int i = 0; i < n; i++)
			if (t[i].result)
				fail_msg("round %d request %d (op %d at %llu): %d", round, i, t[i].req.op,
					 (unsigned long long)t[i].req.offset, t[i].result);
	}
	got = read_all(b, 123 * 512);
	for (uint64_t i = 0; i < size; i++)
		if (got[i] != shadow[i])
			fail_msg("%s: byte %llu reads %#x, wrote %#x", w->img, (unsigned long long)i, got[i],
				 shadow[i]);
	free(got);
	/* Each allocation's refcount, data, fdatasync and L2 entry ran in that order. */
	assert_int_equal(((struct qcow2_dev *)b)->chain_misordered, 0);
	blk_backend_close(b);
	if (bt_sh("qemu-img check -q %s", w->img)) {
		bt_sh("qemu-img check %s >&2", w->img); /* the details, on the test's log */
		fail_msg("qemu-img check %s is not clean", w->img);
	}
	BT_SH("qemu-img convert -O raw %s %s", w->img, bt_path("out.raw"));
	got = slurp(bt_path("out.raw"), &len);
	assert_int_equal(len, size);
	for (uint64_t i = 0; i < size; i++)
		if (got[i] != shadow[i])
			fail_msg("%s: qemu-img reads byte %llu as %#x, we wrote %#x", w->img,
				 (unsigned long long)i, got[i], shadow[i]);
	free(got);
	free(shadow);
	free(data);
}

static void test_write_plain(void **state)
{
	(void)state;
	rng_state = 0x1234567;
	BT_SH("qemu-img create -q -f qcow2 %s 16M", bt_path("w.qcow2"));
	run_workload(&(struct workload){ bt_path("w.qcow2"), 65536, false, 60 });
}

static void test_write_over_raw_backing(void **state)
{
	(void)state;
	rng_state = 0x2345678;
	make_raw(bt_path("base.raw"), 6 * MIB, 7);
	BT_SH("qemu-img create -q -f qcow2 -b base.raw -F raw %s 8M", bt_path("w.qcow2"));
	fill_with_qemu_io(bt_path("w.qcow2"), "qcow2");
	run_workload(&(struct workload){ bt_path("w.qcow2"), 65536, false, 60 });
}

/* 512-byte clusters: refcount blocks and L2 tables are allocated all the time. */
static void test_write_small_clusters(void **state)
{
	(void)state;
	rng_state = 0x3456789;
	make_raw(bt_path("base.raw"), 2 * MIB, 11);
	BT_SH("qemu-img convert -q -O qcow2 -o cluster_size=4096 %s %s", bt_path("base.raw"), bt_path("mid.qcow2"));
	BT_SH("cd %s && qemu-img create -q -f qcow2 -o cluster_size=512 -b mid.qcow2 -F qcow2 w.qcow2 3M", bt_dir());
	run_workload(&(struct workload){ bt_path("w.qcow2"), 512, false, 80 });
}

/* Overwriting compressed clusters moves them and frees the old ones. */
static void test_write_over_compressed(void **state)
{
	(void)state;
	rng_state = 0x456789a;
	make_raw(bt_path("src.raw"), 8 * MIB, 13);
	BT_SH("qemu-img convert -q -c -O qcow2 %s %s", bt_path("src.raw"), bt_path("w.qcow2"));
	run_workload(&(struct workload){ bt_path("w.qcow2"), 65536, false, 60 });
}

static void test_write_v2_backing(void **state)
{
	(void)state;
	rng_state = 0x56789ab;
	make_raw(bt_path("base.raw"), 4 * MIB, 17);
	BT_SH("qemu-img create -q -f qcow2 -o compat=0.10 -b base.raw -F raw %s", bt_path("w.qcow2"));
	run_workload(&(struct workload){ bt_path("w.qcow2"), 65536, true, 50 });
}

static void test_write_2m_clusters(void **state)
{
	(void)state;
	rng_state = 0x6789abc;
	make_raw(bt_path("base.raw"), 5 * MIB, 19);
	BT_SH("qemu-img create -q -f qcow2 -o cluster_size=2M -b base.raw -F raw %s 9M", bt_path("w.qcow2"));
	run_workload(&(struct workload){ bt_path("w.qcow2"), 2 * MIB, false, 8 });
}

/* 8- and 64-bit refcounts: other entry widths in the chain's refcount
 * write; and an image made with lazy refcounts. */
static void test_write_refcount_widths(void **state)
{
	(void)state;
	rng_state = 0x789abcd;
	BT_SH("qemu-img create -q -f qcow2 -o refcount_bits=8 %s 4M", bt_path("w.qcow2"));
	run_workload(&(struct workload){ bt_path("w.qcow2"), 65536, false, 20 });
	BT_SH("qemu-img create -q -f qcow2 -o refcount_bits=64,cluster_size=4096 %s 4M", bt_path("w.qcow2"));
	run_workload(&(struct workload){ bt_path("w.qcow2"), 4096, false, 20 });
	/* qemu's lazy refcounts (a compatible feature): cleanly closed, so usable */
	BT_SH("qemu-img create -q -f qcow2 -o lazy_refcounts=on %s 4M", bt_path("w.qcow2"));
	BT_SH("qemu-io -c 'write -P 0x5c 100k 300k' %s >/dev/null", bt_path("w.qcow2"));
	run_workload(&(struct workload){ bt_path("w.qcow2"), 65536, false, 20 });
}

/* A writable open grows a too-small refcount table once (512-byte
 * clusters: qemu-img's one-cluster table covers 8 MiB of file), and the
 * image stays consistent while clusters far apart are allocated. */
static void test_write_reftable_growth(void **state)
{
	static uint8_t buf[4096];
	struct blk_backend *b;
	uint64_t len;
	uint8_t *got;

	(void)state;
	BT_SH("qemu-img create -q -f qcow2 -o cluster_size=512 %s 64M", bt_path("g.qcow2"));
	b = open_disk(bt_path("g.qcow2"), false);
	for (int i = 0; i < 64; i++) {
		memset(buf, i + 1, sizeof(buf));
		assert_int_equal(do_req(b, BLK_OP_WRITE, (uint64_t)i * MIB + 512 * i, buf, sizeof(buf), false), 0);
	}
	blk_backend_close(b);
	assert_int_equal(bt_sh("qemu-img check -q %s", bt_path("g.qcow2")), 0);
	BT_SH("test $(od -An -tu1 -j56 -N4 %s | awk '{print $1*16777216+$2*65536+$3*256+$4}') -gt 1",
	   bt_path("g.qcow2")); /* reftable_clusters grew */
	BT_SH("qemu-img convert -O raw %s %s", bt_path("g.qcow2"), bt_path("g.raw"));
	got = slurp(bt_path("g.raw"), &len);
	assert_int_equal(len, 64 * MIB);
	for (int i = 0; i < 64; i++) {
		uint64_t at = (uint64_t)i * MIB + 512 * i;

		assert_int_equal(got[at], i + 1);
		assert_int_equal(got[at + 4095], i + 1);
		assert_int_equal(got[at + 4096], 0);
	}
	free(got);
}

/* Writes then reopens (our own images, reread from disk). */
static void test_write_reopen(void **state)
{
	static uint8_t buf[3 * 65536], back[sizeof(buf)];
	struct blk_backend *b;

	(void)state;
	BT_SH("qemu-img create -q -f qcow2 %s 2G", bt_path("r.qcow2"));
	b = open_disk(bt_path("r.qcow2"), false);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 3 + 1);
	/* far apart: several L2 tables; one past 1 GiB */
	assert_int_equal(do_req(b, BLK_OP_WRITE, 1000 * 512, buf, sizeof(buf), false), 0);
	assert_int_equal(do_req(b, BLK_OP_WRITE, 1536 * MIB + 512, buf, sizeof(buf), false), 0);
	assert_int_equal(do_req(b, BLK_OP_FLUSH, 0, NULL, 0, false), 0);
	assert_int_equal(do_req(b, BLK_OP_WRITE, 2 * 1024 * MIB - sizeof(buf), buf, sizeof(buf), false), 0);
	assert_int_equal(do_req(b, BLK_OP_WRITE, 2 * 1024 * MIB - 512, buf, 1024, false), -EINVAL);
	blk_backend_close(b);
	assert_int_equal(bt_sh("qemu-img check -q %s", bt_path("r.qcow2")), 0);
	b = open_disk(bt_path("r.qcow2"), true);
	assert_int_equal(do_req(b, BLK_OP_READ, 1536 * MIB + 512, back, sizeof(back), false), 0);
	assert_memory_equal(buf, back, sizeof(buf));
	assert_int_equal(do_req(b, BLK_OP_WRITE, 0, buf, 512, false), -EROFS);
	blk_backend_close(b);
	BT_SH("qemu-io -f qcow2 -c 'read -P 0x01 2147287040 1' %s | grep -q 'read 1/1'", bt_path("r.qcow2"));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_probe_raw_and_qcow2), T(test_read_cluster_sizes), T(test_read_v2),
		T(test_read_backing_chain), T(test_read_compressed), T(test_write_plain),
		T(test_write_over_raw_backing), T(test_write_small_clusters),
		T(test_write_over_compressed), T(test_write_v2_backing), T(test_write_2m_clusters),
		T(test_write_refcount_widths), T(test_write_reftable_growth), T(test_write_reopen),
	};

	if (bt_sh("qemu-img --version >/dev/null 2>&1")) {
		fprintf(stderr, "qemu-img not found: run tools/setup\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
