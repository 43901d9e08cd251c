/* lqctl: the limiquantix CLI (tools/lqctl/lqctl.h). Global options,
 * then a noun and a verb: lqctl [--socket P] [--json] vm|host ... */
#include "tools/lqctl/lqctl.h"

#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LQCTL_DEFAULT_SOCKET "/run/limiquantix/lqd.sock"

static int lqctl_usage(FILE *f, int code)
{
	fprintf(f,
		"usage: lqctl [--socket PATH] [--json] COMMAND\n"
		"  vm create|update|list|get|start|stop|reboot|pause|resume|delete|console ...\n"
		"  host info\n"
		"  --socket PATH  lqd's socket (default $LQD_SOCKET or " LQCTL_DEFAULT_SOCKET ")\n"
		"  --json         print the API's JSON instead of tables\n"
		"exit: 0 ok, 1 usage/validation, 2 not found, 3 conflict, 4 lqd unreachable, 5 lqd error\n");
	return code;
}

int lqctl_host(const struct lqctl *c, int argc, char **argv)
{
	if (argc == 1 && !strcmp(argv[0], "info"))
		return lqctl_call(c, "GET", "/v1/host", NULL, 30, lqctl_print_host);
	fprintf(stderr, "usage: lqctl host info\n");
	return LQCTL_USAGE;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct lqctl c = { .socket = getenv("LQD_SOCKET") };
	int opt, rc;

	if (!c.socket || !*c.socket)
		c.socket = LQCTL_DEFAULT_SOCKET;
	/* "+": stop at the first word, so verbs keep their own options */
	while ((opt = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (opt) {
		case 's': c.socket = optarg; break;
		case 'j': c.json = true; break;
		case 'h': return lqctl_usage(stdout, 0);
		default: return lqctl_usage(stderr, LQCTL_USAGE);
		}
	}
	if (optind >= argc)
		return lqctl_usage(stderr, LQCTL_USAGE);
	if (curl_global_init(CURL_GLOBAL_NOTHING)) {
		fprintf(stderr, "lqctl: cannot initialise libcurl\n");
		return LQCTL_UNREACHABLE;
	}
	if (!strcmp(argv[optind], "vm"))
		rc = lqctl_vm(&c, argc - optind - 1, argv + optind + 1);
	else if (!strcmp(argv[optind], "host"))
		rc = lqctl_host(&c, argc - optind - 1, argv + optind + 1);
	else
		rc = lqctl_usage(stderr, LQCTL_USAGE);
	curl_global_cleanup();
	return rc;
}
