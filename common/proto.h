/* proto: the wire protocol between rtalloc and rtallocd (docs/protocol.md).
 * JSON datagrams on an abstract unix socket; parsed here into typed structs
 * so no other module sees JSON. */
#ifndef RTALLOC_PROTO_H
#define RTALLOC_PROTO_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION_1		1	/* MONROE table_allocator */
#define PROTO_VERSION_2		2	/* seq, lease_seconds, error, list */
#define PROTO_MAX_DATAGRAM	65536	/* larger datagrams are refused unread */
#define PROTO_TAG_MAX		127	/* bytes, without the NUL */
#define PROTO_ERROR_MAX		128
#define PROTO_DEFAULT_SOCKET	"rtallocd"	/* abstract name, no leading NUL */

enum proto_cmd {
	PROTO_CMD_REQUEST = 0,
	PROTO_CMD_RELEASE = 1,
	PROTO_CMD_REPLY = 2,
	PROTO_CMD_LIST = 3,		/* v2 */
	PROTO_CMD_LIST_REPLY = 4,	/* v2 */
};

/* A request, validated: family is AF_INET, AF_INET6 or AF_UNSPEC; address is
 * in canonical inet_ntop form and belongs to family (for AF_UNSPEC: an
 * address of either, or an identifier, proto_ident_valid()); ifname is a
 * valid device name; tag is printable. */
struct proto_request {
	uint8_t version;
	uint8_t cmd;			/* REQUEST, RELEASE or LIST */
	uint8_t family;
	char address[INET6_ADDRSTRLEN];
	char ifname[IFNAMSIZ];
	char tag[PROTO_TAG_MAX + 1];
	uint32_t seq;			/* v2, echoed in the reply; 0 if absent */
	uint32_t offset;		/* LIST: index of the first lease wanted */
	/* v2 "table": the table the client holds now (renewals), so a server
	 * that lost its state gives it back; 0 = none. */
	uint32_t held_table;
	/* v2 "mark": 1: lease a mark value from the server's mark_mask
	 * (a second pool beside the tables) for this key; held_table is then
	 * the mark the client holds now. */
	bool mark;
};

struct proto_reply {
	uint8_t version;		/* the request's version */
	uint8_t cmd;			/* REPLY */
	uint32_t table;			/* 0: refused (error says why) */
	int64_t lease_expires;		/* wall clock, unix seconds; 0 if refused */
	uint32_t lease_seconds;		/* lifetime granted; 0 if refused */
	uint32_t seq;
	/* v2 refusals that will pass (rtallocd's grace period after lost
	 * state): ask again in this many seconds; 0 otherwise. */
	uint32_t retry_after;
	/* A mark lease: table is the mark value (0: refused) and mark_mask
	 * the server's mask (the rule's fwmark VALUE/MASK); 0 otherwise. */
	uint32_t mark_mask;
	char error[PROTO_ERROR_MAX];	/* "" when granted */
};

/* One lease in a LIST reply. */
struct proto_lease {
	uint8_t family;
	/* A mark lease ("mark":1): family AF_UNSPEC, table the mark value. */
	bool mark;
	char address[INET6_ADDRSTRLEN];
	char ifname[IFNAMSIZ];
	char tag[PROTO_TAG_MAX + 1];
	uint32_t table;
	uint32_t seconds_left;
	uint32_t uid;
};

/* An AF_UNSPEC lease's identifier that is not an address (the 2017
 * original leases a table for any name, `-a myuplink`): 1..45 bytes of
 * printable ASCII without space, '"' or '\\'. */
bool proto_ident_valid(const char *s);

/* Parsers: 0, or -EINVAL with a one-line reason in err ("address: not an
 * IPv4 address: `10.0.0.300'").  They accept any bytes of any length. */
int proto_request_parse(const void *buf, size_t len, struct proto_request *req,
			char *err, size_t errlen);
/* The same through json-c only, never the fast path: for tests. */
int proto_request_parse_json(const void *buf, size_t len, struct proto_request *req,
			     char *err, size_t errlen);
int proto_reply_parse(const void *buf, size_t len, struct proto_reply *rep,
		      char *err, size_t errlen);

/* Formatters: the datagram's length (no NUL counted), or -ENOSPC. */
int proto_request_format(const struct proto_request *req, char *buf, size_t len);
int proto_reply_format(const struct proto_reply *rep, char *buf, size_t len);

/* LIST replies carry leases[offset .. offset+n-1] of total, and next (the
 * offset to ask for next; 0 when done).  A page stays below len bytes:
 * proto_list_format returns how many leases it fitted in *fitted. */
struct proto_list_reply {
	uint8_t version;
	uint32_t seq;
	uint32_t total;
	uint32_t next;
	/* The server's pool, [0] inet and [1] inet6 (tables leased and left),
	 * in servers that send it ("pool"); has_pool false otherwise. */
	bool has_pool;
	uint32_t pool_used[2], pool_free[2];
	/* The mark pool ("marks": mark_mask, marks leased and left), in
	 * servers that lease marks; has_marks false otherwise. */
	bool has_marks;
	uint32_t mark_mask, marks_used, marks_free;
	size_t n;
	struct proto_lease *leases;	/* owned by the caller */
};
int proto_list_format(const struct proto_list_reply *rep, char *buf, size_t len,
		      size_t *fitted);
/* Allocates rep->leases; free with proto_list_free(). */
int proto_list_parse(const void *buf, size_t len, struct proto_list_reply *rep,
		     char *err, size_t errlen);
void proto_list_free(struct proto_list_reply *rep);

#endif
