/*
 * Decimal numbers (num.h).
 */
#include <stddef.h>
#include <stdint.h>

#include "coffer/err.h"
#include "util/num.h"

int
cf_parse_u64(const char *s, size_t len, uint64_t max, uint64_t *v)
{
	uint64_t x = 0, d;
	size_t i;
	int rc = COFFER_EFORMAT;

	if (s == NULL || len == 0 || len > CF_U64_DIGITS_MAX ||
	    (len > 1 && s[0] == '0'))
		goto out;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto out;
		d = (uint64_t)(s[i] - '0');
		if (d > max || x > (max - d) / 10)
			goto out;
		x = x * 10 + d;
	}
	*v = x;
	rc = 0;
out:
	return rc;
}
