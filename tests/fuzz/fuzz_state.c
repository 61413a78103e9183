/* SPDX-License-Identifier: Apache-2.0 */
/* The OCI state document the hook reads on stdin (lib/oci.c, sw_state_parse). */
#include "fuzz_util.h"

#include "oci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sw_error e = { 0 };
	sw_state st;
	if (sw_state_parse((const char *)data, size, "state (stdin)", &st, &e) == 0) {
		/* What the hook relies on after a successful parse. */
		if (!st.id || !st.bundle || st.bundle[0] != '/' || sw_check_id(st.id, "id", &e) < 0)
			abort();
		sw_state_free(&st);
	} else if (!e.msg[0] || strchr(e.msg, '\n')) {
		abort(); /* every failure names the input in one line */
	}
	return 0;
}
