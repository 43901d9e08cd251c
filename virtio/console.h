/* virtio/console: a single-port virtio console (hvc0 in Linux), beside
 * the serial port. Guest output goes to out_fd; host input from in_fd is
 * delivered while the guest has receive buffers posted (the fd is only
 * watched then, so unread input waits in the host fd, not in memory). */
#ifndef LQ_VIRTIO_CONSOLE_H
#define LQ_VIRTIO_CONSOLE_H

#include "virtio/dev.h"

#define VIRTIO_CONSOLE_CONFIG_SIZE 12

struct virtio_console {
	struct virtio_dev dev;
	int in_fd, out_fd;     /* -1: none */
	bool in_watched;
	uint8_t config[VIRTIO_CONSOLE_CONFIG_SIZE];
	uint64_t tx_bytes, rx_bytes, tx_dropped;
};

void virtio_console_init(struct virtio_console *c, int in_fd, int out_fd);
/* Changes the host side (e.g. a unix client connected or left). Takes
 * the device lock. */
void virtio_console_set_fds(struct virtio_console *c, int in_fd, int out_fd);
void virtio_console_stop(struct virtio_console *c);

#endif
