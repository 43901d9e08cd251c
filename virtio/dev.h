/* virtio/dev: what a virtio device model (blk, rng, console, ...) gives
 * the transport and gets from it.
 *
 * Threads: queue kicks, backend completions and device callbacks run on
 * the event-loop thread; the driver's register accesses arrive on vCPU
 * threads. Everything that touches device state or queues holds
 * dev->lock, which no one holds while waiting on anything else. */
#ifndef LQ_VIRTIO_DEV_H
#define LQ_VIRTIO_DEV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtio/virtq.h"

#define VIRTIO_MAX_QUEUES 16

/* Device status bits (virtio 1.2, 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

/* Feature bits every device here offers. */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4

struct virtio_dev;
struct evl;
struct guest_mem;

struct virtio_dev_ops {
	/* The driver kicked queue q (or a backend asks for another pass). */
	void (*queue_notify)(struct virtio_dev *d, unsigned q);
	/* DRIVER_OK: features are final and queues are set up. */
	int (*activate)(struct virtio_dev *d);
	/* Device reset by the driver: drop in-flight work (its completions
	 * must not touch the old rings), back to the initial state. */
	void (*reset)(struct virtio_dev *d);
	/* Device-specific configuration space; reads/writes are bounded by
	 * config_size before these are called. */
	void (*config_read)(struct virtio_dev *d, unsigned off, void *data, unsigned len);
	void (*config_write)(struct virtio_dev *d, unsigned off, const void *data, unsigned len);
};

struct virtio_transport_ops {
	/* Interrupt for queue q's vector (or the config vector if q < 0). */
	void (*signal)(struct virtio_dev *d, int q);
};

struct virtio_dev {
	const char *name;          /* for messages: "virtio-blk0" */
	uint16_t device_id;
	uint64_t host_features;
	uint64_t guest_features;
	unsigned nr_queues;
	uint16_t queue_max;        /* largest queue size offered */
	unsigned config_size;
	uint8_t status;
	uint8_t config_generation;
	pthread_mutex_t lock;
	const struct guest_mem *mem;
	struct evl *evl;
	struct virtq vq[VIRTIO_MAX_QUEUES];
	const struct virtio_dev_ops *ops;
	void *opaque;              /* the device model */
	const struct virtio_transport_ops *tops;
	void *transport;
	uint64_t interrupts, kicks; /* counters */
	uint64_t polled;           /* queue runs started by the poller, not a kick */
};

void virtio_dev_init(struct virtio_dev *d, const char *name, uint16_t device_id,
		     uint64_t features, unsigned nr_queues, uint16_t queue_max,
		     unsigned config_size, const struct virtio_dev_ops *ops, void *opaque);
static inline bool virtio_has_feature(const struct virtio_dev *d, unsigned bit)
{
	return d->guest_features & (1ULL << bit);
}
/* After pushing used buffers on q: interrupts the driver unless it
 * suppressed them (event idx / NO_INTERRUPT). Lock held. */
void virtio_dev_used(struct virtio_dev *d, unsigned q);
/* Something the driver did is fatal for the device (a malformed ring):
 * set NEEDS_RESET and tell the driver through a config interrupt. */
void virtio_dev_fail(struct virtio_dev *d, const char *why);
/* Resets transport-independent state (queues, features, status). */
void virtio_dev_reset(struct virtio_dev *d);

#endif
