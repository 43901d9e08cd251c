/* GET /v1/host: what the host has and how many VMs it runs. */
#include "control/lqd_http.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

/* MemAvailable: what the kernel thinks can be given out without
 * swapping, a better "free" than sysinfo's freeram. */
static unsigned long long lqd_host_available_kib(void)
{
	unsigned long long kib = 0;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

void lqd_api_host(struct lqd *d, struct lqd_req *r)
{
	unsigned counts[4] = { 0 }, total = 0;
	cJSON *o = cJSON_CreateObject(), *vms;
	char host[256] = "";

	for (struct lqd_vm *vm = d->vms; vm; vm = vm->next) {
		counts[vm->observed]++;
		total++;
	}
	if (!o) {
		lqd_reply_error(r, 500, "out of memory");
		return;
	}
	gethostname(host, sizeof(host) - 1);
	cJSON_AddStringToObject(o, "hostname", host);
	cJSON_AddStringToObject(o, "version", LQ_VERSION);
	cJSON_AddNumberToObject(o, "cpus", d->host_cpus);
	cJSON_AddNumberToObject(o, "memory_mib", (double)d->limits.host_memory_mib);
	cJSON_AddNumberToObject(o, "memory_available_mib", (double)(lqd_host_available_kib() / 1024));
	vms = cJSON_AddObjectToObject(o, "vms");
	if (vms) {
		cJSON_AddNumberToObject(vms, "total", total);
		for (unsigned i = 0; i < 4; i++)
			cJSON_AddNumberToObject(vms, lqd_observed_name((enum lqd_observed)i), counts[i]);
	}
	cJSON_AddStringToObject(o, "state_dir", d->state_dir);
	cJSON_AddStringToObject(o, "vmm", d->vmm_path);
	lqd_reply_json(r, 200, o);
}
