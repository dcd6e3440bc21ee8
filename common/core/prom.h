/*
 * prom - the Prometheus text format, written once for every daemon
 *
 * SYNOPSIS
 *	#include "prom.h"
 *
 *	struct prom *prom_new(const char *node);
 *	void prom_family(struct prom *p, const char *name,
 *			 enum prom_type type, const char *help);
 *	void prom_counter(struct prom *p, const char *const *labels,
 *			  unsigned long long n);
 *	void prom_gauge(struct prom *p, const char *const *labels,
 *			double value);
 *	void prom_histogram(struct prom *p, const char *const *labels,
 *			    const struct prom_hist *h);
 *	const char *prom_text(const struct prom *p, size_t *len);
 *	void prom_free(struct prom *p);
 *
 *	void prom_hist_init(struct prom_hist *h, const double *bounds,
 *			    size_t n);
 *	void prom_hist_observe_us(struct prom_hist *h, long long us);
 *
 *	PROM_INC(counter), PROM_ADD(counter, n), PROM_GET(counter)
 *
 * DESCRIPTION
 *	A page in the text exposition format 0.0.4, built in memory: each
 *	family opens with "# HELP" and "# TYPE" (prom_family()), then its
 *	samples follow.  Every sample carries the label node="NODE" first
 *	(this relay's name, [general] node), so that dashboards can sum
 *	over nodes and tell them apart.  labels is NULL or a NULL-terminated
 *	list of name, value pairs.
 *
 *	Label values and HELP text are escaped as the format requires
 *	(backslash, double quote, newline); other control bytes and bytes
 *	outside ASCII in a label value become '?', so a hostile name from a
 *	log line cannot break the page or its UTF-8.
 *
 *	prom_counter() writes NAME, prom_gauge() NAME, prom_histogram()
 *	NAME_bucket (cumulative, ending with le="+Inf"), NAME_sum and
 *	NAME_count, where NAME is the family last opened.  Its _count is the
 *	+Inf bucket, so the two agree even while other threads observe.
 *
 *	A histogram (struct prom_hist) holds durations: up to PROM_HIST_MAX
 *	upper bounds in seconds, ascending.  prom_hist_observe_us() and the
 *	PROM_* macros are atomic, for counters that several threads share;
 *	readers see each value whole.
 *
 * DIAGNOSTICS
 *	Mistakes of the program, not of its input, are fatal: a family
 *	opened twice (its samples must stay together), a counter whose name
 *	does not end in "_total", a name the format does not allow, a
 *	sample outside a family, or one of the wrong type.
 */
#ifndef OUTPOST_PROM_H
#define OUTPOST_PROM_H

#include <stddef.h>

enum prom_type { PROM_COUNTER, PROM_GAUGE, PROM_HISTOGRAM };

#define PROM_HIST_MAX 16

struct prom_hist {
    size_t n;				/* bounds in use */
    double bound[PROM_HIST_MAX];	/* upper bounds, seconds */
    unsigned long long count[PROM_HIST_MAX + 1];	/* per bucket; last: above all */
    unsigned long long sum_us;
};

#define PROM_INC(c)	__atomic_add_fetch(&(c), 1, __ATOMIC_RELAXED)
#define PROM_ADD(c, n)	__atomic_add_fetch(&(c), (n), __ATOMIC_RELAXED)
#define PROM_GET(c)	__atomic_load_n(&(c), __ATOMIC_RELAXED)

struct prom;

struct prom *prom_new(const char *node);
void prom_family(struct prom *p, const char *name, enum prom_type type, const char *help);
void prom_counter(struct prom *p, const char *const *labels, unsigned long long n);
void prom_gauge(struct prom *p, const char *const *labels, double value);
void prom_histogram(struct prom *p, const char *const *labels, const struct prom_hist *h);
const char *prom_text(const struct prom *p, size_t *len);
void prom_free(struct prom *p);

void prom_hist_init(struct prom_hist *h, const double *bounds, size_t n);
void prom_hist_observe_us(struct prom_hist *h, long long us);

#endif
