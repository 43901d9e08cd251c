#include "vmm/config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

static void config_usage(FILE *f)
{
	fputs("usage: lq-vmm --kernel PATH [options]\n"
	      "  --kernel PATH      Linux bzImage, or an ELF (vmlinux / PVH / limiquantix test guest)\n"
	      "  --initrd PATH      initial ramdisk\n"
	      "  --cmdline STRING   kernel command line\n"
	      "  --memory SIZE      guest RAM, e.g. 512M, 8G (default 512M)\n"
	      "  --cpus N           vCPUs, 1-255 (default 1)\n"
	      "  --serial MODE      stdio | file:PATH | unix:PATH | none (default stdio)\n"
	      "  --disk SPEC        virtio-blk disk, repeatable: path=FILE[,format=raw|qcow2]\n"
	      "                     [,readonly=on][,direct=on][,serial=ID] (image file or block\n"
	      "                     device; without format=, probed, and a probed qcow2 image\n"
	      "                     may not have a backing file)\n"
	      "  --net SPEC         virtio-net on a tap, repeatable: tap=NAME[,bridge=BR]\n"
	      "                     [,mac=52:54:00:xx:xx:xx][,queues=N] (the tap is created if missing,\n"
	      "                     and made a port of BR, created if missing)\n"
	      "  --rng              virtio-rng, fed from the host's getrandom()\n"
	      "  --console MODE     virtio-console (hvc0): stdio | file:PATH | unix:PATH | none\n"
	      "  --api-socket PATH  serve the per-VM HTTP API on this unix socket (mode 0600)\n"
	      "  --reboot ACTION    what a guest reboot does: restart | exit (default restart)\n"
	      "  --guest-decompress boot a bzImage through its own decompressor instead of\n"
	      "                     unpacking it on the host (slower; for debugging)\n"
	      "  --pvm MODE         PVM-host workarounds: auto | on | off (default auto)\n"
	      "  --log-level LEVEL  debug | info | warn | error\n"
	      "signals: SIGINT/SIGTERM stop the VM, SIGQUIT prints every vCPU's registers\n"
	      "exit status: 0 guest powered off (or rebooted with --reboot exit), 1 error,\n"
	      "             2 guest crashed (triple fault, emulation failure), odd values\n"
	      "             from the debug-exit port 0xf4: (value << 1) | 1,\n"
	      "             128+N stopped by signal N\n", f);
}

int config_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: break;
	}
	if (*end == 'i' || *end == 'B')
		end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
	if (*end || (shift && v > (~0ULL >> shift)))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

/* --serial and --console: where a character device's host side goes. */
static int config_chardev(const char *opt, const char *arg, enum serial_mode *mode,
			  const char **path)
{
	if (!strcmp(arg, "stdio")) {
		*mode = SERIAL_STDIO;
	} else if (!strcmp(arg, "none")) {
		*mode = SERIAL_NONE;
	} else if (!strncmp(arg, "file:", 5) && arg[5]) {
		*mode = SERIAL_FILE;
		*path = arg + 5;
	} else if (!strncmp(arg, "unix:", 5) && arg[5]) {
		*mode = SERIAL_UNIX;
		*path = arg + 5;
	} else {
		log_error("--%s %s: expected stdio, file:PATH, unix:PATH or none", opt, arg);
		return -EINVAL;
	}
	return 0;
}

static int config_option(struct vm_config *cfg, int opt, const char *arg)
{
	char *end;
	unsigned long n;

	switch (opt) {
	case 'k': cfg->kernel = arg; return 0;
	case 'i': cfg->initrd = arg; return 0;
	case 'c': cfg->cmdline = arg; return 0;
	case 'm':
		if (config_parse_size(arg, &cfg->memory) || cfg->memory < (16u << 20)) {
			log_error("--memory %s: expected a size of at least 16M, such as 512M or 8G", arg);
			return -EINVAL;
		}
		return 0;
	case 'p':
		n = strtoul(arg, &end, 10);
		if (*end || !*arg || n < 1 || n > VM_MAX_CPUS) {
			log_error("--cpus %s: expected a number from 1 to %d", arg, VM_MAX_CPUS);
			return -EINVAL;
		}
		cfg->cpus = (unsigned)n;
		return 0;
	case 's': return config_chardev("serial", arg, &cfg->serial, &cfg->serial_path);
	case 'C': return config_chardev("console", arg, &cfg->console, &cfg->console_path);
	case 'R': cfg->rng = true; return 0;
	case 'D':
		if (cfg->nr_disks == VM_MAX_DISKS) {
			log_error("--disk %s: at most %d disks", arg, VM_MAX_DISKS);
			return -EINVAL;
		}
		return config_parse_disk(arg, &cfg->disks[cfg->nr_disks++]);
	case 'N':
		if (cfg->nr_nets == VM_MAX_NETS) {
			log_error("--net %s: at most %d network cards", arg, VM_MAX_NETS);
			return -EINVAL;
		}
		cfg->nr_nets++;
		return config_parse_net(arg, cfg->nr_nets - 1, &cfg->nets[cfg->nr_nets - 1]);
	case 'r':
		if (!strcmp(arg, "restart") || !strcmp(arg, "exit")) {
			cfg->reboot = arg[0] == 'r' ? REBOOT_RESTART : REBOOT_EXIT;
			return 0;
		}
		log_error("--reboot %s: expected restart or exit", arg);
		return -EINVAL;
	case 'P':
		if (!strcmp(arg, "auto") || !strcmp(arg, "on") || !strcmp(arg, "off")) {
			cfg->pvm = arg[0] == 'a' ? PVM_AUTO : arg[1] == 'n' ? PVM_ON : PVM_OFF;
			return 0;
		}
		log_error("--pvm %s: expected auto, on or off", arg);
		return -EINVAL;
	case 'A':
		cfg->api_socket = arg;
		return 0;
	case 'G':
		cfg->guest_decompress = true;
		return 0;
	case 'l':
		if (!strcmp(arg, "debug")) log_set_level(LOG_DEBUG);
		else if (!strcmp(arg, "info")) log_set_level(LOG_INFO);
		else if (!strcmp(arg, "warn")) log_set_level(LOG_WARN);
		else if (!strcmp(arg, "error")) log_set_level(LOG_ERROR);
		else {
			log_error("--log-level %s: expected debug, info, warn or error", arg);
			return -EINVAL;
		}
		return 0;
	default:
		return -EINVAL;
	}
}

int config_parse(struct vm_config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'p' },
		{ "serial", required_argument, NULL, 's' },
		{ "reboot", required_argument, NULL, 'r' },
		{ "pvm", required_argument, NULL, 'P' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "guest-decompress", no_argument, NULL, 'G' },
		{ "disk", required_argument, NULL, 'D' },
		{ "rng", no_argument, NULL, 'R' },
		{ "net", required_argument, NULL, 'N' },
		{ "console", required_argument, NULL, 'C' },
		{ "api-socket", required_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	*cfg = (struct vm_config){ .memory = 512u << 20, .cpus = 1, .serial = SERIAL_STDIO,
				   .reboot = REBOOT_RESTART, .pvm = PVM_AUTO, .cmdline = "",
				   .console = SERIAL_NONE };
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'h') {
			config_usage(stdout);
			return 1;
		}
		if (opt == 'V') {
			puts("lq-vmm " LQ_VERSION);
			return 1;
		}
		if (opt == '?') {
			log_error("unknown or incomplete option '%s' (see lq-vmm --help)", argv[optind - 1]);
			return -EINVAL;
		}
		if (config_option(cfg, opt, optarg))
			return -EINVAL;
	}
	if (optind < argc) {
		log_error("unexpected argument '%s' (see lq-vmm --help)", argv[optind]);
		return -EINVAL;
	}
	if (!cfg->kernel) {
		log_error("no --kernel given: lq-vmm needs a kernel or test guest to boot (see --help)");
		return -EINVAL;
	}
	return 0;
}
