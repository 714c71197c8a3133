/* glsize_test.c — the image sizes both sides compute (gl/glsize.c) against
 * values worked out by hand from the GL rules: row alignment, row length,
 * skipped rows/pixels, 3D image height and skipped images (ignored in 2D),
 * the last row not padded, packed types, unknown formats. */
#include <stdio.h>

#include "gl_api.h"
#include "gl_desc.h"

static int fails;

static void expect(const char *what, size_t got, size_t want)
{
    if (got != want) {
        printf("FAIL %s: %zu, want %zu\n", what, got, want);
        fails++;
    }
}

int main(void)
{
    struct rg_gl_pixstore ps = {.alignment = 1};
    expect("RGB 3x3 align 1", rg_gl_image_size(&ps, 2, GL_RGB, GL_UNSIGNED_BYTE, 3, 3, 1), 27);
    ps.alignment = 4; /* rows of 9 bytes padded to 12; the last one not */
    expect("RGB 3x3 align 4", rg_gl_image_size(&ps, 2, GL_RGB, GL_UNSIGNED_BYTE, 3, 3, 1),
           2 * 12 + 9);
    ps.row_length = 5; /* 15 bytes -> 16 */
    expect("row length 5", rg_gl_image_size(&ps, 2, GL_RGB, GL_UNSIGNED_BYTE, 3, 3, 1), 2 * 16 + 9);
    ps.skip_rows = 1, ps.skip_pixels = 2;
    expect("skips", rg_gl_image_size(&ps, 2, GL_RGB, GL_UNSIGNED_BYTE, 3, 3, 1),
           16 + 6 + 2 * 16 + 9);
    ps = (struct rg_gl_pixstore){.alignment = 8, .image_height = 4, .skip_images = 1};
    expect("2D ignores image height and skipped images",
           rg_gl_image_size(&ps, 2, GL_RGBA, GL_UNSIGNED_BYTE, 2, 3, 1), 2 * 8 + 8);
    expect("3D: 2 images of 4 rows, one skipped",
           rg_gl_image_size(&ps, 3, GL_RGBA, GL_UNSIGNED_BYTE, 2, 3, 2), 4 * 8 + 4 * 8 + 2 * 8 + 8);
    ps = (struct rg_gl_pixstore){.alignment = 4};
    expect("565", rg_gl_image_size(&ps, 2, GL_RGB, GL_UNSIGNED_SHORT_5_6_5, 3, 2, 1), 8 + 6);
    expect("float RGBA", rg_gl_image_size(&ps, 2, GL_RGBA, GL_FLOAT, 2, 2, 1), 32 + 32);
    expect("unknown format", rg_gl_image_size(&ps, 2, 0x1234, GL_UNSIGNED_BYTE, 2, 2, 1), 0);
    expect("zero width", rg_gl_image_size(&ps, 2, GL_RGBA, GL_UNSIGNED_BYTE, 0, 2, 1), 0);
    expect("negative count", rg_gl_n(-5), 0);
    expect("viewport values", rg_gl_get_count(GL_VIEWPORT), 4);
    expect("one value", rg_gl_get_count(GL_ACTIVE_TEXTURE), 1);
    if (!fails) printf("OK\n");
    return fails != 0;
}
