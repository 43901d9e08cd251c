/* Gathering the counters (vmm/metrics.h). Device-specific counters are
 * read from the models' own stats by device type; a device type not
 * known here still shows its transport counters. */
#include "vmm/metrics.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/blk.h"
#include "virtio/console.h"
#include "virtio/pci.h"
#include "virtio/rng.h"
#include "vmm/vm.h"
#include "vmm/vm_virtio.h"

#define METRICS_READ(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define METRICS_MODEL(d, type) ((type *)((char *)(d) - offsetof(type, dev)))

static const char *const metrics_exit_names[] = {
	[KVM_EXIT_UNKNOWN] = "unknown", [KVM_EXIT_EXCEPTION] = "exception",
	[KVM_EXIT_IO] = "io", [KVM_EXIT_HYPERCALL] = "hypercall", [KVM_EXIT_DEBUG] = "debug",
	[KVM_EXIT_HLT] = "hlt", [KVM_EXIT_MMIO] = "mmio",
	[KVM_EXIT_IRQ_WINDOW_OPEN] = "irq_window_open", [KVM_EXIT_SHUTDOWN] = "shutdown",
	[KVM_EXIT_FAIL_ENTRY] = "fail_entry", [KVM_EXIT_INTR] = "intr",
	[KVM_EXIT_SET_TPR] = "set_tpr", [KVM_EXIT_TPR_ACCESS] = "tpr_access",
	[KVM_EXIT_NMI] = "nmi", [KVM_EXIT_INTERNAL_ERROR] = "internal_error",
	[KVM_EXIT_SYSTEM_EVENT] = "system_event", [KVM_EXIT_IOAPIC_EOI] = "ioapic_eoi",
	[KVM_EXIT_HYPERV] = "hyperv", [KVM_EXIT_X86_RDMSR] = "x86_rdmsr",
	[KVM_EXIT_X86_WRMSR] = "x86_wrmsr", [KVM_EXIT_X86_BUS_LOCK] = "x86_bus_lock",
	[KVM_EXIT_NOTIFY] = "notify",
};

const char *metrics_exit_name(unsigned reason)
{
	if (reason >= sizeof(metrics_exit_names) / sizeof(metrics_exit_names[0]))
		return NULL;
	return metrics_exit_names[reason];
}

static void metrics_gather_vcpu(const struct vcpu *v, struct metrics_vcpu *m)
{
	m->exits = METRICS_READ(v->stats.exits);
	m->interrupted = METRICS_READ(v->stats.interrupted);
	m->emulated = METRICS_READ(v->stats.emulated);
	for (unsigned r = 0; r < VCPU_EXIT_REASONS; r++)
		m->by_reason[r] = METRICS_READ(v->stats.by_reason[r]);
}

static void metrics_add(struct metrics_dev *m, const char *name, uint64_t value)
{
	if (m->nr_extra < METRICS_DEV_EXTRA)
		m->extra[m->nr_extra++] = (struct metrics_counter){ name, value };
}

/* Device lock held. */
static void metrics_gather_model(struct virtio_dev *d, struct metrics_dev *m)
{
	const struct virtio_blk_stats *b;
	const struct virtio_rng *r;
	const struct virtio_console *c;

	switch (d->device_id) {
	case VIRTIO_ID_BLOCK:
		b = &METRICS_MODEL(d, struct virtio_blk)->stats;
		metrics_add(m, "read_requests", b->reads);
		metrics_add(m, "write_requests", b->writes);
		metrics_add(m, "flush_requests", b->flushes);
		metrics_add(m, "discard_requests", b->discards);
		metrics_add(m, "write_zeroes_requests", b->write_zeroes);
		metrics_add(m, "read_bytes", b->read_bytes);
		metrics_add(m, "write_bytes", b->write_bytes);
		metrics_add(m, "errors", b->errors);
		break;
	case VIRTIO_ID_RNG:
		r = METRICS_MODEL(d, struct virtio_rng);
		metrics_add(m, "requests", r->requests);
		metrics_add(m, "bytes", r->bytes);
		break;
	case VIRTIO_ID_CONSOLE:
		c = METRICS_MODEL(d, struct virtio_console);
		metrics_add(m, "tx_bytes", c->tx_bytes);
		metrics_add(m, "rx_bytes", c->rx_bytes);
		metrics_add(m, "tx_dropped_bytes", c->tx_dropped);
		break;
	default:
		break;
	}
}

static const char *metrics_type(uint16_t id)
{
	switch (id) {
	case VIRTIO_ID_NET: return "net";
	case VIRTIO_ID_BLOCK: return "blk";
	case VIRTIO_ID_CONSOLE: return "console";
	case VIRTIO_ID_RNG: return "rng";
	default: return "virtio";
	}
}

static void metrics_gather_dev(struct virtio_pci *vp, struct metrics_dev *m)
{
	struct virtio_dev *d = vp->dev;

	snprintf(m->name, sizeof(m->name), "%s", d->name);
	m->type = metrics_type(d->device_id);
	snprintf(m->pci, sizeof(m->pci), "0000:00:%02x.0", vp->pci.slot & 0x1f);
	pthread_mutex_lock(&d->lock);
	m->notifies = d->kicks;
	m->interrupts = d->interrupts;
	metrics_gather_model(d, m);
	pthread_mutex_unlock(&d->lock);
}

int metrics_gather(struct vm *vm, struct metrics_snapshot *s)
{
	unsigned n = 0;

	memset(s, 0, sizeof(*s));
	while (vm_virtio_device(vm, n))
		n++;
	s->vcpus = calloc(vm->nr_vcpus ? vm->nr_vcpus : 1, sizeof(*s->vcpus));
	s->devs = calloc(n ? n : 1, sizeof(*s->devs));
	if (!s->vcpus || !s->devs) {
		metrics_free(s);
		return -ENOMEM;
	}
	s->nr_vcpus = vm->nr_vcpus;
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		metrics_gather_vcpu(&vm->vcpus[i], &s->vcpus[i]);
	s->nr_devs = n;
	for (unsigned i = 0; i < n; i++)
		metrics_gather_dev(vm_virtio_device(vm, i), &s->devs[i]);
	return 0;
}

void metrics_free(struct metrics_snapshot *s)
{
	free(s->vcpus);
	free(s->devs);
	s->vcpus = NULL;
	s->devs = NULL;
}
