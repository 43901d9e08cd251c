/* lqctl vm ...: create, list, get, start, stop, reboot, pause, resume,
 * delete, console. */
#include "tools/lqctl/lqctl.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LQCTL_TIMEOUT_S 30

static int lqctl_usage_err(const char *fmt, const char *arg)
{
	fprintf(stderr, "lqctl: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	return LQCTL_USAGE;
}

/* 256M, 1G, 512 (MiB), 1048576K: whole MiB only. */
static int lqctl_parse_mib(const char *s, unsigned long long *mib)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K':
		if (v % 1024)
			return -EINVAL;
		v /= 1024;
		end++;
		break;
	case 'm': case 'M': end++; break;
	case 'g': case 'G': v *= 1024; end++; break;
	case 't': case 'T': v *= 1024 * 1024; end++; break;
	case '\0': break;
	default: return -EINVAL;
	}
	if (*end == 'i' || *end == 'B')
		end += *end == 'i' ? 1 : 0;
	if (*end == 'B')
		end++;
	*mib = v;
	return *end ? -EINVAL : 0;
}

/* Paths go to lqd as absolute paths: lqd does not share our cwd. */
static char *lqctl_abs(const char *p)
{
	char cwd[PATH_MAX], *r;

	if (p[0] == '/')
		return strdup(p);
	r = realpath(p, NULL);
	if (r)
		return r;
	if (!getcwd(cwd, sizeof(cwd)))
		return strdup(p);
	r = malloc(strlen(cwd) + strlen(p) + 2);
	if (r)
		sprintf(r, "%s/%s", cwd, p);
	return r;
}

static int lqctl_add_path(cJSON *o, const char *key, const char *p)
{
	char *a = lqctl_abs(p);

	if (!a)
		return LQCTL_USAGE;
	cJSON_AddStringToObject(o, key, a);
	free(a);
	return 0;
}

/* --disk path=FILE[,readonly=on|off][,format=raw|qcow2] */
static int lqctl_add_disk(cJSON *disks, const char *arg)
{
	char *copy = strdup(arg), *save = NULL, *tok;
	cJSON *d = cJSON_CreateObject();
	int rc = 0;

	if (!copy || !d) {
		free(copy);
		cJSON_Delete(d);
		return LQCTL_USAGE;
	}
	for (tok = strtok_r(copy, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
		if (!strncmp(tok, "path=", 5))
			rc = lqctl_add_path(d, "path", tok + 5);
		else if (!strcmp(tok, "readonly=on") || !strcmp(tok, "readonly=off"))
			cJSON_AddBoolToObject(d, "readonly", !strcmp(tok, "readonly=on"));
		else if (!strcmp(tok, "format=raw") || !strcmp(tok, "format=qcow2"))
			cJSON_AddStringToObject(d, "format", tok + 7);
		else
			rc = lqctl_usage_err("--disk %s: expected path=FILE[,readonly=on|off][,format=raw|qcow2]",
					     arg);
	}
	if (!rc && !cJSON_GetObjectItemCaseSensitive(d, "path"))
		rc = lqctl_usage_err("--disk %s: path= is required", arg);
	free(copy);
	if (rc)
		cJSON_Delete(d);
	else
		cJSON_AddItemToArray(disks, d);
	return rc;
}

static int lqctl_add_label(cJSON *labels, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char key[128];

	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(key))
		return lqctl_usage_err("--label %s: expected KEY=VALUE", arg);
	snprintf(key, sizeof(key), "%.*s", (int)(eq - arg), arg);
	cJSON_DeleteItemFromObjectCaseSensitive(labels, key);
	cJSON_AddStringToObject(labels, key, eq + 1);
	return 0;
}

/* o's array or object member key, created empty on first use: a
 * create sends what was given, an update replaces only those. */
static cJSON *lqctl_member(cJSON *o, const char *key, bool array)
{
	cJSON *m = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!m)
		m = array ? cJSON_AddArrayToObject(o, key) : cJSON_AddObjectToObject(o, key);
	return m;
}

static int lqctl_create_opt(cJSON *o, int c, const char *arg)
{
	unsigned long long n;
	char *end;

	switch (c) {
	case 'c':
		errno = 0;
		n = strtoull(arg, &end, 10);
		if (errno || end == arg || *end || *arg == '-')
			return lqctl_usage_err("--cpus %s: expected a number", arg);
		cJSON_AddNumberToObject(o, "cpus", (double)n);
		return 0;
	case 'm':
		if (lqctl_parse_mib(arg, &n))
			return lqctl_usage_err("--memory %s: expected a size in whole MiB such as 256M or 2G",
					       arg);
		cJSON_AddNumberToObject(o, "memory_mib", (double)n);
		return 0;
	case 'k': return lqctl_add_path(o, "kernel", arg);
	case 'i': return lqctl_add_path(o, "initrd", arg);
	case 'C': cJSON_AddStringToObject(o, "cmdline", arg); return 0;
	case 'd': return lqctl_add_disk(lqctl_member(o, "disks", true), arg);
	case 'r': case 'R':
		cJSON_DeleteItemFromObjectCaseSensitive(o, "rng");
		cJSON_AddBoolToObject(o, "rng", c == 'r');
		return 0;
	case 'p': cJSON_AddStringToObject(o, "restart_policy", arg); return 0;
	case 'l': return lqctl_add_label(lqctl_member(o, "labels", false), arg);
	case 's': cJSON_AddTrueToObject(o, "start"); return 0;
	default: return LQCTL_USAGE;
	}
}

/* create NAME ... and update NAME ...: the same options; update sends
 * only the members given (PATCH), and create may --start. */
static int lqctl_vm_spec(const struct lqctl *c, int argc, char **argv, bool update)
{
	static const struct option opts[] = {
		{ "cpus", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "cmdline", required_argument, NULL, 'C' },
		{ "disk", required_argument, NULL, 'd' },
		{ "rng", no_argument, NULL, 'r' },
		{ "no-rng", no_argument, NULL, 'R' },
		{ "restart-policy", required_argument, NULL, 'p' },
		{ "label", required_argument, NULL, 'l' },
		{ "start", no_argument, NULL, 's' },
		{ 0 },
	};
	cJSON *o = cJSON_CreateObject();
	char *body;
	int opt, rc = 0;

	char path[256];

	if (!o)
		return LQCTL_USAGE;
	optind = 0;
	while (!rc && (opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == '?' || (update && opt == 's'))
			rc = lqctl_usage_err("%s", update ? "update takes no --start" : "bad option");
		else
			rc = lqctl_create_opt(o, opt, optarg);
	}
	if (!rc && (optind != argc - 1 || strlen(argv[optind]) > 128))
		rc = lqctl_usage_err("%s", update ? "usage: lqctl vm update NAME [options]"
					: "usage: lqctl vm create NAME --memory SIZE --kernel PATH [options]");
	if (!rc && update && !o->child)
		rc = lqctl_usage_err("%s", "update: nothing to change");
	if (rc) {
		cJSON_Delete(o);
		return rc;
	}
	if (!update)
		cJSON_AddStringToObject(o, "name", argv[optind]);
	body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	snprintf(path, sizeof(path), "/v1/vms/%s", argv[optind]);
	rc = lqctl_call(c, update ? "PATCH" : "POST", update ? path : "/v1/vms", body,
			LQCTL_TIMEOUT_S, lqctl_print_vm);
	free(body);
	return rc;
}

static void lqctl_show_list(const cJSON *o)
{
	lqctl_print_vm_table(o);
}

/* Follows the serial log: each request waits (up to 30 s) for output. */
static int lqctl_vm_console(const struct lqctl *c, const char *name, bool follow)
{
	unsigned long long off = 0;
	char path[256], what[300];
	struct lqctl_resp r;
	int rc;

	snprintf(what, sizeof(what), "console of %s", name);
	for (;;) {
		snprintf(path, sizeof(path), "/v1/vms/%s/console?offset=%llu&wait_s=%d", name, off,
			 follow ? 30 : 0);
		rc = lqctl_http(c, "GET", path, NULL, 60, &r);
		if (rc)
			return rc;
		if (r.status != 200) {
			rc = lqctl_fail(&r, what);
			free(r.body);
			return rc;
		}
		if (r.len)
			fwrite(r.body, 1, r.len, stdout);
		fflush(stdout);
		free(r.body);
		off = strtoull(r.offset, NULL, 10);
		if (!follow)
			return 0;
		/* Down and read to the end: nothing more will come. */
		if (!r.len && strcmp(r.vm_state, "running") && strcmp(r.vm_state, "paused"))
			return 0;
	}
}

/* stop and delete: [--timeout S] [--force] */
static int lqctl_vm_stop(const struct lqctl *c, int argc, char **argv, bool del)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "force", no_argument, NULL, 'f' },
		{ 0 },
	};
	unsigned long timeout = 30;
	bool force = false;
	char path[256], body[96], *end;
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
		if (opt == 't') {
			timeout = strtoul(optarg, &end, 10);
			if (!*optarg || *end || *optarg == '-')
				return lqctl_usage_err("--timeout %s: expected seconds", optarg);
		} else if (opt == 'f') {
			force = true;
		} else {
			return LQCTL_USAGE;
		}
	}
	if (optind != argc - 1)
		return lqctl_usage_err("usage: lqctl vm %s NAME [--timeout S] [--force]", argv[0]);
	if (del) {
		snprintf(path, sizeof(path), "/v1/vms/%s?timeout_s=%lu&force=%s", argv[optind], timeout,
			 force ? "true" : "false");
		opt = lqctl_call(c, "DELETE", path, NULL, (long)timeout + 15, NULL);
		if (!opt && !c->json)
			printf("deleted %s\n", argv[optind]);
		return opt;
	}
	snprintf(path, sizeof(path), "/v1/vms/%s/stop", argv[optind]);
	snprintf(body, sizeof(body), "{\"timeout_s\":%lu,\"force\":%s}", timeout,
		 force ? "true" : "false");
	return lqctl_call(c, "POST", path, body, (long)timeout + 15, lqctl_print_vm);
}

static const char *const lqctl_actions[] = { "start", "reboot", "pause", "resume" };

int lqctl_vm(const struct lqctl *c, int argc, char **argv)
{
	const char *cmd = argc > 0 ? argv[0] : "";
	char path[256];
	bool follow;

	if (!strcmp(cmd, "create") || !strcmp(cmd, "update"))
		return lqctl_vm_spec(c, argc, argv, !strcmp(cmd, "update"));
	if (!strcmp(cmd, "list") && argc == 1)
		return lqctl_call(c, "GET", "/v1/vms", NULL, LQCTL_TIMEOUT_S, lqctl_show_list);
	if (!strcmp(cmd, "stop") || !strcmp(cmd, "delete"))
		return lqctl_vm_stop(c, argc, argv, !strcmp(cmd, "delete"));
	if (!strcmp(cmd, "console") && (argc == 2 || argc == 3)) {
		follow = argc == 3 && (!strcmp(argv[1], "-f") || !strcmp(argv[2], "-f") ||
				       !strcmp(argv[1], "--follow") || !strcmp(argv[2], "--follow"));
		if (argc == 3 && !follow)
			return lqctl_usage_err("%s", "usage: lqctl vm console NAME [-f]");
		return lqctl_vm_console(c, argc == 3 && argv[1][0] == '-' ? argv[2] : argv[1], follow);
	}
	if (argc == 2 && strlen(argv[1]) < 128) {
		if (!strcmp(cmd, "get")) {
			snprintf(path, sizeof(path), "/v1/vms/%s", argv[1]);
			return lqctl_call(c, "GET", path, NULL, LQCTL_TIMEOUT_S, lqctl_print_vm);
		}
		for (unsigned i = 0; i < sizeof(lqctl_actions) / sizeof(lqctl_actions[0]); i++) {
			if (!strcmp(cmd, lqctl_actions[i])) {
				snprintf(path, sizeof(path), "/v1/vms/%s/%s", argv[1], cmd);
				return lqctl_call(c, "POST", path, NULL, LQCTL_TIMEOUT_S, lqctl_print_vm);
			}
		}
	}
	fprintf(stderr,
		"usage: lqctl vm create NAME --memory SIZE --kernel PATH [--cpus N] [--initrd P]\n"
		"                  [--cmdline S] [--disk path=P[,readonly=on][,format=qcow2]] [--rng]\n"
		"                  [--restart-policy never|on-failure|always] [--label K=V] [--start]\n"
		"       lqctl vm update NAME [the options of create but --start; --no-rng]\n"
		"       lqctl vm list | get NAME | start NAME | reboot NAME | pause NAME | resume NAME\n"
		"       lqctl vm stop NAME [--timeout S] [--force] | delete NAME [--timeout S] [--force]\n"
		"       lqctl vm console NAME [-f]\n");
	return LQCTL_USAGE;
}
