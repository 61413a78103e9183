/* SPDX-License-Identifier: Apache-2.0 */
/* storage: placeholder until the module lands; see storage.h. */
#include "error.h"
