/*
 * The domain labels (lib/crypto/labels.h): pairwise distinct, the hashed
 * and signed ones prefix-free, each within its cap, every one listed and
 * documented in docs/FORMAT.md.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coffer/coffer.h"
#include "crypto/labels.h"
#include "crypto/wrap.h"
#include "t.h"
#include "util.h"

struct label {
	const char *name;		/* the macro's name */
	const char *s;			/* its string */
};

/* Used as the first bytes hashed or signed, or bound some other way. */
#define PREFIXED(x)	{ #x, x },
#define BOUND(x)	{ #x, x },

static const struct label sign_hash[] = {
	CF_LABELS_SIGN(PREFIXED)
	CF_LABELS_HASH(PREFIXED)
};
static const struct label wrap[] = { CF_LABELS_WRAP(BOUND) };
static const struct label kdf[] = { CF_LABELS_KDF(BOUND) };
static const struct label all[] = {
	CF_LABELS_SIGN(PREFIXED)
	CF_LABELS_HASH(PREFIXED)
	CF_LABELS_WRAP(BOUND)
	CF_LABELS_KDF(BOUND)
};

#define NLABELS(a)	(sizeof(a) / sizeof((a)[0]))

static int
is_prefix(const char *p, const char *s)
{
	return strncmp(p, s, strlen(p)) == 0;
}

/* No two labels of any kind have the same text or the same name. */
static void
pairwise_distinct(void)
{
	size_t i, j;

	for (i = 0; i < NLABELS(all); i++)
		for (j = i + 1; j < NLABELS(all); j++) {
			if (strcmp(all[i].s, all[j].s) == 0 ||
			    strcmp(all[i].name, all[j].name) == 0) {
				fprintf(stderr, "same: %s %s\n", all[i].name,
				    all[j].name);
				CHECK(0);
			}
		}
}

/* label || x never equals label' || y: no prefixed label starts another. */
static void
prefix_free(void)
{
	size_t i, j;

	for (i = 0; i < NLABELS(sign_hash); i++)
		for (j = 0; j < NLABELS(sign_hash); j++) {
			if (i == j ||
			    !is_prefix(sign_hash[i].s, sign_hash[j].s))
				continue;
			fprintf(stderr, "%s is a prefix of %s\n",
			    sign_hash[i].name, sign_hash[j].name);
			CHECK(0);
		}
}

/* "coffer-" NAME "-v" DIGITS, lower case: the house form. */
static void
house_form(void)
{
	const char *s, *v;
	size_t i;

	for (i = 0; i < NLABELS(sign_hash); i++) {
		s = sign_hash[i].s;
		CHECK(is_prefix("coffer-", s));
		CHECK((v = strrchr(s, '-')) != NULL && v[1] == 'v' &&
		    isdigit((unsigned char)v[2]));
		for (; *s != '\0'; s++)
			CHECK(islower((unsigned char)*s) ||
			    isdigit((unsigned char)*s) || *s == '-');
	}
}

/* Each fits where it goes: crypto_kdf's context is BLAKE2b's personal. */
static void
caps(void)
{
	size_t i;

	for (i = 0; i < NLABELS(kdf); i++)
		CHECK(strlen(kdf[i].s) == crypto_kdf_CONTEXTBYTES);
	CHECK(crypto_kdf_CONTEXTBYTES <=
	    crypto_generichash_blake2b_PERSONALBYTES);
	for (i = 0; i < NLABELS(wrap); i++)
		CHECK(strlen(wrap[i].s) >= 1 &&
		    strlen(wrap[i].s) <= CF_WRAP_PURPOSE_MAX);
	CHECK(CF_LABEL_LEN(CF_LABEL_ENTRY) == strlen(CF_LABEL_ENTRY));
}

/*
 * A file of the source tree, found beside docs/FORMAT.md (meson passes
 * its path in COFFER_FORMAT_MD).  NULL if not run by meson.
 */
static char *
source_file(const char *rel)
{
	const char *fmt = getenv("COFFER_FORMAT_MD");
	const char *tail = "docs/FORMAT.md";
	size_t n, t = strlen(tail), r = strlen(rel);
	uint8_t *buf;
	char *path;

	if (fmt == NULL || (n = strlen(fmt)) < t ||
	    strcmp(fmt + n - t, tail) != 0)
		return NULL;
	if ((path = malloc(n - t + r + 1)) == NULL)
		return NULL;
	memcpy(path, fmt, n - t);
	memcpy(path + n - t, rel, r + 1);
	buf = tu_readfile(path, &n);
	free(path);
	return (char *)buf;
}

static int
listed(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NLABELS(all); i++)
		if (strlen(all[i].name) == len &&
		    strncmp(all[i].name, name, len) == 0)
			return 1;
	return 0;
}

/* Every CF_LABEL_ string the header defines is in one of its lists. */
static void
header_all_listed(void)
{
	const char *key = "#define CF_LABEL_";
	char *h, *p, *name;
	size_t len, n = 0;

	if ((h = source_file("lib/crypto/labels.h")) == NULL) {
		printf("# skipped: COFFER_FORMAT_MD not set\n");
		return;
	}
	for (p = h; (p = strstr(p, key)) != NULL; p += strlen(key)) {
		name = p + strlen("#define ");
		len = strcspn(name, " \t(");
		if (name[len] == '(')
			continue;		/* CF_LABEL_LEN(s) */
		n++;
		if (!listed(name, len)) {
			fprintf(stderr, "not in a list: %.*s\n", (int)len,
			    name);
			CHECK(0);
		}
	}
	CHECK(n == NLABELS(all));
	free(h);
}

/* Every label appears in docs/FORMAT.md, quoted or on its own. */
static void
documented(void)
{
	char *doc;
	size_t i;

	if ((doc = source_file("docs/FORMAT.md")) == NULL) {
		printf("# skipped: COFFER_FORMAT_MD not set\n");
		return;
	}
	for (i = 0; i < NLABELS(all); i++)
		if (strstr(doc, all[i].s) == NULL) {
			fprintf(stderr, "not in FORMAT.md: %s\n", all[i].s);
			CHECK(0);
		}
	free(doc);
}

int
main(void)
{
	if (coffer_init() != 0)
		return 1;
	T_RUN(pairwise_distinct);
	T_RUN(prefix_free);
	T_RUN(house_form);
	T_RUN(caps);
	T_RUN(header_all_listed);
	T_RUN(documented);
	T_DONE("labels");
}
