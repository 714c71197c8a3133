/* glsize.c — byte counts of GL pointer arguments that gl.xml leaves as
 * COMPSIZE: image sizes under the pixel-store modes, values per glGet pname.
 * Compiled into the client (with its shadow pixel store) and the server (with
 * the real context's), which refuses a blob whose size it computes otherwise. */
#include "gl_api.h"
#include "gl_desc.h"

#define RG_GL_MAX_BYTES ((size_t)1 << 40) /* beyond any real buffer: refused by the limits */

size_t rg_gl_n(int64_t n)
{
    return n < 0 ? 0 : (size_t)n;
}

size_t rg_gl_type_size(uint32_t type)
{
    switch (type) {
    case GL_UNSIGNED_BYTE:
    case GL_BYTE:
        return 1;
    case GL_UNSIGNED_SHORT:
    case GL_SHORT:
    case GL_HALF_FLOAT:
    case GL_HALF_FLOAT_OES:
        return 2;
    case GL_UNSIGNED_INT:
    case GL_INT:
    case GL_FLOAT:
    case GL_FIXED:
        return 4;
    default:
        return 0; /* GL refuses the type before reading */
    }
}

/* Components per pixel of a format; 0 if unknown. */
static unsigned components(uint32_t format)
{
    switch (format) {
    case GL_ALPHA:
    case GL_LUMINANCE:
    case GL_RED:
    case GL_RED_INTEGER:
    case GL_DEPTH_COMPONENT:
    case GL_STENCIL_INDEX:
        return 1;
    case GL_LUMINANCE_ALPHA:
    case GL_RG:
    case GL_RG_INTEGER:
    case GL_DEPTH_STENCIL:
        return 2;
    case GL_RGB:
    case GL_RGB_INTEGER:
        return 3;
    case GL_RGBA:
    case GL_RGBA_INTEGER:
    case GL_BGRA_EXT:
        return 4;
    default:
        return 0;
    }
}

/* Bytes per pixel for a format/type pair; packed types hold the whole pixel. */
static size_t pixel_bytes(uint32_t format, uint32_t type)
{
    switch (type) {
    case GL_UNSIGNED_SHORT_5_6_5:
    case GL_UNSIGNED_SHORT_4_4_4_4:
    case GL_UNSIGNED_SHORT_5_5_5_1:
        return 2;
    case GL_UNSIGNED_INT_2_10_10_10_REV:
    case GL_UNSIGNED_INT_10F_11F_11F_REV:
    case GL_UNSIGNED_INT_5_9_9_9_REV:
    case GL_UNSIGNED_INT_24_8:
        return 4;
    case GL_FLOAT_32_UNSIGNED_INT_24_8_REV:
        return 8;
    default:
        return components(format) * rg_gl_type_size(type);
    }
}

/* The bytes GL reads or writes for a w x h x d image: rows padded to the
 * alignment, row length / image height / skips from the pixel store (dims:
 * 2 or 3; image height and skipped images count for 3D only), the last
 * row and image not padded beyond their pixels (as GL computes it). */
size_t rg_gl_image_size(const struct rg_gl_pixstore *ps, int dims, uint32_t format, uint32_t type,
                        int64_t w, int64_t h, int64_t d)
{
    size_t bpp = pixel_bytes(format, type);
    if (w <= 0 || h <= 0 || d <= 0 || !bpp) return 0;
    if (w > (1 << 20) || h > (1 << 20) || d > (1 << 20)) return RG_GL_MAX_BYTES;
    size_t align = ps->alignment > 0 ? (size_t)ps->alignment : 4;
    size_t rowpix = ps->row_length > 0 ? (size_t)ps->row_length : (size_t)w;
    /* image height and skipped images apply to 3D images only */
    size_t rows = dims == 3 && ps->image_height > 0 ? (size_t)ps->image_height : (size_t)h;
    size_t stride = (rowpix * bpp + align - 1) / align * align;
    size_t skip = (size_t)(ps->skip_pixels > 0 ? ps->skip_pixels : 0) * bpp +
                  (size_t)(ps->skip_rows > 0 ? ps->skip_rows : 0) * stride +
                  (size_t)(dims == 3 && ps->skip_images > 0 ? ps->skip_images : 0) * stride * rows;
    size_t last_image = ((size_t)h - 1) * stride + (size_t)w * bpp;
    size_t n = skip + ((size_t)d - 1) * stride * rows + last_image;
    return n > RG_GL_MAX_BYTES ? RG_GL_MAX_BYTES : n;
}

size_t rg_gl_get_count(uint32_t pname)
{
    switch (pname) {
    case GL_VIEWPORT:
    case GL_SCISSOR_BOX:
    case GL_COLOR_CLEAR_VALUE:
    case GL_COLOR_WRITEMASK:
    case GL_BLEND_COLOR:
        return 4;
    case GL_DEPTH_RANGE:
    case GL_ALIASED_POINT_SIZE_RANGE:
    case GL_ALIASED_LINE_WIDTH_RANGE:
    case GL_MAX_VIEWPORT_DIMS:
        return 2;
    case GL_COMPRESSED_TEXTURE_FORMATS:
    case GL_SHADER_BINARY_FORMATS:
    case GL_PROGRAM_BINARY_FORMATS:
        return 256; /* the client asks for the count first; the server caps the answer */
    default:
        return 1;
    }
}

size_t rg_gl_texparam_count(uint32_t pname)
{
    return pname == 0x1004 /* GL_TEXTURE_BORDER_COLOR */ ? 4 : 1;
}

size_t rg_gl_vattrib_count(uint32_t pname)
{
    return pname == GL_CURRENT_VERTEX_ATTRIB ? 4 : 1;
}

size_t rg_gl_clearbuffer_count(uint32_t buffer)
{
    return buffer == GL_COLOR ? 4 : 1;
}

/* Fixed-function vector parameters (desktop GL compatibility). */
size_t rg_gl_light_count(uint32_t pname)
{
    switch (pname) {
    case GL_AMBIENT:
    case GL_DIFFUSE:
    case GL_SPECULAR:
    case GL_POSITION:
        return 4;
    case GL_SPOT_DIRECTION:
        return 3;
    default:
        return 1;
    }
}

size_t rg_gl_material_count(uint32_t pname)
{
    switch (pname) {
    case GL_AMBIENT:
    case GL_DIFFUSE:
    case GL_SPECULAR:
    case GL_EMISSION:
    case GL_AMBIENT_AND_DIFFUSE:
        return 4;
    case GL_COLOR_INDEXES:
        return 3;
    default:
        return 1;
    }
}

size_t rg_gl_fixed_count(uint32_t pname) /* fog, light model, texture env / gen, point parameters */
{
    switch (pname) {
    case GL_FOG_COLOR:
    case GL_LIGHT_MODEL_AMBIENT:
    case GL_TEXTURE_ENV_COLOR:
    case GL_OBJECT_PLANE:
    case GL_EYE_PLANE:
        return 4;
    case GL_POINT_DISTANCE_ATTENUATION:
        return 3;
    default:
        return 1;
    }
}

const struct rg_gl_limit rg_gl_limits[] = {
    {GL_MAX_TEXTURE_SIZE, 20, 10},           {GL_MAX_CUBE_MAP_TEXTURE_SIZE, 20, 13},
    {GL_MAX_RENDERBUFFER_SIZE, 20, 30},      {GL_MAX_VERTEX_ATTRIBS, 20, 20},
    {GL_MAX_TEXTURE_IMAGE_UNITS, 20, 20},    {GL_MAX_VERTEX_TEXTURE_IMAGE_UNITS, 20, 20},
    {GL_MAX_COMBINED_TEXTURE_IMAGE_UNITS, 20, 20},
    {GL_MAX_VERTEX_UNIFORM_VECTORS, 20, 41}, {GL_MAX_FRAGMENT_UNIFORM_VECTORS, 20, 41},
    {GL_MAX_VARYING_VECTORS, 20, 41},        {GL_MAX_VIEWPORT_DIMS, 20, 10},
    {GL_SUBPIXEL_BITS, 20, 10},              {GL_MAX_3D_TEXTURE_SIZE, 30, 12},
    {GL_MAX_ARRAY_TEXTURE_LAYERS, 30, 30},   {GL_MAX_DRAW_BUFFERS, 30, 20},
    {GL_MAX_COLOR_ATTACHMENTS, 30, 30},      {GL_MAX_SAMPLES, 30, 30},
    {GL_MAX_ELEMENTS_VERTICES, 30, 12},      {GL_MAX_ELEMENTS_INDICES, 30, 12},
    {GL_MAX_VERTEX_UNIFORM_COMPONENTS, 30, 20},
    {GL_MAX_FRAGMENT_UNIFORM_COMPONENTS, 30, 20},
    {GL_MAX_UNIFORM_BUFFER_BINDINGS, 30, 31},
};
const unsigned rg_gl_nlimits = sizeof rg_gl_limits / sizeof *rg_gl_limits;

int rg_gl_is_limit(uint32_t pname)
{
    for (unsigned i = 0; i < rg_gl_nlimits; i++)
        if (rg_gl_limits[i].pname == pname) return 1;
    return 0;
}
