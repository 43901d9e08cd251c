/* lqd's VM registry (control/lqd.h): lookup, state names, the JSON the
 * API shows, and state changes (stored, then announced as events). */
#include "control/lqd.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/lqd_store.h"

static const char *const lqd_observed_names[] = {
	[LQD_STOPPED] = "stopped",
	[LQD_RUNNING] = "running",
	[LQD_PAUSED] = "paused",
	[LQD_CRASHED] = "crashed",
};

const char *lqd_observed_name(enum lqd_observed o)
{
	return lqd_observed_names[o];
}

const char *lqd_desired_name(enum lqd_desired w)
{
	return w == LQD_WANT_RUNNING ? "running" : "stopped";
}

struct lqd_vm *lqd_vm_find(struct lqd *d, const char *name)
{
	for (struct lqd_vm *vm = d->vms; vm; vm = vm->next)
		if (!strcmp(vm->spec.name, name))
			return vm;
	return NULL;
}

int lqd_vm_api_path(const struct lqd_vm *vm, char *buf, size_t len)
{
	return (size_t)snprintf(buf, len, "%s/api.sock", vm->rundir) < len ? 0 : -1;
}

int lqd_vm_serial_path(const struct lqd_vm *vm, char *buf, size_t len)
{
	return (size_t)snprintf(buf, len, "%s/serial.log", vm->rundir) < len ? 0 : -1;
}

cJSON *lqd_vm_json(const struct lqd_vm *vm)
{
	cJSON *o = lqd_spec_to_json(&vm->spec);
	bool up = vm->pid > 0 && (vm->observed == LQD_RUNNING || vm->observed == LQD_PAUSED);

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "desired", lqd_desired_name(vm->desired));
	cJSON_AddStringToObject(o, "state", lqd_observed_name(vm->observed));
	if (vm->pending != LQD_PENDING_NONE)
		cJSON_AddStringToObject(o, "transition",
					vm->pending == LQD_PENDING_STOP ? "stopping" : "deleting");
	cJSON_AddNumberToObject(o, "pid", up ? vm->pid : 0);
	cJSON_AddNumberToObject(o, "boots", (double)vm->boots);
	if (vm->has_exit)
		cJSON_AddNumberToObject(o, "last_exit", vm->last_exit);
	else
		cJSON_AddNullToObject(o, "last_exit");
	cJSON_AddNumberToObject(o, "created_at", vm->created_at);
	cJSON_AddNumberToObject(o, "started_at", up ? vm->started_at : 0);
	cJSON_AddNumberToObject(o, "uptime_s", up ? lqd_now() - vm->started_at : 0);
	cJSON_AddStringToObject(o, "run_dir", vm->rundir);
	return o;
}

void lqd_vm_set_observed(struct lqd *d, struct lqd_vm *vm, enum lqd_observed o, const char *why)
{
	bool changed = vm->observed != o;

	vm->observed = o;
	lqd_store_put(d, vm);
	if (changed)
		lqd_event(d, vm->spec.name, lqd_observed_name(o), why);
}

void lqd_vm_free(struct lqd_vm *vm)
{
	if (!vm)
		return;
	lqd_spec_free(&vm->spec);
	free(vm);
}
