/* ptxpick.c — which PTX of a fatbin simgpu runs: the newest at or below its
 * sm_120 in each container, as the driver would JIT; failing that, the oldest
 * newer PTX (cuRAND 10.4 ships compute_121 only): an interpreter has no
 * hardware limit, and instructions it lacks fail cleanly at parse or launch. */
#include <stdint.h>
#include <string.h>

#include "fatbin.h"
#include "module.h"

#define PICK_MAX_LINKED 4096 /* linked containers of one wrapper (as image.c bounds) */

struct oldest {
    unsigned floor, arch; /* arch: oldest PTX above floor, 0 if none */
};

static int note_ptx(const rg_fatbin_entry *e, void *arg)
{
    struct oldest *o = arg;
    if (e->kind == RG_ENTRY_PTX && e->arch > o->floor && (!o->arch || e->arch < o->arch))
        o->arch = e->arch;
    return 0;
}

/* __fatBinC_Wrapper_t: magic, version, data container, then (version 2) a
 * NULL-terminated array of linked containers. */
static void wrapper_oldest(const uint8_t *w, struct oldest *o)
{
    uint32_t version;
    const void *data;
    const void *const *linked;
    memcpy(&version, w + 4, sizeof version);
    memcpy(&data, w + 8, sizeof data);
    memcpy(&linked, w + 16, sizeof linked);
    if (!data || (version != 1 && version != 2)) return;
    rg_fatbin_foreach(data, SIZE_MAX, note_ptx, o);
    for (size_t i = 0; version == 2 && linked && i < PICK_MAX_LINKED && linked[i]; i++)
        rg_fatbin_foreach(linked[i], SIZE_MAX, note_ptx, o);
}

/* The oldest PTX architecture above `floor` in a container or wrapper, 0 if none. */
static unsigned oldest_ptx_above(const void *image, unsigned floor)
{
    struct oldest o = {floor, 0};
    enum rg_image_kind kind = rg_image_kind(image);
    if (kind == RG_IMAGE_CONTAINER) rg_fatbin_foreach(image, SIZE_MAX, note_ptx, &o);
    if (kind == RG_IMAGE_WRAPPER) wrapper_oldest(image, &o);
    return o.arch;
}

enum rg_fatbin_status sim_image_pick_ptx(const void *image, char ***texts, size_t *n,
                                         unsigned *arch, char *why, size_t why_size)
{
    *arch = SIM_ARCH;
    enum rg_fatbin_status st = rg_image_extract_ptx(image, SIM_ARCH, texts, n, why, why_size);
    if (st == RG_FATBIN_OK && *n == 0) st = RG_FATBIN_NO_PTX;
    if (st != RG_FATBIN_NO_PTX) return st;
    unsigned newer = oldest_ptx_above(image, SIM_ARCH);
    if (!newer) return st;
    char why2[64];
    st = rg_image_extract_ptx(image, newer, texts, n, why2, sizeof why2);
    if (st == RG_FATBIN_OK && *n == 0) st = RG_FATBIN_NO_PTX;
    if (st != RG_FATBIN_OK) return st;
    *arch = newer;
    sim_info("image %p has no PTX for sm_%u or older: simgpu runs compute_%u PTX on its %d.%d "
             "device",
             image, SIM_ARCH, newer, SIM_CC_MAJOR, SIM_CC_MINOR);
    return st;
}
