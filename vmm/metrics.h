/* vmm/metrics: the VM's counters, gathered once into a snapshot and
 * written as JSON (GET /vm/counters) or Prometheus text (GET /metrics).
 *
 * vCPU counters are written by their vCPU threads with relaxed atomic
 * stores and read here with relaxed loads, no locks: a value may be a few
 * exits behind, never torn. Device counters are read under the device
 * lock. */
#ifndef LQ_VMM_METRICS_H
#define LQ_VMM_METRICS_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "vmm/vcpu.h"

struct vm;

#define METRICS_DEV_EXTRA 10

struct metrics_counter {
	const char *name;      /* "read_bytes", "requests", ... */
	uint64_t value;
};

struct metrics_vcpu {
	uint64_t exits, interrupted, emulated;
	uint64_t by_reason[VCPU_EXIT_REASONS];
};

struct metrics_dev {
	char name[32];         /* "virtio-blk0" */
	const char *type;      /* "blk", "net", "rng", "console", "virtio-<id>" */
	char pci[16];          /* "0000:00:01.0" */
	uint64_t notifies, interrupts;
	unsigned nr_extra;     /* device-specific counters */
	struct metrics_counter extra[METRICS_DEV_EXTRA];
};

struct metrics_snapshot {
	unsigned nr_vcpus;
	struct metrics_vcpu *vcpus;
	unsigned nr_devs;
	struct metrics_dev *devs;
};

/* Main thread. 0 or -ENOMEM; free with metrics_free. */
int metrics_gather(struct vm *vm, struct metrics_snapshot *s);
void metrics_free(struct metrics_snapshot *s);
/* KVM_EXIT_* as a short lower-case name ("io", "mmio"), NULL if unnamed. */
const char *metrics_exit_name(unsigned reason);
/* The device list of GET /vm: [{"name","type","pci"}]. */
cJSON *metrics_devices_json(const struct metrics_snapshot *s);
/* GET /vm/counters. */
cJSON *metrics_json(const struct metrics_snapshot *s);
/* GET /metrics: malloc'd text, NULL on allocation failure. The state,
 * uptime and boots come from the caller (vmm/api_vm.c). */
char *metrics_prometheus(const struct metrics_snapshot *s, const char *state, double uptime_s,
			 uint64_t boots);

#endif
