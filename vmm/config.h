/* vmm/config: lq-vmm's command line, parsed into one vm_config. */
#ifndef LQ_VMM_CONFIG_H
#define LQ_VMM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "block/blk_backend.h"

#define VM_MAX_CPUS 255

enum serial_mode { SERIAL_STDIO, SERIAL_FILE, SERIAL_UNIX, SERIAL_NONE };
enum reboot_action { REBOOT_RESTART, REBOOT_EXIT };
enum pvm_mode { PVM_AUTO, PVM_ON, PVM_OFF };

#define VM_MAX_DISKS 8
#define DISK_SERIAL_MAX 20 /* virtio-blk's GET_ID answer */

struct disk_config {
	const char *path;
	enum blk_format format;
	bool read_only;
	bool direct;           /* O_DIRECT: bypass the host page cache */
	char serial[DISK_SERIAL_MAX + 1];
};

#define VM_MAX_NETS 8
#define NET_IFNAME_MAX 16 /* IFNAMSIZ, with its NUL */
#define NET_MAX_QUEUES 7  /* virtio-net queue pairs (2 * 7 + 1 virtqueues) */

struct net_config {
	const char *tap;       /* existing tap, or one to create; NULL: kernel-named */
	const char *bridge;    /* attach the tap to it (created if missing); NULL: none */
	uint8_t mac[6];        /* given, or derived from the names (stable) */
	bool has_mac;
	unsigned queues;       /* queue pairs, 1..NET_MAX_QUEUES */
};

struct vm_config {
	const char *kernel;
	const char *initrd;
	const char *cmdline;
	uint64_t memory;
	unsigned cpus;
	enum serial_mode serial;
	const char *serial_path;
	enum reboot_action reboot;
	enum pvm_mode pvm;
	bool guest_decompress; /* bzImage: let the guest unpack itself */
	bool rng;              /* virtio-rng */
	unsigned nr_disks;
	struct disk_config disks[VM_MAX_DISKS];
	unsigned nr_nets;
	struct net_config nets[VM_MAX_NETS];
	enum serial_mode console;   /* virtio-console (hvc0); SERIAL_NONE = none */
	const char *console_path;
	const char *api_socket;     /* --api-socket: the per-VM API, NULL = none */
};

/* 0 on success, 1 when --help/--version was handled (exit 0), -EINVAL
 * after printing what is wrong. */
int config_parse(struct vm_config *cfg, int argc, char **argv);
/* "512M", "8G", "65536K", "1073741824": bytes, or -EINVAL. */
int config_parse_size(const char *s, uint64_t *out);
/* "path=P,readonly=on|off,direct=on|off,serial=S" (a bare path works too). */
int config_parse_disk(const char *arg, struct disk_config *d);
/* "tap=NAME,bridge=BR,mac=52:54:00:12:34:56,queues=N" (tap and/or bridge); index
 * feeds the default MAC. */
int config_parse_net(const char *arg, unsigned index, struct net_config *n);

#endif
