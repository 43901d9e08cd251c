#include "net/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"

static int tap_attach(const char *name, bool multi_queue, char *actual)
{
	struct ifreq ifr = { 0 };
	int hdr = TAP_VNET_HDR_LEN;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	int err;

	if (fd < 0) {
		err = -errno;
		log_error("tap %s: /dev/net/tun: %s (is the tun module loaded?)", name, strerror(errno));
		return err;
	}
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (multi_queue ? IFF_MULTI_QUEUE : 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err = -errno;
		log_error("tap %s: TUNSETIFF: %s (an interface of another kind with that name, "
			  "a tap of another owner, or no CAP_NET_ADMIN)", name, strerror(errno));
		close(fd);
		return err;
	}
	/* The v1 header (with num_buffers) on both directions. */
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		err = -errno;
		log_error("tap %s: TUNSETVNETHDRSZ: %s", ifr.ifr_name, strerror(errno));
		close(fd);
		return err;
	}
	if (actual)
		memcpy(actual, ifr.ifr_name, IFNAMSIZ);
	return fd;
}

int tap_open(const char *name, bool multi_queue, struct tap *t)
{
	if (strlen(name) >= IFNAMSIZ) {
		log_error("tap %s: name longer than %d characters", name, IFNAMSIZ - 1);
		t->fd = -1;
		return -ENAMETOOLONG;
	}
	t->created = !*name || if_nametoindex(name) == 0;
	t->fd = tap_attach(name, multi_queue, t->name);
	if (t->fd < 0) {
		int err = t->fd;

		t->fd = -1;
		return err;
	}
	/* Frames with offloads only once the driver has agreed to them. */
	return tap_set_offload(t->fd, 0);
}

int tap_open_queue(const struct tap *t)
{
	return tap_attach(t->name, true, NULL);
}

int tap_queue_enable(int fd, bool on)
{
	struct ifreq ifr = { .ifr_flags = on ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE };

	/* Attaching an attached queue is EINVAL: the state is what we want. */
	if (ioctl(fd, TUNSETQUEUE, &ifr) < 0 && errno != EINVAL) {
		int err = -errno;

		log_warn("tap: %s a queue: %s", on ? "attaching" : "detaching", strerror(errno));
		return err;
	}
	return 0;
}

int tap_set_offload(int fd, unsigned tun_flags)
{
	if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)tun_flags) < 0) {
		int err = -errno;

		log_warn("tap: TUNSETOFFLOAD %#x: %s", tun_flags, strerror(errno));
		return err;
	}
	return 0;
}

int tap_get_mtu(int fd)
{
	struct ifreq ifr = { 0 };
	int s, err = 0;

	if (ioctl(fd, TUNGETIFF, &ifr) < 0)
		return -errno;
	/* SIOCGIFMTU wants a socket, any kind. */
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (ioctl(s, SIOCGIFMTU, &ifr) < 0)
		err = -errno;
	close(s);
	return err ? err : ifr.ifr_mtu;
}

void tap_close(struct tap *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}
