/*
 * cofferd: configuration, shared state and limits (docs/API.md §7).
 */
#ifndef SRV_SERVER_H
#define SRV_SERVER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "meta.h"
#include "objstore.h"

#define SRV_HEADER_MAX		(32 * 1024)		/* one header value */
#define SRV_CONN_MEMORY		(64 * 1024)		/* MHD per-connection buffer */
#define SRV_CONN_DEFAULT	128
#define SRV_CONN_MAX		4096
#define SRV_TIMEOUT_DEFAULT	60			/* seconds idle per connection */
#define SRV_QUOTA_DEFAULT	((uint64_t)100 << 30)	/* 100 GiB per account */
#define SRV_JOIN_TTL_DEFAULT	3600
#define SRV_RATE_DEFAULT	6000			/* per address per minute */
#define SRV_ORIGINS_MAX		16
#define SRV_ORIGIN_MAX		256
#define SRV_NAME_MAX		64
#define SRV_CHAIN_PAGE_MAX	1024
#define SRV_CHAIN_PAGE_BYTES	((size_t)8 << 20)
#define SRV_DIR_PAGE_MAX	256			/* directory records per answer */
#define SRV_DIR_PAGE_BYTES	((size_t)8 << 20)
#define SRV_MISSING_LIST_MAX	16
#define SRV_DRAIN_SECONDS	30
#define SRV_PATH_MAX		512
#define SRV_BODY_BUDGET		((long)512 << 20)	/* all request bodies together */
#define SRV_RESP_BUDGET		((long)512 << 20)	/* all get-many answers together */
#define SRV_CONN_PER_IP_DEFAULT	64

struct srv_config {
	const char *listen;		/* ADDR:PORT */
	const char *data;		/* data folder */
	int invite_only;
	const char *origins[SRV_ORIGINS_MAX];	/* extra origins (--origin) */
	size_t norigins;
	uint64_t quota;
	uint64_t join_ttl;
	unsigned max_conn;
	unsigned max_conn_per_ip;
	unsigned timeout;
	unsigned rate;
	uint64_t pack_max;		/* --pack-max (tests) */
};

struct srv {
	struct srv_config cfg;
	struct srv_meta *meta;
	struct srv_objstore *objs;
	int loopback_only;
	uint16_t port;			/* bound port */
	char origins[SRV_ORIGINS_MAX + 3][SRV_ORIGIN_MAX];
	atomic_size_t norigins;		/* published after the slot */
	atomic_long inflight;
	atomic_long body_bytes;		/* request body memory in use */
	atomic_long resp_bytes;		/* get-many answer memory reserved */
	void *daemon;			/* struct MHD_Daemon */
	void *rate;			/* rate limiter state */
};

/* Start serving on cfg.listen; fills ${s->port}.  0 or a negative code. */
int srv_http_start(struct srv *s);

/* Stop accepting, let requests in flight finish (bounded), stop. */
void srv_http_stop(struct srv *s);

/**
 * srv_log(event, ...):
 * One JSON line on stderr: {"t": now, "ev": event, KEY: VALUE...}; the
 * variadic part is pairs (const char *key, const char *value) ended by
 * NULL.  Values are sanitised (printable ASCII, at most 256 bytes).  No
 * secret may ever be passed here.
 */
void srv_log(const char *event, ...);

#endif /* !SRV_SERVER_H */
