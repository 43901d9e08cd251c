#include "vmm/vm_virtio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "virtio/blk.h"
#include "virtio/console.h"
#include "virtio/net.h"
#include "virtio/pci.h"
#include "virtio/rng.h"
#include "vmm/vm.h"
#include "vmm/vm_net.h"

struct vm_virtio {
	unsigned nr;
	struct virtio_pci *pci[VM_MAX_VIRTIO];
	struct virtio_rng *rng;
	struct virtio_blk *blk[VM_MAX_DISKS];
	unsigned nr_blk;
	struct vm_net *net[VM_MAX_NETS];
	unsigned nr_net;
	struct virtio_console *con;
	int con_file_fd, con_listen_fd, con_client_fd;
	char *con_path;            /* unix socket to unlink */
};

static int vm_virtio_add(struct vm *vm, struct virtio_dev *d)
{
	struct vm_virtio *v = vm->virtio;
	int err;

	if (v->nr == VM_MAX_VIRTIO)
		return -ENOSPC;
	err = virtio_pci_create(d, &vm->pci, &vm->irq, &vm->evl, &vm->mem, &v->pci[v->nr]);
	if (!err)
		v->nr++;
	return err;
}

static int vm_virtio_disks(struct vm *vm)
{
	struct vm_virtio *v = vm->virtio;
	/* One request queue per vCPU, as many as the device allows. */
	unsigned queues = vm->nr_vcpus < VIRTIO_MAX_QUEUES ? vm->nr_vcpus : VIRTIO_MAX_QUEUES;

	for (unsigned i = 0; i < vm->cfg->nr_disks; i++) {
		struct virtio_blk *b;
		int err = virtio_blk_create(&vm->cfg->disks[i], i, queues, &b);

		if (err)
			return err;
		v->blk[v->nr_blk++] = b;
		err = vm_virtio_add(vm, &b->dev);
		if (!err)
			err = virtio_blk_start(b);
		if (err)
			return err;
	}
	return 0;
}

static int vm_virtio_nets(struct vm *vm)
{
	struct vm_virtio *v = vm->virtio;

	for (unsigned i = 0; i < vm->cfg->nr_nets; i++) {
		struct vm_net *n;
		int err = vm_net_create(&vm->cfg->nets[i], i, &n);

		if (err)
			return err;
		v->net[v->nr_net++] = n;
		err = vm_virtio_add(vm, &n->dev->dev);
		if (!err)
			err = virtio_net_start(n->dev);
		if (err)
			return err;
	}
	return 0;
}

static void vm_virtio_con_accept(void *opaque, uint32_t events)
{
	struct vm_virtio *v = opaque;
	int fd = accept4(v->con_listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	(void)events;
	if (fd < 0)
		return;
	/* The newest client gets the console; an older one is dropped. */
	virtio_console_set_fds(v->con, fd, fd);
	if (v->con_client_fd >= 0)
		close(v->con_client_fd);
	v->con_client_fd = fd;
}

static int vm_virtio_con_listen(struct vm *vm, const char *path)
{
	struct vm_virtio *v = vm->virtio;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_error("--console unix:%s: path too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	unlink(path);
	v->con_listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (v->con_listen_fd < 0 || bind(v->con_listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(v->con_listen_fd, 1) < 0) {
		log_error("--console unix:%s: %s", path, strerror(errno));
		return -errno;
	}
	v->con_path = strdup(path);
	return evl_add(&vm->evl, v->con_listen_fd, EPOLLIN, vm_virtio_con_accept, v);
}

static int vm_virtio_console(struct vm *vm)
{
	struct vm_virtio *v = vm->virtio;
	const struct vm_config *cfg = vm->cfg;
	int in = -1, out = -1, err;

	switch (cfg->console) {
	case SERIAL_NONE:
		return 0;
	case SERIAL_STDIO:
		if (cfg->serial == SERIAL_STDIO) {
			log_error("--console stdio: the serial port already uses stdio "
				  "(give --serial file:PATH, unix:PATH or none)");
			return -EINVAL;
		}
		in = STDIN_FILENO;
		out = STDOUT_FILENO;
		break;
	case SERIAL_FILE:
		v->con_file_fd = open(cfg->console_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (v->con_file_fd < 0) {
			log_error("--console file:%s: %s", cfg->console_path, strerror(errno));
			return -errno;
		}
		out = v->con_file_fd;
		break;
	case SERIAL_UNIX:
		break;
	}
	v->con = calloc(1, sizeof(*v->con));
	if (!v->con)
		return -ENOMEM;
	virtio_console_init(v->con, in, out);
	err = vm_virtio_add(vm, &v->con->dev);
	if (!err && cfg->console == SERIAL_UNIX)
		err = vm_virtio_con_listen(vm, cfg->console_path);
	return err;
}

int vm_virtio_create(struct vm *vm)
{
	int err;

	vm->virtio = calloc(1, sizeof(*vm->virtio));
	if (!vm->virtio)
		return -ENOMEM;
	vm->virtio->con_file_fd = vm->virtio->con_listen_fd = vm->virtio->con_client_fd = -1;
	err = evl_init(&vm->evl);
	if (!err)
		err = kvm_irq_init(&vm->irq, vm->vm_fd, vm->kvm_fd);
	if (!err)
		err = pci_bus_init(&vm->pci, &vm->pio, &vm->mmio, VM_PCI_WINDOW_START,
				   VM_PCI_WINDOW_END);
	if (err)
		return err;
	err = vm_virtio_disks(vm);
	if (!err)
		err = vm_virtio_nets(vm);
	if (!err && vm->cfg->rng) {
		vm->virtio->rng = calloc(1, sizeof(*vm->virtio->rng));
		if (!vm->virtio->rng)
			return -ENOMEM;
		virtio_rng_init(vm->virtio->rng);
		err = vm_virtio_add(vm, &vm->virtio->rng->dev);
	}
	if (!err)
		err = vm_virtio_console(vm);
	return err;
}

void vm_virtio_destroy(struct vm *vm)
{
	struct vm_virtio *v = vm->virtio;

	if (!v)
		return;
	if (v->con)
		virtio_console_stop(v->con);
	for (unsigned i = 0; i < v->nr; i++)
		virtio_pci_destroy(v->pci[i]);
	for (unsigned i = 0; i < v->nr_blk; i++)
		virtio_blk_destroy(v->blk[i]);
	for (unsigned i = 0; i < v->nr_net; i++)
		vm_net_destroy(v->net[i]);
	free(v->rng);
	free(v->con);
	if (v->con_file_fd >= 0)
		close(v->con_file_fd);
	if (v->con_client_fd >= 0)
		close(v->con_client_fd);
	if (v->con_listen_fd >= 0)
		close(v->con_listen_fd);
	if (v->con_path)
		unlink(v->con_path);
	free(v->con_path);
	free(v);
	vm->virtio = NULL;
	pci_bus_free(&vm->pci);
	evl_free(&vm->evl);
}

struct virtio_pci *vm_virtio_device(const struct vm *vm, unsigned i)
{
	return vm->virtio && i < vm->virtio->nr ? vm->virtio->pci[i] : NULL;
}
