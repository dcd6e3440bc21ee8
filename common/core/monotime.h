/*
 * monotime - milliseconds (or microseconds) on the monotonic clock
 *
 * SYNOPSIS
 *	#include "monotime.h"
 *
 *	long long monotime_ms(void);
 *	long long monotime_us(void);
 *
 * DESCRIPTION
 *	For timeouts, backoff and latency: never jumps with the wall clock.
 */
#ifndef OUTPOST_MONOTIME_H
#define OUTPOST_MONOTIME_H

#include <time.h>

/* monotime_ms - monotonic milliseconds */
static inline long long
monotime_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* monotime_us - monotonic microseconds, for latencies */
static inline long long
monotime_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#endif
