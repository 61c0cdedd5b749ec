#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "util.h"

/* The source tree's copy (tests/meson.build defines it); else the working
 * directory's. */
#ifndef COFFER_FORMAT_MD_DEFAULT
#define COFFER_FORMAT_MD_DEFAULT "docs/FORMAT.md"
#endif

char *
tu_hex(const uint8_t *p, size_t n)
{
	char *s = malloc(n * 2 + 1);

	if (s == NULL)
		abort();
	sodium_bin2hex(s, n * 2 + 1, p, n);
	return s;
}

uint8_t *
tu_unhex(const char *s, size_t *np)
{
	size_t sl = strlen(s), n;
	uint8_t *p;

	if (sl % 2)
		return NULL;
	if ((p = malloc(sl / 2 + 1)) == NULL)
		abort();
	if (sodium_hex2bin(p, sl / 2 + 1, s, sl, NULL, &n, NULL) != 0 ||
	    n != sl / 2) {
		free(p);
		return NULL;
	}
	*np = n;
	return p;
}

uint8_t *
tu_readfile(const char *path, size_t *np)
{
	FILE *f;
	uint8_t *p = NULL;
	size_t cap = 0, n = 0, k;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	for (;;) {
		if (cap - n < 65536) {
			cap = cap ? cap * 2 : 65536;
			if ((p = realloc(p, cap + 1)) == NULL)
				abort();
		}
		k = fread(p + n, 1, cap - n, f);
		n += k;
		if (k == 0)
			break;
	}
	fclose(f);
	p[n] = '\0';
	*np = n;
	return p;
}

char *
tu_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *path;
	size_t len;

	if (base == NULL)
		base = "/tmp";
	len = strlen(base) + 32;
	if ((path = malloc(len)) == NULL)
		abort();
	snprintf(path, len, "%s/coffer-test-XXXXXX", base);
	if (mkdtemp(path) == NULL)
		abort();
	return path;
}

void
tu_rmrf(const char *path)
{
	DIR *d;
	struct dirent *e;
	struct stat st;
	char *sub;
	size_t len;

	if (lstat(path, &st) != 0)
		return;
	if (S_ISDIR(st.st_mode) && (d = opendir(path)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			len = strlen(path) + strlen(e->d_name) + 2;
			if ((sub = malloc(len)) == NULL)
				abort();
			snprintf(sub, len, "%s/%s", path, e->d_name);
			tu_rmrf(sub);
			free(sub);
		}
		closedir(d);
		rmdir(path);
	} else {
		unlink(path);
	}
}

void
tu_fill(uint8_t *p, size_t n, uint64_t seed)
{
	uint8_t key[32] = { 0 };
	uint8_t nonce[8] = { 0 };
	int i;

	for (i = 0; i < 8; i++)
		key[i] = (uint8_t)(seed >> (8 * i));
	memset(p, 0, n);
	crypto_stream_chacha20(p, n, nonce, key);
}

char *
tu_vector(const char *name)
{
	const char *path;
	uint8_t *doc;
	char *line, *save, *out = NULL;
	size_t n, nl = strlen(name);
	int in = 0;

	if ((path = getenv("COFFER_FORMAT_MD")) == NULL)
		path = COFFER_FORMAT_MD_DEFAULT;
	if ((doc = tu_readfile(path, &n)) == NULL)
		return NULL;
	for (line = strtok_r((char *)doc, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "```vectors", 10)) {
			in = 1;
			continue;
		}
		if (in && !strncmp(line, "```", 3))
			in = 0;
		if (in && !strncmp(line, name, nl) && line[nl] == ' ') {
			out = strdup(line + nl + 1);
			break;
		}
	}
	free(doc);
	return out;
}
