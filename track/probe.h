/* probe: one uplink's probes, sent from its own address (so they leave by
 * its table and its link) and bound to its interface.
 *   icmp: echo requests over an unprivileged ICMP datagram socket when
 *         net.ipv4.ping_group_range admits our group, else a raw socket
 *         (CAP_NET_RAW).  A reply counts only when it is an echo reply with
 *         our identifier and the sequence number sent to that target, comes
 *         from that target's address, and arrives before the round closes.
 *         A target still silent halfway through the timeout gets another
 *         request (its own sequence number), and again at 2/3 and 5/6 of
 *         it, so lost packets do not fail it.
 *   tcp:  a TCP connect to ADDRESS:PORT (default 80) that completes (the
 *         SYN-ACK arrived) before the round closes; for networks that drop
 *         ICMP.  The connection is closed at once.
 *   http: the TCP connect, then `GET PATH HTTP/1.1` (Host: the configured
 *         one, else the target); the status line's code must be the
 *         expected one (204).  Another code (a captive portal's 200 or
 *         302) is a portal answer: the network answers, but not the
 *         Internet.
 * Sockets are bound to the uplink's address only, not to its device: the
 * from-rule of that address sends them through the uplink's own table,
 * the path its traffic takes (a table without a route to the target makes
 * the probe fail, as it does the traffic).
 * Bytes are counted at the IP layer, both ways, for status and metered
 * uplinks (TCP: SYN, SYN-ACK, ACK, the request and answer, FIN/RST). 
 * IPv4 and IPv6 (ICMPv6 echo); a prober's targets are of its address's
 * family. */
#ifndef RTALLOC_PROBE_H
#define RTALLOC_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "loop.h"
#include "trackconf.h"

enum probe_sock { PROBE_NONE, PROBE_DGRAM, PROBE_RAW };

/* Echo requests a silent target gets per round: the first, then one at
 * 1/2, 2/3 and 5/6 of the timeout (replies to any count; at 20% loss a
 * round with one target then fails with 0.2^4). */
#define PROBE_TRIES 4

struct prober;

struct probe_slot {
	struct prober *owner;
	struct loop_fd tcp;	/* fd -1 when none */
	uint16_t seq[PROBE_TRIES];	/* each try's sequence number */
	uint64_t sent_at[PROBE_TRIES];	/* and when it went (us) */
	uint8_t tries;			/* sent this round */
	uint8_t won;			/* the try whose reply came */
	bool pending, answered;
	uint32_t rtt_us;
	bool portal;		/* http: answered with another status */
	uint8_t state;		/* http: 0 connecting, 1 request sent */
};

struct prober {
	struct loop *loop;
	struct loop_fd icmp;	/* fd -1 when closed */
	enum probe_sock kind;
	uint16_t ident;		/* as on the wire */
	struct inet_addr src;
	char ifname[IFNAMSIZ];
	enum track_method method;
	const struct track_opts *opts;	/* http: path, host, expected status */
	struct track_target targets[TRACK_TARGETS_MAX];
	size_t ntargets;
	struct probe_slot slot[TRACK_TARGETS_MAX];
	uint16_t next_seq;
	uint64_t sent, replies, rejected;	/* packets: counters for logs and bench */
	uint64_t bytes;				/* IP bytes of probes and answers, both ways */
};

/* 0 or -errno (-EAFNOSUPPORT: a target of another family).  The sockets
 * join loop l. */
int prober_open(struct prober *p, struct loop *l, const struct inet_addr *src, const char *ifname,
		enum track_method m, const struct track_target *t, size_t n);
/* http: the request's path, Host and expected status (o stays the
 * caller's; set after prober_open). */
void prober_set_opts(struct prober *p, const struct track_opts *o);
void prober_close(struct prober *p);
/* Starts a round: one probe per target. 0, or -errno when none could be sent. */
int prober_send(struct prober *p);
/* At 1/2, 2/3 and 5/6 of the timeout: another echo request to each target
 * that has not answered yet (ICMP only, up to PROBE_TRIES in all), so lost
 * packets do not fail a target.
 * Returns how many were sent. */
unsigned prober_retry(struct prober *p);
/* Ends the round: how many targets answered, how many probes count as
 * sent (a silent target's tries; an answered one's up to the try whose
 * reply came: a slow reply that crossed a retry is no loss), the best RTT
 * (us); *portal: how many answered
 * otherwise than expected (http; may be NULL). */
void prober_finish(struct prober *p, unsigned *answered, unsigned *probes, uint32_t *best_rtt_us);
void prober_finish_portal(struct prober *p, unsigned *answered, unsigned *probes, uint32_t *best_rtt_us,
			  unsigned *portal);

#endif
