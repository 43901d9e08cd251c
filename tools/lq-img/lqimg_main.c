/* tools/lq-img: command dispatch and usage. */
#include "tools/lq-img/lqimg.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
} lqimg_cmds[] = {
	{ "create", lqimg_create,
	  "create [-f raw|qcow2] [-b BACKING [-F raw|qcow2]] [-o cluster_size=N] [--force] FILE [SIZE]" },
	{ "info", lqimg_info, "info [--json] [--backing-chain] FILE" },
	{ "map", lqimg_map, "map [--json] FILE" },
	{ "check", lqimg_check, "check FILE" },
	{ "convert", lqimg_convert, "convert [-p] [-O raw|qcow2] [-o cluster_size=N] SRC DST" },
	{ "resize", lqimg_resize, "resize FILE SIZE" },
};

#define LQIMG_NCMDS (sizeof(lqimg_cmds) / sizeof(lqimg_cmds[0]))

static int lqimg_usage(FILE *f)
{
	fprintf(f, "usage: lq-img COMMAND ...\n");
	for (size_t i = 0; i < LQIMG_NCMDS; i++)
		fprintf(f, "  lq-img %s\n", lqimg_cmds[i].usage);
	fprintf(f, "SIZE: bytes, or with a suffix K, M, G, T (powers of 1024)\n");
	return f == stderr;
}

int main(int argc, char **argv)
{
	log_init("lq-img");
	if (argc < 2)
		return lqimg_usage(stderr);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		return lqimg_usage(stdout);
	for (size_t i = 0; i < LQIMG_NCMDS; i++)
		if (!strcmp(argv[1], lqimg_cmds[i].name))
			return lqimg_cmds[i].run(argc - 1, argv + 1);
	fprintf(stderr, "lq-img: unknown command '%s'\n", argv[1]);
	return lqimg_usage(stderr);
}
