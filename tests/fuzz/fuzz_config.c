/* SPDX-License-Identifier: Apache-2.0 */
/* sigward.conf (sw_config_parse) on top of the defaults, as one file of the
 * drop-in chain is applied. */
#include "fuzz_util.h"

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sw_error e = { 0 };
	sw_config c;
	if (sw_config_defaults(&c, &e) < 0)
		abort();
	if (sw_config_parse(&c, "/etc/sigward/sigward.conf", (const char *)data, size, &e) < 0) {
		if (!e.msg[0] || strchr(e.msg, '\n') || strncmp(e.msg, "/etc/sigward/sigward.conf", 25) != 0)
			abort(); /* one line naming the file */
	} else {
		if (c.threshold < 1 || c.threshold > 16 || c.n_annotations > SW_MAX_ANNOTATION_KEYS)
			abort();
	}
	sw_config_free(&c);
	sw_config_free(&c); /* documented as safe twice */
	return 0;
}
