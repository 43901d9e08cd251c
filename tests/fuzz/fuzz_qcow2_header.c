/* Fuzz target: a whole qcow2 image file. The input is the file: the real
 * header parser, L1/L2 and refcount table checks and the real backend
 * (io_uring on a scratch file) open it read-only, read windows of the
 * disk, then open a writable copy and write, zero and discard a little.
 * Errors are expected; a crash, sanitizer report or hang is a bug.
 * Inputs naming a backing file are parsed but not opened: the name could
 * be any host path. Built with libFuzzer (tools/fuzz qcow2_header) to
 * search, and with replay_main.c (meson) to replay the corpus in CI. */
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/blk_backend.h"
#include "block/qcow2.h"
#include "common/log.h"

#define WINDOW 65536

static char path[] = "/tmp/lq-fuzz-qcow2-XXXXXX";
static int done_count;

static void fuzz_cleanup(void)
{
	unlink(path);
}

static void fuzz_done(struct blk_req *req, int result)
{
	(void)req, (void)result;
	done_count++;
}

static void fuzz_io(struct blk_backend *b, enum blk_op op, uint64_t off, uint64_t len)
{
	static uint8_t buf[WINDOW];
	struct iovec iov = { buf, len };
	struct blk_req r = { .op = op, .offset = off, .iov = &iov, .iovcnt = 1, .len = len,
			     .unmap = true, .done = fuzz_done };
	struct pollfd p = { blk_backend_event_fd(b), POLLIN, 0 };
	int want = done_count + 1;

	if (off > blk_backend_size(b) || len > blk_backend_size(b) - off)
		return;
	memset(buf, 0x5a, len);
	blk_backend_submit(b, &r);
	blk_backend_kick(b);
	for (int idle = 0; done_count < want;) {
		/* The eventfd alone is not trusted: under libFuzzer a completion
		 * was seen in the ring with the eventfd left unsignalled, so
		 * look at the ring too, as the VMM's poller does. */
		if (poll(&p, 1, 100) != 1 && !blk_backend_pending(b) && ++idle > 100)
			abort(); /* 10 s without a completion: a lost request */
		blk_backend_complete(b);
		blk_backend_kick(b);
	}
}

static void fuzz_windows(struct blk_backend *b, bool write)
{
	uint64_t size = blk_backend_size(b), at[3] = { 0, size / 2 & ~511ULL, 0 };

	at[2] = size > WINDOW ? (size - WINDOW) & ~511ULL : 0;
	for (int i = 0; i < 3; i++) {
		uint64_t len = size - at[i] < WINDOW ? size - at[i] : WINDOW;

		fuzz_io(b, BLK_OP_READ, at[i], len);
		if (!write || len < 1024)
			continue;
		fuzz_io(b, BLK_OP_WRITE, at[i] + 512, 512);
		fuzz_io(b, BLK_OP_WRITE_ZEROES, at[i], len / 2 & ~511ULL);
		fuzz_io(b, BLK_OP_DISCARD, at[i], len & ~511ULL);
		fuzz_io(b, BLK_OP_FLUSH, 0, 0);
		fuzz_io(b, BLK_OP_READ, at[i], len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct blk_open_opts o = { .read_only = true, .queue_depth = 16 };
	struct qcow2_header h;
	struct blk_backend *b;
	char err[256];
	int fd;

	log_set_level((enum log_level)(LOG_ERROR + 1)); /* errors are expected here: quiet */
	if (qcow2_header_parse(data, size, size, &h, err, sizeof(err)) || h.backing_file[0])
		return 0;
	if (path[sizeof(path) - 2] == 'X') {
		fd = mkstemp(path);
		if (fd < 0)
			abort();
		close(fd);
		atexit(fuzz_cleanup);
	}
	fd = open(path, O_RDWR | O_TRUNC);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	if (blk_qcow2_open(path, &o, &b) == 0) {
		fuzz_windows(b, false);
		blk_backend_close(b);
	}
	o.read_only = false;
	if (blk_qcow2_open(path, &o, &b) == 0) {
		fuzz_windows(b, true);
		blk_backend_close(b);
	}
	return 0;
}
