/*
 * conf - read and validate outpost.conf
 *
 * SYNOPSIS
 *	#include "conf.h"
 *
 *	struct outpost_conf *conf_load(const char *path, char *err, size_t errlen);
 *	void conf_free(struct outpost_conf *conf);
 *	int conf_pool_by_sender(const struct outpost_conf *conf,
 *				const char *who);
 *
 * DESCRIPTION
 *	One INI-style file holds all static policy.  conf_load() reads it with
 *	inih, applies defaults, checks every value and every cross reference,
 *	and returns a complete configuration, or NULL with a message of the
 *	form "FILE:LINE: problem" in err.  Unknown sections and keys are errors,
 *	as are values set twice and lines longer than CONF_MAX_LINE.  A list
 *	value may continue on following indented lines.
 *
 *	Sections are plain ("[redis]") or named ("[provider gmail]"); each
 *	named section becomes one element of an array in struct outpost_conf.
 *	Each such element begins with a struct conf_named (its name and the
 *	line of its header), so that the reader handles them alike.
 *
 *	A configuration is immutable once loaded: reload = load a new one and
 *	swap it in; the old one is freed when nothing uses it any more.
 *
 *	conf_pool_by_sender() gives the index of the [pool NAME] whose
 *	senders list names who (a SASL user or a sender domain, any case),
 *	or -1.
 *
 *	conf_tenant_find() gives the [tenant NAME] of that name, and
 *	conf_tenant_of_domain() the tenant whose domains list names the
 *	sender domain (any case); NULL for none.
 */
#ifndef OUTPOST_CONF_H
#define OUTPOST_CONF_H

#include <stddef.h>

#include "confval.h"

#ifndef OUTPOST_CONF_PATH
#define OUTPOST_CONF_PATH "/etc/outpost/outpost.conf"
#endif

#define CONF_MAX_LINE 199	/* longest line inih reads whole */

struct conf_general {
    char *user;			/* drop privileges to this user */
    int syslog_facility;	/* LOG_MAIL ... */
    char *node;			/* this relay's name; after conf_load, never NULL */
};

struct conf_redis {
    char *server;		/* "host:port", "[v6]:port" or "unix:/path" */
    char *username;		/* ACL user (Redis 6+) */
    char *password;
    long db;
    char *prefix;		/* key namespace, e.g. "outpost:" */
    long long connect_timeout_ms;
    long long command_timeout_ms;
    long long reconnect_min_ms;	/* backoff after a failure ... */
    long long reconnect_max_ms;	/* ... doubling up to this */
    struct conf_strlist sentinels;	/* "host:port" each */
    struct conf_strlist cluster;	/* Redis Cluster seed nodes, "host:port" */
    char *sentinel_master;
    char *sentinel_password;
    int allow_eviction;		/* accept a maxmemory-policy that evicts */
};

enum conf_on_error { CONF_ON_ERROR_TEMPFAIL, CONF_ON_ERROR_ACCEPT };

struct conf_milter {
    char *socket;		/* unix:/path or inet:port@host */
    long long timeout_ms;	/* libmilter's I/O timeout */
    long backlog;
    char *socket_mode;		/* octal permissions for a unix socket */
    char *policy_service;	/* outpost-policyd at RCPT (Sendmail); NULL: off */
    long long policy_timeout_ms;	/* one request and its answer */
    int policy_default_action;	/* enum conf_on_error: policyd unreachable */
    int statistics;		/* count accepted and suppressed recipients */
    char *metrics_listen;	/* "host:port" of the Prometheus endpoint; NULL: off */
    struct conf_strlist list_unsubscribe_senders;	/* SASL users, sender domains */
    struct conf_strlist tracking_senders;	/* SASL users, sender domains */
    int tracking_text_links;	/* text/plain links too */
    unsigned long long tracking_max_size;	/* larger messages are not rewritten */
    char *campaign_header;	/* the campaign the tokens carry */
};

struct conf_policy {
    struct conf_strlist listen;	/* unix:/path, inet:host:port */
    long max_connections;	/* 0: from the open-file limit */
    long max_client_connections;	/* per TCP client address; 0: half the above */
    unsigned long long max_request_size;
    long long idle_timeout_ms;
    long long request_timeout_ms;	/* first byte to last of one request */
    /* outpost-policyd's decisions (outpost-policyd(8)) */
    long long decision_timeout_ms;	/* answer within this, whatever happens */
    char *defer_reply;		/* "$limit" and "$retry" are replaced */
    char *tempfail_reply;	/* when Redis cannot be asked */
    char *timezone;		/* days of the warm-up: UTC, +HH:MM, Area/City */
    int provider_on_error;	/* enum conf_on_error, per kind of limit */
    int domain_on_error;
    int sender_on_error;
    int warmup_on_error;
    struct conf_rate domain_rate;	/* each recipient domain; count 0: none */
    long domain_burst;
    struct conf_rate sender_rate;	/* each sender domain or SASL user */
    long sender_burst;
    int sender_key;		/* enum conf_sender_key */
    char *default_pool;		/* pool of senders no pool names */
    long long mx_timeout_ms;	/* MX lookup, within decision_timeout */
    long long mx_min_ttl_ms;	/* clamp of the cached answers' TTL */
    long long mx_max_ttl_ms;
    long long mx_negative_ttl_ms;	/* a failed lookup is cached this long */
    long mx_cache_size;
    long long max_pending;	/* requests waiting for Redis at once */
    char *metrics_listen;	/* "host:port" of the Prometheus endpoint; NULL: off */
};

enum conf_canon {
    CONF_CANON_RELAXED_RELAXED, CONF_CANON_RELAXED_SIMPLE,
    CONF_CANON_SIMPLE_RELAXED, CONF_CANON_SIMPLE_SIMPLE,
};

enum conf_sender_key { CONF_SENDER_AUTO, CONF_SENDER_SASL, CONF_SENDER_DOMAIN };

enum conf_sup_action { CONF_SUP_REJECT, CONF_SUP_DISCARD };

struct conf_suppress {
    int enabled;		/* check recipients at RCPT time */
    int action;			/* enum conf_sup_action */
    int on_redis_error;		/* enum conf_on_error */
};

struct conf_dkim {
    char *key_table;		/* file: domain selector algorithm keyfile */
    struct cidr_list sign_networks;	/* clients whose mail is signed */
    int sign_authenticated;	/* SASL-authenticated clients are signed */
    char *sasl_domains;		/* file: SASL user -> domains it may sign */
    int canonicalization;	/* enum conf_canon: header/body */
    struct conf_strlist sign_headers;
    struct conf_strlist oversign_headers;
    int on_error;		/* enum conf_on_error: internal signing error */
};

/* [dns] - what outpostctl dns and verify tell a sending domain to publish */
struct conf_dns {
    char *relay_hostname;	/* the relay's name: return-path MX, PTR target */
    char *spf_include;		/* publish include:THIS instead of pool addresses */
    char *dmarc_report;		/* rua address; "%d" stands for the From: domain */
    long long record_ttl_ms;	/* TTL of the printed records */
    long long lookup_timeout_ms;	/* the API's verify: wait per DNS query */
};

/* [logd]: the log follower */
struct conf_logd {
    char *maillog;		/* the MTA's log file */
    int start_at_end;		/* first run: 0 beginning, 1 end */
    char *node;			/* older name of [general] node */
    char *metrics_listen;	/* "host:port" of the Prometheus endpoint */
    long metrics_max_senders;	/* sender domains labelled by name */
    char *backoff_rules;	/* rules file, or NULL */
    int builtin_rules;		/* also use the built-in rules */
    long long poll_interval_ms;
    long long flush_interval_ms;
    long long max_line_age_ms;	/* older lines start no backoff, no suppression */
    long events_max;		/* length of the event stream; 0: none */
    int suppress_hard_bounces;	/* a logged hard bounce suppresses its address */
    long long blocklist_interval_ms;	/* [blocklist] checks; 0: none */
    struct conf_strlist filter_relays;	/* next hops that are content filters */
};

/* [intake] - bounce, complaint and unsubscribe mail (outpost-milter(8)) */
struct conf_intake {
    char *bounce_domain;	/* return-path domain; "%d": the sender domain; NULL: off */
    char *bounce_local;		/* LOCAL-TOKEN@bounce_domain */
    char *complaint_local;	/* complaint reports (feedback loops) */
    char *unsubscribe_local;	/* List-Unsubscribe mailto: */
    struct conf_strlist complaint_addresses;	/* more complaint addresses */
    char *secret_file;		/* token HMAC secrets, one a line */
    long long token_max_age_ms;	/* older tokens are stale */
    long soft_bounce_limit;	/* soft bounces ... */
    long long soft_bounce_window_ms;	/* ... within this: suppressed */
    long long soft_bounce_expiry_ms;	/* that entry lasts this long; 0: for good */
    unsigned long long max_report_size;	/* larger reports are not read */
    int keep_reports;		/* deliver reports after reading them */
    int rewrite_sender;		/* tag the envelope sender of outgoing mail */
};

/* [httpd] - outpost-httpd, the recipients' web endpoint (outpost-httpd(8)) */
struct conf_httpd {
    struct conf_strlist listen;	/* "host:port", "[v6]:port" */
    char *public_url;		/* "https://links.example.com": what links begin with */
    long max_connections;
    long max_connections_per_ip;	/* 0: no cap */
    long long request_timeout_ms;
    unsigned long long max_body;	/* larger request bodies are refused */
    long threads;		/* per listen address */
    long queue_max;		/* Redis writes waiting at once */
    char *metrics_listen;	/* "host:port" of the Prometheus endpoint; NULL: off */
    struct cidr_list trusted_proxies;	/* their X-Forwarded-For names the client */
    struct cidr_list machine_networks;	/* fetches from here are machines' */
    struct conf_strlist machine_user_agents;	/* more user agent words of machines */
    long long machine_delay_ms;	/* a fetch this soon after sending is a machine's */
    char *submit;		/* the MTA's smtpd for POST /v1/messages */
    long submit_connections;
    long long submit_timeout_ms;
    unsigned long long api_max_message;	/* larger API messages are refused */
    long api_max_recipients;	/* per POST /v1/messages */
    struct conf_strlist api_listen;	/* the platform API's listeners; none: off */
    unsigned long long api_import_max;	/* largest body of an import */
    struct conf_rate api_auth_failures;	/* 401s per client address ... */
    long api_auth_burst;	/* ... let through at once; 0: no limit */
};

/* [webhookd] - outpost-webhookd, the tenants' event webhooks (outpost-webhookd(8)) */
struct conf_webhookd {
    long batch_events;		/* events per POST at most */
    unsigned long long batch_bytes;	/* body size per POST at most (one event goes alone) */
    long long request_timeout_ms;	/* connect, send and answer of one POST */
    long long keepalive_idle_ms;	/* a connection idle this long is not used again; 0: per POST */
    long long backoff_min_ms;	/* first delay after a failed POST; doubles */
    long long backoff_max_ms;
    long long poll_interval_ms;	/* a stream without new events is read again after this */
    long long claim_idle_ms;	/* a node's hold on a tenant lasts this long unrenewed */
    long dead_max;		/* dead-letter entries kept per tenant */
    char *ca_file;		/* more CAs to trust; the system's are trusted too */
    char *metrics_listen;	/* "host:port" of the Prometheus endpoint; NULL: off */
};

/* What every named section begins with: [provider NAME] on line LINE */
struct conf_named {
    char *name;
    int line;
};

/* [provider NAME] */
struct conf_provider {
    struct conf_named named;	/* first: the reader fills it */
    struct conf_strlist mx;	/* MX host patterns: "*.google.com" */
    struct conf_strlist domains;	/* domains known to belong here */
    struct conf_rate rate;	/* count 0: no limit of its own */
    long burst;
};

/* [pool NAME] */
struct conf_pool {
    struct conf_named named;	/* first: the reader fills it */
    char *transport;		/* Postfix transport, e.g. "pool_warm1:" */
    struct conf_strlist addresses;	/* IPs the pool sends from */
    struct conf_strlist senders;	/* sender domains and SASL users */
    struct conf_strlist schedule;	/* warm-up "DAY:CAP" points */
    struct conf_strlist split;	/* "PROVIDER:PERCENT" of the daily cap */
    char *overflow;		/* pool to spill over to when capped */
    /* the warm-up holds (its day does not count) while ... (outpost-logd) */
    char *hold_bounce_rate;	/* ... the 24-h bounce rate is at least this ("5%") */
    char *hold_complaint_rate;	/* ... or the complaint rate ("0.3%") */
    int hold_when_listed;	/* ... or a blocklist lists one of its addresses */
    long hold_min_messages;	/* rates count from this many messages on */
    double hold_bounce, hold_complaint;	/* the rates as fractions; 0: no hold */
};

/* [domain NAME]: a recipient domain's own limit */
struct conf_domain {
    struct conf_named named;	/* first: the reader fills it */
    struct conf_rate rate;
    long burst;
};

/* [sender NAME]: a sender domain's or SASL user's own limit */
struct conf_sender {
    struct conf_named named;	/* first: the reader fills it */
    struct conf_rate rate;
    long burst;
};

/* [blocklist NAME]: a DNS blocklist the pool addresses or sending domains
 * are checked against (outpostctl reputation) */
enum conf_blocklist_kind { CONF_BL_IP, CONF_BL_DOMAIN };
struct conf_blocklist {
    struct conf_named named;	/* first: the reader fills it */
    char *zone;			/* "zen.spamhaus.org" */
    int kind;			/* enum conf_blocklist_kind */
    struct conf_strlist listed;	/* answers meaning listed: "127.0.0.2-127.0.0.11" */
    struct conf_strlist refused;	/* answers meaning "query refused": unknown */
    char *key;			/* DQS key: KEY.zone is asked */
    char *delist_url;		/* "%s" becomes the target */
};

/* [tenant NAME]: a customer of the relay: its sender domains, the limit of
 * its API keys and where its events are posted (outpost-httpd) */
struct conf_tenant {
    struct conf_named named;	/* first: the reader fills it */
    struct conf_strlist domains;	/* its sender domains; each in one tenant only */
    struct conf_rate api_rate;	/* API requests per key */
    long api_burst;
    char *webhook_url;		/* http:// or https:// URL; NULL: no webhooks */
    char *webhook_secret_file;	/* HMAC-SHA256 key of the signature header */
    long long webhook_retry_ms;	/* an event is retried this long, then dead */
};

/* A growable array of pointers to named-section elements. */
struct conf_vec {
    void **v;
    size_t n;
};

#define CONF_VEC_AT(vec, i, type) ((type *) (vec)->v[(i)])

struct outpost_conf {
    char *path;
    struct conf_general general;
    struct conf_redis redis;
    struct conf_milter milter;
    struct conf_policy policy;
    struct conf_dkim dkim;
    struct conf_suppress suppress;
    struct conf_logd logd;
    struct conf_dns dns;
    struct conf_intake intake;
    struct conf_httpd httpd;
    struct conf_webhookd webhookd;
    struct conf_vec providers;	/* struct conf_provider * */
    struct conf_vec pools;	/* struct conf_pool * */
    struct conf_vec domains;	/* struct conf_domain * */
    struct conf_vec senders;	/* struct conf_sender * */
    struct conf_vec blocklists;	/* struct conf_blocklist * */
    struct conf_vec tenants;	/* struct conf_tenant * */
};

struct outpost_conf *conf_load(const char *path, char *err, size_t errlen);
void conf_free(struct outpost_conf *conf);
const struct conf_provider *conf_provider_find(const struct outpost_conf *,
					       const char *name);
const struct conf_pool *conf_pool_find(const struct outpost_conf *,
				       const char *name);
int conf_pool_by_sender(const struct outpost_conf *conf, const char *who);
const struct conf_tenant *conf_tenant_find(const struct outpost_conf *, const char *name);
const struct conf_tenant *conf_tenant_of_domain(const struct outpost_conf *,
						const char *domain);

#endif
