/* The split virtqueue against rings written by hand in real guest memory
 * (a memfd), the way a driver, or a hostile guest, writes them.
 *
 * Each malformed-ring test checks the return code, that the queue is
 * broken, that the reason was logged once, that nothing more is taken,
 * and that guest RAM is byte for byte what it was before the pop. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "virtio/virtq.h"
#include "vmm/guest_mem.h"
#include "tests/unit/vq_test_mem.h"

#define QSZ 16
#define RAM (16ULL << 20)
#define BIG_RAM (GUEST_MEM_HOLE_START + RAM) /* 3 GiB low, 16 MiB above 4 GiB */
#define HIGH GUEST_MEM_HIGH_START
#define DESC 0x10000ULL
#define AVAIL 0x11000ULL
#define USED 0x12000ULL
#define BUF 0x20000ULL
#define IND 0x30000ULL
#define N VIRTQ_DESC_F_NEXT
#define W VIRTQ_DESC_F_WRITE
#define I VIRTQ_DESC_F_INDIRECT

static struct guest_mem mem;
static struct virtq vq;
static uint8_t *snap; /* the low 16 MiB of RAM before a pop */

/* Guest-side accessors (vq_test_mem.h): what a driver would write and read. */
static void wr16(uint64_t gpa, uint16_t v)
{
	vqt_wr(gpa, &v, 2);
}

static void desc_at(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		    uint16_t next)
{
	struct virtq_desc d = { addr, len, flags, next };

	vqt_wr(table + 16ULL * i, &d, sizeof(d));
}

#define D(i, addr, len, flags, next) desc_at(DESC, i, addr, len, flags, next)
#define T(i, addr, len, flags, next) desc_at(IND, i, addr, len, flags, next)

/* Ring fields at QSZ (2.7.6, 2.7.8). */
#define AVAIL_FLAGS AVAIL
#define AVAIL_IDX (AVAIL + 2)
#define AVAIL_RING(i) (AVAIL + 4 + 2ULL * ((i) % QSZ))
#define USED_EVENT (AVAIL + 4 + 2ULL * QSZ)
#define USED_FLAGS USED
#define USED_IDX (USED + 2)
#define USED_ID(i) (USED + 4 + 8ULL * ((i) % QSZ))
#define USED_LEN(i) (USED_ID(i) + 4)
#define AVAIL_EVENT (USED + 4 + 8ULL * QSZ)

static void post(uint16_t head)
{
	uint16_t idx = vqt_rd16(AVAIL_IDX);

	wr16(AVAIL_RING(idx), head);
	wr16(AVAIL_IDX, idx + 1);
}

static void *hva(uint64_t gpa)
{
	return gpa >= HIGH ? mem.regions[1].hva + (gpa - HIGH) : mem.base + gpa;
}

static void assert_iov(const struct virtq_elem *e, unsigned k, uint64_t gpa, size_t len)
{
	assert_ptr_equal(e->iov[k].iov_base, hva(gpa));
	assert_int_equal(e->iov[k].iov_len, len);
}

static void assert_used(uint16_t i, uint32_t id, uint32_t len)
{
	assert_int_equal(vqt_rd32(USED_ID(i)), id);
	assert_int_equal(vqt_rd32(USED_LEN(i)), len);
}

static int setup_ram(uint64_t size)
{
	vqt_use(&mem);
	if (guest_mem_init(&mem, size))
		return -1;
	virtq_reset(&vq);
	virtq_set_label(&vq, "test-dev", 3);
	return virtq_enable(&vq, &mem, QSZ, DESC, AVAIL, USED, false, true) ? -1 : 0;
}

static int setup(void **state)
{
	(void)state;
	return setup_ram(RAM);
}

static int setup_big(void **state)
{
	(void)state;
	return setup_ram(BIG_RAM);
}

static int teardown(void **state)
{
	(void)state;
	guest_mem_free(&mem);
	return 0;
}

/* --- log capture: stderr into a memfd around the calls under test only,
 * so a failing assertion still reports on the real stderr. */
static int saved_stderr = -1, log_fd = -1;

static void capture_start(void)
{
	fflush(stderr);
	log_fd = memfd_create("virtq-test-log", 0);
	saved_stderr = dup(2);
	dup2(log_fd, 2);
}

static void capture_end(char *buf, size_t size)
{
	ssize_t n;

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	n = pread(log_fd, buf, size - 1, 0);
	close(log_fd);
	buf[n > 0 ? n : 0] = 0;
}

static unsigned count_lines(const char *s)
{
	unsigned n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static long first_diff(void)
{
	for (size_t i = 0; i < RAM; i++)
		if (snap[i] != mem.base[i])
			return (long)i;
	return -1;
}

/* A malformed ring: want from the pop, the queue broken, the reason why
 * logged once, the ring left where it was and RAM untouched. */
static void expect_broken(int want, const char *why)
{
	struct virtq_elem e;
	uint16_t last;
	char log[2048];
	int rc, again;

	memcpy(snap, mem.base, RAM);
	capture_start();
	rc = virtq_pop(&vq, &e);
	last = vq.last_avail;
	again = virtq_pop(&vq, &e);
	capture_end(log, sizeof(log));
	assert_int_equal(rc, want);
	assert_true(vq.broken);
	assert_int_equal(again, -EINVAL);  /* once broken, nothing more is taken */
	assert_int_equal(vq.last_avail, last);
	assert_false(virtq_enable_notify(&vq));
	assert_int_equal(first_diff(), -1);
	assert_int_equal(vqt_rd16(USED_IDX), 0);
	assert_non_null(strstr(log, "test-dev queue 3: malformed ring: "));
	if (!strstr(log, why))
		fail_msg("log \"%s\" does not say \"%s\"", log, why);
	assert_int_equal(count_lines(log), 1);
}

/* ---------------- enable ---------------- */

static void test_enable_checks(void **state)
{
	struct virtq q = { 0 };

	(void)state;
	assert_int_equal(virtq_enable(&q, &mem, 0, DESC, AVAIL, USED, false, false), -EINVAL);
	assert_int_equal(virtq_enable(&q, &mem, 3, DESC, AVAIL, USED, false, false), -EINVAL);
	assert_int_equal(virtq_enable(&q, &mem, 24, DESC, AVAIL, USED, false, false), -EINVAL);
	assert_int_equal(virtq_enable(&q, &mem, 0xffff, DESC, AVAIL, USED, false, false), -EINVAL);
	/* Alignment: desc 16, avail 2, used 4. */
	assert_int_equal(virtq_enable(&q, &mem, QSZ, DESC + 8, AVAIL, USED, false, false), -EINVAL);
	assert_int_equal(virtq_enable(&q, &mem, QSZ, DESC, AVAIL + 1, USED, false, false), -EINVAL);
	assert_int_equal(virtq_enable(&q, &mem, QSZ, DESC, AVAIL, USED + 2, false, false), -EINVAL);
	assert_int_equal(virtq_enable(&q, &mem, QSZ, DESC, AVAIL + 2, USED + 4, false, false), 0);
	/* Rings ending exactly at the end of RAM fit; a byte more does not
	 * (the event fields count: avail 6 + 2n, used 6 + 8n bytes). */
	assert_int_equal(virtq_enable(&q, &mem, QSZ, RAM - 16 * QSZ, RAM - 6 - 2 * QSZ, RAM - 136,
				      false, false), 0);
	assert_int_equal(virtq_enable(&q, &mem, QSZ, RAM - 16 * QSZ + 16, AVAIL, USED, false, false), -EINVAL);
	assert_int_equal(virtq_enable(&q, &mem, QSZ, DESC, RAM - 4 - 2 * QSZ, USED, false, false), -EINVAL);
	assert_int_equal(virtq_enable(&q, &mem, QSZ, DESC, AVAIL, RAM - 132, false, false), -EINVAL);
	/* Past the end of RAM, in the hole, and wrapping around 2^64. */
	assert_int_equal(virtq_enable(&q, &mem, QSZ, RAM, AVAIL, USED, false, false), -EINVAL);
	assert_int_equal(virtq_enable(&q, &mem, QSZ, 0xc0000000ULL, AVAIL, USED, false, false), -EINVAL);
	assert_int_equal(virtq_enable(&q, &mem, QSZ, 0xfee00000ULL, AVAIL, USED, false, false), -EINVAL);
	assert_int_equal(virtq_enable(&q, &mem, QSZ, 0xfffffffffffffff0ULL, AVAIL, USED, false, false), -EINVAL);
	assert_int_equal(virtq_enable(&q, &mem, QSZ, DESC, 0xfffffffffffffffeULL, USED, false, false), -EINVAL);
	assert_int_equal(virtq_enable(&q, &mem, QSZ, DESC, AVAIL, 0xfffffffffffffffcULL, false, false), -EINVAL);
	assert_false(q.ready);
	assert_null(q.desc);
	assert_null(q.used);
	/* The largest queue. */
	assert_int_equal(virtq_enable(&q, &mem, 32768, 0x100000, 0x200000, 0x300000, true, true), 0);
	assert_true(q.ready);
	assert_int_equal(q.size, 32768);
}

static void test_not_ready(void **state)
{
	struct virtq q = { 0 };
	struct virtq_elem e;

	(void)state;
	D(0, BUF, 16, 0, 0);
	post(0);
	virtq_reset(&vq);
	memcpy(snap, mem.base, RAM);
	assert_int_equal(virtq_pop(&vq, &e), 0);
	virtq_push(&vq, 0, 16);
	virtq_disable_notify(&vq);
	assert_false(virtq_should_notify(&vq));
	assert_false(virtq_enable_notify(&vq));
	assert_int_equal(first_diff(), -1);
	assert_int_equal(virtq_pop(&q, &e), 0);
	/* The label survives the reset. */
	assert_string_equal(vq.owner, "test-dev");
	assert_int_equal(vq.index, 3);
}

/* ---------------- chains ---------------- */

static void test_out_only(void **state)
{
	struct virtq_elem e;

	(void)state;
	D(4, BUF, 100, N, 9);
	D(9, BUF + 0x1000, 4096, 0, 0);
	post(4);
	assert_int_equal(virtq_pop(&vq, &e), 1);
	assert_int_equal(e.head, 4);
	assert_int_equal(e.n_out, 2);
	assert_int_equal(e.n_in, 0);
	assert_int_equal(e.out_len, 4196);
	assert_int_equal(e.in_len, 0);
	assert_iov(&e, 0, BUF, 100);
	assert_iov(&e, 1, BUF + 0x1000, 4096);
	assert_int_equal(vq.last_avail, 1);
	assert_int_equal(virtq_pop(&vq, &e), 0);
	virtq_push(&vq, 4, 0);
	assert_int_equal(vqt_rd16(USED_IDX), 1);
	assert_used(0, 4, 0);
	assert_false(vq.broken);
}

static void test_in_only(void **state)
{
	struct virtq_elem e;

	(void)state;
	D(15, BUF + 0x800, 512, W, 0);
	post(15);
	assert_int_equal(virtq_pop(&vq, &e), 1);
	assert_int_equal(e.head, 15);
	assert_int_equal(e.n_out, 0);
	assert_int_equal(e.n_in, 1);
	assert_int_equal(e.out_len, 0);
	assert_int_equal(e.in_len, 512);
	assert_iov(&e, 0, BUF + 0x800, 512);
	virtq_push(&vq, 15, 300);
	assert_int_equal(vqt_rd16(USED_IDX), 1);
	assert_used(0, 15, 300);
}

static void test_out_in_with_empty(void **state)
{
	struct virtq_elem e;

	(void)state;
	/* Zero-length descriptors carry nothing, wherever they point. */
	D(0, BUF, 16, N, 5);
	D(5, 0xfffffffffffffff0ULL, 0, N, 3);
	D(3, BUF + 0x1000, 512, W | N, 2);
	D(2, 0xc0000000ULL, 0, W | N, 4);
	D(4, BUF + 0x2000, 1, W, 0);
	post(0);
	assert_int_equal(virtq_pop(&vq, &e), 1);
	assert_int_equal(e.head, 0);
	assert_int_equal(e.n_out, 1);
	assert_int_equal(e.n_in, 2);
	assert_int_equal(e.out_len, 16);
	assert_int_equal(e.in_len, 513);
	assert_iov(&e, 0, BUF, 16);
	assert_iov(&e, 1, BUF + 0x1000, 512);
	assert_iov(&e, 2, BUF + 0x2000, 1);
	virtq_push(&vq, 0, 513);
	assert_int_equal(vqt_rd16(USED_IDX), 1);
	assert_used(0, 0, 513);
}

/* Several in flight, completed out of order; the used ring says so. */
static void test_out_of_order_completion(void **state)
{
	struct virtq_elem e;

	(void)state;
	for (unsigned i = 0; i < 3; i++) {
		D(i, BUF + 0x100 * i, 8, W, 0);
		post((uint16_t)i);
	}
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(virtq_pop(&vq, &e), 1);
		assert_int_equal(e.head, i);
		assert_iov(&e, 0, BUF + 0x100 * i, 8);
	}
	virtq_push(&vq, 2, 8);
	virtq_push(&vq, 0, 1);
	virtq_push(&vq, 1, 0);
	assert_int_equal(vqt_rd16(USED_IDX), 3);
	assert_used(0, 2, 8);
	assert_used(1, 0, 1);
	assert_used(2, 1, 0);
}

/* The driver may be exactly one ring ahead, and a chain may use every
 * descriptor of the table. */
static void test_full_ring_and_longest_chain(void **state)
{
	struct virtq_elem e;

	(void)state;
	for (unsigned i = 0; i < QSZ; i++)
		D(i, BUF + 16 * i, 16, i + 1 < QSZ ? N : 0, (uint16_t)(i + 1));
	for (unsigned i = 0; i < QSZ; i++)
		post(0);
	for (unsigned i = 0; i < QSZ; i++) {
		assert_int_equal(virtq_pop(&vq, &e), 1);
		assert_int_equal(e.n_out, QSZ);
		assert_int_equal(e.out_len, 16 * QSZ);
		assert_iov(&e, QSZ - 1, BUF + 16 * (QSZ - 1), 16);
	}
	assert_int_equal(virtq_pop(&vq, &e), 0);
	assert_false(vq.broken);
}

/* 16-bit indices near the wrap, as after a long uptime. */
static void test_index_wrap(void **state)
{
	struct virtq_elem e;

	(void)state;
	vq.last_avail = vq.used_idx = 65534;
	wr16(AVAIL_IDX, 65534);
	for (unsigned i = 1; i <= 4; i++) {
		D(i, BUF + 0x100 * i, 32, W, 0);
		post((uint16_t)i);
	}
	assert_int_equal(vqt_rd16(AVAIL_IDX), 2);
	/* Ring slots 14, 15, 0, 1. */
	assert_int_equal(vqt_rd16(AVAIL_RING(65535)), 2);
	assert_int_equal(vqt_rd16(AVAIL_RING(0)), 3);
	for (unsigned i = 1; i <= 4; i++) {
		assert_int_equal(virtq_pop(&vq, &e), 1);
		assert_int_equal(e.head, i);
		virtq_push(&vq, e.head, 10 * i);
	}
	assert_int_equal(virtq_pop(&vq, &e), 0);
	assert_int_equal(vq.last_avail, 2);
	assert_int_equal(vqt_rd16(USED_IDX), 2);
	assert_used(65534, 1, 10);
	assert_used(65535, 2, 20);
	assert_used(0, 3, 30);
	assert_used(1, 4, 40);
}

/* Enable picks up the indices from the rings it is given. */
static void test_enable_resumes_indices(void **state)
{
	struct virtq_elem e;

	(void)state;
	wr16(USED_IDX, 65535);
	wr16(AVAIL_IDX, 65535);
	assert_int_equal(virtq_enable(&vq, &mem, QSZ, DESC, AVAIL, USED, false, true), 0);
	assert_int_equal(vq.last_avail, 65535);
	assert_int_equal(vq.used_idx, 65535);
	D(7, BUF, 8, 0, 0);
	post(7);
	assert_int_equal(virtq_pop(&vq, &e), 1);
	assert_int_equal(e.head, 7);
	virtq_push(&vq, 7, 0);
	assert_int_equal(vqt_rd16(USED_IDX), 0);
	assert_used(65535, 7, 0);
}

/* Buffers above 4 GiB, up to the last byte of RAM. */
static void test_high_ram(void **state)
{
	struct virtq_elem e;

	(void)state;
	D(0, HIGH, 4096, N, 1);
	D(1, GUEST_MEM_HOLE_START - 16, 16, W | N, 2);
	D(2, HIGH + RAM - 16, 16, W, 0);
	post(0);
	assert_int_equal(virtq_pop(&vq, &e), 1);
	assert_int_equal(e.n_out, 1);
	assert_int_equal(e.n_in, 2);
	assert_iov(&e, 0, HIGH, 4096);
	assert_ptr_equal(e.iov[0].iov_base, mem.base + GUEST_MEM_HOLE_START);
	assert_iov(&e, 1, GUEST_MEM_HOLE_START - 16, 16);
	assert_iov(&e, 2, HIGH + RAM - 16, 16);
	assert_ptr_equal((uint8_t *)e.iov[2].iov_base + 16, mem.base + BIG_RAM);
}

/* The largest total a chain may have: 2^32 - 1 bytes, both ways together. */
static void test_largest_total(void **state)
{
	struct virtq_elem e;

	(void)state;
	D(0, 0x1000000, 0xb0000000u, N, 1);
	D(1, 0x1000000, 0x4fffffffu, W, 0);
	post(0);
	assert_int_equal(virtq_pop(&vq, &e), 1);
	assert_int_equal(e.out_len, 0xb0000000u);
	assert_int_equal(e.in_len, 0x4fffffffu);
}

/* ---------------- indirect ---------------- */

static void test_indirect(void **state)
{
	struct virtq_elem e;

	(void)state;
	T(0, BUF, 16, N, 2);
	T(2, BUF + 0x1000, 4096, N | W, 1);
	T(1, BUF + 0x3000, 1, W, 0);
	/* WRITE on the descriptor naming the table is ignored (2.7.5.3.2). */
	D(7, IND, 3 * 16, I | W, 0);
	post(7);
	assert_int_equal(virtq_pop(&vq, &e), 1);
	assert_int_equal(e.head, 7);
	assert_int_equal(e.n_out, 1);
	assert_int_equal(e.n_in, 2);
	assert_int_equal(e.out_len, 16);
	assert_int_equal(e.in_len, 4097);
	assert_iov(&e, 0, BUF, 16);
	assert_iov(&e, 1, BUF + 0x1000, 4096);
	assert_iov(&e, 2, BUF + 0x3000, 1);
	virtq_push(&vq, 7, 4097);
	assert_used(0, 7, 4097);
}

/* Indirect tables need no alignment, and may hold 32768 entries. */
static void test_indirect_unaligned_and_largest(void **state)
{
	struct virtq_elem e;

	(void)state;
	desc_at(IND + 8, 0, BUF, 24, W, 0);
	D(0, IND + 8, 16, I, 0);
	D(1, IND, 16 * 32768, I, 0);
	post(0);
	post(1);
	assert_int_equal(virtq_pop(&vq, &e), 1);
	assert_int_equal(e.n_in, 1);
	assert_iov(&e, 0, BUF, 24);
	T(0, BUF + 8, 8, 0, 0);
	assert_int_equal(virtq_pop(&vq, &e), 1);
	assert_int_equal(e.head, 1);
	assert_int_equal(e.n_out, 1);
	assert_iov(&e, 0, BUF + 8, 8);
}

/* VIRTQ_MAX_IOV non-empty buffers fit; empty ones do not count. */
static void test_max_iov(void **state)
{
	struct virtq_elem *e = malloc(sizeof(*e));

	(void)state;
	for (unsigned i = 0; i <= VIRTQ_MAX_IOV; i++)
		T(i, BUF + i, i == 500 ? 0 : 1, i < VIRTQ_MAX_IOV ? N : 0, (uint16_t)(i + 1));
	D(0, IND, 16 * (VIRTQ_MAX_IOV + 1), I, 0);
	post(0);
	assert_int_equal(virtq_pop(&vq, e), 1);
	assert_int_equal(e->n_out, VIRTQ_MAX_IOV);
	assert_int_equal(e->out_len, VIRTQ_MAX_IOV);
	assert_iov(e, 499, BUF + 499, 1);
	assert_iov(e, 500, BUF + 501, 1);
	assert_iov(e, VIRTQ_MAX_IOV - 1, BUF + VIRTQ_MAX_IOV, 1);
	free(e);
}

/* ---------------- notifications ---------------- */

static void test_no_interrupt(void **state)
{
	struct virtq_elem e;

	(void)state;
	D(0, BUF, 16, 0, 0);
	post(0);
	assert_int_equal(virtq_pop(&vq, &e), 1);
	virtq_push(&vq, 0, 0);
	assert_true(virtq_should_notify(&vq));
	wr16(AVAIL_FLAGS, VIRTQ_AVAIL_F_NO_INTERRUPT);
	assert_false(virtq_should_notify(&vq));
	wr16(AVAIL_FLAGS, 0);
	assert_true(virtq_should_notify(&vq));
	/* Without event idx, the avail_event field is never written. */
	assert_int_equal(vqt_rd16(AVAIL_EVENT), 0);
}

static void test_kick_suppression(void **state)
{
	struct virtq_elem e;

	(void)state;
	virtq_disable_notify(&vq);
	assert_int_equal(vqt_rd16(USED_FLAGS), VIRTQ_USED_F_NO_NOTIFY);
	assert_false(virtq_enable_notify(&vq));
	assert_int_equal(vqt_rd16(USED_FLAGS), 0);
	virtq_disable_notify(&vq);
	D(0, BUF, 16, 0, 0);
	post(0); /* raced in while kicks were off */
	assert_true(virtq_enable_notify(&vq));
	assert_int_equal(vqt_rd16(USED_FLAGS), 0);
	assert_int_equal(virtq_pop(&vq, &e), 1);
	assert_false(virtq_enable_notify(&vq));
}

static void push_one(void)
{
	struct virtq_elem e;

	assert_int_equal(virtq_pop(&vq, &e), 1);
	virtq_push(&vq, e.head, 0);
}

/* used_event decisions across the 16-bit wrap. */
static void test_event_idx_interrupts(void **state)
{
	(void)state;
	assert_int_equal(virtq_enable(&vq, &mem, QSZ, DESC, AVAIL, USED, true, false), 0);
	vq.last_avail = vq.used_idx = 65533;
	wr16(AVAIL_IDX, 65533);
	D(0, BUF, 16, 0, 0);
	for (unsigned i = 0; i < 12; i++)
		post(0);
	wr16(USED_EVENT, 65535); /* interrupt once used->idx passes 65535 */
	push_one();              /* used 65534: the first look always says yes */
	assert_true(virtq_should_notify(&vq));
	push_one();              /* 65535: not past it yet */
	assert_false(virtq_should_notify(&vq));
	push_one();              /* 0: past it, across the wrap */
	assert_true(virtq_should_notify(&vq));
	push_one();              /* 1: already told */
	assert_false(virtq_should_notify(&vq));
	assert_false(virtq_should_notify(&vq)); /* nothing new */
	wr16(USED_EVENT, 3);
	push_one();
	push_one();              /* 1 -> 3 in one batch: 3 not passed */
	assert_false(virtq_should_notify(&vq));
	push_one();              /* 4 */
	assert_true(virtq_should_notify(&vq));
	wr16(USED_EVENT, 5);
	push_one();
	push_one();
	push_one();              /* 4 -> 7 passes 5 in the middle of the batch */
	assert_true(virtq_should_notify(&vq));
	/* NO_INTERRUPT means nothing once event idx is on (2.7.7). */
	wr16(AVAIL_FLAGS, VIRTQ_AVAIL_F_NO_INTERRUPT);
	wr16(USED_EVENT, 7);
	push_one();              /* 8 */
	assert_true(virtq_should_notify(&vq));
	assert_int_equal(vqt_rd16(USED_IDX), 8);
	assert_false(vq.broken);
}

/* avail_event follows what the device has taken; used flags stay 0. */
static void test_event_idx_kicks(void **state)
{
	struct virtq_elem e;

	(void)state;
	assert_int_equal(virtq_enable(&vq, &mem, QSZ, DESC, AVAIL, USED, true, false), 0);
	vq.last_avail = vq.used_idx = 65535;
	wr16(AVAIL_IDX, 65535);
	D(0, BUF, 16, 0, 0);
	post(0);
	post(0);
	virtq_disable_notify(&vq);
	assert_int_equal(vqt_rd16(USED_FLAGS), 0);
	assert_int_equal(virtq_pop(&vq, &e), 1);
	assert_int_equal(vqt_rd16(AVAIL_EVENT), 0);
	assert_true(virtq_enable_notify(&vq)); /* one still there */
	assert_int_equal(virtq_pop(&vq, &e), 1);
	assert_int_equal(vqt_rd16(AVAIL_EVENT), 1);
	wr16(AVAIL_EVENT, 0x5555);
	assert_false(virtq_enable_notify(&vq));
	assert_int_equal(vqt_rd16(AVAIL_EVENT), 1);
	assert_int_equal(vqt_rd16(USED_FLAGS), 0);
}

/* After half the index space without a look, the recorded index would
 * compare the wrong way: the next look says yes rather than miss one. */
static void test_event_idx_long_batch(void **state)
{
	(void)state;
	assert_int_equal(virtq_enable(&vq, &mem, QSZ, DESC, AVAIL, USED, true, false), 0);
	assert_true(virtq_should_notify(&vq));
	for (unsigned i = 0; i < 100; i++)
		virtq_push(&vq, 0, 0);
	wr16(USED_EVENT, 100); /* not passed yet */
	assert_false(virtq_should_notify(&vq));
	for (unsigned i = 0; i < 32768; i++)
		virtq_push(&vq, 0, 0);
	wr16(USED_EVENT, (uint16_t)(100 + 32768)); /* still not passed... */
	assert_true(virtq_should_notify(&vq));     /* ...but too far to tell */
}

/* ---------------- malformed rings, one kind each ---------------- */

static void test_avail_far_ahead(void **state)
{
	(void)state;
	D(0, BUF, 16, 0, 0);
	wr16(AVAIL_IDX, QSZ + 1);
	expect_broken(-EINVAL, "avail idx 17 is 17 entries past the device's 0, more than the queue size 16");
}

static void test_avail_moved_back(void **state)
{
	struct virtq_elem e;

	(void)state;
	D(0, BUF, 16, 0, 0);
	post(0);
	assert_int_equal(virtq_pop(&vq, &e), 1);
	wr16(AVAIL_IDX, 0); /* "unexposes" a buffer: forbidden (2.7.6) */
	expect_broken(-EINVAL, "avail idx 0 is 65535 entries past the device's 1");
}

static void test_head_out_of_range(void **state)
{
	(void)state;
	post(QSZ);
	expect_broken(-EINVAL, "avail entry 0 names descriptor 16, past the queue size 16");
}

static void test_next_out_of_range(void **state)
{
	(void)state;
	D(1, BUF, 16, N, 2);
	D(2, BUF, 16, N, QSZ);
	post(1);
	expect_broken(-EINVAL, "chain at head 1: descriptor 2: next is past the end of its table");
}

static void test_loop(void **state)
{
	(void)state;
	D(1, BUF, 16, N, 2);
	D(2, BUF, 16, N, 3);
	D(3, BUF, 16, N, 1);
	post(1);
	expect_broken(-EINVAL, "chain at head 1: descriptor 1: chain longer than its table: it loops");
}

static void test_self_loop(void **state)
{
	(void)state;
	D(5, BUF, 0, N, 5); /* empty buffers still count */
	post(5);
	expect_broken(-EINVAL, "chain at head 5: descriptor 5: chain longer than its table: it loops");
}

static void test_indirect_len_not_multiple(void **state)
{
	(void)state;
	D(0, IND, 24, I, 0);
	post(0);
	expect_broken(-EINVAL, "descriptor 0: indirect table length is 0, not a multiple of 16");
}

static void test_indirect_len_zero(void **state)
{
	(void)state;
	D(0, IND, 0, I, 0);
	post(0);
	expect_broken(-EINVAL, "descriptor 0: indirect table length is 0");
}

static void test_indirect_len_too_big(void **state)
{
	(void)state;
	T(0, BUF, 16, 0, 0); /* a fine table, in RAM: only the length is wrong */
	D(0, IND, 16 * 32768 + 16, I, 0);
	post(0);
	expect_broken(-EINVAL, "over 32768 entries");
}

static void test_indirect_nested(void **state)
{
	(void)state;
	T(0, BUF, 16, N, 1);
	T(1, IND, 32, I, 0);
	D(0, IND, 32, I, 0);
	post(0);
	expect_broken(-EINVAL, "chain at head 0: indirect entry 1: INDIRECT inside an indirect table");
}

static void test_indirect_with_next(void **state)
{
	(void)state;
	T(0, BUF, 16, 0, 0);
	D(1, BUF, 16, 0, 0);
	D(0, IND, 16, I | N, 1);
	post(0);
	expect_broken(-EINVAL, "descriptor 0: INDIRECT together with NEXT");
}

static void test_indirect_not_negotiated(void **state)
{
	(void)state;
	assert_int_equal(virtq_enable(&vq, &mem, QSZ, DESC, AVAIL, USED, false, false), 0);
	T(0, BUF, 16, 0, 0);
	D(0, IND, 16, I, 0);
	post(0);
	expect_broken(-EINVAL, "INDIRECT but VIRTIO_F_INDIRECT_DESC was not negotiated");
}

static void test_indirect_mid_chain(void **state)
{
	(void)state;
	T(0, BUF, 16, 0, 0);
	D(0, BUF, 16, N, 1);
	D(1, IND, 16, I, 0);
	post(0);
	expect_broken(-EINVAL, "descriptor 1: INDIRECT in the middle of a chain");
}

static void test_indirect_loop(void **state)
{
	(void)state;
	T(0, BUF, 8, N, 1);
	T(1, BUF, 8, N, 0);
	D(0, IND, 32, I, 0);
	post(0);
	expect_broken(-EINVAL, "indirect entry 1: chain longer than its table: it loops");
}

static void test_indirect_next_past_table(void **state)
{
	(void)state;
	T(0, BUF, 8, N, 1);
	T(1, BUF, 8, N, 2);
	T(2, BUF, 8, 0, 0); /* in memory, but not in the table's 32 bytes */
	D(0, IND, 32, I, 0);
	post(0);
	expect_broken(-EINVAL, "indirect entry 1: next is past the end of its table");
}

static void test_indirect_table_outside_ram(void **state)
{
	(void)state;
	D(0, RAM - 16, 32, I, 0);
	post(0);
	expect_broken(-EINVAL, "descriptor 0: indirect table not inside one guest RAM region");
}

static void test_indirect_table_wraps(void **state)
{
	(void)state;
	D(0, 0xfffffffffffffff0ULL, 32, I, 0); /* the sum wraps to 0x10, which is RAM */
	post(0);
	expect_broken(-EINVAL, "indirect table not inside one guest RAM region");
}

static void test_read_after_write(void **state)
{
	(void)state;
	D(0, BUF, 16, W | N, 1);
	D(1, BUF + 16, 16, 0, 0);
	post(0);
	expect_broken(-EINVAL, "descriptor 1: device-readable buffer after a device-writable one");
}

static void test_read_after_write_indirect(void **state)
{
	(void)state;
	T(0, BUF, 16, N, 1);
	T(1, BUF + 16, 16, W | N, 2);
	T(2, BUF + 32, 0, 0, 0); /* even an empty one */
	D(0, IND, 48, I, 0);
	post(0);
	expect_broken(-EINVAL, "indirect entry 2: device-readable buffer after a device-writable one");
}

static void test_buffer_past_ram_end(void **state)
{
	(void)state;
	D(0, BUF, 16, N, 1);
	D(1, RAM - 8, 16, 0, 0);
	post(0);
	expect_broken(-EINVAL, "descriptor 1: buffer not inside one guest RAM region");
}

static void test_buffer_at_ram_end(void **state)
{
	(void)state;
	D(0, RAM, 1, W, 0);
	post(0);
	expect_broken(-EINVAL, "descriptor 0: buffer not inside one guest RAM region");
}

static void test_buffer_wraps_u64(void **state)
{
	(void)state;
	D(0, 0xfffffffffffffff0ULL, 0x20, 0, 0); /* the sum wraps to 0x10, which is RAM */
	post(0);
	expect_broken(-EINVAL, "buffer not inside one guest RAM region");
}

static void test_buffer_huge_len(void **state)
{
	(void)state;
	D(0, BUF, 0xffffffffu, W, 0);
	post(0);
	expect_broken(-EINVAL, "buffer not inside one guest RAM region");
}

/* With RAM above 4 GiB (setup_big): the hole and both of its edges. */
static void test_buffer_in_hole(void **state)
{
	(void)state;
	D(0, 0xd0000000ULL, 16, 0, 0);
	post(0);
	expect_broken(-EINVAL, "buffer not inside one guest RAM region");
}

static void test_buffer_straddles_low_end(void **state)
{
	(void)state;
	D(0, GUEST_MEM_HOLE_START - 16, 32, W, 0);
	post(0);
	expect_broken(-EINVAL, "buffer not inside one guest RAM region");
}

static void test_buffer_straddles_high_start(void **state)
{
	(void)state;
	D(0, HIGH - 16, 32, W, 0);
	post(0);
	expect_broken(-EINVAL, "buffer not inside one guest RAM region");
}

static void test_buffer_past_high_end(void **state)
{
	(void)state;
	D(0, HIGH + RAM - 8, 16, W, 0);
	post(0);
	expect_broken(-EINVAL, "buffer not inside one guest RAM region");
}

/* 2^32 bytes in total (one more than test_largest_total): too long. */
static void test_total_len_overflow(void **state)
{
	(void)state;
	D(0, 0x1000000, 0xb0000000u, N, 1);
	D(1, 0x1000000, 0x50000000u, W, 0);
	post(0);
	expect_broken(-EINVAL, "descriptor 1: buffers total 4 GiB or more");
}

static void test_total_len_overflow_one_way(void **state)
{
	(void)state;
	D(0, 0x1000000, 0xb0000000u, N, 1);
	D(1, 0x1000000, 0xb0000000u, 0, 0);
	post(0);
	expect_broken(-EINVAL, "descriptor 1: buffers total 4 GiB or more");
}

static void test_too_many_iovs(void **state)
{
	(void)state;
	for (unsigned i = 0; i <= VIRTQ_MAX_IOV; i++)
		T(i, BUF + i, 1, i < VIRTQ_MAX_IOV ? N : 0, (uint16_t)(i + 1));
	D(0, IND, 16 * (VIRTQ_MAX_IOV + 1), I, 0);
	post(0);
	expect_broken(-ENOSPC, "indirect entry 1024: more non-empty buffers than the device takes");
}

/* ---------------- after a break ---------------- */

static void test_reset_after_break(void **state)
{
	struct virtq_elem e;
	char log[512];

	(void)state;
	post(QSZ + 1);
	virtq_set_label(&vq, NULL, 0);
	capture_start();
	assert_int_equal(virtq_pop(&vq, &e), -EINVAL);
	capture_end(log, sizeof(log));
	/* Unlabelled queues are named by their descriptor table. */
	assert_non_null(strstr(log, "virtqueue at 0x10000: malformed ring: avail entry 0 names descriptor 17"));
	assert_true(vq.broken);
	/* The driver resets the device and sets the ring up again. */
	virtq_reset(&vq);
	assert_false(vq.broken);
	memset(mem.base + AVAIL, 0, 0x2000);
	assert_int_equal(virtq_enable(&vq, &mem, QSZ, DESC, AVAIL, USED, false, true), 0);
	D(2, BUF, 16, 0, 0);
	post(2);
	assert_int_equal(virtq_pop(&vq, &e), 1);
	assert_int_equal(e.head, 2);
}

int main(void)
{
#define TS(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define TB(f) cmocka_unit_test_setup_teardown(f, setup_big, teardown)
	const struct CMUnitTest tests[] = {
		TS(test_enable_checks), TS(test_not_ready),
		TS(test_out_only), TS(test_in_only), TS(test_out_in_with_empty),
		TS(test_out_of_order_completion), TS(test_full_ring_and_longest_chain),
		TS(test_index_wrap), TS(test_enable_resumes_indices), TB(test_high_ram),
		TB(test_largest_total),
		TS(test_indirect), TS(test_indirect_unaligned_and_largest), TS(test_max_iov),
		TS(test_no_interrupt), TS(test_kick_suppression), TS(test_event_idx_interrupts),
		TS(test_event_idx_kicks), TS(test_event_idx_long_batch),
		TS(test_avail_far_ahead), TS(test_avail_moved_back), TS(test_head_out_of_range),
		TS(test_next_out_of_range), TS(test_loop), TS(test_self_loop),
		TS(test_indirect_len_not_multiple), TS(test_indirect_len_zero),
		TS(test_indirect_len_too_big), TS(test_indirect_nested), TS(test_indirect_with_next),
		TS(test_indirect_not_negotiated), TS(test_indirect_mid_chain), TS(test_indirect_loop),
		TS(test_indirect_next_past_table), TS(test_indirect_table_outside_ram),
		TS(test_indirect_table_wraps),
		TS(test_read_after_write), TS(test_read_after_write_indirect),
		TS(test_buffer_past_ram_end), TS(test_buffer_at_ram_end), TS(test_buffer_wraps_u64),
		TS(test_buffer_huge_len),
		TB(test_buffer_in_hole), TB(test_buffer_straddles_low_end),
		TB(test_buffer_straddles_high_start), TB(test_buffer_past_high_end),
		TB(test_total_len_overflow), TB(test_total_len_overflow_one_way),
		TS(test_too_many_iovs),
		TS(test_reset_after_break),
	};
	int rc;

	snap = malloc(RAM);
	if (!snap)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(snap);
	return rc;
}
