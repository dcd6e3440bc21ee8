/*
 * warmup - IP warm-up schedules and the calendar they count days in
 * (see warmup.h)
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "warmup.h"

/* parse_num - a decimal number below limit, the whole of [s, end) */
static int
parse_num(const char *s, const char *end, long long limit, long long *out)
{
    long long v = 0;

    if (s == end)
	return -1;
    for (; s < end; s++) {
	if (!isdigit((unsigned char) *s))
	    return -1;
	v = v * 10 + (*s - '0');
	if (v > limit)
	    return -1;
    }
    *out = v;
    return 0;
}

/* warmup_schedule_parse - "DAY:CAP" items, days strictly increasing */
int
warmup_schedule_parse(const struct conf_strlist *items, struct warmup_schedule *s,
		      const char **why)
{
    size_t i;

    s->n = 0;
    if (items->n > WARMUP_MAX_POINTS) {
	*why = "schedule: at most 64 DAY:CAP points";
	return -1;
    }
    for (i = 0; i < items->n; i++) {
	const char *item = items->v[i];
	const char *colon = strchr(item, ':');
	long long day, cap;

	if (colon == NULL
	    || parse_num(item, colon, WARMUP_MAX_DAY, &day) < 0
	    || parse_num(colon + 1, item + strlen(item), WARMUP_MAX_CAP, &cap) < 0) {
	    *why = "schedule: expected DAY:CAP items such as 1:200, 30:2000000";
	    return -1;
	}
	if (day < 1 || cap < 1) {
	    *why = "schedule: days start at 1 and caps at 1";
	    return -1;
	}
	if (s->n > 0 && day <= s->v[s->n - 1].day) {
	    *why = "schedule: days must increase";
	    return -1;
	}
	s->v[s->n].day = (long) day;
	s->v[s->n].cap = cap;
	s->n++;
    }
    return 0;
}

/* warmup_cap - the daily cap on a day of the warm-up (-1: no cap) */
long long
warmup_cap(const struct warmup_schedule *s, long day)
{
    size_t i;

    if (s->n == 0)
	return -1;
    if (day < 1)
	return 0;
    if (day <= s->v[0].day)
	return s->v[0].cap;
    for (i = 1; i < s->n; i++) {
	long d1 = s->v[i - 1].day, d2 = s->v[i].day;
	double c1 = (double) s->v[i - 1].cap, c2 = (double) s->v[i].cap;

	if (day == d2)
	    return s->v[i].cap;
	/* the same operations, in the same order, as gcra.lua */
	if (day < d2)
	    return (long long) floor(c1 * pow(c2 / c1, (double) (day - d1) / (double) (d2 - d1))
				     + 0.5);
    }
    return s->v[s->n - 1].cap;
}

/* warmup_tz_parse - "UTC", "+02:00", "-0530" or a tz database name */
int
warmup_tz_parse(const char *s, struct warmup_tz *tz, const char **why)
{
    memset(tz, 0, sizeof(*tz));
    tz->fixed = 1;
    if (strcmp(s, "UTC") == 0 || strcmp(s, "GMT") == 0 || strcmp(s, "Z") == 0)
	return 0;
    if (s[0] == '+' || s[0] == '-') {
	char digits[5];
	size_t n = 0;
	const char *p;
	long h, m;

	for (p = s + 1; *p && n < 5; p++) {
	    if (isdigit((unsigned char) *p))
		digits[n++] = *p;
	    else if (!(*p == ':' && p == s + 3))
		break;
	}
	if (*p != '\0' || n != 4) {
	    *why = "time zone: expected UTC, +HH:MM, -HH:MM or a name such as Europe/Paris";
	    return -1;
	}
	h = (digits[0] - '0') * 10 + (digits[1] - '0');
	m = (digits[2] - '0') * 10 + (digits[3] - '0');
	if (h > 14 || m > 59) {
	    *why = "time zone: offset out of range";
	    return -1;
	}
	tz->offset_s = (h * 3600 + m * 60) * (s[0] == '-' ? -1 : 1);
	return 0;
    }
    if (strlen(s) >= sizeof(tz->name) || strstr(s, "..") || s[0] == '/'
	|| strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-")
	!= strlen(s)) {
	*why = "time zone: not a valid zone name";
	return -1;
    }
    {
	char path[128];

	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", s);
	if (access(path, R_OK) != 0) {
	    *why = "time zone: unknown zone (not in /usr/share/zoneinfo)";
	    return -1;
	}
    }
    tz->fixed = 0;
    strcpy(tz->name, s);
    return 0;
}

/* warmup_tz_offset - seconds east of UTC at a moment */
long
warmup_tz_offset(const struct warmup_tz *tz, long long unix_s)
{
    static char current[64];
    time_t t = (time_t) unix_s;
    struct tm tm;

    if (tz->fixed)
	return tz->offset_s;
    /* the process has one local zone: make it this one, once */
    if (strcmp(current, tz->name) != 0) {
	setenv("TZ", tz->name, 1);
	tzset();
	snprintf(current, sizeof(current), "%s", tz->name);
    }
    if (localtime_r(&t, &tm) == NULL)
	return 0;
    return tm.tm_gmtoff;
}

/* floor_div - division rounding towards minus infinity */
static long long
floor_div(long long a, long long b)
{
    long long q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* warmup_day_number - days since 1970-01-01 in a zone of this offset */
long
warmup_day_number(long long unix_s, long offset_s)
{
    return (long) floor_div(unix_s + offset_s, 86400);
}

/* warmup_next_midnight - when the day after this one begins (UNIX time) */
long long
warmup_next_midnight(long long unix_s, long offset_s)
{
    return ((long long) warmup_day_number(unix_s, offset_s) + 1) * 86400 - offset_s;
}

/* days_from_civil - proleptic Gregorian date to days since 1970-01-01 */
static long
days_from_civil(long y, long m, long d)
{
    long era, yoe, doy, doe;

    y -= m <= 2;
    era = (long) floor_div(y, 400);
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* warmup_date_parse - "YYYY-MM-DD" */
int
warmup_date_parse(const char *s, long *daynum, const char **why)
{
    long long y, m, d;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-'
	|| parse_num(s, s + 4, 9999, &y) < 0
	|| parse_num(s + 5, s + 7, 12, &m) < 0
	|| parse_num(s + 8, s + 10, 31, &d) < 0
	|| y < 1970 || m < 1 || d < 1 || d > mdays[m - 1]) {
	*why = "expected a date as YYYY-MM-DD";
	return -1;
    }
    if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) {
	*why = "no such date (not a leap year)";
	return -1;
    }
    *daynum = days_from_civil((long) y, (long) m, (long) d);
    return 0;
}

/* warmup_date_format - a day number as YYYY-MM-DD */
void
warmup_date_format(long daynum, char *buf, size_t len)
{
    long z = daynum + 719468;
    long era = (long) floor_div(z, 146097);
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long y = yoe + era * 400;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    long d = doy - (153 * mp + 2) / 5 + 1;
    long m = mp < 10 ? mp + 3 : mp - 9;

    snprintf(buf, len, "%04ld-%02ld-%02ld", y + (m <= 2), m, d);
}
