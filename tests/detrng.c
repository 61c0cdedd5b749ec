#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "detrng.h"

static uint8_t rng_key[32];
static uint64_t rng_calls;

void
detrng_reset(void)
{
	static const char seed[] = "coffer-test-rng-v1";

	crypto_generichash(rng_key, sizeof(rng_key), (const uint8_t *)seed,
	    sizeof(seed) - 1, NULL, 0);
	rng_calls = 0;
}

static const char *
rng_name(void)
{
	return "coffer-detrng";
}

static void
rng_buf(void *buf, size_t len)
{
	uint8_t nonce[8];
	uint64_t n = rng_calls++;
	int i;

	for (i = 0; i < 8; i++)
		nonce[i] = (uint8_t)(n >> (8 * i));
	memset(buf, 0, len);
	crypto_stream_chacha20((uint8_t *)buf, len, nonce, rng_key);
}

static uint32_t
rng_random(void)
{
	uint8_t b[4];

	rng_buf(b, sizeof(b));
	return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) |
	    ((uint32_t)b[3] << 24);
}

static struct randombytes_implementation detrng_impl = {
	.implementation_name = rng_name,
	.random = rng_random,
	.stir = NULL,
	.uniform = NULL,
	.buf = rng_buf,
	.close = NULL,
};

void
detrng_install(void)
{
	detrng_reset();
	randombytes_set_implementation(&detrng_impl);
}
