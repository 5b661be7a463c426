/*
 * Every operator through small DCS documents: each case is one gate
 * (c0, c1, ...) with one rule of one condition, evaluated for its own
 * user.  Expectations follow the spec (section 3.9, pitfalls 10-13, 21,
 * 22) as statsig-node 6.5.2 answers them; STATSIG_TEST_DUMP=DIR writes
 * the document for t/unit/check-oracle.js to confirm.
 *
 * Result format: "<value>|<rule_id>|<secondary exposures>".
 */

#include "test_eval.h"


#define T      "true|r|"
#define F      "false|default|"
#define UNSUP  "false||"

/* a condition; OP, TARGET and FIELD are JSON text */
#define COND(TYPE, OP, TARGET, FIELD)                                        \
    "{\"type\":\"" TYPE "\",\"operator\":" OP ",\"targetValue\":" TARGET     \
    ",\"field\":" FIELD ",\"additionalValues\":{},\"idType\":\"userID\","    \
    "\"isDeviceBased\":false}"
#define UF(OP, TARGET, FIELD)  COND("user_field", "\"" OP "\"", TARGET,      \
                                    "\"" FIELD "\"")
#define UNIT(OP, TARGET, IDTYPE)                                             \
    "{\"type\":\"unit_id\",\"operator\":\"" OP "\",\"targetValue\":" TARGET  \
    ",\"field\":null,\"additionalValues\":{},\"idType\":\"" IDTYPE "\"}"
#define BUCKET(OP, TARGET, SALT)                                             \
    "{\"type\":\"user_bucket\",\"operator\":\"" OP "\",\"targetValue\":"     \
    TARGET ",\"field\":null,\"additionalValues\":{\"salt\":\"" SALT "\"},"   \
    "\"idType\":\"userID\"}"

#define U(CUSTOM)  "{\"userID\":\"u1\",\"custom\":{" CUSTOM "}}"

/* two user agents of 139 bytes: iOS, and Windows padded to that length */
#define UA_IOS                                                               \
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) "              \
    "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 "               \
    "Mobile/15E148 Safari/604.1"
#define UA_WIN_139                                                           \
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "          \
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Pad/"                \
    "00000000000000000000000"

/* user agents of one length that differ only in their last bytes (the
 * remembered one's comparison ends with them) or only in the middle */
#define UA_FF(V)                                                             \
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 "    \
    "Firefox/" V
#define UA_CHROME(V)                                                         \
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "          \
    "(KHTML, like Gecko) Chrome/" V ".0.0.0 Safari/537.36"

#define LONG10   "aaaaaaaaaa"
#define LONG100  LONG10 LONG10 LONG10 LONG10 LONG10 LONG10 LONG10 LONG10     \
                 LONG10 LONG10
#define LONG999  LONG100 LONG100 LONG100 LONG100 LONG100 LONG100 LONG100     \
                 LONG100 LONG100 LONG10 LONG10 LONG10 LONG10 LONG10 LONG10   \
                 LONG10 LONG10 LONG10 "aaaaaaaaa"

/* 70 custom keys: more than the session's key index holds */
#define MANY_KEYS  \
    "\"k0\":0,\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6," \
    "\"k7\":7,\"k8\":8,\"k9\":9,\"k10\":10,\"k11\":11,\"k12\":12," \
    "\"k13\":13,\"k14\":14,\"k15\":15,\"k16\":16,\"k17\":17,\"k18\":18," \
    "\"k19\":19,\"k20\":20,\"k21\":21,\"k22\":22,\"k23\":23,\"k24\":24," \
    "\"k25\":25,\"k26\":26,\"k27\":27,\"k28\":28,\"k29\":29,\"k30\":30," \
    "\"k31\":31,\"k32\":32,\"k33\":33,\"k34\":34,\"k35\":35,\"k36\":36," \
    "\"k37\":37,\"k38\":38,\"k39\":39,\"k40\":40,\"k41\":41,\"k42\":42," \
    "\"k43\":43,\"k44\":44,\"k45\":45,\"k46\":46,\"k47\":47,\"k48\":48," \
    "\"k49\":49,\"k50\":50,\"k51\":51,\"k52\":52,\"k53\":53,\"k54\":54," \
    "\"k55\":55,\"k56\":56,\"k57\":57,\"k58\":58,\"k59\":59,\"k60\":60," \
    "\"k61\":61,\"k62\":62,\"k63\":63,\"k64\":64,\"k65\":65,\"k66\":66," \
    "\"k67\":67,\"k68\":68,\"k69\":69,"


typedef struct {
    const char  *what;
    const char  *cond;
    const char  *user;
    const char  *want;
} op_case_t;


static const op_case_t  cases[] = {
    /* gt / gte / lt / lte: Number() of both sides */
    { "gt 30, age 31", UF("gt", "30", "age"), U("\"age\":31"), T },
    { "gt 30, age 30", UF("gt", "30", "age"), U("\"age\":30"), F },
    { "gte \"30\", age 30", UF("gte", "\"30\"", "age"), U("\"age\":30"), T },
    { "lt 10, level \"5\"", UF("lt", "10", "level"), U("\"level\":\"5\""),
      T },
    { "lte 5, age \"abc\"", UF("lte", "5", "age"), U("\"age\":\"abc\""), F },
    { "gt 0, beta true (Number(true) = 1)", UF("gt", "0", "beta"),
      U("\"beta\":true"), T },
    { "lt 1, x \"\" (Number(\"\") = 0)", UF("lt", "1", "x"), U("\"x\":\"\""),
      T },
    { "gt 1, missing", UF("gt", "1", "nope"), U(""), F },
    { "lte 0, missing", UF("lte", "0", "nope"), U(""), F },
    { "gte true, one", UF("gte", "true", "n"), U("\"n\":1"), T },
    /* spec 3.9 special case (pinned by the e2e suite) */
    { "gt 9223372036854775000, 9223372036854776000",
      UF("gt", "9223372036854775000", "bigInt"),
      U("\"bigInt\":9223372036854776000"), T },
    { "gte 9223372036854775000, 9223372036854776000",
      UF("gte", "9223372036854775000", "bigInt"),
      U("\"bigInt\":9223372036854776000"), T },
    { "gt \"0x10\", 17", UF("gt", "\"0x10\"", "n"), U("\"n\":17"), T },
    { "lt \" 5 \", 4", UF("lt", "\" 5 \"", "n"), U("\"n\":4"), T },
    { "gt null target: false", UF("gt", "null", "n"), U("\"n\":1"), F },

    /* versions */
    { "1.2.3-alpha version_lt 1.2.3.4",
      UF("version_lt", "\"1.2.3.4\"", "appVersion"),
      "{\"userID\":\"u1\",\"appVersion\":\"1.2.3-alpha\"}", T },
    { "1.3 version_gte 1.3", UF("version_gte", "\"1.3\"", "appVersion"),
      "{\"userID\":\"u1\",\"appVersion\":\"1.3\"}", T },
    { "1.3 version_eq 1.3.0", UF("version_eq", "\"1.3.0\"", "appVersion"),
      "{\"userID\":\"u1\",\"appVersion\":\"1.3\"}", T },
    { "1.2.3 version_neq 1.2.4", UF("version_neq", "\"1.2.4\"", "appVersion"),
      "{\"userID\":\"u1\",\"appVersion\":\"1.2.3\"}", T },
    { "1.2.3 version_gt 1.2.3-rc1", UF("version_gt", "\"1.2.3-rc1\"",
                                       "appVersion"),
      "{\"userID\":\"u1\",\"appVersion\":\"1.2.3\"}", F },
    { "1.10 version_gt 1.9", UF("version_gt", "\"1.9\"", "appVersion"),
      "{\"userID\":\"u1\",\"appVersion\":\"1.10\"}", T },
    { "1.a version_neq 1.2 (non-numeric: false)",
      UF("version_neq", "\"1.2\"", "appVersion"),
      "{\"userID\":\"u1\",\"appVersion\":\"1.a\"}", F },
    /* statsig-node stops at the first differing component: 1 < 2 is
     * decided before "a" is seen */
    { "1.a version_lt 2 (decided before 'a')",
      UF("version_lt", "\"2\"", "appVersion"),
      "{\"userID\":\"u1\",\"appVersion\":\"1.a\"}", T },
    { "v2.0 version_lte 2.0.0", UF("version_lte", "\"2.0.0\"", "appVersion"),
      "{\"userID\":\"u1\",\"appVersion\":\"v2.0\"}", F },
    { "1.2 version_eq 1.x (non-numeric target)",
      UF("version_eq", "\"1.x\"", "appVersion"),
      "{\"userID\":\"u1\",\"appVersion\":\"1.2\"}", F },
    { "1 version_eq 1 (numeric target)", UF("version_eq", "1", "appVersion"),
      "{\"userID\":\"u1\",\"appVersion\":\"1\"}", F },
    { "numeric target version_neq", UF("version_neq", "2", "appVersion"),
      "{\"userID\":\"u1\",\"appVersion\":\"1\"}", F },
    { "missing version_neq 1.0", UF("version_neq", "\"1.0\"", "appVersion"),
      U(""), F },
    { "number 2 version_gt 1.5 (left must be a string)",
      UF("version_gt", "\"1.5\"", "v"), U("\"v\":2"), F },

    /* any / none */
    { "country us any [US, CA]", UF("any", "[\"US\",\"CA\"]", "country"),
      "{\"userID\":\"u1\",\"country\":\"us\"}", T },
    { "level 5 any [5, 6]", UF("any", "[5,6]", "level"), U("\"level\":5"),
      T },
    { "level \"5\" any [5]", UF("any", "[5]", "level"), U("\"level\":\"5\""),
      T },
    { "missing none [US]", UF("none", "[\"US\"]", "country"), U(""), T },
    { "missing any [US]", UF("any", "[\"US\"]", "country"), U(""), F },
    { "us any_case_sensitive [US]", UF("any_case_sensitive", "[\"US\"]",
                                       "country"),
      "{\"userID\":\"u1\",\"country\":\"us\"}", F },
    { "us none_case_sensitive [US]", UF("none_case_sensitive", "[\"US\"]",
                                        "country"),
      "{\"userID\":\"u1\",\"country\":\"us\"}", T },
    { "Pro any_case_sensitive [Pro, pro]",
      UF("any_case_sensitive", "[\"Pro\",\"pro\"]", "plan"),
      U("\"plan\":\"Pro\""), T },
    { "missing none_case_sensitive [x]", UF("none_case_sensitive", "[\"x\"]",
                                            "plan"), U(""), T },
    { "any with a string target", UF("any", "\"US\"", "country"),
      "{\"userID\":\"u1\",\"country\":\"US\"}", F },
    { "true any [\"true\"]", UF("any", "[\"true\"]", "beta"),
      U("\"beta\":true"), T },
    { "\u0130 any [i\u0307] (toLowerCase)", UF("any", "[\"i\xcc\x87\"]", "s"),
      U("\"s\":\"\xc4\xb0\""), T },
    { "userID any (field as named)", UF("any", "[\"u1\"]", "userID"),
      U(""), T },
    { "userid: no alternate spelling in statsig-node",
      UF("any", "[\"u1\"]", "userid"), U(""), F },
    { "privateAttributes are used", UF("any", "[\"gold\"]", "secret_tier"),
      "{\"userID\":\"u1\",\"privateAttributes\":{\"secret_tier\":\"gold\"}}",
      T },
    { "custom key lower-cased fallback", UF("any", "[\"x\"]", "Region"),
      U("\"region\":\"x\""), T },
    { "user[lower] before custom[field]", UF("any", "[\"a\"]", "Tier"),
      "{\"userID\":\"u1\",\"tier\":\"a\",\"custom\":{\"Tier\":\"b\"}}",
      T },
    { "null user field falls through to custom",
      UF("any", "[\"b\"]", "Tier"),
      "{\"userID\":\"u1\",\"Tier\":null,\"custom\":{\"Tier\":\"b\"}}",
      T },
    { "custom before privateAttributes", UF("any", "[\"c\"]", "t"),
      "{\"userID\":\"u1\",\"custom\":{\"t\":\"c\"},"
      "\"privateAttributes\":{\"t\":\"p\"}}", T },
    { "duplicate key: the last wins", UF("any", "[\"2\"]", "t"),
      "{\"userID\":\"u1\",\"t\":\"1\",\"t\":\"2\"}", T },
    /* the session's nested objects and userID: the last of duplicates */
    { "duplicate custom: the last wins", UF("any", "[\"2\"]", "t"),
      "{\"userID\":\"u1\",\"custom\":{\"t\":\"1\"},"
      "\"custom\":{\"t\":\"2\"}}", T },
    { "duplicate privateAttributes: the last wins",
      UF("any", "[\"2\"]", "t"),
      "{\"userID\":\"u1\",\"privateAttributes\":{\"t\":\"1\"},"
      "\"privateAttributes\":{\"t\":\"2\"}}", T },
    { "duplicate customIDs: the last wins",
      UNIT("any", "[\"c2\"]", "companyID"),
      "{\"userID\":\"u1\",\"customIDs\":{\"companyID\":\"c1\"},"
      "\"customIDs\":{\"companyID\":\"c2\"}}", T },
    { "duplicate userID: the last wins", UNIT("any", "[\"u2\"]", "userID"),
      "{\"userID\":\"u1\",\"custom\":{},\"userID\":\"u2\"}", T },
    { "custom and userID keys of other lengths are not them",
      UNIT("any", "[\"u1\"]", "userID"),
      "{\"userID\":\"u1\",\"userIDs\":\"u2\",\"custo\":{\"t\":\"x\"}}",
      T },
    { "a user too large for the key index", UF("any", "[\"69\"]", "k69"),
      "{\"userID\":\"u1\",\"custom\":{" MANY_KEYS "\"k69\":69}}", T },
    { "large user, privateAttributes", UF("any", "[\"p\"]", "Z"),
      "{\"userID\":\"u1\",\"custom\":{" MANY_KEYS "\"y\":0},"
      "\"privateAttributes\":{\"z\":\"p\"}}", T },
    { "failed condition, then an unknown operator: unsupported",
      UF("any", "[\"zz\"]", "s") "," UF("encoded_any_of", "[1]", "x"),
      U("\"s\":\"x\""), UNSUP },
    { "failed condition, then a failing one: false",
      UF("any", "[\"zz\"]", "s") "," UF("any", "[\"x\"]", "s"),
      U("\"s\":\"x\""), F },

    /* str_* */
    { "starts_with ALI", UF("str_starts_with_any", "[\"ALI\"]", "email"),
      "{\"userID\":\"u1\",\"email\":\"alice@x.com\"}", T },
    { "ends_with .COM", UF("str_ends_with_any", "[\"zz\",\".COM\"]", "email"),
      "{\"userID\":\"u1\",\"email\":\"alice@x.com\"}", T },
    { "contains @X", UF("str_contains_any", "[\"@X\"]", "email"),
      "{\"userID\":\"u1\",\"email\":\"alice@x.com\"}", T },
    { "contains_none spam", UF("str_contains_none", "[\"spam\"]", "email"),
      "{\"userID\":\"u1\",\"email\":\"alice@x.com\"}", T },
    { "contains_none @x", UF("str_contains_none", "[\"@x\"]", "email"),
      "{\"userID\":\"u1\",\"email\":\"alice@x.com\"}", F },
    { "missing contains_none", UF("str_contains_none", "[\"spam\"]", "email"),
      U(""), T },
    { "missing contains_any", UF("str_contains_any", "[\"a\"]", "email"),
      U(""), F },
    { "missing starts_with", UF("str_starts_with_any", "[\"a\"]", "email"),
      U(""), F },
    { "number 12 starts_with [1]", UF("str_starts_with_any", "[1]", "n"),
      U("\"n\":12"), T },

    /* str_matches */
    { "matches ^a.*\\.com$", UF("str_matches", "\"^a.*\\\\.com$\"", "email"),
      "{\"userID\":\"u1\",\"email\":\"alice@x.com\"}", T },
    { "matches unanchored", UF("str_matches", "\"ce@\"", "email"),
      "{\"userID\":\"u1\",\"email\":\"alice@x.com\"}", T },
    { "matches is case-sensitive", UF("str_matches", "\"ALICE\"", "email"),
      "{\"userID\":\"u1\",\"email\":\"alice@x.com\"}", F },
    { "invalid regex (", UF("str_matches", "\"(\"", "email"),
      "{\"userID\":\"u1\",\"email\":\"alice@x.com\"}", F },
    { "999 chars match", UF("str_matches", "\"a\"", "s"),
      U("\"s\":\"" LONG999 "\""), T },
    { "1000 chars: false", UF("str_matches", "\"a\"", "s"),
      U("\"s\":\"" LONG999 "a\""), F },
    { "missing matches \"\" (String(undefined))",
      UF("str_matches", "\"\"", "nope"), U(""), T },
    { "missing matches ^undefined$", UF("str_matches", "\"^undefined$\"",
                                        "nope"), U(""), T },
    { "missing matches x", UF("str_matches", "\"x\"", "nope"), U(""), F },
    { "number target regex", UF("str_matches", "1", "n"), U("\"n\":21"), T },

    /* eq / neq: JavaScript == */
    { "missing eq null", UF("eq", "null", "nope"), U(""), T },
    { "null eq null", UF("eq", "null", "x"), U("\"x\":null"), T },
    { "\"a\" neq null", UF("neq", "null", "x"), U("\"x\":\"a\""), T },
    { "\"\" eq null", UF("eq", "null", "x"), U("\"x\":\"\""), F },
    { "\"5\" eq 5", UF("eq", "5", "level"), U("\"level\":\"5\""), T },
    { "5 eq \"5\"", UF("eq", "\"5\"", "level"), U("\"level\":5"), T },
    { "true eq true", UF("eq", "true", "beta"), U("\"beta\":true"), T },
    { "\"true\" eq true", UF("eq", "true", "beta"), U("\"beta\":\"true\""),
      F },
    { "0 eq false", UF("eq", "false", "beta"), U("\"beta\":0"), T },
    { "\"1\" eq true", UF("eq", "true", "beta"), U("\"beta\":\"1\""), T },
    { "abc eq ABC", UF("eq", "\"ABC\"", "s"), U("\"s\":\"abc\""), F },
    { "missing neq 5", UF("neq", "5", "nope"), U(""), T },
    { "missing eq \"\"", UF("eq", "\"\"", "nope"), U(""), F },
    { "[1] eq \"1\"", UF("eq", "\"1\"", "a"), U("\"a\":[1]"), T },

    /* before / after / on (ms targets; user seconds below 1e10) */
    { "seconds before ms", UF("before", "1800000000000", "d"),
      U("\"d\":1700000000"), T },
    { "ISO after ms", UF("after", "1600000000000", "d"),
      U("\"d\":\"2024-01-02T03:04:05Z\""), T },
    { "ISO before ms (false)", UF("before", "1600000000000", "d"),
      U("\"d\":\"2024-01-02T03:04:05Z\""), F },
    { "on: same UTC day", UF("on", "1704153600000", "d"),
      U("\"d\":\"2024-01-02T23:00:00Z\""), T },
    { "on: next day", UF("on", "1704153600000", "d"),
      U("\"d\":\"2024-01-03T00:00:00Z\""), F },
    { "on: user in seconds", UF("on", "1704153600000", "d"),
      U("\"d\":1704164645"), T },
    { "before: target in seconds", UF("before", "1800000000", "d"),
      U("\"d\":1700000000000"), T },
    { "date string target", UF("after", "\"2020-01-01\"", "d"),
      U("\"d\":\"Jan 5 2024\""), T },
    { "unix-seconds string", UF("after", "1600000000000", "d"),
      U("\"d\":\"1700000000\""), T },
    { "unparseable after", UF("after", "0", "d"), U("\"d\":\"abc\""), F },
    { "missing before", UF("before", "1800000000000", "d"), U(""), F },
    { "current_time after 0",
      COND("current_time", "\"after\"", "0", "null"), U(""), T },
    { "current_time before 1",
      COND("current_time", "\"before\"", "1", "null"), U(""), F },

    /* ID lists: "list" holds u1 and company_1 */
    { "u1 in_segment_list list", UNIT("in_segment_list", "\"list\"",
                                      "userID"), U(""), T },
    { "u2 not_in_segment_list list", UNIT("not_in_segment_list", "\"list\"",
                                          "userID"),
      "{\"userID\":\"u2\"}", T },
    { "u1 in missing list", UNIT("in_segment_list", "\"nolist\"", "userID"),
      U(""), F },
    { "u1 not_in missing list", UNIT("not_in_segment_list", "\"nolist\"",
                                     "userID"), U(""), T },
    { "companyID in list", UNIT("in_segment_list", "\"list\"", "companyID"),
      "{\"userID\":\"u9\",\"customIDs\":{\"companyID\":\"company_1\"}}", T },
    { "missing companyID in list",
      UNIT("in_segment_list", "\"list\"", "companyID"), U(""), F },
    { "email in_segment_list (user_field)",
      UF("in_segment_list", "\"list\"", "email"),
      "{\"userID\":\"u9\",\"email\":\"u1\"}", T },

    /* array operators */
    { "tags any [a]", UF("array_contains_any", "[\"a\"]", "tags"),
      U("\"tags\":[\"a\",\"b\"]"), T },
    { "tags any [z]", UF("array_contains_any", "[\"z\"]", "tags"),
      U("\"tags\":[\"a\",\"b\"]"), F },
    { "tags none [z]", UF("array_contains_none", "[\"z\"]", "tags"),
      U("\"tags\":[\"a\",\"b\"]"), T },
    { "tags all [a, b]", UF("array_contains_all", "[\"a\",\"b\"]", "tags"),
      U("\"tags\":[\"a\",\"b\",\"c\"]"), T },
    { "tags all [a, x]", UF("array_contains_all", "[\"a\",\"x\"]", "tags"),
      U("\"tags\":[\"a\",\"b\"]"), F },
    { "tags not_all [a, x]", UF("not_array_contains_all", "[\"a\",\"x\"]",
                                "tags"), U("\"tags\":[\"a\",\"b\"]"), T },
    { "numbers vs strings", UF("array_contains_any", "[\"1\"]", "tags"),
      U("\"tags\":[1,2]"), T },
    { "case-sensitive", UF("array_contains_any", "[\"A\"]", "tags"),
      U("\"tags\":[\"a\"]"), F },
    { "empty target any", UF("array_contains_any", "[]", "tags"),
      U("\"tags\":[\"a\"]"), F },
    { "empty target none", UF("array_contains_none", "[]", "tags"),
      U("\"tags\":[\"a\"]"), T },
    { "empty target all", UF("array_contains_all", "[]", "tags"),
      U("\"tags\":[\"a\"]"), T },
    { "empty target not_all", UF("not_array_contains_all", "[]", "tags"),
      U("\"tags\":[\"a\"]"), F },
    { "non-array any", UF("array_contains_any", "[\"a\"]", "tags"),
      U("\"tags\":\"a\""), F },
    { "non-array none", UF("array_contains_none", "[\"z\"]", "tags"),
      U("\"tags\":\"a\""), F },
    { "non-array all", UF("array_contains_all", "[\"a\"]", "tags"),
      U("\"tags\":\"a\""), F },
    { "non-array not_all", UF("not_array_contains_all", "[\"z\"]", "tags"),
      U("\"tags\":\"a\""), F },
    { "missing array none", UF("array_contains_none", "[\"z\"]", "tags"),
      U(""), F },

    /* other condition types */
    { "public", COND("public", "null", "null", "null"), U(""), T },
    { "environment tier DEVELOPMENT any [development]",
      COND("environment_field", "\"any\"", "[\"development\"]", "\"tier\""),
      "{\"userID\":\"u1\",\"statsigEnvironment\":{\"tier\":\"DEVELOPMENT\"}}",
      T },
    { "user_bucket NaCl/123 = 894: lt 895", BUCKET("lt", "895", "NaCl"),
      "{\"userID\":\"123\"}", T },
    { "user_bucket NaCl/123 = 894: lt 894", BUCKET("lt", "894", "NaCl"),
      "{\"userID\":\"123\"}", F },
    { "user_bucket any [894]", BUCKET("any", "[894]", "NaCl"),
      "{\"userID\":\"123\"}", T },
    { "user_bucket numeric userID", BUCKET("any", "[894]", "NaCl"),
      "{\"userID\":123}", T },
    { "unit_id any [u1]", UNIT("any", "[\"u1\"]", "userID"), U(""), T },
    { "unit_id idType USERID", UNIT("any", "[\"u1\"]", "USERID"), U(""), T },
    { "unit_id custom idType, ci key scan",
      UNIT("any", "[\"c1\"]", "COMPANYID"),
      "{\"userID\":\"u1\",\"customIDs\":{\"companyID\":\"c1\"}}", T },
    { "unit_id missing none", UNIT("none", "[\"c1\"]", "companyID"), U(""),
      T },
    { "ip_based country from ip", COND("ip_based", "\"any\"", "[\"US\"]",
                                       "\"country\""),
      "{\"userID\":\"u1\",\"ip\":\"8.8.8.8\"}", T },
    { "ip_based user country wins", COND("ip_based", "\"any\"", "[\"US\"]",
                                         "\"country\""),
      "{\"userID\":\"u1\",\"ip\":\"8.8.8.8\",\"country\":\"DE\"}", F },
    { "ua_based os_name", COND("ua_based", "\"any\"", "[\"iOS\"]",
                               "\"os_name\""),
      "{\"userID\":\"u1\",\"userAgent\":\"Mozilla/5.0 (iPhone; CPU iPhone OS"
      " 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
      "Version/17.1.2 Mobile/15E148 Safari/604.1\"}", T },
    /* the runtime keeps the last user agent's answer by its bytes: the
     * same again, another of the same length, the first again */
    { "ua_based os_name, the same user agent again",
      COND("ua_based", "\"any\"", "[\"iOS\"]", "\"os_name\""),
      "{\"userID\":\"u2\",\"userAgent\":\"" UA_IOS "\"}", T },
    { "ua_based os_name, another user agent of the same length",
      COND("ua_based", "\"any\"", "[\"iOS\"]", "\"os_name\""),
      "{\"userID\":\"u3\",\"userAgent\":\"" UA_WIN_139 "\"}", F },
    { "ua_based os_name, the first user agent again",
      COND("ua_based", "\"any\"", "[\"iOS\"]", "\"os_name\""),
      "{\"userID\":\"u4\",\"userAgent\":\"" UA_IOS "\"}", T },
    { "ua_based browser_version, Firefox 120.0",
      COND("ua_based", "\"any\"", "[\"120.0\"]", "\"browser_version\""),
      "{\"userID\":\"u5\",\"userAgent\":\"" UA_FF("120.0") "\"}", T },
    { "ua_based browser_version, then 120.1: the last byte differs",
      COND("ua_based", "\"any\"", "[\"120.0\"]", "\"browser_version\""),
      "{\"userID\":\"u6\",\"userAgent\":\"" UA_FF("120.1") "\"}", F },
    { "ua_based browser_version, Chrome 120",
      COND("ua_based", "\"any\"", "[\"120.0.0.0\"]",
           "\"browser_version\""),
      "{\"userID\":\"u7\",\"userAgent\":\"" UA_CHROME("120") "\"}", T },
    { "ua_based browser_version, then Chrome 121: the middle differs",
      COND("ua_based", "\"any\"", "[\"120.0.0.0\"]",
           "\"browser_version\""),
      "{\"userID\":\"u8\",\"userAgent\":\"" UA_CHROME("121") "\"}", F },

    /* unsupported: value false, rule id "", no exposures */
    { "unknown operator", UF("encoded_any_of", "[1]", "x"), U(""), UNSUP },
    { "unknown type", COND("bogus_type", "\"any\"", "[1]", "\"x\""), U(""),
      UNSUP },
    { "null operator on user_field", COND("user_field", "null", "[1]",
                                          "\"x\""), U(""), UNSUP },
    { "operator case-insensitive", UF("ANY", "[\"x\"]", "s"),
      U("\"s\":\"x\""), T },
    { "type case-insensitive", COND("USER_FIELD", "\"any\"", "[\"x\"]",
                                    "\"s\""), U("\"s\":\"x\""), T },
};


/*
 * More field spellings than the snapshot's field keys (SG_FIELD_KEYS_MAX,
 * 3 of them fixed): the fields past them are read by scanning the user,
 * with the same answers.  "Edge" takes the last key, its lower case none.
 * Every gate reads f0 too: a second field of the same user and session.
 */
#define FK_GATES  2100
#define FK_EDGE   2044
#define FK_USER(FIELDS)  "{\"userID\":\"u1\",\"f0\":\"x\"," FIELDS "}"

static const struct {
    const char  *gate;
    const char  *user;
    const char  *want;
    const char  *what;
} fk_cases[] = {
    { "k5", FK_USER("\"f5\":\"x\""), T, "a keyed field" },
    { "k5", FK_USER("\"custom\":{\"f5\":\"x\"}"), T,
      "a keyed field in custom" },
    { "k5", FK_USER("\"f5\":\"y\""), F, "a keyed field, another value" },
    { "k44", FK_USER("\"f44\":\"x\",\"f44\":\"y\""), F,
      "a duplicate key, the last wins" },
    { "k2090", FK_USER("\"f2090\":\"x\""), T, "a field past them, scanned" },
    { "k2090", FK_USER("\"f2090\":null,"
                       "\"privateAttributes\":{\"f2090\":\"x\"}"), T,
      "past them, null then privateAttributes" },
    { "k2090", FK_USER("\"f2091\":\"x\""), F, "past them, another field" },
    { "k2044", FK_USER("\"Edge\":\"x\""), T, "the last key, as spelled" },
    { "k2044", FK_USER("\"edge\":\"x\""), T,
      "the last key, its lower case past them" },
    { "k2044", FK_USER("\"Edge\":null,\"custom\":{\"edge\":\"x\"}"), T,
      "the last key, custom's lower case" },
    { "k2044", FK_USER("\"EDGE\":\"x\""), F,
      "the last key, no other spelling" },
    { "k7", "{\"userID\":\"u1\",\"f7\":\"x\"}", F, "f0 missing" },
};


static void
field_keys(void)
{
    te_doc_t   d;
    char      *dcs, *p, field[16];
    size_t     i;

    dcs = malloc(FK_GATES * 512 + 4096);
    p = dcs;
    p += sprintf(p, "{\"has_updates\":true,\"time\":1700000000000,"
                 "\"feature_gates\":[");

    for (i = 0; i < FK_GATES; i++) {
        if (i == FK_EDGE) {
            snprintf(field, sizeof(field), "Edge");
        } else {
            snprintf(field, sizeof(field), "f%zu", i);
        }

        p += sprintf(p, "%s{\"name\":\"k%zu\",\"type\":\"feature_gate\","
                     "\"entity\":\"feature_gate\",\"salt\":\"s\","
                     "\"enabled\":true,\"defaultValue\":false,"
                     "\"idType\":\"userID\",\"rules\":[{\"id\":\"r\","
                     "\"name\":\"r\",\"salt\":\"r\",\"passPercentage\":100,"
                     "\"conditions\":[%s,{\"type\":\"user_field\","
                     "\"operator\":\"any\",\"targetValue\":[\"x\"],"
                     "\"field\":\"%s\"}],\"returnValue\":true,"
                     "\"idType\":\"userID\",\"isDeviceBased\":false}]}",
                     i ? "," : "", i, UF("any", "[\"x\"]", "f0"), field);
    }

    p += sprintf(p, "],\"dynamic_configs\":[],\"layer_configs\":[],"
                 "\"layers\":{}}");

    if (te_load(&d, "field-keys", dcs, NULL) != 0) {
        ok(0, "field keys document compiles");
        free(dcs);
        return;
    }

    for (i = 0; i < sizeof(fk_cases) / sizeof(fk_cases[0]); i++) {
        te_is(&d, STATSIG_KIND_GATE, fk_cases[i].gate, fk_cases[i].user,
              fk_cases[i].want, "field keys: %s", fk_cases[i].what);
    }

    te_free(&d);
    free(dcs);
}


int
main(void)
{
    te_doc_t   d;
    char      *dcs, *p;
    size_t     i, n, cap;

    n = sizeof(cases) / sizeof(cases[0]);
    cap = 4096;
    for (i = 0; i < n; i++) {
        cap += strlen(cases[i].cond) + 512;
    }

    dcs = malloc(cap);
    p = dcs;
    p += sprintf(p, "{\"has_updates\":true,\"time\":1700000000000,"
                 "\"feature_gates\":[");
    for (i = 0; i < n; i++) {
        p += sprintf(p, "%s{\"name\":\"c%zu\",\"type\":\"feature_gate\","
                     "\"entity\":\"feature_gate\",\"salt\":\"s%zu\","
                     "\"enabled\":true,\"defaultValue\":false,"
                     "\"idType\":\"userID\",\"rules\":[{\"id\":\"r\","
                     "\"name\":\"r\",\"salt\":\"r\",\"passPercentage\":100,"
                     "\"conditions\":[%s],\"returnValue\":true,"
                     "\"idType\":\"userID\",\"isDeviceBased\":false}]}",
                     i ? "," : "", i, i, cases[i].cond);
    }

    p += sprintf(p, "],\"dynamic_configs\":[],\"layer_configs\":[],"
                 "\"layers\":{},\"id_lists\":{\"list\":true}}");

    if (te_load(&d, "ops", dcs,
                "{\"list\":[\"u1\",\"company_1\",\"not_a_user\"]}") != 0)
    {
        ok(0, "operators document compiles");
        return done_testing();
    }

    for (i = 0; i < n; i++) {
        char  name[32];

        snprintf(name, sizeof(name), "c%zu", i);
        te_is(&d, STATSIG_KIND_GATE, name, cases[i].user, cases[i].want,
              "c%zu %s", i, cases[i].what);
    }

    /* again with the strings built as the nginx glue builds a user (their
     * number and lower case made when an operator reads them); not
     * recorded for the oracle a second time */
    {
        FILE  *users, *checks;

        users = d.dump_users;
        checks = d.dump_checks;
        d.dump_users = NULL;
        d.dump_checks = NULL;
        d.lazy = 1;

        for (i = 0; i < n; i++) {
            char  name[32];

            snprintf(name, sizeof(name), "c%zu", i);
            te_is(&d, STATSIG_KIND_GATE, name, cases[i].user, cases[i].want,
                  "c%zu %s (lazy strings)", i, cases[i].what);
        }

        d.lazy = 0;
        d.dump_users = users;
        d.dump_checks = checks;
    }

    te_free(&d);
    free(dcs);

    field_keys();

    return done_testing();
}
