/*
 * confval - parse the value types of outpost.conf, in one place
 *
 * SYNOPSIS
 *	#include "confval.h"
 *
 *	int confval_bool(const char *s, int *out, const char **why);
 *	int confval_long(const char *s, long min, long max, long *out,
 *			 const char **why);
 *	int confval_duration(const char *s, long long *ms, const char **why);
 *	int confval_rate(const char *s, struct conf_rate *out, const char **why);
 *	int confval_size(const char *s, unsigned long long *out,
 *			 const char **why);
 *	int confval_list(const char *s, struct conf_strlist *out,
 *			 const char **why);
 *	int confval_cidr(const char *s, struct cidr *out, const char **why);
int confval_nexthop(const char *s, struct conf_nexthop *out, const char **why);
 *	int confval_nexthop(const char *s, struct conf_nexthop *out,
 *			    const char **why);
 *	int cidr_match(const struct cidr *c, const struct sockaddr *sa);
 *	int cidr_list_match(const struct cidr_list *l, const struct sockaddr *sa);
 *	int cidr_list_match_str(const struct cidr_list *l, const char *addr);
 *	int conf_strlist_has(const struct conf_strlist *l, const char *s);
 *
 * DESCRIPTION
 *	Each parser returns 0 and stores the value, or returns -1 and points
 *	*why at a static text that says what is wrong.  Surrounding white
 *	space must already be removed (the config reader does that).
 *
 *	Booleans: yes/no, true/false, on/off, 1/0.
 *	Durations: a number with an optional unit: ms, s (default), m, h, d, w;
 *	several may be combined ("1h30m").  Stored in milliseconds.
 *	Rates: COUNT/UNIT or COUNT/DURATION ("600/m", "10/s", "5000/1h",
 *	"100/30s").  COUNT is a positive integer.
 *	Sizes: a number with an optional k, M, G suffix (powers of 1024).
 *	Lists: items separated by commas and/or white space; appended to.
 *	CIDRs: an IPv4 or IPv6 address with an optional /prefix.
 *	Next hops, as Postfix's relay= field names them: "host:port",
 *	"[v6]:port", "host" or "[v6]" (any port), a bare IPv6 address (any
 *	port), or a UNIX-domain socket "unix:PATH" (or a PATH holding a
 *	'/', as "private/amavis").
 */
#ifndef OUTPOST_CONFVAL_H
#define OUTPOST_CONFVAL_H

#include <stddef.h>
#include <sys/socket.h>

struct conf_rate {
    long count;			/* events ... */
    long long period_ms;	/* ... per this many milliseconds */
};

struct conf_strlist {
    char **v;
    size_t n;
};

struct conf_nexthop {
    char host[256];		/* host name or address; a socket's path */
    int port;			/* 0: any */
    int socket;			/* host is a UNIX-domain socket's path */
};

struct cidr {
    int family;			/* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int prefix;
};

struct cidr_list {
    struct cidr *v;
    size_t n;
};

int confval_bool(const char *s, int *out, const char **why);
int confval_long(const char *s, long min, long max, long *out, const char **why);
int confval_duration(const char *s, long long *ms, const char **why);
int confval_rate(const char *s, struct conf_rate *out, const char **why);
int confval_size(const char *s, unsigned long long *out, const char **why);
int confval_list(const char *s, struct conf_strlist *out, const char **why);
int confval_cidr(const char *s, struct cidr *out, const char **why);
int confval_nexthop(const char *s, struct conf_nexthop *out, const char **why);

void conf_strlist_free(struct conf_strlist *l);
void conf_strlist_add(struct conf_strlist *l, const char *s, size_t len);
/* does l hold s, in any case?  0 for NULL or "" */
int conf_strlist_has(const struct conf_strlist *l, const char *s);

int cidr_match(const struct cidr *c, const struct sockaddr *sa);
int cidr_list_match(const struct cidr_list *l, const struct sockaddr *sa);
int cidr_list_match_str(const struct cidr_list *l, const char *addr);

#endif
