/* Crash safety of the qcow2 write path: a child process writes,
 * discards and flushes through the backend and is killed with SIGKILL in
 * the middle, many times over on the same image. After each kill
 * `qemu-img check` finds no corruption (leaked clusters are allowed) and
 * every write that completed before a completed flush was submitted is
 * there, byte for byte, as qemu-img reads the image. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "block/blk_backend.h"
#include "tests/unit/blk_test_util.h"

#define KIB 1024ULL
#define MIB (1024 * KIB)
#define DISK (32 * MIB)
#define SLOT (128 * KIB)
#define NSLOTS (DISK / SLOT)
#define INFLIGHT 8

static uint64_t rng;

static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % n;
}

/* What the child tells the parent, one record per completion. */
struct rec {
	uint32_t kind;                   /* 0: write done, 1: flush done */
	uint32_t count;                  /* flush: writes done before it was submitted */
	uint64_t off, len, seed;
};

static uint8_t pat(uint64_t seed, uint64_t i)
{
	return (uint8_t)((seed * 0x9e3779b97f4a7c15ULL >> 40) + i / 512 * 7 + i);
}

struct cslot {
	struct blk_req req;
	struct iovec iov;
	uint8_t buf[SLOT];
	uint64_t seed;
	bool busy;
};

static int child_fd;
static uint32_t child_writes;

static void child_done(struct blk_req *req, int result)
{
	struct cslot *s = (struct cslot *)req;
	struct rec r = { .off = req->offset, .len = s->iov.iov_len, .seed = s->seed };

	if (result)
		_exit(3);
	s->busy = false;
	if (req->op == BLK_OP_WRITE) {
		child_writes++;
		if (write(child_fd, &r, sizeof(r)) != sizeof(r))
			_exit(4);
	}
}

struct cflush {
	struct blk_req req;
	uint32_t count;
	bool busy;
};

static void flush_done(struct blk_req *req, int result)
{
	struct cflush *f = (struct cflush *)req;
	struct rec r = { .kind = 1, .count = f->count };

	if (result)
		_exit(5);
	f->busy = false;
	if (write(child_fd, &r, sizeof(r)) != sizeof(r))
		_exit(4);
}

/* The child: until killed, random writes into distinct slots (each
 * written once per run, so what is durable is unambiguous), whole-slot
 * discards and write-zeroes of other slots, and flushes. */
static void child(const char *img, int fd, uint64_t seed)
{
	static struct cslot s[INFLIGHT];
	static struct cflush fl;
	struct blk_open_opts o = { .format = BLK_FORMAT_QCOW2, .queue_depth = 32 };
	struct blk_backend *b;
	struct pollfd pf;
	uint32_t order[NSLOTS], next = 0;

	child_fd = fd;
	rng = seed;
	if (blk_open(img, &o, &b))
		_exit(2);
	for (uint32_t i = 0; i < NSLOTS; i++)
		order[i] = i;
	for (uint32_t i = NSLOTS - 1; i > 0; i--) {
		uint32_t j = (uint32_t)rnd(i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	pf = (struct pollfd){ .fd = blk_backend_event_fd(b), .events = POLLIN };
	while (next < NSLOTS) {
		for (int k = 0; k < INFLIGHT && next < NSLOTS; k++) {
			struct cslot *c = &s[k];
			uint64_t slot = order[next++], kind = rnd(10);

			if (c->busy)
				continue;
			c->seed = seed * 1000 + next;
			c->iov.iov_base = c->buf;
			c->iov.iov_len = (rnd(SLOT / 512) + 1) * 512;
			c->req = (struct blk_req){ .offset = slot * SLOT + rnd(SLOT / 512) * 512,
						   .iov = &c->iov, .iovcnt = 1, .done = child_done };
			if (c->req.offset + c->iov.iov_len > (slot + 1) * SLOT)
				c->iov.iov_len = (slot + 1) * SLOT - c->req.offset;
			if (kind < 7) {
				c->req.op = BLK_OP_WRITE;
				for (uint64_t i = 0; i < c->iov.iov_len; i++)
					c->buf[i] = pat(c->seed, i);
			} else {
				c->req.op = kind < 9 ? BLK_OP_DISCARD : BLK_OP_WRITE_ZEROES;
				c->req.offset = slot * SLOT;
				c->req.len = SLOT;
				c->req.iovcnt = 0;
				c->req.unmap = true;
			}
			c->busy = true;
			blk_backend_submit(b, &c->req);
		}
		if (!fl.busy && rnd(3) == 0) {
			fl = (struct cflush){ .req = { .op = BLK_OP_FLUSH, .done = flush_done },
					      .count = child_writes, .busy = true };
			blk_backend_submit(b, &fl.req);
		}
		blk_backend_kick(b);
		if (poll(&pf, 1, 10000) != 1)
			_exit(6);
		blk_backend_complete(b);
	}
	_exit(0); /* never closes cleanly: like a crash at the end */
}

static void check_durable(const char *raw, const struct rec *w, uint32_t n)
{
	int fd = open(raw, O_RDONLY);
	static uint8_t buf[SLOT];

	assert_true(fd >= 0);
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(pread(fd, buf, w[i].len, (off_t)w[i].off), (ssize_t)w[i].len);
		for (uint64_t k = 0; k < w[i].len; k++)
			if (buf[k] != pat(w[i].seed, k))
				fail_msg("write %u (%llu bytes at %llu), flushed before the crash, lost at byte %llu",
					 i, (unsigned long long)w[i].len, (unsigned long long)w[i].off,
					 (unsigned long long)k);
	}
	close(fd);
}

static void test_kill_during_writes(void **state)
{
	static struct rec w[4 * NSLOTS];
	char img[128], raw[128];
	int leaks = 0;

	(void)state;
	snprintf(img, sizeof(img), "%s/crash.qcow2", bt_dir());
	snprintf(raw, sizeof(raw), "%s/out.raw", bt_dir());
	assert_int_equal(bt_sh("head -c %llu /dev/urandom > %s/base.raw && cd %s && "
			    "qemu-img create -q -f qcow2 -b base.raw -F raw crash.qcow2 %llu",
			    DISK / 2, bt_dir(), bt_dir(), DISK), 0);
	rng = 0xc0ffee;
	for (int round = 0; round < 40; round++) {
		uint32_t nw = 0, durable = 0, flushes = 0, kill_after = 1 + (uint32_t)rnd(20);
		int fds[2], st, rc;
		struct rec r;
		pid_t pid;

		assert_int_equal(pipe(fds), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			child(img, fds[1], 1 + round);
		}
		close(fds[1]);
		while (read(fds[0], &r, sizeof(r)) == sizeof(r)) {
			if (r.kind == 0) {
				assert_true(nw < sizeof(w) / sizeof(w[0]));
				w[nw++] = r;
			} else {
				durable = r.count > durable ? r.count : durable;
				if (++flushes == kill_after)
					kill(pid, SIGKILL); /* mid-run: writes and flushes in flight */
			}
		}
		close(fds[0]);
		assert_int_equal(waitpid(pid, &st, 0), pid);
		if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
			fail_msg("round %d: the writer failed (status %#x)", round, st);
		/* 0: clean, 3: leaked clusters only; 2: corruption */
		rc = bt_sh("qemu-img check -q %s >/dev/null 2>&1", img);
		if (rc != 0 && rc != 3) {
			bt_sh("qemu-img check %s >&2", img);
			fail_msg("round %d: qemu-img check exit %d after the kill", round, rc);
		}
		leaks += rc == 3;
		assert_int_equal(bt_sh("qemu-img convert -O raw %s %s", img, raw), 0);
		check_durable(raw, w, durable);
		fprintf(stderr, "round %d: %u writes done, %u flushed, check %s\n", round, nw, durable,
			rc ? "leaks only" : "clean");
	}
	fprintf(stderr, "%d of 40 rounds left leaked clusters (allowed)\n", leaks);
}

static int setup(void **state)
{
	(void)state;
	return bt_dir_make("lq-qcow2c");
}

static int teardown(void **state)
{
	(void)state;
	return bt_dir_remove();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kill_during_writes, setup, teardown),
	};

	if (bt_sh("qemu-img --version >/dev/null 2>&1")) {
		fprintf(stderr, "qemu-img not found: run tools/setup\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
