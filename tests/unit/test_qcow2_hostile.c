/* Hostile qcow2 images: crafted headers and tables give a clear error
 * that names what is wrong (checked here word for word), never a crash,
 * hang or read out of bounds; random corruption of the metadata of a
 * real image is survived (run it under ASan to see the bounds). */
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
#include <unistd.h>

#include "block/blk_backend.h"
#include "tests/unit/blk_test_util.h"

static int setup(void **state)
{
	(void)state;
	return bt_dir_make("lq-qcow2h");
}

static int teardown(void **state)
{
	(void)state;
	return bt_dir_remove();
}

static uint64_t get_be(const char *path, uint64_t off, unsigned bytes)
{
	uint8_t b[8];
	uint64_t v = 0;
	int fd = open(path, O_RDONLY);

	assert_int_equal(pread(fd, b, bytes, (off_t)off), (ssize_t)bytes);
	close(fd);
	for (unsigned i = 0; i < bytes; i++)
		v = v << 8 | b[i];
	return v;
}

static void put_be(const char *path, uint64_t off, unsigned bytes, uint64_t v)
{
	uint8_t b[8];
	int fd = open(path, O_WRONLY);

	for (unsigned i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
	assert_int_equal(pwrite(fd, b, bytes, (off_t)off), (ssize_t)bytes);
	close(fd);
}

/* Opens path with stderr captured; returns the error and the log. */
static int open_capture(const char *path, bool ro, struct blk_backend **b, char *log, size_t len)
{
	struct blk_open_opts o = { .format = BLK_FORMAT_QCOW2, .read_only = ro, .queue_depth = 16 };
	int saved = dup(2), fd = open(bt_path("stderr.txt"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	ssize_t n;
	int err;

	fflush(stderr);
	dup2(fd, 2);
	*b = NULL;
	err = blk_open(path, &o, b);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, log, len - 1, 0);
	log[n > 0 ? n : 0] = 0;
	close(fd);
	fprintf(stderr, "%s", log); /* still on the test's log */
	return err;
}

/* One request, driven to completion with stderr captured. */
static int io_capture(struct blk_backend *b, enum blk_op op, uint64_t off, uint64_t len,
		      char *log, size_t loglen)
{
	static uint8_t buf[1 << 20];
	struct iovec iov = { buf, len };
	struct bt_req r;
	int saved = dup(2), fd = open(bt_path("stderr.txt"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	int want = bt_done + 1;
	ssize_t n;

	assert_true(len <= sizeof(buf));
	memset(buf, 0x77, len);
	fflush(stderr);
	dup2(fd, 2);
	bt_req_init(&r, op, off, &iov, 1, 0);
	assert_int_equal(blk_backend_submit(b, &r.req), 0);
	bt_run_until(b, want);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, log, loglen - 1, 0);
	log[n > 0 ? n : 0] = 0;
	close(fd);
	fprintf(stderr, "%s", log);
	return r.result;
}

static int read_capture(struct blk_backend *b, uint64_t off, uint64_t len, char *log, size_t n)
{
	return io_capture(b, BLK_OP_READ, off, len, log, n);
}

static int write_capture(struct blk_backend *b, uint64_t off, uint64_t len, char *log, size_t n)
{
	return io_capture(b, BLK_OP_WRITE, off, len, log, n);
}

/* blk_open(path) fails and says `want`. */
static void expect_open_error(const char *path, bool ro, const char *want)
{
	char log[4096];
	struct blk_backend *b;
	int err = open_capture(path, ro, &b, log, sizeof(log));

	if (!err)
		fail_msg("%s opened, expected \"%s\"", path, want);
	assert_null(b);
	if (!strstr(log, want))
		fail_msg("%s: error log \"%s\" lacks \"%s\"", path, log, want);
}

static void fresh(const char *name, const char *opts, const char *size)
{
	BT_SH("qemu-img create -q -f qcow2 %s %s %s", opts, bt_path(name), size);
}

static void test_truncated_header(void **state)
{
	(void)state;
	fresh("t.qcow2", "", "1M");
	assert_int_equal(truncate(bt_path("t.qcow2"), 44), 0);
	expect_open_error(bt_path("t.qcow2"), true, "truncated header: 44 bytes, need at least 72");
	fresh("t3.qcow2", "", "1M");
	assert_int_equal(truncate(bt_path("t3.qcow2"), 90), 0);
	expect_open_error(bt_path("t3.qcow2"), true, "truncated version 3 header: 90 bytes, need 104");
}

static void test_cluster_bits_range(void **state)
{
	(void)state;
	fresh("c.qcow2", "", "1M");
	put_be(bt_path("c.qcow2"), 20, 4, 8);
	expect_open_error(bt_path("c.qcow2"), true, "cluster_bits 8 out of range 9..21");
	put_be(bt_path("c.qcow2"), 20, 4, 22);
	expect_open_error(bt_path("c.qcow2"), true, "cluster_bits 22 out of range 9..21");
	put_be(bt_path("c.qcow2"), 20, 4, 0xffffffff);
	expect_open_error(bt_path("c.qcow2"), true, "cluster_bits 4294967295 out of range");
}

static void test_sizes(void **state)
{
	(void)state;
	fresh("s.qcow2", "", "1M");
	put_be(bt_path("s.qcow2"), 24, 8, 1ULL << 62);
	expect_open_error(bt_path("s.qcow2"), true, "virtual size 4611686018427387904 is too large");
	put_be(bt_path("s.qcow2"), 24, 8, ~0ULL);
	expect_open_error(bt_path("s.qcow2"), true, "is too large for cluster_bits 16");
	/* 1 GiB needs two L2 tables of 64 KiB clusters */
	put_be(bt_path("s.qcow2"), 24, 8, 1ULL << 30);
	expect_open_error(bt_path("s.qcow2"), true, "l1_size 1 too small for virtual size 1073741824 (need 2)");
}

static void test_l1_table(void **state)
{
	uint64_t l1;

	(void)state;
	fresh("l.qcow2", "", "1M");
	l1 = get_be(bt_path("l.qcow2"), 40, 8);
	put_be(bt_path("l.qcow2"), 40, 8, 0x10000000);
	expect_open_error(bt_path("l.qcow2"), true, "L1 table at 0x10000000 (8 bytes) is past the end of the file");
	put_be(bt_path("l.qcow2"), 40, 8, l1 + 512);
	expect_open_error(bt_path("l.qcow2"), true, "L1 table offset 0x30200 is not aligned to the cluster size 65536");
	put_be(bt_path("l.qcow2"), 40, 8, 0);
	expect_open_error(bt_path("l.qcow2"), true, "L1 table offset 0 overlaps the header");
}

/* L1 entries are checked at open; a bad L2 entry fails its request. */
static void test_l2_offsets(void **state)
{
	char log[4096];
	struct blk_backend *b;
	uint64_t l1, l2e, l2;

	(void)state;
	fresh("l2.qcow2", "", "1M");
	BT_SH("qemu-io -c 'write -P 0x61 0 64k' %s >/dev/null", bt_path("l2.qcow2"));
	l1 = get_be(bt_path("l2.qcow2"), 40, 8);
	l2e = get_be(bt_path("l2.qcow2"), l1, 8);
	put_be(bt_path("l2.qcow2"), l1, 8, l2e + 0x200);
	expect_open_error(bt_path("l2.qcow2"), true, "L1 entry 0: L2 table offset 0x40200 is not aligned to the cluster size");
	put_be(bt_path("l2.qcow2"), l1, 8, (l2e & ~0xffffULL) + (1ULL << 40));
	expect_open_error(bt_path("l2.qcow2"), true, "L1 entry 0: L2 table offset 0x10000040000 is outside the file");
	put_be(bt_path("l2.qcow2"), l1, 8, l2e | 2);
	expect_open_error(bt_path("l2.qcow2"), true, "L1 entry 0 (0x8000000000040002) has reserved bits set");
	put_be(bt_path("l2.qcow2"), l1, 8, l2e);
	l2 = l2e & 0x00fffffffffffe00ULL;
	put_be(bt_path("l2.qcow2"), l2, 8, get_be(bt_path("l2.qcow2"), l2, 8) + 0x1000);
	assert_int_equal(open_capture(bt_path("l2.qcow2"), true, &b, log, sizeof(log)), 0);
	assert_int_equal(read_capture(b, 0, 4096, log, sizeof(log)), -EIO);
	assert_non_null(strstr(log, "points to an unaligned or out-of-file cluster"));
	assert_int_equal(read_capture(b, 65536, 4096, log, sizeof(log)), 0); /* the rest still reads */
	blk_backend_close(b);
}

/* A compressed cluster whose bytes are garbage: -EIO and a message. */
static void test_bad_compressed(void **state)
{
	char log[4096];
	struct blk_backend *b;
	uint64_t l1, l2, e, host;

	(void)state;
	BT_SH("head -c 1048576 /dev/zero | tr '\\0' 'q' > %s && qemu-img convert -q -c -O qcow2 %s %s",
	   bt_path("src.raw"), bt_path("src.raw"), bt_path("z.qcow2"));
	l1 = get_be(bt_path("z.qcow2"), 40, 8);
	l2 = get_be(bt_path("z.qcow2"), l1, 8) & 0x00fffffffffffe00ULL;
	e = get_be(bt_path("z.qcow2"), l2, 8);
	assert_true(e & (1ULL << 62));
	host = e & ((1ULL << 54) - 1); /* x = 62 - (16 - 8) */
	put_be(bt_path("z.qcow2"), host, 8, 0xdeadbeefdeadbeefULL);
	put_be(bt_path("z.qcow2"), host + 8, 8, 0xdeadbeefdeadbeefULL);
	assert_int_equal(open_capture(bt_path("z.qcow2"), true, &b, log, sizeof(log)), 0);
	assert_int_equal(read_capture(b, 0, 4096, log, sizeof(log)), -EIO);
	assert_non_null(strstr(log, "does not decompress"));
	blk_backend_close(b);
}

static uint64_t rng = 88172645463325252ULL;

static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % n;
}

/* Random bytes of the header, L1, L2 and refcount clusters of a real
 * image flipped, many times: open (read-only and writable), read all,
 * write a little. Errors are fine; crashes, hangs and garbage are not. */
static void test_random_corruption(void **state)
{
	static uint8_t buf[1 << 20];
	char log[8192];

	(void)state;
	BT_SH("qemu-img create -q -f qcow2 -o cluster_size=4096 %s 1M && "
	   "qemu-io -c 'write -P 0x61 0 300k' -c 'write -z 400k 64k' -c 'write -P 0x62 700k 5k' %s >/dev/null",
	   bt_path("orig.qcow2"), bt_path("orig.qcow2"));
	BT_SH("qemu-img convert -q -c -O qcow2 -o cluster_size=4096 %s %s", bt_path("orig.qcow2"), bt_path("origz.qcow2"));
	for (int i = 0; i < 300; i++) {
		const char *src = i % 2 ? "orig.qcow2" : "origz.qcow2";
		uint64_t size = 0, end;
		struct blk_backend *b;
		struct stat st;

		BT_SH("cp %s %s", bt_path(src), bt_path("fz.qcow2"));
		assert_int_equal(stat(bt_path("fz.qcow2"), &st), 0);
		end = (uint64_t)st.st_size < 6 * 4096 ? (uint64_t)st.st_size : 6 * 4096;
		for (int k = 0, n = 1 + (int)rnd(4); k < n; k++)
			put_be(bt_path("fz.qcow2"), rnd(end), 1, rnd(256));
		if (open_capture(bt_path("fz.qcow2"), i % 3 == 0 ? false : true, &b, log, sizeof(log)))
			continue;
		size = blk_backend_size(b) < sizeof(buf) ? blk_backend_size(b) : sizeof(buf);
		read_capture(b, 0, size, log, sizeof(log));
		if (!blk_backend_read_only(b))
			write_capture(b, 8192, 8192, log, sizeof(log));
		blk_backend_close(b);
	}
}

static void test_refcount_table(void **state)
{
	uint64_t l1;

	(void)state;
	fresh("r.qcow2", "", "1M");
	BT_SH("qemu-io -c 'write -P 0x61 0 256k' %s >/dev/null", bt_path("r.qcow2")); /* room after L1 */
	l1 = get_be(bt_path("r.qcow2"), 40, 8);
	put_be(bt_path("r.qcow2"), 48, 8, 0);
	expect_open_error(bt_path("r.qcow2"), true, "refcount table offset 0 overlaps the header");
	put_be(bt_path("r.qcow2"), 48, 8, l1);
	expect_open_error(bt_path("r.qcow2"), true, "refcount table at 0x30000 overlaps the L1 table at 0x30000");
	put_be(bt_path("r.qcow2"), 48, 8, 0x10000);
	put_be(bt_path("r.qcow2"), 56, 4, 100000);
	expect_open_error(bt_path("r.qcow2"), true, "reftable_clusters 100000 out of range 1..128");
	put_be(bt_path("r.qcow2"), 56, 4, 1);
	/* the table itself: an entry past the end, seen by a writable open */
	put_be(bt_path("r.qcow2"), 0x10000 + 8, 8, 0x7770000);
	expect_open_error(bt_path("r.qcow2"), false, "refcount table entry 1 (0x7770000) is unaligned or outside the file");
}

static void test_features(void **state)
{
	struct blk_backend *b;
	char log[4096];

	(void)state;
	fresh("f.qcow2", "", "1M");
	put_be(bt_path("f.qcow2"), 72, 8, 1ULL << 4);
	expect_open_error(bt_path("f.qcow2"), true, "unsupported incompatible feature 'extended L2 entries' (bit 4)");
	put_be(bt_path("f.qcow2"), 72, 8, 1ULL << 2);
	expect_open_error(bt_path("f.qcow2"), true, "unsupported incompatible feature 'external data file' (bit 2)");
	put_be(bt_path("f.qcow2"), 72, 8, 1ULL << 37);
	expect_open_error(bt_path("f.qcow2"), true, "unsupported incompatible feature 'unknown' (bit 37)");
	/* dirty: readable, not writable (refcounts may be stale) */
	put_be(bt_path("f.qcow2"), 72, 8, 1);
	expect_open_error(bt_path("f.qcow2"), false, "cannot open for writing: the dirty bit is set");
	assert_int_equal(open_capture(bt_path("f.qcow2"), true, &b, log, sizeof(log)), 0);
	blk_backend_close(b);
	put_be(bt_path("f.qcow2"), 72, 8, 0);
	put_be(bt_path("f.qcow2"), 4, 4, 4);
	expect_open_error(bt_path("f.qcow2"), true, "unsupported version 4 (need 2 or 3)");
	put_be(bt_path("f.qcow2"), 4, 4, 3);
	put_be(bt_path("f.qcow2"), 32, 4, 1);
	expect_open_error(bt_path("f.qcow2"), true, "encrypted images (crypt_method 1) are not supported");
	put_be(bt_path("f.qcow2"), 32, 4, 0);
	put_be(bt_path("f.qcow2"), 100, 4, 100);
	expect_open_error(bt_path("f.qcow2"), true, "header_length 100 invalid");
	put_be(bt_path("f.qcow2"), 100, 4, 112);
	put_be(bt_path("f.qcow2"), 112 + 4, 4, 70000); /* first extension's length */
	expect_open_error(bt_path("f.qcow2"), true, "length 70000 runs past the header cluster");
}

static void test_backing_errors(void **state)
{
	char name[32];

	(void)state;
	/* a -> b -> a */
	BT_SH("cd %s && qemu-img create -q -f qcow2 -u -b b.qcow2 -F qcow2 a.qcow2 1M && "
	   "qemu-img create -q -f qcow2 -u -b a.qcow2 -F qcow2 b.qcow2 1M", bt_dir());
	expect_open_error(bt_path("a.qcow2"), true, "backing chain loop: the file is already in the chain above");
	/* itself, by another name */
	BT_SH("cd %s && qemu-img create -q -f qcow2 -u -b ./self.qcow2 -F qcow2 self.qcow2 1M", bt_dir());
	expect_open_error(bt_path("self.qcow2"), true, "backing chain loop");
	BT_SH("cd %s && qemu-img create -q -f qcow2 -u -b gone.qcow2 -F qcow2 orphan.qcow2 1M", bt_dir());
	expect_open_error(bt_path("orphan.qcow2"), true, "cannot open backing file");
	BT_SH("cd %s && qemu-img create -q -f qcow2 -u -b x.vmdk -F vmdk v.qcow2 1M", bt_dir());
	expect_open_error(bt_path("v.qcow2"), true, "backing file format 'vmdk' is not supported (raw or qcow2)");
	/* a chain of 18: too deep */
	BT_SH("cd %s && qemu-img create -q -f qcow2 d0.qcow2 1M", bt_dir());
	for (int i = 1; i < 18; i++)
		BT_SH("cd %s && qemu-img create -q -f qcow2 -u -b d%d.qcow2 -F qcow2 d%d.qcow2 1M", bt_dir(), i - 1, i);
	snprintf(name, sizeof(name), "d%d.qcow2", 17);
	expect_open_error(bt_path(name), true, "backing chain deeper than 16 images");
	snprintf(name, sizeof(name), "d%d.qcow2", 16);
	{
		struct blk_backend *b;
		char log[4096];

		assert_int_equal(open_capture(bt_path(name), true, &b, log, sizeof(log)), 0);
		blk_backend_close(b);
	}
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_truncated_header), T(test_cluster_bits_range), T(test_sizes), T(test_l1_table),
		T(test_l2_offsets), T(test_bad_compressed), T(test_refcount_table), T(test_features),
		T(test_backing_errors), T(test_random_corruption),
	};

	if (bt_sh("qemu-img --version >/dev/null 2>&1")) {
		fprintf(stderr, "qemu-img not found: run tools/setup\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
