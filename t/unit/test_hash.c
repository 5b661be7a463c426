/*
 * src/core/hash: SHA-256 bucketing (spec 2.8, 3.7), djb2 (5.2), the
 * "sha256" name hash and ID-list ids (1.7).
 */

#include <stdio.h>
#include <string.h>

#include "hash.h"
#include "runtime.h"
#include "statsig_value.h"
#include "tap.h"


static uint64_t
hash_str(const char *s)
{
    return statsig_hash_u64(s, strlen(s));
}


static const char *
djb2_str(const char *s)
{
    static char  out[16];

    snprintf(out, sizeof(out), "%u", (unsigned) statsig_djb2(s, strlen(s)));
    return out;
}


/* statsig_str_hash as first written: the tail copied byte by byte */
static uint64_t
str_hash_ref(const char *s, size_t len)
{
    uint64_t  h, k;

    h = 0x9E3779B97F4A7C15ULL ^ ((uint64_t) len * 0xC2B2AE3D27D4EB4FULL);

    while (len >= 8) {
        memcpy(&k, s, 8);
        k *= 0x87C37B91114253D5ULL;
        k = (k << 31) | (k >> 33);
        h ^= k * 0x4CF5AD432745937FULL;
        h = ((h << 27) | (h >> 37)) * 5 + 0x52DCE729;
        s += 8;
        len -= 8;
    }

    k = 0;
    memcpy(&k, s, len);
    k *= 0x87C37B91114253D5ULL;
    k = (k << 31) | (k >> 33);
    h ^= k * 0x4CF5AD432745937FULL;

    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ULL;
    h ^= h >> 33;

    return h;
}


/*
 * statsig_runtime_hash (parts, midstates of long keys) against one
 * SHA-256 of the whole key, for keys of every length up to 600 bytes,
 * each twice (the second from a remembered midstate), with prefixes that
 * share their first block and some that differ only inside it.
 */
static void
test_runtime_hash(void)
{
    statsig_runtime_t  *rt;
    statsig_str_t       p[5];
    char                key[601], err[256];
    size_t              len, cut, mid, bad;
    int                 round;

    rt = statsig_runtime_create(err, sizeof(err));
    if (rt == NULL) {
        ok(0, "runtime: %s", err);
        return;
    }

    bad = 0;

    for (round = 0; round < 3; round++) {
        for (len = 0; len <= 600; len++) {
            memset(key, 'a' + round, len);
            if (len > 70) {
                key[70] = (char) ('0' + len % 10);  /* after block 1 */
            }

            if (len > 10 && round == 2) {
                key[10] = (char) ('0' + len % 7);   /* inside block 1 */
            }

            cut = len / 3;
            p[0].data = key;
            p[0].len = cut;
            p[1].data = ".";
            p[1].len = 0;
            p[2].data = key + cut;
            p[2].len = len - cut;

            if (statsig_runtime_hash(rt, p, 3) != statsig_hash_u64(key, len)
                || statsig_runtime_hash(rt, p, 3)
                   != statsig_hash_u64(key, len))
            {
                bad++;
            }
        }
    }

    is_int(bad, 0, "runtime hash of 1803 keys of 0-600 bytes, twice each");

    /*
     * Keys of distinct bytes cut into parts of every length: each part is
     * copied where it belongs (the keys above repeat one byte, which hides
     * a part copied to the wrong place).
     */
    bad = 0;

    for (len = 0; len <= 600; len++) {
        for (cut = 0; cut < len; cut++) {
            key[cut] = (char) (' ' + (cut * 37 + len) % 95);
        }

        for (cut = 0; cut <= len; cut += (len <= 48) ? 1 : 7) {
            for (mid = cut; mid <= len; mid += (len <= 48) ? 1 : 13) {
                p[0].data = key;
                p[0].len = cut;
                p[1].data = key + cut;
                p[1].len = mid - cut;
                p[2].data = key + mid;
                p[2].len = len - mid;

                if (statsig_runtime_hash(rt, p, 3)
                    != statsig_hash_u64(key, len))
                {
                    bad++;
                }
            }
        }
    }

    is_int(bad, 0, "runtime hash of keys of distinct bytes, every cut");

    /*
     * statsig_runtime_hash_key: "a.b.unit" and "a.unit" against the
     * joined key, a of every length to 300 bytes, b and the unit of a
     * few (the key within one block, two, many, and past the buffer).
     */
    bad = 0;

    {
        static const size_t  bl[] = { 0, 1, 7, 22, 36, 63, 64, 200 };
        static const size_t  ul[] = { 0, 1, 5, 19, 40, 64, 120, 300 };
        char                 big[1200], joined[1300];
        statsig_str_t        a, b, u;
        size_t               i, j, al, n;

        for (i = 0; i < sizeof(big); i++) {
            big[i] = (char) (' ' + (i * 53 + 7) % 95);
        }

        for (al = 0; al <= 300; al++) {
            for (i = 0; i < sizeof(bl) / sizeof(bl[0]); i++) {
                for (j = 0; j < sizeof(ul) / sizeof(ul[0]); j++) {
                    a.data = big;
                    a.len = al;
                    b.data = big + 301;
                    b.len = bl[i];
                    u.data = big + 600 + al % 17;
                    u.len = ul[j];

                    n = 0;
                    memcpy(joined, a.data, a.len);
                    n += a.len;
                    joined[n++] = '.';
                    memcpy(joined + n, b.data, b.len);
                    n += b.len;
                    joined[n++] = '.';
                    memcpy(joined + n, u.data, u.len);
                    n += u.len;

                    if (statsig_runtime_hash_key(rt, a, &b, u)
                        != statsig_hash_u64(joined, n))
                    {
                        bad++;
                    }

                    n = a.len;
                    joined[n++] = '.';
                    memcpy(joined + n, u.data, u.len);
                    n += u.len;

                    if (statsig_runtime_hash_key(rt, a, NULL, u)
                        != statsig_hash_u64(joined, n))
                    {
                        bad++;
                    }
                }
            }
        }
    }

    is_int(bad, 0, "runtime hash of \"a.b.unit\" and \"a.unit\" keys");

    statsig_runtime_free(rt);
}


int
main(void)
{
    char           b64[64], id[9];
    unsigned char  d[32];
    size_t         n;

    /* SHA-256 prefix as an unsigned big-endian integer */
    ok(hash_str("") == 16406829232824261652ULL, "sha256(\"\") prefix");
    is_int(hash_str("") % 10000, 1652, "\"\" -> 1652 mod 10000");
    ok(hash_str("blargh") == 775521915779293397ULL, "\"blargh\" prefix");
    is_int(hash_str("blargh") % 10000, 3397, "\"blargh\" -> 3397");
    ok(hash_str("a_salt.a_rule_salt.user_123") == 7683698096049864753ULL,
       "a_salt.a_rule_salt.user_123 prefix");
    is_int(hash_str("a_salt.a_rule_salt.user_123") % 10000, 4753,
           "a_salt.a_rule_salt.user_123 -> 4753");
    ok(hash_str("NaCl.123") == 9916515155047995894ULL, "NaCl.123 prefix");
    is_int(hash_str("NaCl.123") % 1000, 894, "user_bucket NaCl/123 -> 894");

    statsig_sha256("abc", 3, d);
    ok(d[0] == 0xba && d[1] == 0x78 && d[31] == 0xad, "sha256(abc)");

    /* djb2 over UTF-16 units, unsigned 32-bit decimal */
    is_str(djb2_str("always_on_gate"), "2172880123", "djb2 always_on_gate");
    is_str(djb2_str("test_public"), "3968762550", "djb2 test_public");
    is_str(djb2_str(""), "0", "djb2 \"\"");
    is_str(djb2_str("a"), "97", "djb2 a");
    /* U+1F600 = D83D DE00: (0xD83D * 31 + 0xDE00) */
    is_str(djb2_str("\xf0\x9f\x98\x80"), "1772899", "djb2 astral = two units");
    /* U+00E9 is one unit */
    is_str(djb2_str("\xc3\xa9"), "233", "djb2 U+00E9 one unit");
    is_str(djb2_str("a\xf0\x9f\x98\x80" "b"), "57849694",
           "djb2 astral in the middle");

    /* names hashed with "sha256" */
    n = statsig_sha256_name("always_on_gate", 14, b64);
    is_str(b64, "rGc+6rvo48V4j1sXkvsGHeSfJfY7kMp1OHfQnw+3XbI=",
           "sha256 name always_on_gate");
    is_int(n, 44, "sha256 name length");

    /* ID-list ids */
    statsig_idlist_hash("statsig", 7, id);
    id[8] = '\0';
    is_str(id, "Krhxyf0V", "ID-list hash of statsig");

    /* Base64 with padding, standard alphabet */
    {
        static const char  *b64_cases[][2] = {
            { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
            { "\xfb\xff", "+/8=" },
        };
        size_t  i;

        for (i = 0; i < sizeof(b64_cases) / sizeof(b64_cases[0]); i++) {
            n = statsig_base64((const unsigned char *) b64_cases[i][0],
                               strlen(b64_cases[i][0]), b64);
            b64[n] = '\0';
            is_str(b64, b64_cases[i][1], "base64 \"%s\"", b64_cases[i][1]);
        }
    }

    /* the constant undefined value carries its hashes precomputed */
    ok(statsig_value_undefined.hash == statsig_str_hash("undefined", 9)
       && statsig_value_undefined.lower_hash == statsig_value_undefined.hash,
       "statsig_value_undefined's hashes match statsig_str_hash");
    ok(statsig_str_hash("abcdefgh", 8) != statsig_str_hash("abcdefgi", 8)
       && statsig_str_hash("", 0) != statsig_str_hash("a", 1),
       "statsig_str_hash distinguishes neighbours");

    {
        char    buf[40];
        size_t  i, len, bad;

        bad = 0;
        for (len = 0; len <= sizeof(buf); len++) {
            for (i = 0; i < len; i++) {
                buf[i] = (char) (len * 31 + i * 7 + 0x80);
            }

            if (statsig_str_hash(buf, len) != str_hash_ref(buf, len)) {
                bad++;
            }
        }

        is_int(bad, 0, "statsig_str_hash tails equal the byte-wise copy");
    }

    {
        char    x[70], y[70];
        size_t  len, i, bad;

        bad = 0;
        for (len = 0; len < sizeof(x); len++) {
            memset(x, 'q', len);
            memcpy(y, x, len);
            if (!statsig_mem_eq(x, y, len)) {
                bad++;
            }

            /* one byte differs, at every position */
            for (i = 0; i < len; i++) {
                y[i] = 'r';
                if (statsig_mem_eq(x, y, len)) {
                    bad++;
                }

                y[i] = 'q';
            }
        }

        is_int(bad, 0, "statsig_mem_eq on 0-69 bytes, every one changed");
    }

    test_runtime_hash();

    return done_testing();
}
