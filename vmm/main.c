/* lq-vmm: one VM per process. Parses flags, builds the VM, runs the
 * control loop (console, signals, VM exit) and restarts the VM on a guest
 * reboot when asked to. Exit status: see lq-vmm --help. */

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/log.h"
#include "devices/serial.h"
#include "vmm/api.h"
#include "vmm/config.h"
#include "vmm/console.h"
#include "vmm/pvm.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

enum { PFD_EXIT, PFD_SIGNAL, PFD_SPACE, PFD_INPUT, PFD_LISTEN, PFD_DEVICES, PFD_API, PFD_COUNT };

static int main_signalfd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGPIPE);
	sigaddset(&set, SIGQUIT);
	/* Blocked before any thread starts, so every thread inherits it and
	 * only the signalfd sees these signals. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sigdelset(&set, SIGPIPE);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static void main_drain(int fd)
{
	uint8_t buf[256];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* Waits until the VM wants to stop, serving the console meanwhile. */
static void main_loop(struct vm *vm, struct console *con, int sfd, struct api *api)
{
	while (1) {
		struct pollfd p[PFD_COUNT] = {
			[PFD_EXIT] = { vm->exit_efd, POLLIN, 0 },
			[PFD_SIGNAL] = { sfd, POLLIN, 0 },
			[PFD_SPACE] = { con->space_efd, POLLIN, 0 },
			[PFD_INPUT] = { console_input_fd(con), POLLIN, 0 },
			[PFD_LISTEN] = { con->listen_fd, POLLIN, 0 },
			[PFD_DEVICES] = { vm->evl.epfd, POLLIN, 0 },
			[PFD_API] = { api ? api_fd(api) : -1, POLLIN, 0 },
		};

		/* Spin briefly for device work first (event_loop.h): if some
		 * was found, only look at the other fds, don't sleep. */
		if (poll(p, PFD_COUNT, evl_poll(&vm->evl) ? 0 : -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("poll failed: %s", strerror(errno));
			vm_request_exit(vm, VM_EXIT_ERROR, 1);
			return;
		}
		if (p[PFD_EXIT].revents)
			return;
		if (p[PFD_SIGNAL].revents) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) != sizeof(si)) {
				/* nothing */
			} else if (si.ssi_signo == SIGQUIT) {
				/* Operator's "where is it?": registers of every vCPU. */
				for (unsigned i = 0; i < vm->nr_vcpus; i++)
					vcpu_request_dump(&vm->vcpus[i]);
			} else {
				log_info("got signal %u: stopping the VM", si.ssi_signo);
				vm_request_exit(vm, VM_EXIT_SIGNAL, 128 + (int)si.ssi_signo);
			}
		}
		if (p[PFD_DEVICES].revents)
			evl_run_once(&vm->evl, 0);
		if (p[PFD_API].revents)
			api_service(api);
		if (p[PFD_SPACE].revents)
			main_drain(con->space_efd);
		if (p[PFD_LISTEN].revents)
			console_accept(con);
		if (p[PFD_INPUT].revents && p[PFD_INPUT].fd >= 0) {
			console_pump(con, p[PFD_INPUT].fd);
			if (con->quit)
				vm_request_exit(vm, VM_EXIT_SIGNAL, 0);
		}
	}
}

static void main_report(struct vm *vm)
{
	uint64_t counts[PVM_KINDS] = { 0 }, exits = 0;
	char buf[256];
	int len = 0;

	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		exits += vm->vcpus[i].stats.exits;
		for (unsigned k = 0; k < PVM_KINDS; k++)
			counts[k] += vm->vcpus[i].emul_counts[k];
	}
	for (unsigned k = 0; k < PVM_KINDS; k++)
		if (counts[k])
			len += snprintf(buf + len, sizeof(buf) - (size_t)len, " %s=%llu",
					pvm_insn_name(k), (unsigned long long)counts[k]);
	log_debug("%llu exits in all", (unsigned long long)exits);
	if (len)
		log_info("instructions finished for the PVM host:%s", buf);
}

int main(int argc, char **argv)
{
	struct vm_config cfg;
	struct console con;
	struct serial_sink sink;
	struct serial *serial;
	struct vm vm;
	struct api *api = NULL;
	int sfd, ret, status = 1;

	log_init("lq-vmm");
	ret = config_parse(&cfg, argc, argv);
	if (ret)
		return ret > 0 ? 0 : 1;
	sfd = main_signalfd();
	if (sfd < 0 || console_open(&con, &cfg))
		return 1;
	if (cfg.api_socket && api_start(&api, cfg.api_socket, &cfg)) {
		console_close(&con);
		return 1;
	}
	console_sink(&con, &sink);
	serial = serial_create(SERIAL_COM1_IRQ, vm_set_irq, &vm, &sink);
	if (!serial)
		goto out;
	con.serial = serial;
	for (;;) {
		enum vm_exit_reason why;

		if (vm_create(&vm, &cfg, serial) || vm_start(&vm)) {
			vm_destroy(&vm);
			status = 1;
			break;
		}
		api_attach(api, &vm);
		main_loop(&vm, &con, sfd, api);
		vm_stop(&vm);
		api_detach(api);
		main_report(&vm);
		why = vm.exit_reason;
		status = vm.exit_status;
		vm_destroy(&vm);
		if (why == VM_EXIT_REBOOT && cfg.reboot == REBOOT_RESTART) {
			log_info("guest rebooted: restarting the VM");
			continue;
		}
		if (why == VM_EXIT_POWEROFF)
			log_info("guest powered off");
		else if (why == VM_EXIT_REBOOT)
			log_info("guest rebooted; exiting as --reboot exit asks");
		else if (why == VM_EXIT_DEBUG)
			log_info("guest wrote the debug-exit port: exit status %d", status);
		break;
	}
out:
	api_stop(api);
	serial_destroy(serial);
	console_close(&con);
	close(sfd);
	return status;
}
