/*
 * tlssess - TLS sessions of SMTP client processes (see tlssess.h)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "stats.h"
#include "tlssess.h"
#include "xalloc.h"

#define NBUCKETS 4096

/* the last TLS line of one process */
struct sent {
    struct sent *next;
    char host[128];		/* the host that logged */
    int pid;
    int level;			/* enum ml_tls */
    char relay_host[256];
    char relay_ip[64];
    long long seq;
};

struct tlssess {
    struct sent *bucket[NBUCKETS];
    size_t n;
    long long seq;
};

/* tlssess_new - an empty table */
struct tlssess *
tlssess_new(void)
{
    return xcalloc(1, sizeof(struct tlssess));
}

/* shash - FNV-1a of the logging host and the pid */
static unsigned
shash(const char *host, int pid)
{
    unsigned h = 2166136261u;

    while (*host)
	h = (h ^ (unsigned char) *host++) * 16777619u;
    h = (h ^ (unsigned) pid) * 16777619u;
    return h % NBUCKETS;
}

/* slot - where the entry of a process is, or would be linked */
static struct sent **
slot(struct tlssess *s, const struct ml_event *ev)
{
    struct sent **pp = &s->bucket[shash(ev->host, ev->pid)];

    for (; *pp; pp = &(*pp)->next)
	if ((*pp)->pid == ev->pid && strcmp((*pp)->host, ev->host) == 0)
	    break;
    return pp;
}

/* purge - forget the older half */
static void
purge(struct tlssess *s)
{
    long long cut = s->seq - (long long) s->n / 2;
    size_t i;

    for (i = 0; i < NBUCKETS; i++) {
	struct sent **pp = &s->bucket[i], *e;

	while ((e = *pp) != NULL) {
	    if (e->seq < cut) {
		*pp = e->next;
		free(e);
		s->n--;
	    } else {
		pp = &e->next;
	    }
	}
    }
}

/* tlssess_note - a TLS line: the process's session from now on */
void
tlssess_note(struct tlssess *s, const struct ml_event *ev)
{
    struct sent **pp, *e;

    if (ev->kind != ML_TLS || ev->pid == 0)
	return;
    if ((e = *(pp = slot(s, ev))) == NULL) {
	if (s->n >= TLSSESS_MAX) {
	    purge(s);
	    pp = slot(s, ev);
	}
	e = *pp = xcalloc(1, sizeof(*e));
	snprintf(e->host, sizeof(e->host), "%s", ev->host);
	e->pid = ev->pid;
	s->n++;
    }
    e->level = ev->tls;
    snprintf(e->relay_host, sizeof(e->relay_host), "%s", ev->relay_host);
    snprintf(e->relay_ip, sizeof(e->relay_ip), "%s", ev->relay_ip);
    e->seq = ++s->seq;
}

/* same_server - does the TLS line name the delivery's server? */
static int
same_server(const struct sent *e, const struct ml_event *ev)
{
    if (e->relay_ip[0])
	return strcmp(e->relay_ip, ev->relay_ip) == 0;
    return e->relay_host[0] && strcasecmp(e->relay_host, ev->relay_host) == 0;
}

/* tlssess_level - how a delivery of a process travelled; 0 plaintext */
int
tlssess_level(struct tlssess *s, const struct ml_event *ev)
{
    struct sent **pp, *e;

    if (ev->pid == 0 || (e = *(pp = slot(s, ev))) == NULL)
	return 0;
    if (same_server(e, ev)) {
	e->seq = ++s->seq;
	return e->level;
    }
    *pp = e->next;			/* another server: that session is over */
    free(e);
    s->n--;
    return 0;
}

/* tlssess_counter - the statistics counter of a level */
const char *
tlssess_counter(int level)
{
    return level == ML_TLS_VERIFIED ? STATS_TLS_VERIFIED
	: level == ML_TLS_UNVERIFIED ? STATS_TLS_UNVERIFIED : STATS_TLS_NONE;
}

/* tlssess_free - release the table */
void
tlssess_free(struct tlssess *s)
{
    size_t i;

    if (s == NULL)
	return;
    for (i = 0; i < NBUCKETS; i++) {
	struct sent *e, *next;

	for (e = s->bucket[i]; e; e = next) {
	    next = e->next;
	    free(e);
	}
    }
    free(s);
}
