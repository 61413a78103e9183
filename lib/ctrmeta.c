/* SPDX-License-Identifier: Apache-2.0 */
/* ctrmeta: placeholder until the module lands; see ctrmeta.h. */
#include "error.h"
