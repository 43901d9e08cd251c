/* control/lqd_store: lqd's persistent state in SQLite (WAL mode) at
 * <state-dir>/lqd.db. One row per VM: its spec as JSON, desired and
 * observed state, the pid of its lq-vmm, boot count, last exit status.
 * Written through on every change, read once at start-up. */
#ifndef LQ_CONTROL_LQD_STORE_H
#define LQ_CONTROL_LQD_STORE_H

#include "control/lqd.h"

int lqd_store_open(struct lqd *d);
void lqd_store_close(struct lqd *d);
/* Insert or update vm's row. 0 or -EIO (logged). */
int lqd_store_put(struct lqd *d, const struct lqd_vm *vm);
int lqd_store_delete(struct lqd *d, const char *name);
/* Builds d->vms from the rows (rows that no longer validate are logged
 * and skipped, never deleted). */
int lqd_store_load(struct lqd *d);

#endif
