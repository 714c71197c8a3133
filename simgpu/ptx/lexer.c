/* lexer.c — splits PTX text into tokens: identifiers, .directives, numbers
 * (decimal, hex, octal, binary, 0f/0d float bit patterns), strings, punctuation.
 * Comments are skipped. Never reads past the end of the given text. */
#include "lexer.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

void ptx_lex_init(ptx_lexer *lx, const char *src, size_t len)
{
    memset(lx, 0, sizeof *lx);
    lx->src = lx->p = lx->line_start = src;
    lx->end = src + len;
    lx->line = 1;
}

static int at(const ptx_lexer *lx, size_t k)
{
    return lx->p + k < lx->end ? (unsigned char)lx->p[k] : 0;
}

static void newline(ptx_lexer *lx)
{
    lx->line++;
    lx->line_start = lx->p + 1;
}

static void skip_space(ptx_lexer *lx)
{
    for (;;) {
        int c = at(lx, 0);
        if (c == '\n') {
            newline(lx);
            lx->p++;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            lx->p++;
        } else if (c == '/' && at(lx, 1) == '/') {
            while (lx->p < lx->end && *lx->p != '\n')
                lx->p++;
        } else if (c == '/' && at(lx, 1) == '*') {
            lx->p += 2;
            while (lx->p < lx->end && !(at(lx, 0) == '*' && at(lx, 1) == '/')) {
                if (*lx->p == '\n') newline(lx);
                lx->p++;
            }
            lx->p = lx->p + 2 <= lx->end ? lx->p + 2 : lx->end;
        } else if (c == 0 && lx->p < lx->end) {
            lx->p = lx->end; /* NUL terminator ends the text */
        } else {
            return;
        }
    }
}

static int is_idchar(int c)
{
    return isalnum(c) || c == '_' || c == '$' || c == '%';
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static void lex_fbits(ptx_lexer *lx, ptx_token *t, int ndig)
{
    uint64_t v = 0;
    size_t k = 2;
    for (; k < (size_t)ndig + 2 && hexval(at(lx, k)) >= 0; k++)
        v = v << 4 | (uint64_t)hexval(at(lx, k));
    if (k != (size_t)ndig + 2) {
        t->kind = TK_BAD;
        lx->p += k;
        return;
    }
    lx->p += k;
    if (ndig == 8) {
        t->kind = TK_F32;
        t->ival = v;
    } else {
        t->kind = TK_F64;
        memcpy(&t->fval, &v, 8);
        t->ival = v;
    }
}

static void lex_number(ptx_lexer *lx, ptx_token *t)
{
    int c1 = at(lx, 1);
    if (at(lx, 0) == '0' && (c1 == 'f' || c1 == 'F') && hexval(at(lx, 2)) >= 0) {
        lex_fbits(lx, t, 8);
        return;
    }
    if (at(lx, 0) == '0' && (c1 == 'd' || c1 == 'D') && hexval(at(lx, 2)) >= 0) {
        lex_fbits(lx, t, 16);
        return;
    }
    const char *s = lx->p;
    size_t k = 0;
    int isfloat = 0;
    if (at(lx, 0) == '0' && (c1 == 'x' || c1 == 'X')) {
        k = 2;
        while (hexval(at(lx, k)) >= 0)
            k++;
    } else {
        while (isdigit(at(lx, k)))
            k++;
        if (at(lx, k) == '.' && isdigit(at(lx, k + 1))) {
            isfloat = 1;
            k++;
            while (isdigit(at(lx, k)))
                k++;
        }
        if ((at(lx, k) == 'e' || at(lx, k) == 'E') &&
            (isdigit(at(lx, k + 1)) ||
             ((at(lx, k + 1) == '-' || at(lx, k + 1) == '+') && isdigit(at(lx, k + 2))))) {
            isfloat = 1;
            k += 2;
            while (isdigit(at(lx, k)))
                k++;
        }
    }
    char buf[80];
    size_t n = k < sizeof buf - 1 ? k : sizeof buf - 1;
    memcpy(buf, s, n);
    buf[n] = 0;
    if (isfloat) {
        t->kind = TK_F64;
        t->fval = strtod(buf, NULL);
        memcpy(&t->ival, &t->fval, 8);
    } else {
        t->kind = TK_INT;
        if (buf[0] == '0' && (buf[1] == 'b' || buf[1] == 'B')) {
            k = 2;
            t->ival = 0;
            while (at(lx, k) == '0' || at(lx, k) == '1')
                t->ival = t->ival << 1 | (uint64_t)(at(lx, k++) - '0');
        } else {
            t->ival = strtoull(buf, NULL, 0); /* 0x.. hex, 0.. octal, decimal */
        }
    }
    lx->p += k;
    if (at(lx, 0) == 'U' || at(lx, 0) == 'u') lx->p++;
    if (lx->p < lx->end && is_idchar(at(lx, 0))) t->kind = TK_BAD;
}

static void lex_string(ptx_lexer *lx, ptx_token *t)
{
    lx->p++;
    t->text = lx->p;
    while (lx->p < lx->end && *lx->p != '"' && *lx->p != '\n') {
        if (*lx->p == '\\' && lx->p + 1 < lx->end) lx->p++;
        lx->p++;
    }
    t->len = (size_t)(lx->p - t->text);
    t->kind = (lx->p < lx->end && *lx->p == '"') ? TK_STR : TK_BAD;
    if (t->kind == TK_STR) lx->p++;
}

static void lex_one(ptx_lexer *lx, ptx_token *t)
{
    skip_space(lx);
    memset(t, 0, sizeof *t);
    t->line = lx->line;
    t->col = (uint32_t)(lx->p - lx->line_start) + 1;
    t->text = lx->p;
    if (lx->p >= lx->end) {
        t->kind = TK_EOF;
        return;
    }
    int c = at(lx, 0);
    if (c == '.' && (isalpha(at(lx, 1)) || at(lx, 1) == '_')) {
        size_t k = 1;
        while (is_idchar(at(lx, k)) || (at(lx, k) == ':' && at(lx, k + 1) == ':') ||
               (at(lx, k) == ':' && k > 1 && lx->p[k - 1] == ':'))
            k++;
        t->kind = TK_DOT;
        t->text = lx->p + 1;
        t->len = k - 1;
        lx->p += k;
        return;
    }
    if (isdigit(c)) {
        lex_number(lx, t);
    } else if (is_idchar(c)) {
        size_t k = 1;
        while (is_idchar(at(lx, k)))
            k++;
        t->kind = TK_ID;
        lx->p += k;
    } else if (c == '"') {
        lex_string(lx, t);
        return;
    } else {
        t->kind = isprint(c) ? TK_PUNCT : TK_BAD;
        lx->p++;
    }
    t->len = (size_t)(lx->p - t->text);
}

const ptx_token *ptx_lex_next(ptx_lexer *lx)
{
    if (lx->has_peek) {
        lx->tok = lx->peek;
        lx->has_peek = 0;
    } else {
        lex_one(lx, &lx->tok);
    }
    return &lx->tok;
}

const ptx_token *ptx_lex_peek(ptx_lexer *lx)
{
    if (!lx->has_peek) {
        lex_one(lx, &lx->peek);
        lx->has_peek = 1;
    }
    return &lx->peek;
}

int ptx_tok_is(const ptx_token *t, const char *s)
{
    if (!t->len || t->text[0] != s[0]) return 0; /* cheap reject: tables are searched linearly */
    size_t n = strlen(s);
    return t->len == n && memcmp(t->text, s, n) == 0;
}
