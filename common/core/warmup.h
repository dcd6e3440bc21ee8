/*
 * warmup - IP warm-up schedules and the calendar they count days in
 *
 * SYNOPSIS
 *	#include "warmup.h"
 *
 *	int warmup_schedule_parse(const struct conf_strlist *items,
 *				  struct warmup_schedule *s, const char **why);
 *	void warmup_schedule_free(struct warmup_schedule *s);
 *	long long warmup_cap(const struct warmup_schedule *s, long day);
 *
 *	int warmup_tz_parse(const char *s, struct warmup_tz *tz,
 *			    const char **why);
 *	long warmup_tz_offset(const struct warmup_tz *tz, long long unix_s);
 *	long warmup_day_number(long long unix_s, long offset_s);
 *	long long warmup_next_midnight(long long unix_s, long offset_s);
 *
 *	int warmup_date_parse(const char *s, long *daynum, const char **why);
 *	void warmup_date_format(long daynum, char *buf, size_t len);
 *
 * DESCRIPTION
 *	A schedule is a list of "DAY:CAP" points ("1:200, 30:2000000"): the
 *	daily cap on day DAY of the warm-up (day 1 is the start date).  Between
 *	two points the cap grows geometrically (the same factor every day),
 *	rounded to the nearest integer; before the first point it is the first
 *	cap, after the last point the last cap.  Before day 1 (a start date in
 *	the future) the cap is 0.  policy/gcra.lua computes the same numbers
 *	with the same floating-point operations.
 *
 *	Days are counted in a time zone: "UTC" (the default), a fixed offset
 *	("+02:00", "-0530") or a zone name from the tz database
 *	("Europe/Paris"), whose offset follows daylight saving time.  A day
 *	number counts days since 1970-01-01 in that zone.
 *	warmup_tz_offset() gives the offset in seconds east of UTC at a time;
 *	warmup_next_midnight() the UNIX time at which the next day begins.
 *
 *	warmup_date_parse() reads "YYYY-MM-DD" as a day number;
 *	warmup_date_format() writes one (buf holds at least 11 bytes).
 *
 *	Parsers return 0, or -1 with *why pointing at a static text.
 */
#ifndef OUTPOST_WARMUP_H
#define OUTPOST_WARMUP_H

#include <stddef.h>

#include "confval.h"

#define WARMUP_MAX_POINTS 64
#define WARMUP_MAX_DAY 3650
#define WARMUP_MAX_CAP 1000000000000LL

struct warmup_point {
    long day;
    long long cap;
};

struct warmup_schedule {
    struct warmup_point v[WARMUP_MAX_POINTS];
    size_t n;			/* 0: no schedule, no cap */
};

struct warmup_tz {
    int fixed;			/* 1: offset_s holds; 0: zone name */
    long offset_s;
    char name[64];
};

int warmup_schedule_parse(const struct conf_strlist *items,
			  struct warmup_schedule *s, const char **why);
long long warmup_cap(const struct warmup_schedule *s, long day);

int warmup_tz_parse(const char *s, struct warmup_tz *tz, const char **why);
long warmup_tz_offset(const struct warmup_tz *tz, long long unix_s);
long warmup_day_number(long long unix_s, long offset_s);
long long warmup_next_midnight(long long unix_s, long offset_s);

int warmup_date_parse(const char *s, long *daynum, const char **why);
void warmup_date_format(long daynum, char *buf, size_t len);

#endif
