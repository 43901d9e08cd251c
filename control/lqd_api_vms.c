/* lqd's host API: the router and the VM records (/v1/vms: create,
 * list, get, update). The contract is docs/api/lqd.openapi.yaml. Every
 * handler validates all its input before it changes anything, so a 4xx
 * always means "nothing changed". */
#include "control/lqd_api.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "control/lqd_store.h"

void lqd_api_vm_reply(struct lqd_req *r, unsigned status, const struct lqd_vm *vm)
{
	lqd_reply_json(r, status, lqd_vm_json(vm));
}

/* Files the spec names must be there (and readable) now; lq-vmm would
 * fail on them later, with the error only in its log. */
int lqd_api_check_files(struct lqd_req *r, const struct lqd_spec *s)
{
	if (access(s->kernel, R_OK)) {
		lqd_reply_error(r, 400, "kernel %s: %s", s->kernel, strerror(errno));
		return -EINVAL;
	}
	if (s->initrd && access(s->initrd, R_OK)) {
		lqd_reply_error(r, 400, "initrd %s: %s", s->initrd, strerror(errno));
		return -EINVAL;
	}
	for (unsigned i = 0; i < s->nr_disks; i++) {
		if (access(s->disks[i].path, s->disks[i].readonly ? R_OK : R_OK | W_OK)) {
			lqd_reply_error(r, 400, "disks[%u] %s: %s", i, s->disks[i].path, strerror(errno));
			return -EINVAL;
		}
	}
	return 0;
}

bool lqd_api_busy(struct lqd_req *r, struct lqd_vm *vm)
{
	if (vm->pending == LQD_PENDING_NONE)
		return false;
	lqd_reply_error(r, 409, "VM %s is %s; try again when that is done", vm->spec.name,
			vm->pending == LQD_PENDING_STOP ? "stopping" : "being deleted");
	return true;
}

static void lqd_api_create(struct lqd *d, struct lqd_req *r)
{
	struct lqd_vm *vm, **tail;
	cJSON *body;
	char err[256];
	bool start;

	if (lqd_req_json(r, &body))
		return;
	if (!body) {
		lqd_reply_error(r, 400, "a JSON body with the VM's spec is required");
		return;
	}
	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		cJSON_Delete(body);
		lqd_reply_error(r, 500, "out of memory");
		return;
	}
	if (lqd_spec_parse(body, &d->limits, &vm->spec, &start, err, sizeof(err))) {
		cJSON_Delete(body);
		free(vm);
		lqd_reply_error(r, 400, "%s", err);
		return;
	}
	cJSON_Delete(body);
	if (lqd_vm_find(d, vm->spec.name)) {
		lqd_reply_error(r, 409, "VM %s already exists", vm->spec.name);
		goto fail;
	}
	if (lqd_api_check_files(r, &vm->spec))
		goto fail;
	vm->created_at = lqd_now();
	vm->desired = start ? LQD_WANT_RUNNING : LQD_WANT_STOPPED;
	snprintf(vm->rundir, sizeof(vm->rundir), "%s/run/%s", d->state_dir, vm->spec.name);
	if (lqd_store_put(d, vm)) {
		lqd_reply_error(r, 500, "cannot save VM %s in the state database", vm->spec.name);
		goto fail;
	}
	for (tail = &d->vms; *tail; tail = &(*tail)->next)
		;
	*tail = vm;
	lqd_event(d, vm->spec.name, "created", "");
	if (start && lqd_sup_start(d, vm)) {
		lqd_vm_set_observed(d, vm, LQD_CRASHED, "start failed");
		lqd_reply_error(r, 500, "VM %s created but lq-vmm did not start: see %s/vmm.log",
				vm->spec.name, vm->rundir);
		return;
	}
	lqd_api_vm_reply(r, 201, vm);
	return;
fail:
	lqd_vm_free(vm);
}

static void lqd_api_list(struct lqd *d, struct lqd_req *r)
{
	cJSON *o = cJSON_CreateObject(), *arr = o ? cJSON_AddArrayToObject(o, "vms") : NULL;

	for (struct lqd_vm *vm = d->vms; arr && vm; vm = vm->next)
		cJSON_AddItemToArray(arr, lqd_vm_json(vm));
	lqd_reply_json(r, 200, o);
}

/* Members a running VM may change: they do not touch its lq-vmm. */
static bool lqd_api_live_member(const char *k)
{
	return !strcmp(k, "labels") || !strcmp(k, "restart_policy");
}

/* PATCH: the members given replace the VM's (null: back to the
 * default); the result is validated as a whole, like a create. What
 * lq-vmm was started with (cpus, memory, kernel, disks...) changes only
 * while the VM is stopped and applies at its next start. */
static void lqd_api_update(struct lqd *d, struct lqd_req *r, struct lqd_vm *vm)
{
	struct lqd_spec spec;
	cJSON *patch, *merged = NULL, *m;
	char err[256];

	if (lqd_req_json(r, &patch))
		return;
	if (!patch) {
		lqd_reply_error(r, 400, "a JSON object with the members to change is required");
		return;
	}
	if (lqd_api_busy(r, vm))
		goto out;
	merged = lqd_spec_to_json(&vm->spec);
	if (!merged) {
		lqd_reply_error(r, 500, "out of memory");
		goto out;
	}
	cJSON_ArrayForEach(m, patch) {
		const char *name = cJSON_GetStringValue(m);

		if (cJSON_GetObjectItemCaseSensitive(patch, m->string) != m) {
			lqd_reply_error(r, 400, "member '%.40s' given twice", m->string);
			goto out;
		}
		if (!strcmp(m->string, "name") && (!name || strcmp(name, vm->spec.name))) {
			lqd_reply_error(r, 400, "name: a VM cannot be renamed");
			goto out;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(merged, m->string);
		if (!cJSON_IsNull(m))
			cJSON_AddItemToObject(merged, m->string, cJSON_Duplicate(m, true));
	}
	if (lqd_spec_parse(merged, &d->limits, &spec, NULL, err, sizeof(err))) {
		lqd_reply_error(r, 400, "%s", err);
		goto out;
	}
	cJSON_ArrayForEach(m, patch) {
		if (vm->pid && !lqd_api_live_member(m->string) && strcmp(m->string, "name")) {
			lqd_reply_error(r, 409, "VM %s is %s: %.40s changes only while it is stopped (labels and restart_policy change any time)",
					vm->spec.name, lqd_observed_name(vm->observed), m->string);
			lqd_spec_free(&spec);
			goto out;
		}
	}
	if (lqd_api_check_files(r, &spec)) {
		lqd_spec_free(&spec);
		goto out;
	}
	lqd_spec_free(&vm->spec);
	vm->spec = spec;
	lqd_store_put(d, vm);
	lqd_event(d, vm->spec.name, "updated", "");
	lqd_api_vm_reply(r, 200, vm);
out:
	cJSON_Delete(merged);
	cJSON_Delete(patch);
}

static bool lqd_api_method(struct lqd_req *r, const char *method, const char *allow)
{
	/* allow is "GET", "POST", "GET, DELETE" or "GET, POST" */
	char want[16];
	const char *p = allow;

	while (*p) {
		size_t n = strcspn(p, ",");

		snprintf(want, sizeof(want), "%.*s", (int)n, p);
		if (!strcmp(want, method))
			return true;
		p += n;
		while (*p == ',' || *p == ' ')
			p++;
	}
	r->allow = allow;
	lqd_reply_error(r, 405, "%s is not allowed here; use %s", method, allow);
	return false;
}

static void lqd_api_vm_route(struct lqd *d, struct lqd_req *r, const char *method,
			     const char *rest)
{
	static const char *const actions[] = { "start", "stop", "reboot", "pause", "resume" };
	char name[LQD_NAME_MAX + 2];
	const char *slash = strchr(rest, '/'), *sub = slash ? slash + 1 : NULL;
	size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
	struct lqd_vm *vm;

	if (n > LQD_NAME_MAX)
		n = LQD_NAME_MAX + 1; /* fails the check below */
	snprintf(name, sizeof(name), "%.*s", (int)n, rest);
	if (!lqd_spec_name_ok(name)) {
		lqd_reply_error(r, 400, "'%.70s' is not a VM name: 1-63 of [a-z0-9-]", rest);
		return;
	}
	if (sub && (!*sub || strchr(sub, '/'))) {
		lqd_reply_error(r, 404, "no such path");
		return;
	}
	if (sub) {
		bool known = !strcmp(sub, "console");

		for (unsigned i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
			known |= !strcmp(sub, actions[i]);
		if (!known) {
			lqd_reply_error(r, 404, "no such path: /v1/vms/%s/%.40s", name, sub);
			return;
		}
		if (!lqd_api_method(r, method, strcmp(sub, "console") ? "POST" : "GET"))
			return;
	} else if (!lqd_api_method(r, method, "GET, PATCH, DELETE")) {
		return;
	}
	vm = lqd_vm_find(d, name);
	if (!vm) {
		lqd_reply_error(r, 404, "no VM named %s", name);
		return;
	}
	if (!sub && !strcmp(method, "GET"))
		lqd_api_vm_reply(r, 200, vm);
	else if (!sub && !strcmp(method, "PATCH"))
		lqd_api_update(d, r, vm);
	else if (!sub)
		lqd_api_stop(d, r, vm, true);
	else if (!strcmp(sub, "console"))
		lqd_api_console(d, r, vm);
	else if (!strcmp(sub, "start"))
		lqd_api_start(d, r, vm);
	else if (!strcmp(sub, "stop"))
		lqd_api_stop(d, r, vm, false);
	else
		lqd_api_vm_action(d, r, vm, sub);
}

void lqd_api_route(struct lqd *d, struct lqd_req *r, const char *method, const char *url)
{
	bool get = !strcmp(method, "GET");

	/* GETs take no body; say so rather than ignore it. */
	if (get && r->len) {
		lqd_reply_error(r, 400, "GET requests take no body");
		return;
	}
	if (!strcmp(url, "/v1/vms")) {
		if (lqd_api_method(r, method, "GET, POST"))
			get ? lqd_api_list(d, r) : lqd_api_create(d, r);
	} else if (!strncmp(url, "/v1/vms/", 8)) {
		lqd_api_vm_route(d, r, method, url + 8);
	} else if (!strcmp(url, "/v1/host")) {
		if (lqd_api_method(r, method, "GET"))
			lqd_api_host(d, r);
	} else if (!strcmp(url, "/v1/events")) {
		if (lqd_api_method(r, method, "GET"))
			lqd_api_events(d, r);
	} else {
		lqd_reply_error(r, 404, "no such path: %.100s", url);
	}
}
