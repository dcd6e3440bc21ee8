/*
 * provider - mailbox providers: which domains share one budget
 * (see provider.h)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "provider.h"
#include "xalloc.h"

struct builtin {
    const char *name;
    const char *mx;		/* white-space separated */
    const char *domains;
};

/*
 * The providers most bulk mail goes to, by the hosts their MX records
 * name.  Domains are the providers' own consumer domains, known without a
 * lookup; hosted domains (Google Workspace, Microsoft 365, ...) are found
 * through their MX records.
 */
static const struct builtin builtins[] = {
    {"google", "*.google.com *.googlemail.com",
	"gmail.com googlemail.com"},
    {"microsoft", "*.outlook.com *.hotmail.com",
	"outlook.com hotmail.com live.com msn.com hotmail.co.uk hotmail.fr "
	"live.fr outlook.fr hotmail.de outlook.de hotmail.it live.co.uk"},
    {"yahoo", "*.yahoodns.net",
	"yahoo.com aol.com ymail.com rocketmail.com aim.com yahoo.co.uk "
	"yahoo.fr yahoo.de yahoo.co.jp verizon.net att.net"},
    {"apple", "*.icloud.com", "icloud.com me.com mac.com"},
    {"comcast", "*.comcast.net", "comcast.net"},
    {"orange", "*.orange.fr", "orange.fr wanadoo.fr"},
    {"gmx", "*.gmx.net *.web.de", "gmx.de gmx.net gmx.com gmx.at web.de"},
    {"yandex", "*.yandex.net *.yandex.ru", "yandex.ru yandex.com ya.ru"},
    {"proton", "*.protonmail.ch", "proton.me protonmail.com pm.me"},
    {"mailru", "*.mail.ru", "mail.ru inbox.ru list.ru bk.ru"},
};

/* add_words - append white-space separated words to a list */
static void
add_words(struct conf_strlist *l, const char *words)
{
    const char *p = words;

    while (*p) {
	size_t n = strcspn(p, " ");

	if (n)
	    conf_strlist_add(l, p, n);
	p += n;
	p += strspn(p, " ");
    }
}

/* find_or_add - the provider of this name, appended when new */
static struct provider *
find_or_add(struct provider_table *t, const char *name)
{
    int i = provider_by_name(t, name);

    if (i >= 0)
	return &t->v[i];
    t->v = xreallocarray(t->v, t->n + 1, sizeof(*t->v));
    memset(&t->v[t->n], 0, sizeof(t->v[t->n]));
    t->v[t->n].name = xstrdup(name);
    return &t->v[t->n++];
}

/* add_conf - merge one [provider NAME] section */
static int
add_conf(struct provider_table *t, const struct outpost_conf *conf,
	 const struct conf_provider *cp, char *err, size_t errlen)
{
    int existed = provider_by_name(t, cp->named.name) >= 0;
    struct provider *p = find_or_add(t, cp->named.name);
    size_t i;

    if (!existed && cp->mx.n == 0 && cp->domains.n == 0) {
	snprintf(err, errlen, "%s:%d: [provider %s] is not built in: give it mx or domains",
		 conf->path, cp->named.line, cp->named.name);
	return -1;
    }
    for (i = 0; i < cp->mx.n; i++) {
	char host[DOMAIN_MAX];
	const char *why, *m = cp->mx.v[i];
	int wild = strncmp(m, "*.", 2) == 0;

	if (domain_normalize(m + 2 * wild, strlen(m + 2 * wild), host, sizeof(host), &why) < 0) {
	    snprintf(err, errlen, "%s:%d: [provider %s] mx %s: %s", conf->path, cp->named.line,
		     cp->named.name, m, why);
	    return -1;
	}
	if (wild) {
	    char pat[DOMAIN_MAX + 2];

	    snprintf(pat, sizeof(pat), "*.%s", host);
	    conf_strlist_add(&p->mx, pat, strlen(pat));
	} else {
	    conf_strlist_add(&p->mx, host, strlen(host));
	}
    }
    for (i = 0; i < cp->domains.n; i++) {
	char dom[DOMAIN_MAX];
	const char *why;

	if (domain_normalize(cp->domains.v[i], strlen(cp->domains.v[i]), dom,
			     sizeof(dom), &why) < 0) {
	    snprintf(err, errlen, "%s:%d: [provider %s] domain %s: %s", conf->path,
		     cp->named.line, cp->named.name, cp->domains.v[i], why);
	    return -1;
	}
	conf_strlist_add(&p->domains, dom, strlen(dom));
    }
    if (cp->rate.count > 0) {
	p->has_rate = 1;
	p->rate = cp->rate;
	p->burst = cp->burst;
	gcra_init(&p->gcra, &cp->rate, cp->burst);
    }
    return 0;
}

/* provider_table_build - the built-in table merged with the configuration */
int
provider_table_build(const struct outpost_conf *conf, struct provider_table *t,
		     char *err, size_t errlen)
{
    size_t i;

    memset(t, 0, sizeof(*t));
    for (i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++) {
	struct provider *p = find_or_add(t, builtins[i].name);

	add_words(&p->mx, builtins[i].mx);
	add_words(&p->domains, builtins[i].domains);
    }
    for (i = 0; i < conf->providers.n; i++) {
	if (add_conf(t, conf, CONF_VEC_AT(&conf->providers, i, struct conf_provider),
		     err, errlen) < 0) {
	    provider_table_free(t);
	    return -1;
	}
    }
    return 0;
}

/* provider_table_free - release a table */
void
provider_table_free(struct provider_table *t)
{
    size_t i;

    for (i = 0; i < t->n; i++) {
	free(t->v[i].name);
	conf_strlist_free(&t->v[i].mx);
	conf_strlist_free(&t->v[i].domains);
    }
    free(t->v);
    memset(t, 0, sizeof(*t));
}

/* provider_by_name - index of a provider */
int
provider_by_name(const struct provider_table *t, const char *name)
{
    size_t i;

    for (i = 0; i < t->n; i++)
	if (strcmp(t->v[i].name, name) == 0)
	    return (int) i;
    return -1;
}

/* provider_by_domain - a provider's own domain (no lookup needed) */
int
provider_by_domain(const struct provider_table *t, const char *domain)
{
    size_t i, j;

    for (i = 0; i < t->n; i++)
	for (j = 0; j < t->v[i].domains.n; j++)
	    if (strcmp(t->v[i].domains.v[j], domain) == 0)
		return (int) i;
    return -1;
}

/* provider_mx_match - "host" or "*.domain" against a host name */
int
provider_mx_match(const char *pattern, const char *host)
{
    size_t hl = strlen(host), sl;

    /* DNS answers may end in a dot */
    if (hl > 0 && host[hl - 1] == '.')
	hl--;
    if (strncmp(pattern, "*.", 2) != 0)
	return strlen(pattern) == hl && strncasecmp(pattern, host, hl) == 0;
    sl = strlen(pattern + 1);		/* ".domain" */
    return hl > sl && strncasecmp(host + hl - sl, pattern + 1, sl) == 0;
}

/* provider_by_mx - the provider whose pattern matches an MX host */
int
provider_by_mx(const struct provider_table *t, const char *host)
{
    size_t i, j;

    for (i = 0; i < t->n; i++)
	for (j = 0; j < t->v[i].mx.n; j++)
	    if (provider_mx_match(t->v[i].mx.v[j], host))
		return (int) i;
    return -1;
}
