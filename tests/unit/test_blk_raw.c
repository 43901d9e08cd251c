/* The raw io_uring backend against real files: data round trips, the
 * end of the image, holes from discard and write-zeroes, read-only
 * refusal, flush ordering, and more requests than the ring holds. */
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

#define MIB (1024 * 1024)

static int setup(void **state)
{
	(void)state;
	return bt_dir_make("lq-blkraw");
}

static int teardown(void **state)
{
	(void)state;
	return bt_dir_remove();
}

#define DISK bt_path("disk.img")

/* A file of size bytes: sparse, or filled with pattern(offset). */
static void make_file(const char *path, off_t size, bool fill)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size), 0);
	if (fill) {
		static uint8_t buf[MIB];

		for (off_t at = 0; at < size; at += sizeof(buf)) {
			size_t n = (size_t)(size - at) < sizeof(buf) ? (size_t)(size - at) : sizeof(buf);

			for (size_t i = 0; i < n; i++)
				buf[i] = (uint8_t)((at + i) * 7 + 1);
			assert_int_equal(pwrite(fd, buf, n, at), (ssize_t)n);
		}
	}
	close(fd);
}

static struct blk_backend *open_raw(const char *path, bool ro, unsigned depth)
{
	struct blk_open_opts o = { .read_only = ro, .queue_depth = depth };
	struct blk_backend *b = NULL;

	assert_int_equal(blk_raw_open(path, &o, &b), 0);
	assert_non_null(b);
	return b;
}




static int do_io(struct blk_backend *b, enum blk_op op, uint64_t offset, void *buf, size_t len)
{
	struct iovec iov = { buf, len };

	return bt_io(b, op, offset, &iov, 1, 0, false);
}

static off_t allocated(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_blocks * 512;
}

static void test_open_errors(void **state)
{
	(void)state;
	struct blk_open_opts o = { 0 };
	struct blk_backend *b = NULL;

	assert_int_equal(blk_raw_open(DISK, &o, &b), -ENOENT); /* not created yet */
	assert_int_equal(blk_raw_open(bt_dir(), &o, &b), -EISDIR);  /* O_RDWR on a directory */
	o.read_only = true;
	assert_int_equal(blk_raw_open(bt_dir(), &o, &b), -EINVAL);  /* opens, but is no disk */
	assert_null(b);
}

/* Scattered buffers both ways, split differently on the way back. */
static void test_write_read_iovecs(void **state)
{
	(void)state;
	static uint8_t src[3 * 4096 + 512], dst[sizeof(src)];
	struct iovec w[3] = { { src, 512 }, { src + 512, 8192 }, { src + 8704, 4096 } };
	struct iovec r[2] = { { dst, 4096 }, { dst + 4096, sizeof(dst) - 4096 } };
	struct blk_backend *b;

	make_file(DISK, 4 * MIB, false);
	b = open_raw(DISK, false, 8);
	assert_int_equal(blk_backend_size(b), 4 * MIB);
	assert_int_equal(blk_backend_block_size(b), 512);
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 31 + 5);
	assert_int_equal(bt_io(b, BLK_OP_WRITE, MIB + 512, w, 3, 0, false), 0);
	assert_int_equal(bt_io(b, BLK_OP_READ, MIB + 512, r, 2, 0, false), 0);
	assert_memory_equal(src, dst, sizeof(src));
	blk_backend_close(b);
}

/* An image whose size is not a multiple of the read: the part past the
 * end reads as zeros (never as what the buffer held before). */
static void test_read_past_end_zero_fills(void **state)
{
	(void)state;
	static uint8_t buf[4096];
	struct blk_backend *b;

	make_file(DISK, 10000, true);
	b = open_raw(DISK, true, 8);
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(do_io(b, BLK_OP_READ, 8192, buf, sizeof(buf)), 0);
	for (size_t i = 0; i < sizeof(buf); i++) {
		uint8_t want = 8192 + i < 10000 ? (uint8_t)((8192 + i) * 7 + 1) : 0;

		if (buf[i] != want)
			fail_msg("byte %zu: %#x, want %#x", i, buf[i], want);
	}
	blk_backend_close(b);
}

/* Discard punches a hole: the blocks go back to the file system and the
 * range reads as zeros; the neighbours keep their data. */
static void test_discard_punches_hole(void **state)
{
	(void)state;
	static uint8_t buf[MIB];
	struct blk_backend *b;
	off_t before;
	int fd;

	make_file(DISK, 4 * MIB, true);
	before = allocated(DISK);
	b = open_raw(DISK, false, 8);
	assert_int_equal(bt_io(b, BLK_OP_DISCARD, MIB, NULL, 0, 2 * MIB, false), 0);
	assert_true(allocated(DISK) <= before - 2 * MIB);
	fd = open(DISK, O_RDONLY);
	assert_int_equal(lseek(fd, 0, SEEK_HOLE), MIB);
	assert_int_equal(lseek(fd, MIB, SEEK_DATA), 3 * MIB);
	close(fd);
	assert_int_equal(do_io(b, BLK_OP_READ, MIB, buf, sizeof(buf)), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(do_io(b, BLK_OP_READ, 3 * MIB, buf, 4096), 0);
	assert_int_equal(buf[1], (uint8_t)((3 * MIB + 1) * 7 + 1));
	blk_backend_close(b);
}

/* Write-zeroes keeps the blocks allocated unless unmap is allowed. */
static void test_write_zeroes(void **state)
{
	(void)state;
	static uint8_t buf[MIB];
	struct blk_backend *b;
	off_t full;

	make_file(DISK, 4 * MIB, true);
	full = allocated(DISK);
	b = open_raw(DISK, false, 8);
	assert_int_equal(bt_io(b, BLK_OP_WRITE_ZEROES, 0, NULL, 0, MIB, false), 0);
	assert_int_equal(allocated(DISK), full);
	assert_int_equal(bt_io(b, BLK_OP_WRITE_ZEROES, 2 * MIB, NULL, 0, MIB, true), 0);
	assert_true(allocated(DISK) <= full - MIB);
	for (uint64_t at = 0; at < 4 * MIB; at += MIB) {
		bool zero = at == 0 || at == 2 * MIB;

		assert_int_equal(do_io(b, BLK_OP_READ, at, buf, sizeof(buf)), 0);
		assert_int_equal(buf[0] == 0 && buf[MIB - 1] == 0, zero);
	}
	blk_backend_close(b);
}

/* Ranges past the end are refused through done(), not by submit. */
static void test_ranges_past_end(void **state)
{
	(void)state;
	struct blk_backend *b;

	make_file(DISK, MIB, false);
	b = open_raw(DISK, false, 8);
	assert_int_equal(bt_io(b, BLK_OP_DISCARD, MIB - 512, NULL, 0, 1024, false), -EINVAL);
	assert_int_equal(bt_io(b, BLK_OP_WRITE_ZEROES, 2 * MIB, NULL, 0, 512, false), -EINVAL);
	/* offset + len wrapping 64 bits */
	assert_int_equal(bt_io(b, BLK_OP_DISCARD, 512, NULL, 0, ~0ULL - 100, false), -EINVAL);
	assert_int_equal(allocated(DISK), 0);
	blk_backend_close(b);
}

/* A read-only disk refuses every change and loses nothing. */
static void test_read_only(void **state)
{
	(void)state;
	static uint8_t buf[4096];
	struct blk_backend *b;

	make_file(DISK, MIB, true);
	b = open_raw(DISK, true, 8);
	assert_true(blk_backend_read_only(b));
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(do_io(b, BLK_OP_WRITE, 0, buf, sizeof(buf)), -EROFS);
	assert_int_equal(bt_io(b, BLK_OP_DISCARD, 0, NULL, 0, 4096, false), -EROFS);
	assert_int_equal(bt_io(b, BLK_OP_WRITE_ZEROES, 0, NULL, 0, 4096, true), -EROFS);
	assert_int_equal(bt_io(b, BLK_OP_FLUSH, 0, NULL, 0, 0, false), 0);
	assert_int_equal(do_io(b, BLK_OP_READ, 0, buf, sizeof(buf)), 0);
	assert_int_equal(buf[3], (uint8_t)(3 * 7 + 1));
	blk_backend_close(b);
}

/* Many more requests than ring entries, in one batch: they wait in the
 * backend and all complete, with the right data. */
static void test_more_requests_than_ring(void **state)
{
	(void)state;
	enum { N = 1000, BS = 4096 };
	static struct bt_req reqs[N];
	static struct iovec iov[N];
	static uint8_t data[N][BS], back[BS];
	struct blk_backend *b;

	make_file(DISK, (off_t)N * BS, false);
	b = open_raw(DISK, false, 4);
	for (int i = 0; i < N; i++) {
		memset(data[i], i & 0xff, BS);
		data[i][0] = (uint8_t)(i >> 8);
		iov[i] = (struct iovec){ data[i], BS };
		/* every 7th block, so neighbours in the batch are not adjacent */
		bt_req_init(&reqs[i], BLK_OP_WRITE, (uint64_t)((i * 7) % N) * BS, &iov[i], 1, 0);
		assert_int_equal(blk_backend_submit(b, &reqs[i].req), 0);
	}
	bt_run_until(b, N);
	for (int i = 0; i < N; i++) {
		assert_int_equal(reqs[i].result, 0);
		assert_int_equal(do_io(b, BLK_OP_READ, (uint64_t)((i * 7) % N) * BS, back, BS), 0);
		assert_memory_equal(back, data[i], BS);
	}
	blk_backend_close(b);
}

/* A flush in the same batch as writes completes after all of them: it
 * only promises durability for what came before it. */
static void test_flush_after_writes(void **state)
{
	(void)state;
	enum { N = 64, BS = 64 * 1024 };
	static struct bt_req w[N], fl;
	static struct iovec iov[N];
	static uint8_t data[BS];
	struct blk_backend *b;

	make_file(DISK, (off_t)N * BS, false);
	b = open_raw(DISK, false, 128);
	memset(data, 0xc3, sizeof(data));
	for (int round = 0; round < 5; round++) {
		int base = bt_done;

		for (int i = 0; i < N; i++) {
			iov[i] = (struct iovec){ data, BS };
			bt_req_init(&w[i], BLK_OP_WRITE, (uint64_t)i * BS, &iov[i], 1, 0);
			assert_int_equal(blk_backend_submit(b, &w[i].req), 0);
		}
		bt_req_init(&fl, BLK_OP_FLUSH, 0, NULL, 0, 0);
		assert_int_equal(blk_backend_submit(b, &fl.req), 0);
		bt_run_until(b, base + N + 1);
		assert_int_equal(fl.result, 0);
		for (int i = 0; i < N; i++) {
			assert_int_equal(w[i].result, 0);
			if (w[i].order > fl.order)
				fail_msg("round %d: write %d completed after the flush", round, i);
		}
	}
	blk_backend_close(b);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_open_errors), T(test_write_read_iovecs), T(test_read_past_end_zero_fills),
		T(test_discard_punches_hole), T(test_write_zeroes), T(test_ranges_past_end),
		T(test_read_only), T(test_more_requests_than_ring), T(test_flush_after_writes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
