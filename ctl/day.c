/*
 * day - the UTC days of outpostctl's daily counters
 *
 * SYNOPSIS
 *	#include "ctl.h"
 *
 *	int ctl_day_parse(const char *s, char key[CTL_DAY_KEY]);
 *	void ctl_day_today(long long now, char key[CTL_DAY_KEY]);
 *	void ctl_day_show(const char *key, char out[CTL_DAY_SHOW]);
 *
 * DESCRIPTION
 *	Daily counters in Redis are named by the day as "YYYYMMDD" (the
 *	key form).  People read and write a day as "YYYY-MM-DD", the RFC
 *	3339 full-date that outpostctl prints everywhere.
 *
 *	ctl_day_parse() accepts "YYYY-MM-DD", and "YYYYMMDD" as older
 *	versions did, and gives the key form; -1 when s is not a real date.
 *	ctl_day_today() is the key form of the UTC day of now;
 *	ctl_day_show() turns a key form into "YYYY-MM-DD".
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "suppress.h"

/* ctl_day_parse - "YYYY-MM-DD" or "YYYYMMDD" into "YYYYMMDD" */
int
ctl_day_parse(const char *s, char key[CTL_DAY_KEY])
{
    char dashed[CTL_DAY_SHOW];
    const char *why;
    long long t;

    if (strlen(s) == 8 && strspn(s, "0123456789") == 8) {
	snprintf(dashed, sizeof(dashed), "%.4s-%.2s-%.2s", s, s + 4, s + 6);
	s = dashed;
    }
    if (strlen(s) != 10 || sup_time_parse(s, 10, &t, &why) < 0)
	return -1;
    ctl_day_today(t, key);
    return 0;
}

/* ctl_day_today - the UTC day of now, as "YYYYMMDD" */
void
ctl_day_today(long long now, char key[CTL_DAY_KEY])
{
    time_t t = (time_t) now;
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(key, CTL_DAY_KEY, "%Y%m%d", &tm);
}

/* ctl_day_show - "YYYYMMDD" as "YYYY-MM-DD" */
void
ctl_day_show(const char *key, char out[CTL_DAY_SHOW])
{
    snprintf(out, CTL_DAY_SHOW, "%.4s-%.2s-%.2s", key, key + 4, key + 6);
}
