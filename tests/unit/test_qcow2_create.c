/* qcow2_create (block/qcow2_create.c): new images open through our own
 * backend (with and without a backing file), take writes there, and
 * stay clean for qemu-img check; bad arguments fail without leaving a
 * file behind. The lq-img command line is tested in tests/img/lq_img.py. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/blk_backend.h"
#include "block/qcow2_create.h"
#include "tests/unit/blk_test_util.h"

#define MIB (1024 * 1024ULL)

static int setup(void **state)
{
	(void)state;
	return bt_dir_make("lq-qcow2-create");
}

static int teardown(void **state)
{
	(void)state;
	return bt_dir_remove();
}

static struct blk_backend *open_rw(const char *path)
{
	struct blk_open_opts o = { .format = BLK_FORMAT_QCOW2, .queue_depth = 16 };
	struct blk_backend *b = NULL;

	assert_int_equal(blk_open(path, &o, &b), 0);
	return b;
}

static int rw(struct blk_backend *b, enum blk_op op, uint64_t off, void *buf, uint64_t len)
{
	struct iovec iov = { buf, len };

	return bt_io(b, op, off, &iov, 1, len, false);
}

/* Every cluster size: our backend writes, qemu-img check agrees, and
 * qemu-io reads our pattern back. */
static void test_create_write_check(void **state)
{
	uint8_t *buf = malloc(MIB);

	(void)state;
	assert_non_null(buf);
	for (unsigned bits = 9; bits <= 21; bits += 3) {
		const char *p = bt_path("w.qcow2");
		struct blk_backend *b;

		unlink(p);
		assert_int_equal(qcow2_create(p, 256 * MIB, bits, NULL, NULL), 0);
		b = open_rw(p);
		assert_int_equal(blk_backend_size(b), 256 * MIB);
		memset(buf, 0x5c, MIB);
		assert_int_equal(rw(b, BLK_OP_WRITE, 3 * MIB + 4096, buf, MIB), 0);
		assert_int_equal(rw(b, BLK_OP_FLUSH, 0, NULL, 0), 0);
		memset(buf, 0, MIB);
		assert_int_equal(rw(b, BLK_OP_READ, 3 * MIB + 4096, buf, MIB), 0);
		assert_true(buf[0] == 0x5c && buf[MIB - 1] == 0x5c);
		blk_backend_close(b);
		BT_SH("qemu-img check -q %s", p);
		BT_SH("qemu-io -c 'read -P 0x5c %llu 1M' %s | grep -q 'read 1048576'",
		      3 * MIB + 4096, p);
	}
	free(buf);
}

/* A backing file given by a relative name: read through the chain. */
static void test_create_backing(void **state)
{
	uint8_t buf[4096];
	struct blk_backend *b;

	(void)state;
	BT_SH("qemu-img create -q -f raw %s 8M && qemu-io -f raw -c 'write -P 0x42 1M 4k' %s >/dev/null",
	      bt_path("base.raw"), bt_path("base.raw"));
	assert_int_equal(qcow2_create(bt_path("ov.qcow2"), 8 * MIB, 16, "base.raw", "raw"), 0);
	BT_SH("qemu-img info --output=json %s | grep -q '\"backing-filename-format\": \"raw\"'",
	      bt_path("ov.qcow2"));
	b = open_rw(bt_path("ov.qcow2"));
	assert_int_equal(rw(b, BLK_OP_READ, MIB, buf, sizeof(buf)), 0);
	assert_int_equal(buf[0], 0x42);
	memset(buf, 0x43, sizeof(buf));
	assert_int_equal(rw(b, BLK_OP_WRITE, 0, buf, sizeof(buf)), 0);
	blk_backend_close(b);
	BT_SH("qemu-img check -q %s", bt_path("ov.qcow2"));
	/* qemu-io prints a "read" line only when the pattern matched. */
	BT_SH("qemu-io -c 'read -P 0x43 0 4k' -c 'read -P 0x42 1M 4k' %s | grep -c '^read' | grep -qx 2",
	      bt_path("ov.qcow2"));
}

static void test_create_errors(void **state)
{
	char longname[1100];
	const char *p = bt_path("e.qcow2");

	(void)state;
	assert_int_equal(qcow2_create(p, 0, 16, NULL, NULL), -EINVAL);
	assert_int_equal(qcow2_create(p, 1000, 16, NULL, NULL), -EINVAL);
	assert_int_equal(qcow2_create(p, MIB, 8, NULL, NULL), -EINVAL);
	assert_int_equal(qcow2_create(p, MIB, 22, NULL, NULL), -EINVAL);
	assert_int_equal(qcow2_create(p, 1ULL << 50, 9, NULL, NULL), -EFBIG);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	assert_int_equal(qcow2_create(p, MIB, 16, longname, "raw"), -ENAMETOOLONG);
	longname[600] = 0; /* fits a 64 KiB header cluster, not a 512-byte one */
	assert_int_equal(qcow2_create(p, MIB, 9, longname, "raw"), -ENAMETOOLONG);
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(qcow2_create(p, MIB, 16, NULL, NULL), 0);
	assert_int_equal(qcow2_create(p, MIB, 16, NULL, NULL), -EEXIST);
	BT_SH("qemu-img check -q %s", p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_write_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_backing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
