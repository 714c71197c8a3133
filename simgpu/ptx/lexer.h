/* lexer.h — PTX tokenizer used by the parser. Tokens point into the source
 * text (no copies); every token carries its line and column for error messages. */
#ifndef SIMGPU_PTX_LEXER_H
#define SIMGPU_PTX_LEXER_H

#include <stddef.h>
#include <stdint.h>

enum tok_kind {
    TK_EOF,
    TK_ID,    /* identifier, register (%r1), label ($L__BB0_1) */
    TK_DOT,   /* .word (text excludes the dot) */
    TK_INT,   /* integer literal: ival */
    TK_F32,   /* 0fXXXXXXXX: ival holds the bits */
    TK_F64,   /* 0dXXXXXXXXXXXXXXXX or a decimal float: fval */
    TK_STR,   /* "..." (text excludes the quotes) */
    TK_PUNCT, /* one character: text[0] */
    TK_BAD,   /* unrecognised character */
};

typedef struct ptx_token {
    enum tok_kind kind;
    const char *text;
    size_t len;
    uint32_t line, col;
    uint64_t ival;
    double fval;
} ptx_token;

typedef struct ptx_lexer {
    const char *src, *end, *p;
    uint32_t line;
    const char *line_start;
    ptx_token tok;  /* current token */
    ptx_token peek; /* one-token lookahead (valid when has_peek) */
    int has_peek;
} ptx_lexer;

void ptx_lex_init(ptx_lexer *lx, const char *src, size_t len);
/* Advance to the next token; returns the new current token. */
const ptx_token *ptx_lex_next(ptx_lexer *lx);
/* The token after the current one, without consuming it. */
const ptx_token *ptx_lex_peek(ptx_lexer *lx);
/* Does token t spell exactly s? */
int ptx_tok_is(const ptx_token *t, const char *s);

#endif
