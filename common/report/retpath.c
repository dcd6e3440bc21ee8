/*
 * retpath - the sender's own domain behind a tagged return path (see retpath.h)
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "conf.h"
#include "retpath.h"
#include "verp.h"

/* retpath_pattern - the bounce-domain setting, read in this one place */
const char *
retpath_pattern(const struct outpost_conf *conf)
{
    return conf->intake.bounce_domain;
}

/* lower_copy - len bytes of s in lower case; "" when they do not fit */
static void
lower_copy(const char *s, size_t len, char *out, size_t size)
{
    size_t i;

    if (size == 0)
	return;
    if (len >= size)
	len = 0;
    for (i = 0; i < len; i++)
	out[i] = (char) tolower((unsigned char) s[i]);
    out[len] = '\0';
}

/* pattern_match - the "%d" part of dom under pattern; -1 when it does not match */
static int
pattern_match(const char *pattern, const char *dom, size_t dl, char *out, size_t size)
{
    const char *pct = strstr(pattern, "%d");
    size_t pl, sl;

    if (pct == NULL)
	return -1;
    pl = (size_t) (pct - pattern);
    sl = strlen(pct + 2);
    if (dl <= pl + sl || strncasecmp(dom, pattern, pl) != 0
	|| strncasecmp(dom + dl - sl, pct + 2, sl) != 0)
	return -1;
    lower_copy(dom + pl, dl - pl - sl, out, size);
    return 0;
}

/* retpath_domain_match - is dom the bounce domain? out gets the "%d" part */
int
retpath_domain_match(const char *pattern, const char *dom, char *out, size_t size)
{
    char part[DOMAIN_MAX];

    if (out && size)
	out[0] = '\0';
    if (strstr(pattern, "%d") == NULL)
	return strcasecmp(dom, pattern) == 0;
    if (pattern_match(pattern, dom, strlen(dom), part, sizeof(part)) < 0)
	return 0;
    if (out && size)
	snprintf(out, size, "%s", part);
    return 1;
}

/* retpath_sender_domain - the sender domain of an envelope sender */
int
retpath_sender_domain(const char *pattern, const char *bounce_local, const char *addr,
		      char *out, size_t size, unsigned long long *id)
{
    const char *at = strrchr(addr, '@'), *dom;
    size_t bl = bounce_local ? strlen(bounce_local) : 0, dl;
    struct verp_token t;
    int tagged = 0;

    *id = 0;
    if (size == 0)
	return RETPATH_PLAIN;
    out[0] = '\0';
    if (at == NULL)
	return RETPATH_PLAIN;
    dom = at + 1;
    dl = strlen(dom);
    if (pattern == NULL) {
	lower_copy(dom, dl, out, size);
	return RETPATH_PLAIN;
    }
    /* BOUNCE_LOCAL-TOKEN: the token may name the sender domain itself */
    if (bl > 0 && (size_t) (at - addr) > bl + 1 && strncasecmp(addr, bounce_local, bl) == 0
	&& addr[bl] == '-'
	&& verp_peek(addr + bl + 1, (size_t) (at - addr) - bl - 1, &t) == VERP_OK) {
	tagged = 1;
	if (t.mode == 0 && t.sender_domain[0]) {
	    lower_copy(t.sender_domain, strlen(t.sender_domain), out, size);
	    return RETPATH_MAPPED;
	}
    }
    if (pattern_match(pattern, dom, dl, out, size) == 0)
	return RETPATH_MAPPED;
    lower_copy(dom, dl, out, size);
    if (tagged && t.mode == 1 && strcasecmp(dom, pattern) == 0) {
	*id = t.id;
	return RETPATH_ID;
    }
    return RETPATH_PLAIN;
}
