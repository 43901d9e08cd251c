/* What the block backend unit tests share: shell commands (qemu-img,
 * qemu-io), a temporary directory per test, and requests driven to
 * completion the way the device does it (kick, poll the backend's
 * eventfd, reap), with a limit so a lost completion fails instead of
 * hanging. Include after cmocka.h. */
#ifndef LQ_TESTS_BLK_TEST_UTIL_H
#define LQ_TESTS_BLK_TEST_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "block/blk_backend.h"

/* system() of a formatted command: its exit status, -1 if it died. */
__attribute__((format(printf, 1, 2))) int bt_sh(const char *fmt, ...);
#define BT_SH(...)                                                         \
	do {                                                               \
		int rc_ = bt_sh(__VA_ARGS__);                              \
		if (rc_)                                                   \
			fail_msg("exit %d: %s", rc_, #__VA_ARGS__);        \
	} while (0)

/* /tmp/<prefix>-XXXXXX for setup (0 or -1), removed by bt_dir_remove;
 * bt_path names a file in it (eight rotating buffers). */
int bt_dir_make(const char *prefix);
int bt_dir_remove(void);
const char *bt_dir(void);
const char *bt_path(const char *name);

/* Completions so far; bt_dir_make resets it. */
extern int bt_done;

/* A request that records its result and its place among completions. */
struct bt_req {
	struct blk_req req;
	int result;
	int order; /* -1 until done */
};

void bt_req_init(struct bt_req *t, enum blk_op op, uint64_t offset, const struct iovec *iov,
		 unsigned iovcnt, uint64_t len);
/* Kicks and reaps until want requests in all have completed. */
void bt_run_until(struct blk_backend *b, int want);
/* One request to completion: its result. */
int bt_io(struct blk_backend *b, enum blk_op op, uint64_t offset, const struct iovec *iov,
	  unsigned iovcnt, uint64_t len, bool unmap);

#endif
