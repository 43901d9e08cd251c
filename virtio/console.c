#include "virtio/console.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/event_loop.h"

enum { VIRTIO_CONSOLE_RXQ = 0, VIRTIO_CONSOLE_TXQ = 1 };
#define VIRTIO_CONSOLE_QUEUE_SIZE 128

static void virtio_console_rx(void *opaque, uint32_t events);

/* Lock held. Watch the input only while there is somewhere to put it. */
static void virtio_console_watch(struct virtio_console *c, bool on)
{
	if (c->in_fd < 0 || !c->dev.evl || on == c->in_watched)
		return;
	if (on)
		on = evl_add(c->dev.evl, c->in_fd, EPOLLIN, virtio_console_rx, c) == 0;
	else
		evl_del(c->dev.evl, c->in_fd);
	c->in_watched = on;
}

static void virtio_console_rx_locked(struct virtio_console *c)
{
	struct virtq *vq = &c->dev.vq[VIRTIO_CONSOLE_RXQ];
	struct virtq_elem e;
	ssize_t n;
	int r;

	if (!vq->ready || !(c->dev.status & VIRTIO_STATUS_DRIVER_OK))
		return;
	r = virtq_pop(vq, &e);
	if (r != 1) {
		/* No buffer: stop watching until the driver posts one. */
		virtio_console_watch(c, false);
		return;
	}
	n = e.n_in ? readv(c->in_fd, &e.iov[e.n_out], (int)e.n_in) : 0;
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			/* The input is gone (EOF): stop watching it for good. */
			virtio_console_watch(c, false);
			c->in_fd = -1;
		}
		n = 0;
	}
	c->rx_bytes += (uint64_t)n;
	virtq_push(vq, e.head, (uint32_t)n);
	virtio_dev_used(&c->dev, VIRTIO_CONSOLE_RXQ);
}

static void virtio_console_rx(void *opaque, uint32_t events)
{
	struct virtio_console *c = opaque;

	(void)events;
	pthread_mutex_lock(&c->dev.lock);
	virtio_console_rx_locked(c);
	pthread_mutex_unlock(&c->dev.lock);
}

static void virtio_console_tx(struct virtio_console *c)
{
	struct virtq *vq = &c->dev.vq[VIRTIO_CONSOLE_TXQ];
	struct virtq_elem e;
	bool any = false;

	while (virtq_pop(vq, &e) == 1) {
		if (c->out_fd >= 0 && e.n_out) {
			ssize_t n = writev(c->out_fd, e.iov, (int)e.n_out);

			/* A host side that cannot keep up loses output rather
			 * than stalling the event loop. */
			if (n < (ssize_t)e.out_len)
				c->tx_dropped += e.out_len - (n > 0 ? (uint64_t)n : 0);
			c->tx_bytes += n > 0 ? (uint64_t)n : 0;
		}
		virtq_push(vq, e.head, 0);
		any = true;
	}
	if (any)
		virtio_dev_used(&c->dev, VIRTIO_CONSOLE_TXQ);
}

static void virtio_console_notify(struct virtio_dev *d, unsigned q)
{
	struct virtio_console *c = d->opaque;

	if (q == VIRTIO_CONSOLE_TXQ)
		virtio_console_tx(c);
	else
		virtio_console_watch(c, true); /* buffers posted: input may flow */
}

static void virtio_console_reset(struct virtio_dev *d)
{
	virtio_console_watch(d->opaque, false);
}

static void virtio_console_config_read(struct virtio_dev *d, unsigned off, void *data, unsigned len)
{
	struct virtio_console *c = d->opaque;

	memcpy(data, &c->config[off], len);
}

static const struct virtio_dev_ops virtio_console_ops = {
	.queue_notify = virtio_console_notify,
	.reset = virtio_console_reset,
	.config_read = virtio_console_config_read,
};

void virtio_console_init(struct virtio_console *c, int in_fd, int out_fd)
{
	virtio_dev_init(&c->dev, "virtio-console", VIRTIO_ID_CONSOLE, 0, 2,
			VIRTIO_CONSOLE_QUEUE_SIZE, VIRTIO_CONSOLE_CONFIG_SIZE, &virtio_console_ops, c);
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	c->in_watched = false;
	memset(c->config, 0, sizeof(c->config)); /* no SIZE / MULTIPORT features */
	c->config[4] = 1;                          /* max_nr_ports */
}

void virtio_console_set_fds(struct virtio_console *c, int in_fd, int out_fd)
{
	pthread_mutex_lock(&c->dev.lock);
	virtio_console_watch(c, false);
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	if (c->dev.vq[VIRTIO_CONSOLE_RXQ].ready)
		virtio_console_watch(c, true);
	pthread_mutex_unlock(&c->dev.lock);
}

void virtio_console_stop(struct virtio_console *c)
{
	pthread_mutex_lock(&c->dev.lock);
	virtio_console_watch(c, false);
	pthread_mutex_unlock(&c->dev.lock);
}
