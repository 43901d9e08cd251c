/* lqd's host API: what a VM does (/v1/vms/NAME/start|stop|reboot|pause|
 * resume, DELETE). Stop and delete wait for the process to go: the
 * request is suspended and answered from the loop (lqd_api_pending_done)
 * when the pidfd says it went. */
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
#include "control/lqd_vmm_client.h"

#define LQD_STOP_TIMEOUT_DEFAULT_S 30
#define LQD_STOP_TIMEOUT_MAX_S 3600

static void lqd_api_delete_now(struct lqd *d, struct lqd_vm *vm)
{
	for (struct lqd_vm **p = &d->vms; *p; p = &(*p)->next) {
		if (*p == vm) {
			*p = vm->next;
			break;
		}
	}
	lqd_timer_cancel(d, &vm->restart_timer);
	lqd_timer_cancel(d, &vm->stop_timer);
	lqd_loop_del(d, &vm->pidw);
	lqd_store_delete(d, vm->spec.name);
	lqd_sup_clean_rundir(vm);
	lqd_console_wake(d, vm); /* followers hear 404 */
	lqd_event(d, vm->spec.name, "deleted", "");
	log_info("VM %s: deleted", vm->spec.name);
	lqd_vm_free(vm);
}

void lqd_api_pending_done(struct lqd *d, struct lqd_vm *vm)
{
	struct lqd_req *r = vm->pending_req;
	enum lqd_pending p = vm->pending;

	vm->pending = LQD_PENDING_NONE;
	vm->pending_req = NULL;
	if (p == LQD_PENDING_DELETE) {
		lqd_api_delete_now(d, vm);
		if (r)
			lqd_reply_empty(r, 204);
	} else if (r) {
		lqd_api_vm_reply(r, 200, vm);
	}
	if (r)
		lqd_req_finish(r);
}

/* {"timeout_s": N, "force": bool} for stop (body) and delete (query). */
static int lqd_api_stop_args(struct lqd_req *r, unsigned *timeout_s, bool *force)
{
	const char *qt = lqd_req_arg(r, "timeout_s"), *qf = lqd_req_arg(r, "force");
	const cJSON *m;
	cJSON *body;
	char *end;

	*timeout_s = LQD_STOP_TIMEOUT_DEFAULT_S;
	*force = false;
	if (qt) {
		unsigned long v = strtoul(qt, &end, 10);

		if (!*qt || *end || *qt == '-' || v > LQD_STOP_TIMEOUT_MAX_S)
			goto bad;
		*timeout_s = (unsigned)v;
	}
	if (qf) {
		if (strcmp(qf, "true") && strcmp(qf, "false"))
			goto bad;
		*force = !strcmp(qf, "true");
	}
	if (lqd_req_json(r, &body))
		return -EINVAL;
	cJSON_ArrayForEach(m, body) {
		if (cJSON_GetObjectItemCaseSensitive(body, m->string) != m) {
			cJSON_Delete(body); /* a repeated member: which one was meant? */
			goto bad;
		} else if (!strcmp(m->string, "timeout_s") && cJSON_IsNumber(m) && m->valuedouble >= 0 &&
		    m->valuedouble <= LQD_STOP_TIMEOUT_MAX_S && m->valuedouble == (unsigned)m->valuedouble) {
			*timeout_s = (unsigned)m->valuedouble;
		} else if (!strcmp(m->string, "force") && cJSON_IsBool(m)) {
			*force = cJSON_IsTrue(m);
		} else {
			cJSON_Delete(body);
			goto bad;
		}
	}
	cJSON_Delete(body);
	return 0;
bad:
	lqd_reply_error(r, 400, "expected timeout_s (0 to %d seconds) and force (true or false), nothing else",
			LQD_STOP_TIMEOUT_MAX_S);
	return -EINVAL;
}

void lqd_api_start(struct lqd *d, struct lqd_req *r, struct lqd_vm *vm)
{
	if (r->len) {
		lqd_reply_error(r, 400, "start takes no body");
		return;
	}
	if (lqd_api_busy(r, vm))
		return;
	if (vm->pid) {
		lqd_reply_error(r, 409, "VM %s is already %s", vm->spec.name,
				lqd_observed_name(vm->observed));
		return;
	}
	vm->desired = LQD_WANT_RUNNING;
	vm->fast_failures = 0;
	if (lqd_sup_start(d, vm)) {
		lqd_vm_set_observed(d, vm, LQD_CRASHED, "start failed");
		lqd_reply_error(r, 500, "VM %s: lq-vmm did not start: see %s/vmm.log", vm->spec.name,
				vm->rundir);
		return;
	}
	lqd_api_vm_reply(r, 200, vm);
}

/* Stop, or delete when del: graceful, then forced; answered when the
 * process is gone (lqd_api_pending_done). */
void lqd_api_stop(struct lqd *d, struct lqd_req *r, struct lqd_vm *vm, bool del)
{
	unsigned timeout_s;
	bool force;
	int rc;

	if (lqd_api_stop_args(r, &timeout_s, &force) || lqd_api_busy(r, vm))
		return;
	if (!del && !vm->pid && vm->desired == LQD_WANT_STOPPED) {
		lqd_reply_error(r, 409, "VM %s is not running", vm->spec.name);
		return;
	}
	rc = lqd_sup_stop(d, vm, timeout_s, force);
	if (rc == 1) { /* no process: done now */
		if (del) {
			lqd_api_delete_now(d, vm);
			lqd_reply_empty(r, 204);
		} else {
			lqd_vm_set_observed(d, vm, vm->observed, "");
			lqd_api_vm_reply(r, 200, vm);
		}
		return;
	}
	vm->pending = del ? LQD_PENDING_DELETE : LQD_PENDING_STOP;
	vm->pending_req = r;
	lqd_req_suspend(r);
}

/* pause, resume, reboot: one call to the VM's own API. */
void lqd_api_vm_action(struct lqd *d, struct lqd_req *r, struct lqd_vm *vm,
		       const char *action)
{
	char sock[PATH_MAX], path[32];
	cJSON *reply = NULL;
	long st = 0;
	int rc;

	if (r->len) {
		lqd_reply_error(r, 400, "%s takes no body", action);
		return;
	}
	if (lqd_api_busy(r, vm))
		return;
	if (!vm->pid) {
		lqd_reply_error(r, 409, "VM %s is not running (%s)", vm->spec.name,
				lqd_observed_name(vm->observed));
		return;
	}
	lqd_vm_api_path(vm, sock, sizeof(sock));
	snprintf(path, sizeof(path), "/vm/%s", action);
	rc = lqd_vmm_call(sock, "PUT", path, &st, &reply);
	if (rc) {
		lqd_reply_error(r, 503, "VM %s: its lq-vmm API at %s does not answer (%s); is it still starting?",
				vm->spec.name, sock, strerror(-rc));
		return;
	}
	if (st < 200 || st >= 300) {
		const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(reply, "error"));

		lqd_reply_error(r, st == 409 ? 409 : 502, "VM %s: %s: %s", vm->spec.name, action,
				msg ? msg : "lq-vmm refused");
		cJSON_Delete(reply);
		return;
	}
	cJSON_Delete(reply);
	if (!strcmp(action, "pause"))
		lqd_vm_set_observed(d, vm, LQD_PAUSED, "paused");
	else if (!strcmp(action, "resume"))
		lqd_vm_set_observed(d, vm, LQD_RUNNING, "resumed");
	else
		lqd_event(d, vm->spec.name, "rebooted", "");
	lqd_api_vm_reply(r, 200, vm);
}

