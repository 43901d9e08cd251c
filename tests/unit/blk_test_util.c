#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "tests/unit/blk_test_util.h"

int bt_done;
static char bt_tmp[64];

int bt_sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int bt_dir_make(const char *prefix)
{
	snprintf(bt_tmp, sizeof(bt_tmp), "/tmp/%s-XXXXXX", prefix);
	bt_done = 0;
	return mkdtemp(bt_tmp) ? 0 : -1;
}

int bt_dir_remove(void)
{
	return bt_sh("rm -rf %s", bt_tmp);
}

const char *bt_dir(void)
{
	return bt_tmp;
}

const char *bt_path(const char *name)
{
	static char buf[8][160];
	static int i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", bt_tmp, name);
	return buf[i];
}

static void bt_req_done(struct blk_req *req, int result)
{
	struct bt_req *t = (struct bt_req *)req;

	t->result = result;
	t->order = bt_done++;
}

void bt_req_init(struct bt_req *t, enum blk_op op, uint64_t offset, const struct iovec *iov,
		 unsigned iovcnt, uint64_t len)
{
	memset(t, 0, sizeof(*t));
	t->req = (struct blk_req){ .op = op, .offset = offset, .iov = iov, .iovcnt = iovcnt,
				   .len = len, .done = bt_req_done };
	t->order = -1;
}

void bt_run_until(struct blk_backend *b, int want)
{
	struct pollfd pf = { .fd = blk_backend_event_fd(b), .events = POLLIN };

	assert_int_equal(blk_backend_kick(b), 0);
	while (bt_done < want) {
		assert_int_equal(poll(&pf, 1, 10000), 1);
		blk_backend_complete(b);
		assert_int_equal(blk_backend_kick(b), 0);
	}
}

int bt_io(struct blk_backend *b, enum blk_op op, uint64_t offset, const struct iovec *iov,
	  unsigned iovcnt, uint64_t len, bool unmap)
{
	struct bt_req t;
	int before = bt_done;

	bt_req_init(&t, op, offset, iov, iovcnt, len);
	t.req.unmap = unmap;
	assert_int_equal(blk_backend_submit(b, &t.req), 0);
	bt_run_until(b, before + 1);
	return t.result;
}
