/* agentdns: the agent's per-uplink DNS servers-file for dnsmasq, one
 * `server=DNS@IFACE@ADDR` line per DNS server of each uplink (ADDR: the
 * uplink's address of the server's family, so the query leaves by that
 * uplink's table).  Servers come from the hints (`rtalloc hint --dns`, sent
 * by the NetworkManager and dhcpcd hooks), from router advertisements'
 * RDNSS (ND user options on rtnetlink where the kernel handles RAs, a raw
 * ICMPv6 socket where a tool does), and from systemd-networkd's per-link
 * state files (/run/systemd/netif/links/IFINDEX, DNS=;
 * $RTALLOC_NETWORKD_LINKS elsewhere).  Uplinks a running rtalloc-track reports offline
 * are left out.  Written atomically (temp + rename) when its text changes;
 * dnsmasq then gets SIGHUP through a pidfd, only once /proc says the pid is
 * a dnsmasq of the pidfile's owner. */
#ifndef RTALLOC_AGENTDNS_H
#define RTALLOC_AGENTDNS_H

#include <linux/netlink.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "hintwatch.h"

struct dns_ra {
	int ifindex;
	struct inet_addr addr;
	uint64_t until_ms;
};

struct agentdns {
	const char *path;		/* "" or NULL: off */
	const char *pidfile;		/* "" or NULL: nobody to signal */
	struct dns_ra *ra;
	size_t nra, capra;
	char *written;			/* the text last written */
};

void agentdns_init(struct agentdns *d, const char *path, const char *pidfile);
void agentdns_free(struct agentdns *d);
/* An RTM_NEWNDUSEROPT message: 1 when an RDNSS changed the servers. */
int agentdns_useropt(struct agentdns *d, const struct nlmsghdr *nlh, uint64_t now_ms);
/* The options of a router advertisement received on ifindex (their RDNSS):
 * 1 when the servers changed. */
int agentdns_ra_options(struct agentdns *d, int ifindex, const uint8_t *opt, size_t optlen,
			uint64_t now_ms);
/* Writes the file if its text changed (and signals dnsmasq): 1 when
 * written, 0, or -errno. */
int agentdns_update(struct agentdns *d, const struct engine *e, const struct hintwatch *hw,
		    uint64_t now_ms);
/* The text the file gets (malloc'ed), for tests: NULL on ENOMEM. */
char *agentdns_text(const struct agentdns *d, const struct engine *e, const struct hintwatch *hw,
		    uint64_t now_ms);

#endif
