/* The API's handlers: what each call does to the VM. They run on the
 * main thread (vmm/api.h), so they may touch the VM like any device
 * callback does.
 *
 * States: running, paused, shutting-down (the power button was pressed,
 * or the VM is on its way out). Pause when paused and resume when not
 * paused are 409, not no-ops: a controller that thinks otherwise about
 * the VM's state should hear so. Shutdown when paused is 409 too: a
 * paused guest cannot see the button. */
#include "vmm/api.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "devices/acpi_pm.h"
#include "vmm/config.h"
#include "vmm/metrics.h"
#include "vmm/vm.h"

static double api_uptime_s(const struct api_vm_state *st)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - st->boot.tv_sec) + (now.tv_nsec - st->boot.tv_nsec) / 1e9;
}

static const char *api_state(const struct api_vm_state *st)
{
	bool exiting;

	if (vm_is_paused(st->vm))
		return "paused";
	pthread_mutex_lock(&st->vm->lock);
	exiting = st->vm->exit_reason != VM_EXIT_NONE;
	pthread_mutex_unlock(&st->vm->lock);
	return exiting || st->shutting_down ? "shutting-down" : "running";
}

static void api_reply_json(struct api_reply *r, unsigned status, cJSON *o)
{
	char *text = o ? cJSON_PrintUnformatted(o) : NULL;

	cJSON_Delete(o);
	if (!text) {
		api_reply_error(r, 500, "out of memory building the reply");
		return;
	}
	r->status = status;
	r->content_type = "application/json";
	r->body = text;
}

static cJSON *api_config_json(const struct vm_config *cfg)
{
	cJSON *c = cJSON_CreateObject(), *disks;

	if (!c)
		return NULL;
	cJSON_AddNumberToObject(c, "cpus", cfg->cpus);
	cJSON_AddNumberToObject(c, "memory_bytes", (double)cfg->memory);
	cJSON_AddStringToObject(c, "kernel", cfg->kernel);
	cJSON_AddStringToObject(c, "initrd", cfg->initrd ? cfg->initrd : "");
	cJSON_AddStringToObject(c, "cmdline", cfg->cmdline ? cfg->cmdline : "");
	cJSON_AddStringToObject(c, "reboot", cfg->reboot == REBOOT_EXIT ? "exit" : "restart");
	cJSON_AddBoolToObject(c, "rng", cfg->rng);
	disks = cJSON_AddArrayToObject(c, "disks");
	for (unsigned i = 0; disks && i < cfg->nr_disks; i++) {
		cJSON *d = cJSON_CreateObject();

		cJSON_AddStringToObject(d, "path", cfg->disks[i].path);
		cJSON_AddBoolToObject(d, "read_only", cfg->disks[i].read_only);
		cJSON_AddBoolToObject(d, "direct", cfg->disks[i].direct);
		cJSON_AddStringToObject(d, "serial", cfg->disks[i].serial);
		cJSON_AddItemToArray(disks, d);
	}
	return c;
}

static void api_get_vm(struct api_vm_state *st, struct api_reply *r)
{
	struct metrics_snapshot s;
	cJSON *o;

	if (metrics_gather(st->vm, &s)) {
		api_reply_error(r, 500, "out of memory gathering the device list");
		return;
	}
	o = cJSON_CreateObject();
	if (o) {
		cJSON_AddStringToObject(o, "state", api_state(st));
		cJSON_AddNumberToObject(o, "uptime_s", api_uptime_s(st));
		cJSON_AddNumberToObject(o, "boots", (double)st->boots);
		cJSON_AddItemToObject(o, "config", api_config_json(st->cfg));
		cJSON_AddItemToObject(o, "devices", metrics_devices_json(&s));
	}
	metrics_free(&s);
	api_reply_json(r, 200, o);
}

static void api_counters(struct api_vm_state *st, struct api_reply *r, bool prometheus)
{
	struct metrics_snapshot s;

	if (metrics_gather(st->vm, &s)) {
		api_reply_error(r, 500, "out of memory gathering counters");
		return;
	}
	if (!prometheus) {
		api_reply_json(r, 200, metrics_json(&s));
	} else {
		r->body = metrics_prometheus(&s, api_state(st), api_uptime_s(st), st->boots);
		r->status = 200;
		r->content_type = "text/plain; version=0.0.4; charset=utf-8";
		if (!r->body)
			api_reply_error(r, 500, "out of memory building the metrics text");
	}
	metrics_free(&s);
}

static void api_shutdown(struct api_vm_state *st, struct api_reply *r)
{
	cJSON *o;
	bool listening;

	if (vm_is_paused(st->vm)) {
		api_reply_error(r, 409, "the VM is paused: resume it first, a paused guest "
				"cannot see the power button (or use /vm/poweroff)");
		return;
	}
	listening = acpi_pm_power_button(st->vm->pm);
	st->shutting_down = true;
	if (!listening)
		log_warn("api: power button pressed, but the guest has not enabled it (yet): "
			 "it may not shut down; /vm/poweroff stops it for sure");
	o = cJSON_CreateObject();
	if (o) {
		cJSON_AddStringToObject(o, "state", "shutting-down");
		cJSON_AddBoolToObject(o, "guest_listening", listening);
	}
	api_reply_json(r, 202, o);
}

static void api_action(struct api_vm_state *st, enum api_op op, struct api_reply *r)
{
	int err;

	r->status = 204;
	switch (op) {
	case API_OP_PAUSE:
		err = vm_pause(st->vm);
		if (err == -EALREADY)
			api_reply_error(r, 409, "the VM is already paused");
		break;
	case API_OP_RESUME:
		err = vm_resume(st->vm);
		if (err == -EALREADY)
			api_reply_error(r, 409, "the VM is not paused");
		break;
	case API_OP_SHUTDOWN:
		api_shutdown(st, r);
		break;
	case API_OP_POWEROFF:
		vm_request_exit(st->vm, VM_EXIT_POWEROFF, 0);
		break;
	case API_OP_REBOOT:
		vm_request_exit(st->vm, VM_EXIT_REBOOT, 0);
		break;
	default:
		api_reply_error(r, 500, "internal error: operation %d has no handler", (int)op);
		break;
	}
}

static const char *const api_op_names[] = {
	[API_OP_PAUSE] = "pause", [API_OP_RESUME] = "resume", [API_OP_SHUTDOWN] = "shutdown",
	[API_OP_POWEROFF] = "poweroff", [API_OP_REBOOT] = "reboot",
};

void api_vm_run(struct api_vm_state *st, enum api_op op, const struct api_args *args,
		struct api_reply *r)
{
	memset(r, 0, sizeof(*r));
	switch (op) {
	case API_OP_GET_VM:
		api_get_vm(st, r);
		return;
	case API_OP_COUNTERS:
	case API_OP_METRICS:
		api_counters(st, r, op == API_OP_METRICS);
		return;
	default:
		break;
	}
	log_info("api: %s requested%s%s", api_op_names[op], args->has_reason ? ": " : "",
		 args->has_reason ? args->reason : "");
	api_action(st, op, r);
}
