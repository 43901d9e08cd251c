/* The two views of a metrics snapshot: JSON for GET /vm/counters and
 * the Prometheus text exposition format (version 0.0.4) for GET /metrics. */
#include "vmm/metrics.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cJSON numbers are doubles: exact up to 2^53, which a counter reaches
 * after centuries at today's exit rates. */
static cJSON *metrics_reasons_json(const uint64_t *by_reason)
{
	cJSON *o = cJSON_CreateObject();
	char other[24];

	for (unsigned r = 0; o && r < VCPU_EXIT_REASONS; r++) {
		const char *name = metrics_exit_name(r);

		if (!by_reason[r])
			continue;
		if (!name) {
			snprintf(other, sizeof(other), "reason_%u", r);
			name = other;
		}
		cJSON_AddNumberToObject(o, name, (double)by_reason[r]);
	}
	return o;
}

cJSON *metrics_devices_json(const struct metrics_snapshot *s)
{
	cJSON *a = cJSON_CreateArray();

	for (unsigned i = 0; a && i < s->nr_devs; i++) {
		cJSON *d = cJSON_CreateObject();

		cJSON_AddStringToObject(d, "name", s->devs[i].name);
		cJSON_AddStringToObject(d, "type", s->devs[i].type);
		cJSON_AddStringToObject(d, "pci", s->devs[i].pci);
		cJSON_AddItemToArray(a, d);
	}
	return a;
}

static cJSON *metrics_vcpus_json(const struct metrics_snapshot *s, struct metrics_vcpu *total)
{
	cJSON *a = cJSON_CreateArray();

	for (unsigned i = 0; a && i < s->nr_vcpus; i++) {
		const struct metrics_vcpu *v = &s->vcpus[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddNumberToObject(o, "id", i);
		cJSON_AddNumberToObject(o, "exits", (double)v->exits);
		cJSON_AddItemToObject(o, "by_reason", metrics_reasons_json(v->by_reason));
		cJSON_AddNumberToObject(o, "interrupted", (double)v->interrupted);
		cJSON_AddNumberToObject(o, "emulated", (double)v->emulated);
		cJSON_AddItemToArray(a, o);
		total->exits += v->exits;
		total->interrupted += v->interrupted;
		total->emulated += v->emulated;
		for (unsigned r = 0; r < VCPU_EXIT_REASONS; r++)
			total->by_reason[r] += v->by_reason[r];
	}
	return a;
}

cJSON *metrics_json(const struct metrics_snapshot *s)
{
	struct metrics_vcpu total = { 0 };
	cJSON *o = cJSON_CreateObject(), *t, *devs;

	if (!o)
		return NULL;
	cJSON_AddItemToObject(o, "vcpus", metrics_vcpus_json(s, &total));
	t = cJSON_AddObjectToObject(o, "total");
	cJSON_AddNumberToObject(t, "exits", (double)total.exits);
	cJSON_AddItemToObject(t, "by_reason", metrics_reasons_json(total.by_reason));
	cJSON_AddNumberToObject(t, "interrupted", (double)total.interrupted);
	cJSON_AddNumberToObject(t, "emulated", (double)total.emulated);
	devs = cJSON_AddArrayToObject(o, "devices");
	for (unsigned i = 0; devs && i < s->nr_devs; i++) {
		const struct metrics_dev *m = &s->devs[i];
		cJSON *d = cJSON_CreateObject(), *c;

		cJSON_AddStringToObject(d, "name", m->name);
		cJSON_AddStringToObject(d, "type", m->type);
		cJSON_AddStringToObject(d, "pci", m->pci);
		cJSON_AddNumberToObject(d, "notifies", (double)m->notifies);
		cJSON_AddNumberToObject(d, "interrupts", (double)m->interrupts);
		c = cJSON_AddObjectToObject(d, "counters");
		for (unsigned k = 0; c && k < m->nr_extra; k++)
			cJSON_AddNumberToObject(c, m->extra[k].name, (double)m->extra[k].value);
		cJSON_AddItemToArray(devs, d);
	}
	return o;
}

static void metrics_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void metrics_prom_vcpus(FILE *f, const struct metrics_snapshot *s)
{
	metrics_family(f, "lqvmm_vcpu_exits_total", "counter", "KVM exits by vCPU and exit reason.");
	for (unsigned i = 0; i < s->nr_vcpus; i++) {
		for (unsigned r = 0; r < VCPU_EXIT_REASONS; r++) {
			const char *name = metrics_exit_name(r);

			if (!s->vcpus[i].by_reason[r])
				continue;
			if (name)
				fprintf(f, "lqvmm_vcpu_exits_total{vcpu=\"%u\",reason=\"%s\"} %llu\n", i,
					name, (unsigned long long)s->vcpus[i].by_reason[r]);
			else
				fprintf(f, "lqvmm_vcpu_exits_total{vcpu=\"%u\",reason=\"reason_%u\"} %llu\n",
					i, r, (unsigned long long)s->vcpus[i].by_reason[r]);
		}
	}
	metrics_family(f, "lqvmm_vcpu_interrupted_total", "counter",
		       "KVM_RUN returns for a signal (pause, stop) or an intr exit.");
	for (unsigned i = 0; i < s->nr_vcpus; i++)
		fprintf(f, "lqvmm_vcpu_interrupted_total{vcpu=\"%u\"} %llu\n", i,
			(unsigned long long)s->vcpus[i].interrupted);
	metrics_family(f, "lqvmm_vcpu_emulated_total", "counter",
		       "Guest instructions lq-vmm finished for a PVM host.");
	for (unsigned i = 0; i < s->nr_vcpus; i++)
		fprintf(f, "lqvmm_vcpu_emulated_total{vcpu=\"%u\"} %llu\n", i,
			(unsigned long long)s->vcpus[i].emulated);
}

#define METRICS_DEV_LABELS "{device=\"%s\",type=\"%s\",pci=\"%s\"}"

/* One counter family with a sample per device; field picks the counter. */
static void metrics_prom_dev_counter(FILE *f, const struct metrics_snapshot *s, const char *name,
				     const char *help, size_t field)
{
	metrics_family(f, name, "counter", help);
	for (unsigned i = 0; i < s->nr_devs; i++) {
		const struct metrics_dev *d = &s->devs[i];

		fprintf(f, "%s" METRICS_DEV_LABELS " %llu\n", name, d->name, d->type, d->pci,
			(unsigned long long)*(const uint64_t *)((const char *)d + field));
	}
}

static void metrics_prom_devs(FILE *f, const struct metrics_snapshot *s)
{
	metrics_prom_dev_counter(f, s, "lqvmm_virtio_notifies_total",
				 "Queue notifications (kicks) from the guest driver.",
				 offsetof(struct metrics_dev, notifies));
	metrics_prom_dev_counter(f, s, "lqvmm_virtio_interrupts_total",
				 "Interrupts sent to the guest driver.",
				 offsetof(struct metrics_dev, interrupts));
	metrics_family(f, "lqvmm_virtio_device_total", "counter",
		       "Device-specific counters (requests, bytes) by counter name.");
	for (unsigned i = 0; i < s->nr_devs; i++) {
		for (unsigned k = 0; k < s->devs[i].nr_extra; k++) {
			fprintf(f, "lqvmm_virtio_device_total{device=\"%s\",type=\"%s\",pci=\"%s\","
				"counter=\"%s\"} %llu\n", s->devs[i].name, s->devs[i].type,
				s->devs[i].pci, s->devs[i].extra[k].name,
				(unsigned long long)s->devs[i].extra[k].value);
		}
	}
}

char *metrics_prometheus(const struct metrics_snapshot *s, const char *state, double uptime_s,
			 uint64_t boots)
{
	static const char *const states[] = { "running", "paused", "shutting-down" };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	metrics_family(f, "lqvmm_vm_state", "gauge", "1 for the VM's current state.");
	for (unsigned i = 0; i < 3; i++)
		fprintf(f, "lqvmm_vm_state{state=\"%s\"} %d\n", states[i], !strcmp(states[i], state));
	metrics_family(f, "lqvmm_vm_uptime_seconds", "gauge", "Time since the VM (re)started.");
	fprintf(f, "lqvmm_vm_uptime_seconds %.3f\n", uptime_s);
	metrics_family(f, "lqvmm_vm_boots_total", "counter", "Boots of this VM in this lq-vmm.");
	fprintf(f, "lqvmm_vm_boots_total %llu\n", (unsigned long long)boots);
	metrics_prom_vcpus(f, s);
	metrics_prom_devs(f, s);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}
