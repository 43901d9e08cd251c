#include "virtio/dev.h"

#include <string.h>

#include "common/log.h"

void virtio_dev_init(struct virtio_dev *d, const char *name, uint16_t device_id,
		     uint64_t features, unsigned nr_queues, uint16_t queue_max,
		     unsigned config_size, const struct virtio_dev_ops *ops, void *opaque)
{
	memset(d, 0, sizeof(*d));
	d->name = name;
	d->device_id = device_id;
	d->host_features = features | 1ULL << VIRTIO_F_VERSION_1 |
			   1ULL << VIRTIO_F_INDIRECT_DESC | 1ULL << VIRTIO_F_EVENT_IDX;
	d->nr_queues = nr_queues;
	d->queue_max = queue_max;
	d->config_size = config_size;
	d->ops = ops;
	d->opaque = opaque;
	for (unsigned i = 0; i < nr_queues && i < VIRTIO_MAX_QUEUES; i++)
		virtq_set_label(&d->vq[i], name, i); /* malformed-ring messages name the device */
	pthread_mutex_init(&d->lock, NULL);
}

void virtio_dev_used(struct virtio_dev *d, unsigned q)
{
	if (virtq_should_notify(&d->vq[q])) {
		d->interrupts++;
		d->tops->signal(d, (int)q);
	}
}

void virtio_dev_fail(struct virtio_dev *d, const char *why)
{
	if (d->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	log_warn("%s: %s: device needs a reset by the driver", d->name, why);
	d->status |= VIRTIO_STATUS_NEEDS_RESET;
	d->config_generation++;
	if (d->status & VIRTIO_STATUS_DRIVER_OK)
		d->tops->signal(d, -1);
}

void virtio_dev_reset(struct virtio_dev *d)
{
	if (d->ops->reset)
		d->ops->reset(d);
	for (unsigned i = 0; i < d->nr_queues; i++)
		virtq_reset(&d->vq[i]);
	d->guest_features = 0;
	d->status = 0;
}
