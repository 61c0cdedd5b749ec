/*
 * cofferd's HTTP glue (libmicrohttpd): the daemon, the request lifecycle,
 * request bodies read within the cap of their route, the route table and
 * its dispatch, logging and the rate limit.  The rest: http.h.
 */
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>

#include "coffer/err.h"
#include "net/frame.h"
#include "net/reqsig.h"
#include "http.h"
#include "net/caps.h"
#include "util/num.h"
#include "net/json.h"

#define RATE_SLOTS	64
#define RATE_WINDOW	60
#define LOG_VALUE_MAX	256

/* ---- logging ---- */

static void
sanitize(const char *in, char *out, size_t outlen)
{
	size_t i, o = 0;

	for (i = 0; in != NULL && in[i] != '\0' && o + 1 < outlen &&
	    i < LOG_VALUE_MAX; i++) {
		unsigned char c = (unsigned char)in[i];

		out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[o] = '\0';
}

void
srv_log(const char *event, ...)
{
	json_t *o;
	va_list ap;
	const char *k, *v;
	char buf[LOG_VALUE_MAX + 1], *line;

	if ((o = json_object()) == NULL)
		return;
	json_object_set_new(o, "t", json_integer((json_int_t)time(NULL)));
	json_object_set_new(o, "ev", json_string(event));
	va_start(ap, event);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		sanitize(v, buf, sizeof(buf));
		json_object_set_new(o, k, json_string(buf));
	}
	va_end(ap);
	if ((line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)) != NULL) {
		fprintf(stderr, "%s\n", line);
		free(line);
	}
	json_decref(o);
}

/* ---- rate limiting of unauthenticated and self-signed requests ---- */

struct rate_slot {
	char addr[INET6_ADDRSTRLEN];
	uint64_t window;
	unsigned count;
};

struct rate {
	pthread_mutex_t lock;
	struct rate_slot slot[RATE_SLOTS];
};

/* 1 if the address may make another limited request now. */
int
rq_rate_ok(struct srv *s, const char *addr, uint64_t now)
{
	struct rate *r = s->rate;
	uint64_t w = now / RATE_WINDOW;
	size_t i, victim = 0;
	int ok = 1;

	pthread_mutex_lock(&r->lock);
	for (i = 0; i < RATE_SLOTS; i++) {
		if (strcmp(r->slot[i].addr, addr) == 0)
			break;
		if (r->slot[i].window < r->slot[victim].window)
			victim = i;
	}
	if (i == RATE_SLOTS) {
		i = victim;
		snprintf(r->slot[i].addr, sizeof(r->slot[i].addr), "%s", addr);
		r->slot[i].window = w;
		r->slot[i].count = 0;
	}
	if (r->slot[i].window != w) {
		r->slot[i].window = w;
		r->slot[i].count = 0;
	}
	if (r->slot[i].count >= s->cfg.rate)
		ok = 0;
	else
		r->slot[i].count++;
	pthread_mutex_unlock(&r->lock);
	return ok;
}

int
rq_rate_limit(struct rq *q)
{
	if (!rq_rate_ok(q->s, q->addr, q->now)) {
		rq_fail(q, MHD_HTTP_TOO_MANY_REQUESTS, "rate limit");
		return -1;
	}
	return 0;
}

static uint64_t
now_s(void)
{
	return (uint64_t)time(NULL);
}

/* ---- routing ---- */

#define ACCT		"/v1/accounts/{acct}"
#define DRIVE		ACCT "/drives/{id}"

/*
 * Every endpoint of docs/API.md §4.  The body cap is decided from the
 * route before any byte of the body is read; each is computed from the
 * caps of what the body carries (lib/net/caps.h).
 */
static const struct route routes[] = {
	{ "POST", "/v1/accounts", CF_WIRE_BODY_ACCOUNT_CREATE, 0,
	    ep_account_create },
	{ "GET", "/v1/names/{name}", CF_WIRE_BODY_NONE, RT_READ,
	    ep_name_lookup },
	{ "GET", ACCT "/chain", CF_WIRE_BODY_NONE, RT_READ | RT_RK,
	    ep_chain_get },
	{ "POST", ACCT "/chain", CF_WIRE_BODY_CHAIN_APPEND, 0,
	    ep_chain_append },
	{ "GET", ACCT "/envelopes", CF_WIRE_BODY_NONE, RT_READ | RT_RK,
	    ep_envelopes_get },
	{ "POST", ACCT "/envelopes", CF_WIRE_BODY_ENVELOPES_PUT, 0,
	    ep_envelopes_put },
	{ "GET", ACCT "/joins", CF_WIRE_BODY_NONE, RT_READ, ep_joins_list },
	{ "POST", ACCT "/joins", CF_WIRE_BODY_JOIN_POST, 0, ep_join_post },
	{ "DELETE", ACCT "/joins/{id}", CF_WIRE_BODY_JOIN_WITHDRAW, 0,
	    ep_join_withdraw },
	{ "GET", ACCT "/joins/{id}/approval", CF_WIRE_BODY_NONE, RT_READ,
	    ep_approval_get },
	{ "PUT", ACCT "/joins/{id}/approval", CF_WIRE_BODY_APPROVAL_PUT, 0,
	    ep_approval_put },
	{ "GET", ACCT "/directory", CF_WIRE_BODY_NONE, RT_READ, ep_dir_get },
	{ "PUT", ACCT "/directory", CF_WIRE_BODY_DIR_PUT, 0, ep_dir_put },
	{ "GET", ACCT "/directory/records", CF_WIRE_BODY_NONE, RT_READ,
	    ep_dir_records },
	{ "GET", ACCT "/quota", CF_WIRE_BODY_NONE, RT_READ, ep_quota },
	{ "GET", DRIVE "/head", CF_WIRE_BODY_NONE, RT_READ, ep_head_get },
	{ "PUT", DRIVE "/head", CF_WIRE_BODY_HEAD_PUT, 0, ep_head_put },
	{ "POST", DRIVE "/objects/have", CF_WIRE_BODY_FRAME, 0,
	    ep_objects_have },
	{ "POST", DRIVE "/objects/put", CF_WIRE_BODY_FRAME, 0,
	    ep_objects_put },
	/* A batched get only reads (its nonce lives in memory). */
	{ "POST", DRIVE "/objects/get", CF_WIRE_BODY_FRAME, RT_READ,
	    ep_objects_get },
};

static int
split_path(struct rq *q)
{
	char *p, *save = NULL, *tok;
	int k, rc = -1;

	k = snprintf(q->segbuf, sizeof(q->segbuf), "%s", q->path);
	if (k < 0 || (size_t)k >= sizeof(q->segbuf))
		goto out;
	q->nseg = 0;
	for (p = q->segbuf; (tok = strtok_r(p, "/", &save)) != NULL; p = NULL) {
		if (q->nseg >= SEGS_MAX)
			goto out;
		q->seg[q->nseg++] = tok;
	}
	rc = 0;
out:
	return rc;
}

/*
 * 1 if the parsed path of ${q} matches ${pattern}; the ids and name it
 * holds go to ${acct}, ${id}, ${name}.
 */
static int
path_match(const struct rq *q, const char *pattern, uint8_t *acct,
    uint8_t *id, const char **name)
{
	const char *p = pattern, *e;
	size_t i, l;

	for (i = 0; *p == '/'; i++, p = e) {
		p++;
		e = strchr(p, '/');
		if (e == NULL)
			e = p + strlen(p);
		l = (size_t)(e - p);
		if (i >= q->nseg)
			return 0;
		if (l == 6 && memcmp(p, "{acct}", 6) == 0) {
			if (cf_hex_decode(q->seg[i], acct, CF_ID_BYTES) != 0)
				return 0;
		} else if (l == 4 && memcmp(p, "{id}", 4) == 0) {
			if (cf_hex_decode(q->seg[i], id, CF_ID_BYTES) != 0)
				return 0;
		} else if (l == 6 && memcmp(p, "{name}", 6) == 0) {
			*name = q->seg[i];
		} else if (strlen(q->seg[i]) != l ||
		    memcmp(q->seg[i], p, l) != 0) {
			return 0;
		}
	}
	return i == q->nseg;
}

/*
 * Find the route of ${q} (its method and path): q->rt, with its ids;
 * NULL and q->path_known set if only the method differs.
 */
static void
route_find(struct rq *q)
{
	uint8_t acct[CF_ID_BYTES], id[CF_ID_BYTES];
	const char *name = NULL;
	size_t i;

	q->rt = NULL;
	if (q->path[0] != '/' || split_path(q) != 0)
		return;
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!path_match(q, routes[i].pattern, acct, id, &name))
			continue;
		q->path_known = 1;
		if (strcmp(routes[i].method, q->method) != 0)
			continue;
		q->rt = &routes[i];
		memcpy(q->p_acct, acct, CF_ID_BYTES);
		memcpy(q->p_id, id, CF_ID_BYTES);
		q->p_name = name;
		q->rk_ok = (routes[i].flags & RT_RK) != 0;
		break;
	}
}

static void
dispatch(struct rq *q)
{
	if (q->rt != NULL)
		q->rt->handler(q);
	else if (q->path_known)
		rq_fail(q, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
	else
		rq_fail(q, MHD_HTTP_NOT_FOUND, "no such endpoint");
}

static enum MHD_Result
send_reply(struct rq *q)
{
	struct MHD_Response *r;
	enum MHD_Result ret = MHD_NO;

	if (q->status == 0)
		rq_fail(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "no response");
	r = MHD_create_response_from_buffer(q->resp_len, q->resp,
	    MHD_RESPMEM_MUST_FREE);
	if (r == NULL)
		goto out;
	q->resp = NULL;		/* MHD owns it now */
	MHD_add_response_header(r, "Content-Type",
	    q->resp_ct != NULL ? q->resp_ct : SRV_CT_JSON);
	if (q->truncated)
		MHD_add_response_header(r, "X-Coffer-Truncated", "1");
	ret = MHD_queue_response(q->c, q->status, r);
	MHD_destroy_response(r);
out:
	return ret;
}

static enum MHD_Result
request_begin(struct srv *s, struct MHD_Connection *c, const char *url,
    const char *method, struct rq **qp)
{
	struct rq *q;
	const char *cl;
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;
	uint64_t clen;
	enum MHD_Result ret = MHD_YES;

	if ((q = calloc(1, sizeof(*q))) == NULL) {
		ret = MHD_NO;
		goto out;
	}
	q->s = s;
	q->c = c;
	clock_gettime(CLOCK_MONOTONIC, &q->t0);
	atomic_fetch_add(&s->inflight, 1);
	*qp = q;
	snprintf(q->method, sizeof(q->method), "%s", method);
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci != NULL && (sa = ci->client_addr) != NULL) {
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)
			    (const void *)sa)->sin_addr, q->addr, sizeof(q->addr));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
			    (const void *)sa)->sin6_addr, q->addr,
			    sizeof(q->addr));
	}
	if (strlen(url) >= sizeof(q->path)) {
		snprintf(q->path, sizeof(q->path), "(long)");
		rq_fail(q, MHD_HTTP_URI_TOO_LONG, "path too long");
		q->refused = 1;
		ret = send_reply(q);
		goto out;
	}
	snprintf(q->path, sizeof(q->path), "%s", url);
	route_find(q);
	q->max = q->rt != NULL ? q->rt->body_max : CF_WIRE_BODY_NONE;
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
	if (cl != NULL && (cf_parse_u64(cl, strlen(cl), UINT64_MAX,
	    &clen) != 0 || clen > q->max)) {
		rq_fail(q, MHD_HTTP_CONTENT_TOO_LARGE,
		    "request body too large");
		q->refused = 1;
		ret = send_reply(q);
	}
out:
	return ret;
}

static enum MHD_Result
request_data(struct rq *q, const char *data, size_t n)
{
	struct srv *s = q->s;
	size_t ncap;
	uint8_t *nb;
	long grow;
	enum MHD_Result ret = MHD_NO;

	if (n > q->max - q->len)
		goto out;	/* chunked past the cap: drop the connection */
	if (q->bhs == NULL) {
		/* The state wants 64-byte alignment (malloc gives 16). */
		if ((q->bhs = aligned_alloc(64, (sizeof(*q->bhs) + 63) &
		    ~(size_t)63)) == NULL)
			goto out;
		crypto_generichash_init(q->bhs, NULL, 0, sizeof(q->bh));
	}
	if (q->len + n > q->cap) {
		ncap = q->cap ? q->cap : 4096;
		while (ncap < q->len + n)
			ncap = ncap > q->max / 2 ? q->max : ncap * 2;
		/* A bound on the memory all bodies together may take: past
		 * it the connection is dropped (the client retries). */
		grow = (long)(ncap - q->cap);
		if (atomic_fetch_add(&s->body_bytes, grow) + grow >
		    SRV_BODY_BUDGET) {
			atomic_fetch_sub(&s->body_bytes, grow);
			goto out;
		}
		if ((nb = realloc(q->body, ncap)) == NULL) {
			atomic_fetch_sub(&s->body_bytes, grow);
			goto out;
		}
		q->body = nb;
		q->cap = ncap;
	}
	memcpy(q->body + q->len, data, n);
	q->len += n;
	crypto_generichash_update(q->bhs, (const uint8_t *)data, n);
	ret = MHD_YES;
out:
	return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct rq *q = *con_cls;
	enum MHD_Result ret;

	(void)version;
	if (q == NULL) {
		ret = request_begin(cls, c, url, method, (struct rq **)con_cls);
	} else if (q->refused) {
		/* Discard what a refused request still sends. */
		*upload_data_size = 0;
		ret = MHD_YES;
	} else if (*upload_data_size > 0) {
		ret = request_data(q, upload_data, *upload_data_size);
		*upload_data_size = 0;
	} else {
		if (q->bhs != NULL)
			crypto_generichash_final(q->bhs, q->bh, sizeof(q->bh));
		q->now = now_s();
		errno = 0;	/* an errno fail_store sees is this request's */
		dispatch(q);
		ret = send_reply(q);
	}
	return ret;
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct srv *s = cls;
	struct rq *q = *con_cls;
	struct timespec t1;
	char st[16], ms[32];
	long d;

	(void)c;
	if (q == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	d = (t1.tv_sec - q->t0.tv_sec) * 1000 +
	    (t1.tv_nsec - q->t0.tv_nsec) / 1000000;
	snprintf(st, sizeof(st), "%u", q->status);
	snprintf(ms, sizeof(ms), "%ld", d);
	srv_log("request", "method", q->method, "path", q->path, "status", st,
	    "ms", ms, "addr", q->addr,
	    "end", toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "ok" : "aborted",
	    (const char *)NULL);
	atomic_fetch_sub(&s->body_bytes, (long)q->cap);
	atomic_fetch_sub(&s->resp_bytes, q->resv);
	free(q->body);
	free(q->bhs);
	free(q->resp);
	free(q);
	*con_cls = NULL;
	atomic_fetch_sub(&s->inflight, 1);
}

/* Parse "ADDR:PORT" or "[ADDR6]:PORT". */
static int
parse_listen(const char *l, struct sockaddr_storage *ss, socklen_t *slen,
    int *loopback)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	uint64_t port;
	size_t hl;
	struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)ss;
	int rc = -1;

	memset(ss, 0, sizeof(*ss));
	if ((colon = strrchr(l, ':')) == NULL ||
	    cf_parse_u64(colon + 1, strlen(colon + 1), 65535, &port) != 0)
		goto out;
	hl = (size_t)(colon - l);
	if (hl == 0 || hl >= sizeof(host))
		goto out;
	memcpy(host, l, hl);
	host[hl] = '\0';
	if (host[0] == '[' && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
			goto out;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*slen = sizeof(*s6);
		*loopback = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
	} else {
		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			goto out;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*slen = sizeof(*s4);
		*loopback = (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	rc = 0;
out:
	return rc;
}

/*
 * Request threads may already run (the port is known only once the daemon
 * listens): fill the slot first, then publish the count (release; read
 * with acquire in auth_verify).
 */
static void
add_origin(struct srv *s, const char *o)
{
	size_t n = atomic_load_explicit(&s->norigins, memory_order_relaxed);

	if (n < sizeof(s->origins) / sizeof(s->origins[0])) {
		snprintf(s->origins[n], SRV_ORIGIN_MAX, "%s", o);
		atomic_store_explicit(&s->norigins, n + 1,
		    memory_order_release);
	}
}

int
srv_http_start(struct srv *s)
{
	struct sockaddr_storage ss, bound;
	socklen_t slen, blen = sizeof(bound);
	const union MHD_DaemonInfo *di;
	struct MHD_Daemon *d;
	struct rate *r;
	char o[SRV_ORIGIN_MAX], host[INET6_ADDRSTRLEN];
	size_t i;
	int loop = 0, rc = 0;

	if (parse_listen(s->cfg.listen, &ss, &slen, &loop) != 0) {
		rc = COFFER_EINVAL;
		goto out;
	}
	s->loopback_only = loop;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		rc = COFFER_ENOMEM;
		goto out;
	}
	pthread_mutex_init(&r->lock, NULL);
	s->rate = r;
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC |
	    (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
	    0, NULL, NULL, on_request, s,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, s->cfg.max_conn,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, s->cfg.max_conn_per_ip,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SRV_CONN_MEMORY,
	    MHD_OPTION_CONNECTION_TIMEOUT, s->cfg.timeout,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
	    MHD_OPTION_END);
	if (d == NULL) {
		rc = COFFER_EIO;
		goto out;
	}
	s->daemon = d;
	di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_LISTEN_FD);
	if (di == NULL || getsockname(di->listen_fd, (struct sockaddr *)&bound,
	    &blen) != 0) {
		rc = COFFER_EIO;
		goto out;
	}
	if (bound.ss_family == AF_INET6)
		s->port = ntohs(((struct sockaddr_in6 *)(void *)&bound)->sin6_port);
	else
		s->port = ntohs(((struct sockaddr_in *)(void *)&bound)->sin_port);
	snprintf(o, sizeof(o), "http://127.0.0.1:%u", (unsigned)s->port);
	add_origin(s, o);
	snprintf(o, sizeof(o), "http://localhost:%u", (unsigned)s->port);
	add_origin(s, o);
	if (ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)&ss)->sin6_addr,
		    host, sizeof(host));
		snprintf(o, sizeof(o), "http://[%s]:%u", host, (unsigned)s->port);
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)&ss)->sin_addr,
		    host, sizeof(host));
		snprintf(o, sizeof(o), "http://%s:%u", host, (unsigned)s->port);
	}
	add_origin(s, o);
	for (i = 0; i < s->cfg.norigins; i++) {
		if (cf_req_origin(s->cfg.origins[i], o, sizeof(o)) != 0) {
			rc = COFFER_EINVAL;
			goto out;
		}
		add_origin(s, o);
	}
out:
	return rc;
}

void
srv_http_stop(struct srv *s)
{
	struct MHD_Daemon *d = s->daemon;
	struct rate *r = s->rate;
	int i;

	if (d != NULL) {
		MHD_socket lfd = MHD_quiesce_daemon(d);

		if (lfd != MHD_INVALID_SOCKET)
			close(lfd);
		/* Let requests in flight finish (bounded). */
		for (i = 0; i < SRV_DRAIN_SECONDS * 100 &&
		    atomic_load(&s->inflight) > 0; i++)
			usleep(10000);
		MHD_stop_daemon(d);
		s->daemon = NULL;
	}
	if (r != NULL) {
		pthread_mutex_destroy(&r->lock);
		free(r);
		s->rate = NULL;
	}
}
