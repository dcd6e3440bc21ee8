/*
 * metrics - what outpost-logd tells Prometheus
 *
 * SYNOPSIS
 *	#include "metrics.h"
 *
 *	struct metrics *metrics_new(const struct outpost_conf *conf,
 *				    const struct provider_table *providers);
 *	void metrics_tap(const char *sender, const char *provider,
 *			 const char *pool, const char *counter, long long n,
 *			 void *metrics);
 *	struct prom *metrics_render(struct metrics *m, struct rconn *rc,
 *				    const struct track_counts *tc,
 *				    long long overlong, long long now);
 *	void metrics_free(struct metrics *m);
 *
 * DESCRIPTION
 *	Two kinds of figures, in families that say which they are (the
 *	names are listed in outpost-logd(8)):
 *
 *	outpost_logd_*	what this process read from this node's log since
 *		it started, kept in its memory: deliveries by outcome,
 *		bounces by class and reason, backoffs started, lines read,
 *		Redis failures.  Each node counts only its own deliveries, so
 *		sum() over the nodes is the cluster's figure; a restart
 *		starts again from 0, which rate() and increase() expect.
 *		metrics_tap() is the stats_batch_tap(3) function that feeds
 *		them: it sees each increment track(3) adds.
 *
 *	outpost_cluster_*  the totals of every node and every program (the
 *		milter's accepted and suppressed, policyd's throttled, ...),
 *		read from Redis (stats(3)) at each scrape; the bounce and
 *		complaint ratios over 24 hours and 7 days; the backoffs in
 *		force.  Every node shows the same values: use one node's,
 *		or max() over nodes, never sum().  When Redis cannot be read,
 *		they are left out and outpost_logd_redis_up is 0.
 *
 *	Label values stay few: provider is a name of the provider table or
 *	"other", pool a configured pool, "default" or "other", reason one
 *	of the classifier's names.  Sender domains are labelled as they
 *	first appear, up to [logd] metrics_max_senders of them; later ones
 *	count as "other" (the cluster families keep the senders with the
 *	most mail, and sum the rest into "other").
 */
#ifndef OUTPOST_METRICS_H
#define OUTPOST_METRICS_H

#include "conf.h"
#include "prom.h"
#include "provider.h"
#include "redisconn.h"
#include "track.h"

struct metrics;

struct metrics *metrics_new(const struct outpost_conf *conf,
			    const struct provider_table *providers);
void metrics_tap(const char *sender, const char *provider, const char *pool,
		 const char *counter, long long n, void *metrics);
struct prom *metrics_render(struct metrics *m, struct rconn *rc,
			    const struct track_counts *tc, long long overlong, long long now);
void metrics_free(struct metrics *m);

#endif
