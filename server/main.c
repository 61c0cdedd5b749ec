/*
 * cofferd: the coffer server (DESIGN §6, docs/API.md).
 *
 *   cofferd --listen ADDR:PORT --data DIR [options]
 *   cofferd invite --data DIR
 *   cofferd check --data DIR
 *   cofferd --version
 */
#include <sys/stat.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "coffer/coffer.h"
#include "server.h"

#define INVITE_BYTES	32

static const char usage_text[] =
"usage: cofferd --listen ADDR:PORT --data DIR [options]\n"
"       cofferd invite --data DIR\n"
"       cofferd check --data DIR\n"
"       cofferd --version\n"
"\n"
"The coffer server: stores only ciphertext, relays the device chain,\n"
"join requests and approvals, and the drive heads.  See docs/API.md.\n"
"\n"
"  --listen ADDR:PORT   address to listen on (PORT 0: any free port); the\n"
"                       bound port is printed as {\"ready\": true, \"port\": N}\n"
"  --data DIR           data folder (meta.db and packs/), created if missing\n"
"  --invite-only        account creation needs an invite token even when\n"
"                       listening only on loopback (it always does otherwise)\n"
"  --origin URL         also accept requests signed for URL (repeatable)\n"
"  --quota BYTES        per-account quota (default 107374182400 = 100 GiB)\n"
"  --join-ttl SECONDS   how long join requests are kept (default 3600)\n"
"  --max-conn N         simultaneous connections (default 128)\n"
"  --max-conn-per-ip N  simultaneous connections from one address (default 64)\n"
"  --timeout SECONDS    idle connection timeout (default 60)\n"
"  --rate N             self-signed and lookup requests per client address\n"
"                       per minute (default 6000)\n"
"  --pack-max BYTES     start a new pack file past this size (default 1 GiB;\n"
"                       small values are for tests)\n"
"  --help               this text\n"
"  --version            print \"cofferd VERSION\" and exit\n"
"\n"
"invite: print a single-use invite token (valid 7 days) for --data DIR.\n"
"check: verify the store (SQLite integrity, every object's pack record,\n"
"the quota counters); prints a JSON summary, exits 0 if consistent.\n"
"SIGTERM or SIGINT: finish requests in flight and exit 0.\n"
"Logs: JSON lines on stderr.\n";

static int
num(const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
	char *end;
	unsigned long long x;
	int rc = -1;

	if (s != NULL && s[0] >= '0' && s[0] <= '9') {
		errno = 0;
		x = strtoull(s, &end, 10);
		if (errno == 0 && *end == '\0' && x >= min && x <= max) {
			*v = x;
			rc = 0;
		}
	}
	return rc;
}

static int
usage(void)
{
	fputs(usage_text, stderr);
	return 2;
}

static int
ensure_dir(const char *d)
{
	return (mkdir(d, 0700) != 0 && errno != EEXIST) ? -1 : 0;
}

static int
cmd_invite(int argc, char **argv)
{
	const char *data = NULL;
	struct srv_meta *m = NULL;
	uint8_t tok[INVITE_BYTES], h[32];
	char hex[2 * INVITE_BYTES + 1];
	int rc = 1, intx = 0;

	if (argc == 4 && strcmp(argv[2], "--data") == 0)
		data = argv[3];
	if (data == NULL) {
		rc = usage();
		goto out;
	}
	if (ensure_dir(data) != 0 || srv_meta_open(data, &m) != 0) {
		fprintf(stderr, "cofferd: cannot open the store in %s\n", data);
		goto out;
	}
	randombytes_buf(tok, sizeof(tok));
	sodium_bin2hex(hex, sizeof(hex), tok, sizeof(tok));
	/* Only the hash of the token is stored. */
	crypto_generichash(h, sizeof(h), (const uint8_t *)hex, strlen(hex),
	    NULL, 0);
	if (srv_meta_begin(m) != 0)
		goto out;
	intx = 1;
	if (srv_meta_invite_add(m, h, (uint64_t)time(NULL) + SRV_INVITE_TTL) != 0)
		goto out;
	intx = 0;
	if (srv_meta_commit(m) != 0)
		goto out;
	printf("%s\n", hex);
	rc = 0;
out:
	if (intx)
		srv_meta_rollback(m);
	sodium_memzero(tok, sizeof(tok));
	sodium_memzero(hex, sizeof(hex));
	srv_meta_close(m);
	return rc;
}

struct check_state {
	struct srv_objstore *objs;
	uint64_t n, bad;
};

static int
check_one(void *arg, const uint8_t *drive, const uint8_t *id,
    const struct srv_objloc *loc)
{
	struct check_state *c = arg;

	(void)drive;
	c->n++;
	if (srv_objstore_check(c->objs, loc, id) != 0)
		c->bad++;
	return 0;
}

/* cofferd check --data DIR: the store is consistent. */
static int
cmd_check(int argc, char **argv)
{
	struct srv_meta *m = NULL;
	struct check_state c;
	uint64_t mism = 0;
	int rc = 1, intx = 0, integ = -1;

	memset(&c, 0, sizeof(c));
	if (argc != 4 || strcmp(argv[2], "--data") != 0) {
		rc = usage();
		goto out;
	}
	if (srv_meta_open(argv[3], &m) != 0 ||
	    srv_objstore_open(argv[3], &c.objs) != 0) {
		fprintf(stderr, "cofferd: cannot open the store in %s\n", argv[3]);
		goto out;
	}
	if (srv_meta_begin(m) != 0)
		goto out;
	intx = 1;
	integ = srv_meta_integrity(m);
	if (srv_meta_objects_scan(m, check_one, &c) != 0 ||
	    srv_meta_usage_mismatches(m, &mism) != 0)
		goto out;
	printf("{\"sqlite_integrity\": %s, \"objects\": %llu, "
	    "\"bad_objects\": %llu, \"usage_mismatches\": %llu}\n",
	    integ == 0 ? "true" : "false", (unsigned long long)c.n,
	    (unsigned long long)c.bad, (unsigned long long)mism);
	if (integ == 0 && c.bad == 0 && mism == 0)
		rc = 0;
out:
	if (intx)
		srv_meta_rollback(m);
	srv_objstore_close(c.objs);
	srv_meta_close(m);
	return rc;
}

/* Parse the options: 0 run, 1 --help, 2 usage error, 3 --version. */
static int
parse_args(int argc, char **argv, struct srv_config *cfg)
{
	uint64_t v;
	int i, rc = 0;

	cfg->quota = SRV_QUOTA_DEFAULT;
	cfg->join_ttl = SRV_JOIN_TTL_DEFAULT;
	cfg->max_conn = SRV_CONN_DEFAULT;
	cfg->max_conn_per_ip = SRV_CONN_PER_IP_DEFAULT;
	cfg->timeout = SRV_TIMEOUT_DEFAULT;
	cfg->rate = SRV_RATE_DEFAULT;
	cfg->pack_max = SRV_PACK_MAX;
	for (i = 1; i < argc && rc == 0; i++) {
		const char *a = argv[i], *n = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			rc = 1;
		} else if (strcmp(a, "--version") == 0) {
			rc = 3;
		} else if (strcmp(a, "--invite-only") == 0) {
			cfg->invite_only = 1;
		} else if (n == NULL) {
			rc = 2;
		} else if (strcmp(a, "--listen") == 0) {
			cfg->listen = n;
		} else if (strcmp(a, "--data") == 0) {
			cfg->data = n;
		} else if (strcmp(a, "--origin") == 0 &&
		    cfg->norigins < SRV_ORIGINS_MAX) {
			cfg->origins[cfg->norigins++] = n;
		} else if (strcmp(a, "--quota") == 0 &&
		    num(n, 0, UINT64_MAX / 2, &v) == 0) {
			cfg->quota = v;
		} else if (strcmp(a, "--join-ttl") == 0 &&
		    num(n, 1, 7 * 24 * 3600, &v) == 0) {
			cfg->join_ttl = v;
		} else if (strcmp(a, "--max-conn") == 0 &&
		    num(n, 1, SRV_CONN_MAX, &v) == 0) {
			cfg->max_conn = (unsigned)v;
		} else if (strcmp(a, "--max-conn-per-ip") == 0 &&
		    num(n, 1, SRV_CONN_MAX, &v) == 0) {
			cfg->max_conn_per_ip = (unsigned)v;
		} else if (strcmp(a, "--timeout") == 0 &&
		    num(n, 1, 3600, &v) == 0) {
			cfg->timeout = (unsigned)v;
		} else if (strcmp(a, "--pack-max") == 0 &&
		    num(n, SRV_PACK_MAX_MIN, SRV_PACK_MAX, &v) == 0) {
			cfg->pack_max = v;
		} else if (strcmp(a, "--rate") == 0 &&
		    num(n, 1, 1000000000, &v) == 0) {
			cfg->rate = (unsigned)v;
		} else {
			rc = 2;
		}
		if (n != NULL && rc == 0 && a[0] == '-' &&
		    strcmp(a, "--invite-only") != 0)
			i++;		/* the option's value */
	}
	if (rc == 0 && (cfg->listen == NULL || cfg->data == NULL))
		rc = 2;
	return rc;
}

int
main(int argc, char **argv)
{
	struct srv s;
	sigset_t set;
	char port[16];
	int sig = 0, rc = 1, started = 0;

	memset(&s, 0, sizeof(s));
	if (coffer_init() != 0 || sodium_init() < 0)
		goto out;
	if (argc >= 2 && strcmp(argv[1], "invite") == 0) {
		rc = cmd_invite(argc, argv);
		goto out;
	}
	if (argc >= 2 && strcmp(argv[1], "check") == 0) {
		rc = cmd_check(argc, argv);
		goto out;
	}
	switch (parse_args(argc, argv, &s.cfg)) {
	case 0:
		break;
	case 1:
		fputs(usage_text, stdout);
		rc = 0;
		goto out;
	case 3:
		printf("cofferd %s\n", COFFER_VERSION);
		rc = 0;
		goto out;
	default:
		rc = usage();
		goto out;
	}

	/* Signals are taken synchronously by this thread only. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (ensure_dir(s.cfg.data) != 0 ||
	    srv_meta_open(s.cfg.data, &s.meta) != 0 ||
	    srv_objstore_open(s.cfg.data, &s.objs) != 0) {
		srv_log("error", "msg", "cannot open the store", (const char *)NULL);
		goto out;
	}
	started = 1;
	srv_objstore_set_pack_max(s.objs, s.cfg.pack_max);
	if (srv_http_start(&s) != 0) {
		srv_log("error", "msg", "cannot listen", "listen", s.cfg.listen,
		    (const char *)NULL);
		goto out;
	}
	snprintf(port, sizeof(port), "%u", (unsigned)s.port);
	srv_log("start", "listen", s.cfg.listen, "port", port,
	    "accounts", (s.loopback_only && !s.cfg.invite_only) ?
	    "open (loopback)" : "invite only", (const char *)NULL);
	printf("{\"ready\": true, \"port\": %u}\n", (unsigned)s.port);
	fflush(stdout);
	while (sigwait(&set, &sig) != 0 || (sig != SIGTERM && sig != SIGINT))
		;
	srv_log("stopping", "signal", sig == SIGTERM ? "TERM" : "INT",
	    (const char *)NULL);
	rc = 0;
out:
	srv_http_stop(&s);
	srv_objstore_close(s.objs);
	srv_meta_close(s.meta);
	if (rc == 0 && started)
		srv_log("stopped", (const char *)NULL);
	return rc;
}
