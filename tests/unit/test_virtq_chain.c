/* The split virtqueue against rings crafted by hand in real guest
 * memory (a memfd), the way a driver, or a hostile guest, writes them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "virtio/virtq.h"
#include "vmm/guest_mem.h"

#define QSZ 16
#define DESC 0x10000
#define AVAIL 0x11000
#define USED 0x12000
#define BUF 0x20000
#define IND 0x30000

static struct guest_mem mem;
static struct virtq vq;

static struct virtq_desc *desc(unsigned i)
{
	return (struct virtq_desc *)guest_mem_ptr(&mem, DESC + 16ULL * i, 16);
}

static uint16_t *avail(void)
{
	return guest_mem_ptr(&mem, AVAIL, 6 + 2 * QSZ);
}

static uint16_t *used(void)
{
	return guest_mem_ptr(&mem, USED, 6 + 8 * QSZ);
}

static void post(uint16_t head)
{
	uint16_t *a = avail();

	a[2 + a[1] % QSZ] = head;
	a[1]++;
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(guest_mem_init(&mem, 16 << 20), 0);
	assert_int_equal(virtq_enable(&vq, &mem, QSZ, DESC, AVAIL, USED, false, true), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	guest_mem_free(&mem);
	return 0;
}

static void test_enable_checks(void **state)
{
	struct virtq q;

	(void)state;
	assert_int_equal(virtq_enable(&q, &mem, 0, DESC, AVAIL, USED, false, false), -EINVAL);
	assert_int_equal(virtq_enable(&q, &mem, 12, DESC, AVAIL, USED, false, false), -EINVAL);
	assert_int_equal(virtq_enable(&q, &mem, QSZ, DESC + 8, AVAIL, USED, false, false), -EINVAL);
	assert_int_equal(virtq_enable(&q, &mem, QSZ, DESC, AVAIL + 1, USED, false, false), -EINVAL);
	/* Past the end of RAM, in the hole, and wrapping around 2^64. */
	assert_int_equal(virtq_enable(&q, &mem, QSZ, (16 << 20) - 64, AVAIL, USED, false, false), -EINVAL);
	assert_int_equal(virtq_enable(&q, &mem, QSZ, 0xc0000000ULL, AVAIL, USED, false, false), -EINVAL);
	assert_int_equal(virtq_enable(&q, &mem, QSZ, DESC, AVAIL, 0xfffffffffffffff0ULL, false, false), -EINVAL);
	assert_false(q.ready);
}

static void test_out_in_chain(void **state)
{
	struct virtq_elem e;
	uint32_t *u;

	(void)state;
	*desc(0) = (struct virtq_desc){ BUF, 16, VIRTQ_DESC_F_NEXT, 5 };
	*desc(5) = (struct virtq_desc){ BUF + 0x100, 0, VIRTQ_DESC_F_NEXT, 3 }; /* empty: no iovec */
	*desc(3) = (struct virtq_desc){ BUF + 0x1000, 512, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 4 };
	*desc(4) = (struct virtq_desc){ BUF + 0x2000, 1, VIRTQ_DESC_F_WRITE, 0 };
	post(0);
	assert_int_equal(virtq_pop(&vq, &e), 1);
	assert_int_equal(e.head, 0);
	assert_int_equal(e.n_out, 1);
	assert_int_equal(e.n_in, 2);
	assert_int_equal(e.out_len, 16);
	assert_int_equal(e.in_len, 513);
	assert_ptr_equal(e.iov[0].iov_base, guest_mem_ptr(&mem, BUF, 16));
	assert_ptr_equal(e.iov[1].iov_base, guest_mem_ptr(&mem, BUF + 0x1000, 512));
	assert_int_equal(e.iov[2].iov_len, 1);
	assert_int_equal(virtq_pop(&vq, &e), 0);
	virtq_push(&vq, 0, 513);
	u = (uint32_t *)(used() + 2);
	assert_int_equal(used()[1], 1);
	assert_int_equal(u[0], 0);
	assert_int_equal(u[1], 513);
	assert_false(vq.broken);
}

static void test_indirect(void **state)
{
	struct virtq_desc *t = guest_mem_ptr(&mem, IND, 3 * 16);
	struct virtq_elem e;

	(void)state;
	t[0] = (struct virtq_desc){ BUF, 16, VIRTQ_DESC_F_NEXT, 2 };
	t[2] = (struct virtq_desc){ BUF + 0x1000, 4096, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1 };
	t[1] = (struct virtq_desc){ BUF + 0x3000, 1, VIRTQ_DESC_F_WRITE, 0 };
	*desc(7) = (struct virtq_desc){ IND, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0 };
	post(7);
	assert_int_equal(virtq_pop(&vq, &e), 1);
	assert_int_equal(e.head, 7);
	assert_int_equal(e.n_out, 1);
	assert_int_equal(e.n_in, 2);
	assert_int_equal(e.in_len, 4097);
}

/* Each malformed chain breaks the queue and leaves the used ring alone. */
static void expect_broken(int want)
{
	struct virtq_elem e;

	assert_int_equal(virtq_pop(&vq, &e), want);
	assert_true(vq.broken);
	assert_int_equal(used()[1], 0);
	/* Once broken, nothing more is taken from the ring. */
	assert_int_equal(virtq_pop(&vq, &e), -EINVAL);
}

static void test_loop(void **state)
{
	(void)state;
	*desc(1) = (struct virtq_desc){ BUF, 16, VIRTQ_DESC_F_NEXT, 2 };
	*desc(2) = (struct virtq_desc){ BUF, 16, VIRTQ_DESC_F_NEXT, 1 };
	post(1);
	expect_broken(-EINVAL);
}

static void test_next_out_of_range(void **state)
{
	(void)state;
	*desc(1) = (struct virtq_desc){ BUF, 16, VIRTQ_DESC_F_NEXT, QSZ };
	post(1);
	expect_broken(-EINVAL);
}

static void test_head_out_of_range(void **state)
{
	(void)state;
	post(QSZ + 3);
	expect_broken(-EINVAL);
}

static void test_avail_runs_ahead(void **state)
{
	(void)state;
	avail()[1] = QSZ + 1;
	expect_broken(-EINVAL);
}

static void test_read_after_write(void **state)
{
	(void)state;
	*desc(0) = (struct virtq_desc){ BUF, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1 };
	*desc(1) = (struct virtq_desc){ BUF, 16, 0, 0 };
	post(0);
	expect_broken(-EINVAL);
}

static void test_buffer_outside_ram(void **state)
{
	(void)state;
	*desc(0) = (struct virtq_desc){ (16 << 20) - 8, 16, 0, 0 };
	post(0);
	expect_broken(-EINVAL);
}

static void test_buffer_wraps(void **state)
{
	(void)state;
	*desc(0) = (struct virtq_desc){ 0xfffffffffffffff0ULL, 0x20, 0, 0 };
	post(0);
	expect_broken(-EINVAL);
}

static void test_indirect_bad_len(void **state)
{
	(void)state;
	*desc(0) = (struct virtq_desc){ IND, 24, VIRTQ_DESC_F_INDIRECT, 0 };
	post(0);
	expect_broken(-EINVAL);
}

static void test_indirect_with_next(void **state)
{
	(void)state;
	*desc(0) = (struct virtq_desc){ IND, 32, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1 };
	post(0);
	expect_broken(-EINVAL);
}

static void test_indirect_nested(void **state)
{
	struct virtq_desc *t = guest_mem_ptr(&mem, IND, 32);

	(void)state;
	t[0] = (struct virtq_desc){ IND, 32, VIRTQ_DESC_F_INDIRECT, 0 };
	*desc(0) = (struct virtq_desc){ IND, 32, VIRTQ_DESC_F_INDIRECT, 0 };
	post(0);
	expect_broken(-EINVAL);
}

static void test_indirect_loop(void **state)
{
	struct virtq_desc *t = guest_mem_ptr(&mem, IND, 32);

	(void)state;
	t[0] = (struct virtq_desc){ BUF, 8, VIRTQ_DESC_F_NEXT, 1 };
	t[1] = (struct virtq_desc){ BUF, 8, VIRTQ_DESC_F_NEXT, 0 };
	*desc(0) = (struct virtq_desc){ IND, 32, VIRTQ_DESC_F_INDIRECT, 0 };
	post(0);
	expect_broken(-EINVAL);
}

static void test_indirect_not_negotiated(void **state)
{
	(void)state;
	assert_int_equal(virtq_enable(&vq, &mem, QSZ, DESC, AVAIL, USED, false, false), 0);
	*desc(0) = (struct virtq_desc){ IND, 32, VIRTQ_DESC_F_INDIRECT, 0 };
	post(0);
	expect_broken(-EINVAL);
}

static void test_length_overflow(void **state)
{
	(void)state;
	/* Two huge readable buffers whose total does not fit in 32 bits
	 * (guest RAM is only 16 MiB, so use a bigger memory for this). */
	guest_mem_free(&mem);
	assert_int_equal(guest_mem_init(&mem, 3ULL << 30), 0);
	assert_int_equal(virtq_enable(&vq, &mem, QSZ, DESC, AVAIL, USED, false, false), 0);
	*desc(0) = (struct virtq_desc){ 0x100000, 0xc0000000u - 0x200000, VIRTQ_DESC_F_NEXT, 1 };
	*desc(1) = (struct virtq_desc){ 0x100000, 0xc0000000u - 0x200000, VIRTQ_DESC_F_NEXT, 2 };
	*desc(2) = (struct virtq_desc){ 0x100000, 0xc0000000u - 0x200000, 0, 0 };
	post(0);
	expect_broken(-EINVAL);
}

static void test_notify_flags(void **state)
{
	struct virtq_elem e;

	(void)state;
	*desc(0) = (struct virtq_desc){ BUF, 16, 0, 0 };
	post(0);
	assert_int_equal(virtq_pop(&vq, &e), 1);
	virtq_push(&vq, 0, 0);
	assert_true(virtq_should_notify(&vq));
	avail()[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;
	assert_false(virtq_should_notify(&vq));
	virtq_disable_notify(&vq);
	assert_int_equal(used()[0], VIRTQ_USED_F_NO_NOTIFY);
	assert_false(virtq_enable_notify(&vq));
	assert_int_equal(used()[0], 0);
	post(0); /* raced in while kicks were off */
	assert_true(virtq_enable_notify(&vq));
}

static void test_event_idx_wrap(void **state)
{
	struct virtq_elem e;
	uint16_t *a = avail(), *u = used();

	(void)state;
	/* Indices near the 16-bit wrap, as after a long uptime. */
	a[1] = 65534;
	u[1] = 65534;
	assert_int_equal(virtq_enable(&vq, &mem, QSZ, DESC, AVAIL, USED, true, false), 0);
	*desc(0) = (struct virtq_desc){ BUF, 16, 0, 0 };
	for (unsigned i = 0; i < 4; i++) {
		a[2 + a[1] % QSZ] = 0;
		a[1]++;
	}
	a[2 + QSZ] = 65535; /* used_event: interrupt once used passes 65535 */
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(virtq_pop(&vq, &e), 1);
		virtq_push(&vq, 0, 0);
		/* used goes 65535, 0, 1, 2: only the step past 65535 notifies. */
		assert_int_equal(virtq_should_notify(&vq), i == 0 || i == 1);
	}
	assert_int_equal(u[1], 2);
	/* avail_event follows what the device has taken. */
	assert_int_equal(u[2 + 4 * QSZ], 2);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_enable_checks), T(test_out_in_chain), T(test_indirect), T(test_loop),
		T(test_next_out_of_range), T(test_head_out_of_range), T(test_avail_runs_ahead),
		T(test_read_after_write), T(test_buffer_outside_ram), T(test_buffer_wraps),
		T(test_indirect_bad_len), T(test_indirect_with_next), T(test_indirect_nested),
		T(test_indirect_loop), T(test_indirect_not_negotiated), T(test_length_overflow),
		T(test_notify_flags), T(test_event_idx_wrap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
