/* control/lqd_vmm_client: lqd's only way to talk to a running lq-vmm,
 * its per-VM HTTP API on <run-dir>/api.sock (docs/api/lq-vmm.openapi.yaml),
 * through libcurl. Calls are short and local; each has a timeout so a
 * wedged lq-vmm cannot hold the daemon's loop for long. */
#ifndef LQ_CONTROL_LQD_VMM_CLIENT_H
#define LQ_CONTROL_LQD_VMM_CLIENT_H

struct cJSON;

#define LQD_VMM_TIMEOUT_MS 3000

int lqd_vmm_client_init(void);
void lqd_vmm_client_cleanup(void);
/* method "GET" or "PUT", path such as "/vm/pause". 0 with *status set
 * (and *reply the parsed JSON body when reply is non-NULL and the body
 * is JSON), or -errno when the VM's API could not be reached. */
int lqd_vmm_call(const char *sock, const char *method, const char *path, long *status,
		 struct cJSON **reply);

#endif
