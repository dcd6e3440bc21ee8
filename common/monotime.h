/*
 * monotime - milliseconds on the monotonic clock
 *
 * SYNOPSIS
 *	#include "monotime.h"
 *
 *	long long monotime_ms(void);
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

#endif
