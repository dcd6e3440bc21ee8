/*
 * evkeys - the Redis keys of a tenant's events and webhooks
 * (see evkeys.h)
 */
#include "config.h"

#include <stdio.h>

#include "evkeys.h"

/* evkeys_stream - PREFIX{ev:TENANT}:s */
void
evkeys_stream(char *buf, size_t len, const char *prefix, const char *tenant)
{
    snprintf(buf, len, "%s{ev:%s}:s", prefix, tenant);
}

/* evkeys_dead - PREFIX{ev:TENANT}:dead */
void
evkeys_dead(char *buf, size_t len, const char *prefix, const char *tenant)
{
    snprintf(buf, len, "%s{ev:%s}:dead", prefix, tenant);
}

/* evkeys_state - PREFIX{ev:TENANT}:wh */
void
evkeys_state(char *buf, size_t len, const char *prefix, const char *tenant)
{
    snprintf(buf, len, "%s{ev:%s}:wh", prefix, tenant);
}

/* evkeys_lease - PREFIX{ev:TENANT}:lease */
void
evkeys_lease(char *buf, size_t len, const char *prefix, const char *tenant)
{
    snprintf(buf, len, "%s{ev:%s}:lease", prefix, tenant);
}
