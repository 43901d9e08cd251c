/* control/lqd_api: what the VM handlers share (lqd_api_vms.c: records
 * and the router; lqd_api_power.c: start, stop, delete and the VM's own
 * actions). Internal to lqd. */
#ifndef LQ_CONTROL_LQD_API_H
#define LQ_CONTROL_LQD_API_H

#include "control/lqd_http.h"

void lqd_api_vm_reply(struct lqd_req *r, unsigned status, const struct lqd_vm *vm);
/* 400 set and -EINVAL when a file the spec names is missing/unreadable. */
int lqd_api_check_files(struct lqd_req *r, const struct lqd_spec *s);
/* 409 set and true when a stop or delete of vm is under way. */
bool lqd_api_busy(struct lqd_req *r, struct lqd_vm *vm);

void lqd_api_start(struct lqd *d, struct lqd_req *r, struct lqd_vm *vm);
/* Stop, or delete when del. */
void lqd_api_stop(struct lqd *d, struct lqd_req *r, struct lqd_vm *vm, bool del);
/* action: pause, resume or reboot. */
void lqd_api_vm_action(struct lqd *d, struct lqd_req *r, struct lqd_vm *vm, const char *action);

#endif
