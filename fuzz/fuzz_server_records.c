/* libFuzzer: the server's readers of the records it stores and relays
 * (server/records.c): chain entries, envelopes, join requests, approvals,
 * directory records and reference deltas.  The first byte picks one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t pk[CF_SIGN_PK_BYTES];
	struct srv_entry e;
	struct srv_envelope v;
	struct srv_join j;
	struct srv_approval a;
	struct srv_dir d;
	struct srv_delta t;

	if (size < 1)
		return 0;
	switch (data[0] % 6) {
	case 0:
		if (srv_entry_parse(data + 1, size - 1, &e) == 0)
			(void)srv_entry_verify(data + 1, &e, pk);
		break;
	case 1:
		if (srv_envelope_parse(data + 1, size - 1, &v) == 0)
			(void)srv_envelope_verify(data + 1, size - 1, pk);
		break;
	case 2:
		(void)srv_join_parse(data + 1, size - 1, &j);
		break;
	case 3:
		if (srv_approval_parse(data + 1, size - 1, &a) == 0)
			(void)srv_approval_verify(data + 1, size - 1, pk);
		break;
	case 4:
		if (srv_dir_parse(data + 1, size - 1, &d) == 0) {
			if (d.ndrives > 0 && d.drive_ids == NULL)
				abort();
			srv_dir_free(&d);
			(void)srv_dir_verify(data + 1, size - 1, pk);
		}
		break;
	default:
		if (srv_delta_parse(data + 1, size - 1, &t) == 0 &&
		    (size_t)(t.nstart + t.nstop) * 32 > size)
			abort();
		break;
	}
	return 0;
}
