/*
 * Date.parse as V8 implements it: the ISO (ES5) format first, then the
 * legacy parser for everything else, on the components the ISO attempt
 * already read.  Local time is UTC (statsig-node runs with TZ=UTC in the
 * oracle, and the spec asks for UTC).
 */

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "jsdate.h"
#include "jsstr.h"
#include "utf8.h"


#define SG_NONE        (-2147483647 - 1)
#define SG_MAX_DIGITS  9


enum {
    SG_TOK_INVALID = 0,
    SG_TOK_NUMBER,
    SG_TOK_SYMBOL,
    SG_TOK_WHITESPACE,
    SG_TOK_KEYWORD,
    SG_TOK_WORD,            /* a word that is no keyword */
    SG_TOK_UNKNOWN,
    SG_TOK_END
};

enum {
    SG_KW_MONTH = 1,
    SG_KW_AM_PM,
    SG_KW_TZ,
    SG_KW_TIME_SEP
};


typedef struct {
    int   tag;
    int   value;        /* number value, symbol char, keyword value */
    int   length;       /* digits of a number, letters of a word */
    int   kw_type;
} sg_tok_t;


typedef struct {
    const unsigned char  *p;
    const unsigned char  *end;
    sg_tok_t              next;
} sg_scan_t;


typedef struct {
    int  comp[3];
    int  index;
    int  named_month;
    int  iso;
} sg_day_t;

typedef struct {
    int  comp[4];
    int  index;
    int  hour_offset;
} sg_time_t;

typedef struct {
    int  sign;
    int  hour;
    int  minute;
} sg_tz_t;


static const struct {
    const char  *name;
    int          type;
    int          value;
} sg_keywords[] = {
    { "jan", SG_KW_MONTH, 1 }, { "feb", SG_KW_MONTH, 2 },
    { "mar", SG_KW_MONTH, 3 }, { "apr", SG_KW_MONTH, 4 },
    { "may", SG_KW_MONTH, 5 }, { "jun", SG_KW_MONTH, 6 },
    { "jul", SG_KW_MONTH, 7 }, { "aug", SG_KW_MONTH, 8 },
    { "sep", SG_KW_MONTH, 9 }, { "oct", SG_KW_MONTH, 10 },
    { "nov", SG_KW_MONTH, 11 }, { "dec", SG_KW_MONTH, 12 },
    { "am", SG_KW_AM_PM, 0 }, { "pm", SG_KW_AM_PM, 12 },
    { "ut", SG_KW_TZ, 0 }, { "utc", SG_KW_TZ, 0 }, { "z", SG_KW_TZ, 0 },
    { "gmt", SG_KW_TZ, 0 }, { "cdt", SG_KW_TZ, -5 },
    { "cst", SG_KW_TZ, -6 }, { "edt", SG_KW_TZ, -4 },
    { "est", SG_KW_TZ, -5 }, { "mdt", SG_KW_TZ, -6 },
    { "mst", SG_KW_TZ, -7 }, { "pdt", SG_KW_TZ, -7 },
    { "pst", SG_KW_TZ, -8 }, { "t", SG_KW_TIME_SEP, 0 }
};


static uint32_t
sg_peek_cp(sg_scan_t *s, const unsigned char **after)
{
    const unsigned char  *q;
    uint32_t              c;

    q = s->p;
    c = statsig_utf8_next(&q, s->end);
    *after = q;

    return c;
}


static sg_tok_t
sg_read_token(sg_scan_t *s)
{
    sg_tok_t              t;
    const unsigned char  *after, *start;
    uint32_t              c;
    char                  word[3];
    int                   n, depth;
    size_t                i;

    memset(&t, 0, sizeof(t));

    if (s->p >= s->end) {
        t.tag = SG_TOK_END;
        return t;
    }

    c = *s->p;

    if (c >= '0' && c <= '9') {
        n = 0;
        depth = 0;      /* significant digits read */
        while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
            if (depth < SG_MAX_DIGITS) {
                n = n * 10 + (*s->p - '0');
                if (n > 0) {
                    depth++;
                }
            }

            t.length++;
            s->p++;
        }

        t.tag = SG_TOK_NUMBER;
        t.value = n;
        return t;
    }

    if (c == ':' || c == '-' || c == '+' || c == '.' || c == ')') {
        s->p++;
        t.tag = SG_TOK_SYMBOL;
        t.value = (int) c;
        return t;
    }

    c = sg_peek_cp(s, &after);

    if (c >= 'A' && !statsig_js_space(c)) {
        start = s->p;
        n = 0;
        while (s->p < s->end) {
            c = sg_peek_cp(s, &after);
            if (c < 'A' || statsig_js_space(c)) {
                break;
            }

            if (n < 3) {
                /* non-ASCII never matches a keyword */
                word[n] = (char) (c > 127 ? 1
                                  : (c >= 'A' && c <= 'Z') ? c + 32 : c);
            }

            n++;
            s->p = after;
        }

        (void) start;
        t.tag = SG_TOK_WORD;
        t.length = n;

        for (i = 0; i < sizeof(sg_keywords) / sizeof(sg_keywords[0]); i++) {
            size_t  kl = strlen(sg_keywords[i].name);

            if (n < (int) kl || (n > 3 && sg_keywords[i].type != SG_KW_MONTH)
                || (n > (int) kl && n <= 3))
            {
                continue;
            }

            if (memcmp(word, sg_keywords[i].name, kl) == 0) {
                t.tag = SG_TOK_KEYWORD;
                t.kw_type = sg_keywords[i].type;
                t.value = sg_keywords[i].value;
                break;
            }
        }

        return t;
    }

    if (c == '(') {
        depth = 0;
        do {
            c = *s->p;
            if (c == ')') {
                depth--;
            } else if (c == '(') {
                depth++;
            }

            s->p++;
        } while (depth > 0 && s->p < s->end);

        t.tag = SG_TOK_UNKNOWN;
        return t;
    }

    if (statsig_js_space(c)) {
        while (s->p < s->end) {
            c = sg_peek_cp(s, &after);
            if (!statsig_js_space(c)) {
                break;
            }

            s->p = after;
        }

        t.tag = SG_TOK_WHITESPACE;
        return t;
    }

    s->p = after;
    t.tag = SG_TOK_UNKNOWN;

    return t;
}


static sg_tok_t
sg_next(sg_scan_t *s)
{
    sg_tok_t  t;

    t = s->next;
    s->next = sg_read_token(s);

    return t;
}


static int
sg_skip_symbol(sg_scan_t *s, int c)
{
    if (s->next.tag == SG_TOK_SYMBOL && s->next.value == c) {
        sg_next(s);
        return 1;
    }

    return 0;
}


static int
sg_peek_fixed(sg_scan_t *s, int len)
{
    return s->next.tag == SG_TOK_NUMBER && s->next.length == len;
}


static int sg_between(int x, int lo, int hi) { return x >= lo && x <= hi; }
static int sg_is_day(int x) { return sg_between(x, 1, 31); }
static int sg_is_month(int x) { return sg_between(x, 1, 12); }
static int sg_is_hour(int x) { return sg_between(x, 0, 23); }
static int sg_is_minute(int x) { return sg_between(x, 0, 59); }
static int sg_is_hour12(int x) { return sg_between(x, 0, 12); }
static int sg_is_ms(int x) { return sg_between(x, 0, 999); }


static int
sg_day_add(sg_day_t *d, int n)
{
    if (d->index < 3) {
        d->comp[d->index++] = n;
        return 1;
    }

    return 0;
}


static int
sg_time_add(sg_time_t *t, int n)
{
    if (t->index < 4) {
        t->comp[t->index++] = n;
        return 1;
    }

    return 0;
}


static int
sg_time_add_final(sg_time_t *t, int n)
{
    if (!sg_time_add(t, n)) {
        return 0;
    }

    while (t->index < 4) {
        t->comp[t->index++] = 0;
    }

    return 1;
}


static int
sg_time_expecting(sg_time_t *t, int n)
{
    return (t->index == 1 && sg_is_minute(n))
           || (t->index == 2 && sg_is_minute(n))
           || (t->index == 3 && sg_is_ms(n));
}


static void
sg_tz_set(sg_tz_t *tz, int offset_hours)
{
    tz->sign = offset_hours < 0 ? -1 : 1;
    tz->hour = offset_hours < 0 ? -offset_hours : offset_hours;
    tz->minute = 0;
}


static int
sg_read_ms(sg_tok_t t)
{
    int  number, length, factor;

    number = t.value;
    length = t.length;

    if (length == 1) {
        number *= 100;

    } else if (length == 2) {
        number *= 10;

    } else if (length > 3) {
        if (length > SG_MAX_DIGITS) {
            length = SG_MAX_DIGITS;
        }

        factor = 1;
        do {
            factor *= 10;
            length--;
        } while (length > 3);

        number /= factor;
    }

    return number;
}


/* Returns 1 with the next unhandled token, 0 when the string is invalid. */
static int
sg_parse_es5(sg_scan_t *s, sg_day_t *day, sg_time_t *time, sg_tz_t *tz,
    sg_tok_t *unhandled)
{
    sg_tok_t  sign;
    int       year, hour24, hourmin;

    if (s->next.tag == SG_TOK_SYMBOL
        && (s->next.value == '+' || s->next.value == '-'))
    {
        sign = sg_next(s);
        if (!sg_peek_fixed(s, 6)) {
            *unhandled = sign;
            return 1;
        }

        year = sg_next(s).value;
        if (sign.value == '-' && year == 0) {
            *unhandled = sign;
            return 1;
        }

        sg_day_add(day, sign.value == '-' ? -year : year);

    } else if (sg_peek_fixed(s, 4)) {
        sg_day_add(day, sg_next(s).value);

    } else {
        *unhandled = sg_next(s);
        return 1;
    }

    if (sg_skip_symbol(s, '-')) {
        if (!sg_peek_fixed(s, 2) || !sg_is_month(s->next.value)) {
            *unhandled = sg_next(s);
            return 1;
        }

        sg_day_add(day, sg_next(s).value);

        if (sg_skip_symbol(s, '-')) {
            if (!sg_peek_fixed(s, 2) || !sg_is_day(s->next.value)) {
                *unhandled = sg_next(s);
                return 1;
            }

            sg_day_add(day, sg_next(s).value);
        }
    }

    if (!(s->next.tag == SG_TOK_KEYWORD && s->next.kw_type == SG_KW_TIME_SEP))
    {
        if (s->next.tag != SG_TOK_END) {
            *unhandled = sg_next(s);
            return 1;
        }

    } else {
        sg_next(s);

        if (!sg_peek_fixed(s, 2) || !sg_between(s->next.value, 0, 24)) {
            return 0;
        }

        hour24 = (s->next.value == 24);
        sg_time_add(time, sg_next(s).value);

        if (!sg_skip_symbol(s, ':')) {
            return 0;
        }

        if (!sg_peek_fixed(s, 2) || !sg_is_minute(s->next.value)
            || (hour24 && s->next.value > 0))
        {
            return 0;
        }

        sg_time_add(time, sg_next(s).value);

        if (sg_skip_symbol(s, ':')) {
            if (!sg_peek_fixed(s, 2) || !sg_is_minute(s->next.value)
                || (hour24 && s->next.value > 0))
            {
                return 0;
            }

            sg_time_add(time, sg_next(s).value);

            if (sg_skip_symbol(s, '.')) {
                if (s->next.tag != SG_TOK_NUMBER
                    || (hour24 && s->next.value > 0))
                {
                    return 0;
                }

                sg_time_add(time, sg_read_ms(sg_next(s)));
            }
        }

        if (s->next.tag == SG_TOK_KEYWORD && s->next.kw_type == SG_KW_TZ
            && s->next.length == 1)
        {
            sg_next(s);
            sg_tz_set(tz, 0);

        } else if (s->next.tag == SG_TOK_SYMBOL
                   && (s->next.value == '+' || s->next.value == '-'))
        {
            tz->sign = (sg_next(s).value == '+') ? 1 : -1;

            if (sg_peek_fixed(s, 4)) {
                hourmin = sg_next(s).value;
                if (!sg_is_hour(hourmin / 100)
                    || !sg_is_minute(hourmin % 100))
                {
                    return 0;
                }

                tz->hour = hourmin / 100;
                tz->minute = hourmin % 100;

            } else {
                if (!sg_peek_fixed(s, 2) || !sg_is_hour(s->next.value)) {
                    return 0;
                }

                tz->hour = sg_next(s).value;

                if (!sg_skip_symbol(s, ':')) {
                    return 0;
                }

                if (!sg_peek_fixed(s, 2) || !sg_is_minute(s->next.value)) {
                    return 0;
                }

                tz->minute = sg_next(s).value;
            }
        }

        if (s->next.tag != SG_TOK_END) {
            return 0;
        }
    }

    if (tz->sign == SG_NONE && time->index == 0) {
        sg_tz_set(tz, 0);
    }

    day->iso = 1;
    unhandled->tag = SG_TOK_END;

    return 1;
}


/* Days from 1970-01-01 to year-month-1 (month 0-based, may overflow). */
static double
sg_days_from_civil(double y, double m)
{
    double  era, yoe, doy, doe, mp;

    y += floor(m / 12);
    m = fmod(m, 12);
    if (m < 0) {
        m += 12;
    }

    if (m < 2) {
        y -= 1;
    }

    era = floor(y / 400);
    yoe = y - era * 400;
    mp = (m >= 2) ? m - 2 : m + 10;
    doy = floor((153 * mp + 2) / 5);
    doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy;

    return era * 146097 + doe - 719468;
}


double
statsig_js_time_clip(double t)
{
    if (!isfinite(t) || fabs(t) > 8.64e15) {
        return NAN;
    }

    return trunc(t) + 0.0;
}


double
statsig_js_date_parse(const char *str, size_t len)
{
    sg_scan_t  s;
    sg_day_t   day;
    sg_time_t  time;
    sg_tz_t    tz;
    sg_tok_t   tok, t2;
    int        has_read_number, n, year, month, dday, i;
    int        hour, minute, second, ms, length;
    double     days, t;

    s.p = (const unsigned char *) str;
    s.end = s.p + len;
    s.next = sg_read_token(&s);

    memset(&day, 0, sizeof(day));
    memset(&time, 0, sizeof(time));
    day.named_month = SG_NONE;
    time.hour_offset = SG_NONE;
    tz.sign = SG_NONE;
    tz.hour = SG_NONE;
    tz.minute = SG_NONE;

    if (!sg_parse_es5(&s, &day, &time, &tz, &tok)) {
        return NAN;
    }

    has_read_number = day.index > 0;

    for (; tok.tag != SG_TOK_END; tok = sg_next(&s)) {

        if (tok.tag == SG_TOK_NUMBER) {
            has_read_number = 1;
            n = tok.value;

            if (sg_skip_symbol(&s, ':')) {
                if (sg_skip_symbol(&s, ':')) {
                    if (time.index != 0) {
                        return NAN;
                    }

                    sg_time_add(&time, n);
                    sg_time_add(&time, 0);

                } else {
                    if (!sg_time_add(&time, n)) {
                        return NAN;
                    }

                    if (s.next.tag == SG_TOK_SYMBOL && s.next.value == '.') {
                        sg_next(&s);
                    }
                }

            } else if (sg_skip_symbol(&s, '.') && sg_time_expecting(&time, n)) {
                sg_time_add(&time, n);
                if (s.next.tag != SG_TOK_NUMBER) {
                    return NAN;
                }

                ms = sg_read_ms(sg_next(&s));
                if (ms < 0) {
                    return NAN;
                }

                sg_time_add_final(&time, ms);

            } else if (tz.hour != SG_NONE && tz.minute == SG_NONE
                       && sg_is_minute(n))
            {
                tz.minute = n;

            } else if (sg_time_expecting(&time, n)) {
                sg_time_add_final(&time, n);

                if (!(s.next.tag == SG_TOK_END
                      || s.next.tag == SG_TOK_WHITESPACE
                      || (s.next.tag == SG_TOK_KEYWORD
                          && s.next.kw_type == SG_KW_TZ
                          && s.next.length == 1)
                      || (s.next.tag == SG_TOK_SYMBOL
                          && (s.next.value == '+' || s.next.value == '-'))))
                {
                    return NAN;
                }

            } else {
                if (!sg_day_add(&day, n)) {
                    return NAN;
                }

                sg_skip_symbol(&s, '-');
            }

        } else if (tok.tag == SG_TOK_KEYWORD || tok.tag == SG_TOK_WORD) {

            if (tok.tag == SG_TOK_KEYWORD && tok.kw_type == SG_KW_AM_PM
                && time.index != 0)
            {
                time.hour_offset = tok.value;

            } else if (tok.tag == SG_TOK_KEYWORD
                       && tok.kw_type == SG_KW_MONTH)
            {
                day.named_month = tok.value;
                sg_skip_symbol(&s, '-');

            } else if (tok.tag == SG_TOK_KEYWORD && tok.kw_type == SG_KW_TZ
                       && has_read_number)
            {
                sg_tz_set(&tz, tok.value);

            } else {
                if (has_read_number) {
                    return NAN;
                }

                if (s.next.tag == SG_TOK_NUMBER) {
                    return NAN;
                }
            }

        } else if (tok.tag == SG_TOK_SYMBOL
                   && (tok.value == '+' || tok.value == '-')
                   && ((tz.sign != SG_NONE && tz.hour == 0
                        && tz.minute == 0)
                       || time.index != 0))
        {
            tz.sign = (tok.value == '+') ? 1 : -1;
            n = 0;
            length = 0;

            if (s.next.tag == SG_TOK_NUMBER) {
                t2 = sg_next(&s);
                length = t2.length;
                n = t2.value;
            }

            has_read_number = 1;

            if (s.next.tag == SG_TOK_SYMBOL && s.next.value == ':') {
                tz.hour = n;
                tz.minute = SG_NONE;

            } else if (length == 2 || length == 1) {
                tz.hour = n;
                tz.minute = 0;

            } else if (length == 4 || length == 3) {
                tz.hour = n / 100;
                tz.minute = n % 100;

            } else {
                return NAN;
            }

        } else if (tok.tag == SG_TOK_SYMBOL
                   && (tok.value == '+' || tok.value == '-'
                       || tok.value == ')')
                   && has_read_number)
        {
            return NAN;
        }
    }

    /* DayComposer::Write */
    if (day.index < 1) {
        return NAN;
    }

    while (day.index < 3) {
        day.comp[day.index++] = 1;
    }

    year = 0;
    if (day.named_month == SG_NONE) {
        if (day.iso || !sg_is_day(day.comp[0])) {
            year = day.comp[0];
            month = day.comp[1];
            dday = day.comp[2];

        } else {
            month = day.comp[0];
            dday = day.comp[1];
            year = day.comp[2];
        }

    } else {
        month = day.named_month;
        if (!sg_is_day(day.comp[0])) {
            year = day.comp[0];
            dday = day.comp[1];

        } else {
            dday = day.comp[0];
            year = day.comp[1];
        }
    }

    if (!day.iso) {
        if (sg_between(year, 0, 49)) {
            year += 2000;

        } else if (sg_between(year, 50, 99)) {
            year += 1900;
        }
    }

    if (!sg_is_month(month) || !sg_is_day(dday)) {
        return NAN;
    }

    /* TimeComposer::Write */
    while (time.index < 4) {
        time.comp[time.index++] = 0;
    }

    hour = time.comp[0];
    minute = time.comp[1];
    second = time.comp[2];
    ms = time.comp[3];

    if (time.hour_offset != SG_NONE) {
        if (!sg_is_hour12(hour)) {
            return NAN;
        }

        hour %= 12;
        hour += time.hour_offset;
    }

    if (!sg_is_hour(hour) || !sg_is_minute(minute) || !sg_is_minute(second)
        || !sg_is_ms(ms))
    {
        if (hour != 24 || minute != 0 || second != 0 || ms != 0) {
            return NAN;
        }
    }

    days = sg_days_from_civil(year, month - 1) + dday - 1;
    t = days * 86400000.0 + hour * 3600000.0 + minute * 60000.0
        + second * 1000.0 + ms;

    /* TimeZoneComposer::Write; no zone means local time, which is UTC */
    if (tz.sign != SG_NONE) {
        /* V8 sums in unsigned 32 bits and rejects what is no Smi */
        uint32_t  secs;

        secs = (uint32_t) (tz.hour == SG_NONE ? 0 : tz.hour) * 3600u
               + (uint32_t) (tz.minute == SG_NONE ? 0 : tz.minute) * 60u;
        if (secs > 2147483647u) {
            return NAN;
        }

        i = (int) secs;
        t -= (double) tz.sign * i * 1000.0;
    }

    return statsig_js_time_clip(t);
}
