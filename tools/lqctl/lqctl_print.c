/* lqctl's human output: the VM table, one VM's details, the host. */
#include "tools/lqctl/lqctl.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

static const char *lqctl_str(const cJSON *o, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));

	return s ? s : "-";
}

static double lqctl_num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

void lqctl_print_mib(char *buf, size_t len, double mib)
{
	if (mib >= 1024 && (unsigned long long)mib % 1024 == 0)
		snprintf(buf, len, "%.0fG", mib / 1024);
	else
		snprintf(buf, len, "%.0fM", mib);
}

void lqctl_print_duration(char *buf, size_t len, double s)
{
	unsigned long long t = (unsigned long long)s;

	if (s <= 0)
		snprintf(buf, len, "-");
	else if (t < 60)
		snprintf(buf, len, "%llus", t);
	else if (t < 3600)
		snprintf(buf, len, "%llum%02llus", t / 60, t % 60);
	else if (t < 86400)
		snprintf(buf, len, "%lluh%02llum", t / 3600, t / 60 % 60);
	else
		snprintf(buf, len, "%llud%02lluh", t / 86400, t / 3600 % 24);
}

/* The state column shows a transition (stopping, deleting) when one runs. */
static const char *lqctl_state(const cJSON *vm)
{
	const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(vm, "transition"));

	return t ? t : lqctl_str(vm, "state");
}

void lqctl_print_vm_table(const cJSON *o)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "vms"), *vm;
	int w = 4;
	char mem[32], up[32], pid[16];

	cJSON_ArrayForEach(vm, list) {
		int n = (int)strlen(lqctl_str(vm, "name"));

		w = n > w ? n : w;
	}
	printf("%-*s  %-8s  %4s  %6s  %7s  %s\n", w, "NAME", "STATE", "CPUS", "MEMORY", "PID",
	       "UPTIME");
	cJSON_ArrayForEach(vm, list) {
		double p = lqctl_num(vm, "pid");

		lqctl_print_mib(mem, sizeof(mem), lqctl_num(vm, "memory_mib"));
		lqctl_print_duration(up, sizeof(up), lqctl_num(vm, "uptime_s"));
		snprintf(pid, sizeof(pid), p > 0 ? "%.0f" : "-", p);
		printf("%-*s  %-8s  %4.0f  %6s  %7s  %s\n", w, lqctl_str(vm, "name"), lqctl_state(vm),
		       lqctl_num(vm, "cpus"), mem, pid, up);
	}
}

void lqctl_print_vm(const cJSON *vm)
{
	const cJSON *disks = cJSON_GetObjectItemCaseSensitive(vm, "disks"), *x;
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(vm, "labels");
	const cJSON *le = cJSON_GetObjectItemCaseSensitive(vm, "last_exit");
	char mem[32], up[32];

	lqctl_print_mib(mem, sizeof(mem), lqctl_num(vm, "memory_mib"));
	lqctl_print_duration(up, sizeof(up), lqctl_num(vm, "uptime_s"));
	printf("name:            %s\n", lqctl_str(vm, "name"));
	printf("state:           %s (desired %s)\n", lqctl_state(vm), lqctl_str(vm, "desired"));
	printf("pid:             %.0f\n", lqctl_num(vm, "pid"));
	printf("uptime:          %s\n", up);
	printf("boots:           %.0f\n", lqctl_num(vm, "boots"));
	if (cJSON_IsNumber(le))
		printf("last exit:       %.0f%s\n", le->valuedouble,
		       le->valuedouble < 0 ? " (unknown: lq-vmm was adopted)" : "");
	else
		printf("last exit:       -\n");
	printf("cpus:            %.0f\n", lqctl_num(vm, "cpus"));
	printf("memory:          %s\n", mem);
	printf("kernel:          %s\n", lqctl_str(vm, "kernel"));
	printf("initrd:          %s\n", lqctl_str(vm, "initrd"));
	printf("cmdline:         %s\n", lqctl_str(vm, "cmdline"));
	cJSON_ArrayForEach(x, disks) {
		const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(x, "format");

		printf("disk:            %s%s%s%s\n", lqctl_str(x, "path"),
		       cJSON_IsString(fmt) ? " format=" : "", cJSON_IsString(fmt) ? fmt->valuestring : "",
		       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x, "readonly")) ? " (read-only)" : "");
	}
	printf("rng:             %s\n",
	       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(vm, "rng")) ? "yes" : "no");
	printf("restart policy:  %s\n", lqctl_str(vm, "restart_policy"));
	cJSON_ArrayForEach(x, labels)
		printf("label:           %s=%s\n", x->string, cJSON_GetStringValue(x) ? x->valuestring : "");
	printf("run dir:         %s\n", lqctl_str(vm, "run_dir"));
}

void lqctl_print_host(const cJSON *h)
{
	const cJSON *vms = cJSON_GetObjectItemCaseSensitive(h, "vms");
	char mem[32], avail[32];

	lqctl_print_mib(mem, sizeof(mem), lqctl_num(h, "memory_mib"));
	lqctl_print_mib(avail, sizeof(avail), lqctl_num(h, "memory_available_mib"));
	printf("hostname:   %s\n", lqctl_str(h, "hostname"));
	printf("version:    %s\n", lqctl_str(h, "version"));
	printf("cpus:       %.0f\n", lqctl_num(h, "cpus"));
	printf("memory:     %s (%s available)\n", mem, avail);
	printf("vms:        %.0f (%.0f running, %.0f paused, %.0f stopped, %.0f crashed)\n",
	       lqctl_num(vms, "total"), lqctl_num(vms, "running"), lqctl_num(vms, "paused"),
	       lqctl_num(vms, "stopped"), lqctl_num(vms, "crashed"));
	printf("state dir:  %s\n", lqctl_str(h, "state_dir"));
	printf("lq-vmm:     %s\n", lqctl_str(h, "vmm"));
}
