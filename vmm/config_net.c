/* --net tap=NAME[,bridge=BR][,mac=52:54:00:12:34:56][,queues=N] */
#include "vmm/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

static int config_mac(const char *arg, const char *v, uint8_t mac[6])
{
	unsigned b[6];
	char end;

	if (sscanf(v, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &end) != 6 || strlen(v) != 17) {
		log_error("--net %s: mac=%s: expected six hex bytes such as 52:54:00:12:34:56",
			  arg, v);
		return -EINVAL;
	}
	for (unsigned i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	if (mac[0] & 1) {
		log_error("--net %s: mac=%s is a multicast address (the first byte must be even)",
			  arg, v);
		return -EINVAL;
	}
	return 0;
}

/* 52:54:00 (locally used by QEMU and libvirt too) and 24 bits of FNV-1a
 * over what names the card, so a VM keeps its MAC across restarts. */
static void config_default_mac(const char *key, unsigned index, uint8_t mac[6])
{
	uint32_t h = 2166136261u;

	for (const char *p = key; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	h = (h ^ index) * 16777619u;
	mac[0] = 0x52;
	mac[1] = 0x54;
	mac[2] = 0x00;
	mac[3] = (uint8_t)(h >> 16);
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}

/* Splits in place, like config_parse_disk: the strings point into a copy
 * that lives as long as the process. */
int config_parse_net(const char *arg, unsigned index, struct net_config *n)
{
	char *copy = strdup(arg), *save = NULL, *tok;
	int err = 0;

	*n = (struct net_config){ .queues = 1 };
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok && !err; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq) {
			log_error("--net %s: '%s' is not key=value (tap, bridge, mac, queues)", arg,
				  tok);
			err = -EINVAL;
			break;
		}
		*eq = '\0';
		if (!strcmp(tok, "tap") || !strcmp(tok, "bridge")) {
			if (!eq[1] || strlen(eq + 1) >= NET_IFNAME_MAX) {
				log_error("--net %s: %s= needs an interface name of 1 to %d characters",
					  arg, tok, NET_IFNAME_MAX - 1);
				err = -EINVAL;
			}
			if (tok[0] == 't')
				n->tap = eq + 1;
			else
				n->bridge = eq + 1;
		} else if (!strcmp(tok, "mac")) {
			err = config_mac(arg, eq + 1, n->mac);
			n->has_mac = true;
		} else if (!strcmp(tok, "queues")) {
			char *end;
			unsigned long q = strtoul(eq + 1, &end, 10);

			if (*end || !eq[1] || q < 1 || q > NET_MAX_QUEUES) {
				log_error("--net %s: queues=%s: expected a number of queue pairs from "
					  "1 to %d", arg, eq + 1, NET_MAX_QUEUES);
				err = -EINVAL;
			}
			n->queues = (unsigned)q;
		} else {
			log_error("--net %s: unknown key '%s' (tap, bridge, mac, queues)", arg, tok);
			err = -EINVAL;
		}
	}
	if (!err && !n->tap && !n->bridge) {
		log_error("--net %s: give tap=NAME, bridge=BR or both", arg);
		err = -EINVAL;
	}
	if (!err && !n->has_mac)
		config_default_mac(n->tap ? n->tap : n->bridge, index, n->mac);
	return err;
}
