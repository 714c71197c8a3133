/* gl_api.h — the GL types and enums of every API rgpu forwards: GL ES 2/3
 * and desktop GL (compatibility) declared together; both header sets agree
 * on every shared name. */
#ifndef RG_GL_API_H
#define RG_GL_API_H

#include <GLES3/gl32.h>
#include <GLES2/gl2ext.h>
#include <GL/gl.h>
#include <GL/glext.h>

#endif
