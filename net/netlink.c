#include "net/netlink.h"

#include <errno.h>
#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

/* libnl answers with its own negative codes; callers here speak errno. */
static int netlink_errno(int nlerr)
{
	switch (-nlerr) {
	case 0: return 0;
	case NLE_EXIST: return -EEXIST;
	case NLE_NODEV:
	case NLE_OBJ_NOTFOUND: return -ENODEV;
	case NLE_PERM: return -EPERM;
	case NLE_NOACCESS: return -EACCES;
	case NLE_NOMEM: return -ENOMEM;
	case NLE_BUSY: return -EBUSY;
	case NLE_INVAL: return -EINVAL;
	case NLE_RANGE: return -ERANGE;
	case NLE_OPNOTSUPP: return -EOPNOTSUPP;
	case NLE_AGAIN: return -EAGAIN;
	default: return -EIO;
	}
}

static int netlink_fail(const char *what, const char *name, int nlerr)
{
	log_error("netlink: %s %s: %s", what, name, nl_geterror(nlerr));
	return netlink_errno(nlerr);
}

static struct nl_sock *netlink_sock(void)
{
	struct nl_sock *sk = nl_socket_alloc();
	int err;

	if (!sk) {
		errno = ENOMEM;
		return NULL;
	}
	err = nl_connect(sk, NETLINK_ROUTE);
	if (err < 0) {
		log_error("netlink: cannot open a route socket: %s", nl_geterror(err));
		nl_socket_free(sk);
		errno = -netlink_errno(err);
		return NULL;
	}
	return sk;
}

/* Runs op on a link object that carries only name (what the kernel
 * looks a link up by), on a fresh route socket. */
static int netlink_named(const char *what, const char *name,
			 int (*op)(struct nl_sock *sk, struct rtnl_link *link))
{
	struct nl_sock *sk = netlink_sock();
	struct rtnl_link *link;
	int err;

	if (!sk)
		return -errno;
	link = rtnl_link_alloc();
	if (!link) {
		nl_socket_free(sk);
		return -ENOMEM;
	}
	rtnl_link_set_name(link, name);
	err = op(sk, link);
	rtnl_link_put(link);
	nl_socket_free(sk);
	return err < 0 ? netlink_fail(what, name, err) : 0;
}

/* Not rtnl_link_bridge_add: without NLM_F_EXCL an existing link of that
 * name would count as success. */
static int netlink_add_bridge(struct nl_sock *sk, struct rtnl_link *link)
{
	int err = rtnl_link_set_type(link, "bridge");

	return err < 0 ? err : rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
}

int netlink_bridge_create(const char *name)
{
	return netlink_named("creating bridge", name, netlink_add_bridge);
}

int netlink_veth_create(const char *name, const char *peer)
{
	struct nl_sock *sk = netlink_sock();
	int err;

	if (!sk)
		return -errno;
	/* The peer goes to the netns of a pid: ours. */
	err = rtnl_link_veth_add(sk, name, peer, getpid());
	nl_socket_free(sk);
	return err < 0 ? netlink_fail("creating veth pair", name, err) : 0;
}

static int netlink_del(struct nl_sock *sk, struct rtnl_link *link)
{
	return rtnl_link_delete(sk, link); /* takes a const link */
}

int netlink_link_delete(const char *name)
{
	return netlink_named("deleting link", name, netlink_del);
}

/* Applies what `fill` sets on a change object to the live link. */
static int netlink_change(const char *what, const char *name,
			  int (*fill)(struct rtnl_link *chg, const void *arg), const void *arg)
{
	struct nl_sock *sk = netlink_sock();
	struct rtnl_link *link = NULL, *chg = NULL;
	int err;

	if (!sk)
		return -errno;
	err = rtnl_link_get_kernel(sk, 0, name, &link);
	if (err >= 0) {
		chg = rtnl_link_alloc();
		err = chg ? fill(chg, arg) : -NLE_NOMEM;
	}
	if (err >= 0)
		err = rtnl_link_change(sk, link, chg, 0);
	if (chg)
		rtnl_link_put(chg);
	if (link)
		rtnl_link_put(link);
	nl_socket_free(sk);
	return err < 0 ? netlink_fail(what, name, err) : 0;
}

static int netlink_fill_up(struct rtnl_link *chg, const void *arg)
{
	if (*(const bool *)arg)
		rtnl_link_set_flags(chg, IFF_UP);
	else
		rtnl_link_unset_flags(chg, IFF_UP);
	return 0;
}

int netlink_link_set_up(const char *name, bool up)
{
	return netlink_change(up ? "setting up link" : "setting down link", name, netlink_fill_up,
			      &up);
}

static int netlink_fill_master(struct rtnl_link *chg, const void *arg)
{
	const char *master = arg;
	unsigned idx = 0;

	if (master) {
		idx = if_nametoindex(master);
		if (!idx)
			return -NLE_NODEV;
	}
	rtnl_link_set_master(chg, (int)idx);
	return 0;
}

int netlink_link_set_master(const char *name, const char *master)
{
	return netlink_change(master ? "attaching to a bridge" : "detaching from its bridge",
			      name, netlink_fill_master, master);
}

bool netlink_link_exists(const char *name)
{
	return if_nametoindex(name) != 0;
}

int netlink_link_kind(const char *name, char *kind, unsigned size)
{
	struct nl_sock *sk = netlink_sock();
	struct rtnl_link *link = NULL;
	const char *k;
	int err;

	if (!sk)
		return -errno;
	err = rtnl_link_get_kernel(sk, 0, name, &link);
	nl_socket_free(sk);
	if (err < 0)
		return netlink_errno(err);
	k = rtnl_link_get_type(link);
	snprintf(kind, size, "%s", k ? k : "");
	rtnl_link_put(link);
	return 0;
}
