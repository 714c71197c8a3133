/* tables.h — internal to darkapi: the export tables each file defines and the
 * installed host operations they call back into. Everything here is hidden. */
#ifndef RG_DARKAPI_TABLES_H
#define RG_DARKAPI_TABLES_H

#include <stdint.h>

#include "darkapi.h"

#define RG_HIDDEN __attribute__((visibility("hidden")))

/* A table slot holding a function or a size; tables are arrays of these. */
typedef const void *rg_slot;
#define RG_SLOT_SIZE(n) ((rg_slot)(uintptr_t)((n) * sizeof(rg_slot)))
#define RG_SLOT_FN(f) ((rg_slot)(f))

/* The installed host, or NULL before rg_darkapi_set_host. */
RG_HIDDEN const rg_darkapi_host *rg_darkapi_host_get(void);

extern RG_HIDDEN const rg_slot rg_tbl_cudart_interface[13];
extern RG_HIDDEN const rg_slot rg_tbl_callback_hooks[7];
extern RG_HIDDEN const rg_slot rg_tbl_tools_tls[4];
extern RG_HIDDEN const rg_slot rg_tbl_ctx_storage[4];
extern RG_HIDDEN const rg_slot rg_tbl_ctx_checks[4];
extern RG_HIDDEN const rg_slot rg_tbl_integrity[3];
extern RG_HIDDEN const rg_slot rg_tbl_ctx_identity[96];

/* The integrity check's slot 1 (exposed for tests). */
RG_HIDDEN CUresult rg_integrity_hash(unsigned version, uint64_t unix_seconds, uint64_t result[2]);

#endif
