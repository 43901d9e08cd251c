/* Fuzz target: a guest's virtqueue and virtio-blk requests. The input is
 * copied over the first 64 KiB of guest RAM, where the descriptor table,
 * the rings and the buffers live; the first byte picks the queue size and
 * negotiated ring features. The real virtqueue, the real virtio-blk model
 * and the real raw backend (io_uring on a scratch file) process it; the
 * only stand-in is the transport's interrupt, which has no KVM here.
 * Built two ways: with clang's libFuzzer (tools/fuzz) to search, and with
 * replay_main.c (meson) to replay the corpus in CI. */
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/blk_backend.h"
#include "common/log.h"
#include "virtio/blk.h"
#include "tests/fuzz/fuzz_virtio.h"
#include "vmm/guest_mem.h"

#define RAM (16u << 20)
#define DESC 0x0000
#define AVAIL 0x0800
#define USED 0x1000

static struct guest_mem mem;
static struct virtio_blk *blk;
static uint64_t interrupts;

static void fuzz_signal(struct virtio_dev *d, int q)
{
	(void)d, (void)q;
	interrupts++;
}

static const struct virtio_transport_ops fuzz_tops = { fuzz_signal };

static int fuzz_init(void)
{
	char path[] = "/tmp/lq-fuzz-blk-XXXXXX";
	struct disk_config dc = { .path = path };
	int fd = mkstemp(path);

	log_set_level(LOG_ERROR);
	if (fd < 0 || ftruncate(fd, 256 * 1024) < 0 || guest_mem_init(&mem, RAM))
		abort();
	close(fd);
	snprintf(dc.serial, sizeof(dc.serial), "fuzz");
	if (virtio_blk_create(&dc, 0, 1, &blk))
		abort();
	unlink(path); /* the open fd keeps it */
	blk->dev.mem = &mem;
	blk->dev.tops = &fuzz_tops;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct virtio_dev *d;
	uint16_t qsize;

	if (!ready)
		ready = !fuzz_init();
	if (size < 1)
		return 0;
	d = &blk->dev;
	pthread_mutex_lock(&d->lock);
	qsize = fuzz_virtio_start(d, &mem, data[0], data + 1, size - 1);
	if (virtq_enable(&d->vq[0], &mem, qsize, DESC, AVAIL, USED, data[0] & 8, data[0] & 16) == 0)
		d->ops->queue_notify(d, 0);
	/* Let every request the device started finish. */
	while (blk->inflight) {
		struct pollfd p = { blk_backend_event_fd(blk->be), POLLIN, 0 };

		pthread_mutex_unlock(&d->lock);
		poll(&p, 1, 1000);
		pthread_mutex_lock(&d->lock);
		blk_backend_complete(blk->be);
		blk_backend_kick(blk->be);
	}
	virtio_dev_reset(d);
	pthread_mutex_unlock(&d->lock);
	return 0;
}
