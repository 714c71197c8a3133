/* sha256_test.c — rpc/sha256.c against the examples of FIPS 180-2 (appendix B:
 * "abc", the 448-bit two-block message, one million 'a'), the empty message,
 * and the same digests fed in uneven pieces (every split of the two-block
 * message, the million in 997-byte pieces). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"

static int fails;

static void expect(const char *what, const uint8_t d[32], const char *want)
{
    char hex[65];
    rg_sha256_hex(d, hex);
    if (strcmp(hex, want)) {
        printf("FAIL %s: %s, want %s\n", what, hex, want);
        fails++;
    }
}

int main(void)
{
    static const char two[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    static const char *two_want =
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
    static const char *million_want =
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    uint8_t d[32];
    rg_sha256_portable("abc", 3, d);
    expect("abc", d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    rg_sha256_portable("", 0, d);
    expect("empty", d, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    rg_sha256_portable(two, strlen(two), d);
    expect("two blocks", d, two_want);
    for (size_t cut = 0; cut <= strlen(two); cut++) {
        struct rg_sha256 c;
        rg_sha256_init(&c);
        rg_sha256_update(&c, two, cut);
        rg_sha256_update(&c, two + cut, strlen(two) - cut);
        rg_sha256_final(&c, d);
        expect("two blocks in two pieces", d, two_want);
    }
    char *m = malloc(1000000);
    if (!m) return 1;
    memset(m, 'a', 1000000);
    rg_sha256_portable(m, 1000000, d);
    expect("million a", d, million_want);
    struct rg_sha256 c;
    rg_sha256_init(&c);
    for (size_t off = 0; off < 1000000; off += 997)
        rg_sha256_update(&c, m + off, 1000000 - off < 997 ? 1000000 - off : 997);
    rg_sha256_final(&c, d);
    expect("million a in pieces", d, million_want);
    free(m);
    if (!fails) printf("sha256: all FIPS 180-2 examples match\n");
    return fails ? 1 : 0;
}
