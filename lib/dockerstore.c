/* SPDX-License-Identifier: Apache-2.0 */
/* dockerstore: placeholder until the module lands; see dockerstore.h. */
#include "error.h"
