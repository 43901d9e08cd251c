/* net/netlink: host links through rtnetlink (libnl-3), never by running
 * `ip`: bridges, veth pairs, link up, and a port's master bridge. Each
 * call opens its own netlink socket, so callers share no state and any
 * thread may call; these are set-up operations, not a datapath.
 * Returns 0 or -errno, with what failed logged (link name and why). */
#ifndef LQ_NET_NETLINK_H
#define LQ_NET_NETLINK_H

#include <stdbool.h>

/* Creates bridge `name`; -EEXIST if a link of that name exists. */
int netlink_bridge_create(const char *name);
/* Creates the veth pair name <-> peer (both down). */
int netlink_veth_create(const char *name, const char *peer);
/* Deletes a link (bridge, veth end, persistent tap); -ENODEV if none. */
int netlink_link_delete(const char *name);
int netlink_link_set_up(const char *name, bool up);
/* Makes `name` a port of bridge `master` (NULL: detaches it). */
int netlink_link_set_master(const char *name, const char *master);
/* True if a link of that name exists now. */
bool netlink_link_exists(const char *name);
/* The link's kind as the kernel reports it ("bridge", "tun", "veth"), or
 * "" for a kind-less device; -ENODEV if there is no such link. */
int netlink_link_kind(const char *name, char *kind, unsigned size);

#endif
