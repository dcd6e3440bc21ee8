/*
 * conf - read and validate outpost.conf (see conf.h)
 *
 * The schema is a table per section: key name, type, where the value goes,
 * its default.  Adding a setting is adding one line to a table (and the
 * field to conf.h, and the key to outpost.conf(5)).
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>

#include "addr.h"
#include "conf.h"
#include "msg.h"
#include "xalloc.h"
#include "warmup.h"

enum conf_type {
    CT_STR, CT_LONG, CT_BOOL, CT_DURATION, CT_RATE, CT_SIZE, CT_LIST,
    CT_CIDRS, CT_FACILITY, CT_ENUM, CT_OCTAL,
};

#define CK_REQUIRED 1
#define CK_NONEMPTY 2		/* has a default; an empty value is refused */

struct conf_key {
    const char *name;
    enum conf_type type;
    size_t off;			/* offset in the section's struct */
    const char *dflt;		/* NULL: none */
    unsigned flags;
    long min, max;		/* CT_LONG */
    const char *const *choices;	/* CT_ENUM: NULL-terminated, stored as int */
};

struct conf_section {
    const char *name;
    int named;			/* "[name LABEL]" */
    size_t off;			/* plain: struct offset; named: conf_vec offset */
    size_t size;		/* named: element size */
    const struct conf_key *keys;
    int (*check)(void *sect, struct outpost_conf *, const char **why);
};

#define K(sect, field) offsetof(struct sect, field)

/* ---------------------------------------------------------------- schema */

static const struct conf_key general_keys[] = {
    {"user", CT_STR, K(conf_general, user), "outpost", CK_NONEMPTY, 0, 0, 0},
    {"syslog_facility", CT_FACILITY, K(conf_general, syslog_facility), "mail", 0, 0, 0, 0},
    {"node", CT_STR, K(conf_general, node), NULL, 0, 0, 0, 0},
    {0},
};

static const struct conf_key redis_keys[] = {
    {"server", CT_STR, K(conf_redis, server), "127.0.0.1:6379", CK_NONEMPTY, 0, 0, 0},
    {"username", CT_STR, K(conf_redis, username), NULL, 0, 0, 0, 0},
    {"password", CT_STR, K(conf_redis, password), NULL, 0, 0, 0, 0},
    {"db", CT_LONG, K(conf_redis, db), "0", 0, 0, 15, 0},
    {"prefix", CT_STR, K(conf_redis, prefix), "outpost:", CK_NONEMPTY, 0, 0, 0},
    {"connect_timeout", CT_DURATION, K(conf_redis, connect_timeout_ms), "1s", 0, 0, 0, 0},
    {"command_timeout", CT_DURATION, K(conf_redis, command_timeout_ms), "500ms", 0, 0, 0, 0},
    {"reconnect_min", CT_DURATION, K(conf_redis, reconnect_min_ms), "100ms", 0, 0, 0, 0},
    {"reconnect_max", CT_DURATION, K(conf_redis, reconnect_max_ms), "5s", 0, 0, 0, 0},
    {"sentinels", CT_LIST, K(conf_redis, sentinels), NULL, 0, 0, 0, 0},
    {"cluster", CT_LIST, K(conf_redis, cluster), NULL, 0, 0, 0, 0},
    {"sentinel_master", CT_STR, K(conf_redis, sentinel_master), NULL, 0, 0, 0, 0},
    {"sentinel_password", CT_STR, K(conf_redis, sentinel_password), NULL, 0, 0, 0, 0},
    {"allow_eviction", CT_BOOL, K(conf_redis, allow_eviction), "no", 0, 0, 0, 0},
    {0},
};

static const char *const milter_on_error_choices[] = {"tempfail", "accept", NULL};

static const struct conf_key milter_keys[] = {
    {"socket", CT_STR, K(conf_milter, socket), "unix:/run/outpost/milter.sock", CK_NONEMPTY, 0, 0, 0},
    {"timeout", CT_DURATION, K(conf_milter, timeout_ms), "30s", 0, 0, 0, 0},
    {"backlog", CT_LONG, K(conf_milter, backlog), "128", 0, 1, 65535, 0},
    {"socket_mode", CT_OCTAL, K(conf_milter, socket_mode), "0660", 0, 0, 0, 0},
    {"policy_service", CT_STR, K(conf_milter, policy_service), NULL, 0, 0, 0, 0},
    {"policy_timeout", CT_DURATION, K(conf_milter, policy_timeout_ms), "8s", 0, 0, 0, 0},
    {"policy_default_action", CT_ENUM, K(conf_milter, policy_default_action), "tempfail",
	0, 0, 0, milter_on_error_choices},
    {"statistics", CT_BOOL, K(conf_milter, statistics), "yes", 0, 0, 0, 0},
    {"metrics_listen", CT_STR, K(conf_milter, metrics_listen), NULL, 0, 0, 0, 0},
    {"list_unsubscribe_senders", CT_LIST, K(conf_milter, list_unsubscribe_senders), NULL,
	0, 0, 0, 0},
    {"tracking_senders", CT_LIST, K(conf_milter, tracking_senders), NULL, 0, 0, 0, 0},
    {"tracking_text_links", CT_BOOL, K(conf_milter, tracking_text_links), "no", 0, 0, 0, 0},
    {"tracking_max_size", CT_SIZE, K(conf_milter, tracking_max_size), "10M", 0, 0, 0, 0},
    {"campaign_header", CT_STR, K(conf_milter, campaign_header), "X-Campaign-ID", 0, 0, 0, 0},
    {0},
};

static const char *const policy_on_error_choices[] = {"tempfail", "dunno", NULL};
static const char *const sender_key_choices[] = {"auto", "sasl", "domain", NULL};

static const struct conf_key policy_keys[] = {
    {"listen", CT_LIST, K(conf_policy, listen), "unix:/run/outpost/policy.sock", 0, 0, 0, 0},
    {"max_connections", CT_LONG, K(conf_policy, max_connections), "0", 0, 0, 100000, 0},
    {"max_client_connections", CT_LONG, K(conf_policy, max_client_connections), "0", 0, 0,
	100000, 0},
    {"max_request_size", CT_SIZE, K(conf_policy, max_request_size), "16k", 0, 0, 0, 0},
    {"idle_timeout", CT_DURATION, K(conf_policy, idle_timeout_ms), "1h", 0, 0, 0, 0},
    {"request_timeout", CT_DURATION, K(conf_policy, request_timeout_ms), "10s", 0, 0, 0, 0},
    {"decision_timeout", CT_DURATION, K(conf_policy, decision_timeout_ms), "1s", 0, 0, 0, 0},
    {"defer_reply", CT_STR, K(conf_policy, defer_reply),
	"DEFER_IF_PERMIT 4.7.1 $limit; retry in $retry s", 0, 0, 0, 0},
    {"tempfail_reply", CT_STR, K(conf_policy, tempfail_reply),
	"DEFER_IF_PERMIT 4.3.0 policy state unavailable, try again later", 0, 0, 0, 0},
    {"timezone", CT_STR, K(conf_policy, timezone), "UTC", CK_NONEMPTY, 0, 0, 0},
    {"provider_on_error", CT_ENUM, K(conf_policy, provider_on_error), "tempfail", 0, 0, 0,
	policy_on_error_choices},
    {"domain_on_error", CT_ENUM, K(conf_policy, domain_on_error), "tempfail", 0, 0, 0,
	policy_on_error_choices},
    {"sender_on_error", CT_ENUM, K(conf_policy, sender_on_error), "tempfail", 0, 0, 0,
	policy_on_error_choices},
    {"warmup_on_error", CT_ENUM, K(conf_policy, warmup_on_error), "tempfail", 0, 0, 0,
	policy_on_error_choices},
    {"domain_rate", CT_RATE, K(conf_policy, domain_rate), NULL, 0, 0, 0, 0},
    {"domain_burst", CT_LONG, K(conf_policy, domain_burst), "1", 0, 1, 1000000000, 0},
    {"sender_rate", CT_RATE, K(conf_policy, sender_rate), NULL, 0, 0, 0, 0},
    {"sender_burst", CT_LONG, K(conf_policy, sender_burst), "1", 0, 1, 1000000000, 0},
    {"sender_key", CT_ENUM, K(conf_policy, sender_key), "auto", 0, 0, 0, sender_key_choices},
    {"default_pool", CT_STR, K(conf_policy, default_pool), NULL, 0, 0, 0, 0},
    {"mx_timeout", CT_DURATION, K(conf_policy, mx_timeout_ms), "500ms", 0, 0, 0, 0},
    {"mx_min_ttl", CT_DURATION, K(conf_policy, mx_min_ttl_ms), "1m", 0, 0, 0, 0},
    {"mx_max_ttl", CT_DURATION, K(conf_policy, mx_max_ttl_ms), "1d", 0, 0, 0, 0},
    {"mx_negative_ttl", CT_DURATION, K(conf_policy, mx_negative_ttl_ms), "5m", 0, 0, 0, 0},
    {"mx_cache_size", CT_LONG, K(conf_policy, mx_cache_size), "100000", 0, 16, 10000000, 0},
    {"max_pending", CT_LONG, K(conf_policy, max_pending), "10000", 0, 1, 1000000, 0},
    {"metrics_listen", CT_STR, K(conf_policy, metrics_listen), NULL, 0, 0, 0, 0},
    {0},
};

static const char *const canon_choices[] = {
    "relaxed/relaxed", "relaxed/simple", "simple/relaxed", "simple/simple", NULL,
};
static const char *const dkim_on_error_choices[] = {"tempfail", "accept", NULL};

static const struct conf_key dkim_keys[] = {
    {"key_table", CT_STR, K(conf_dkim, key_table), NULL, 0, 0, 0, 0},
    {"sign_networks", CT_CIDRS, K(conf_dkim, sign_networks), "127.0.0.0/8, ::1", 0, 0, 0, 0},
    {"sign_authenticated", CT_BOOL, K(conf_dkim, sign_authenticated), "yes", 0, 0, 0, 0},
    {"sasl_domains", CT_STR, K(conf_dkim, sasl_domains), NULL, 0, 0, 0, 0},
    {"canonicalization", CT_ENUM, K(conf_dkim, canonicalization), "relaxed/relaxed", 0, 0, 0,
	canon_choices},
    {"sign_headers", CT_LIST, K(conf_dkim, sign_headers),
	"From, Sender, Reply-To, Subject, Date, Message-ID, To, Cc, MIME-Version, "
	"Content-Type, Content-Transfer-Encoding, Content-ID, Content-Description, "
	"Resent-Date, Resent-From, Resent-Sender, Resent-To, Resent-Cc, Resent-Message-ID, "
	"In-Reply-To, References, List-Id, List-Help, List-Unsubscribe, "
	"List-Unsubscribe-Post, List-Subscribe, List-Post, List-Owner, List-Archive, "
	"Feedback-ID", 0, 0, 0, 0},
    {"oversign_headers", CT_LIST, K(conf_dkim, oversign_headers),
	"From, List-Unsubscribe, List-Unsubscribe-Post", 0, 0, 0, 0},
    {"on_error", CT_ENUM, K(conf_dkim, on_error), "tempfail", 0, 0, 0, dkim_on_error_choices},
    {0},
};

static const char *const sup_actions[] = {"reject", "discard", NULL};
static const char *const on_errors[] = {"tempfail", "accept", NULL};

static const struct conf_key suppress_keys[] = {
    {"enabled", CT_BOOL, K(conf_suppress, enabled), "yes", 0, 0, 0, 0},
    {"action", CT_ENUM, K(conf_suppress, action), "reject", 0, 0, 0, sup_actions},
    {"on_redis_error", CT_ENUM, K(conf_suppress, on_redis_error), "tempfail", 0, 0, 0, on_errors},
    {0},
};

static const struct conf_key dns_keys[] = {
    {"relay_hostname", CT_STR, K(conf_dns, relay_hostname), NULL, 0, 0, 0, 0},
    {"spf_include", CT_STR, K(conf_dns, spf_include), NULL, 0, 0, 0, 0},
    {"dmarc_report", CT_STR, K(conf_dns, dmarc_report), "dmarc-reports@%d", CK_NONEMPTY, 0, 0, 0},
    {"record_ttl", CT_DURATION, K(conf_dns, record_ttl_ms), "1h", 0, 0, 0, 0},
    {"lookup_timeout", CT_DURATION, K(conf_dns, lookup_timeout_ms), "2s", 0, 0, 0, 0},
    {0},
};

static const char *const logd_start_choices[] = {"beginning", "end", NULL};

static const struct conf_key logd_keys[] = {
    {"maillog", CT_STR, K(conf_logd, maillog), "/var/log/mail.log", CK_NONEMPTY, 0, 0, 0},
    {"start_at", CT_ENUM, K(conf_logd, start_at_end), "end", 0, 0, 0, logd_start_choices},
    {"node", CT_STR, K(conf_logd, node), NULL, 0, 0, 0, 0},
    {"metrics_listen", CT_STR, K(conf_logd, metrics_listen), "127.0.0.1:9432", 0, 0, 0, 0},
    {"metrics_max_senders", CT_LONG, K(conf_logd, metrics_max_senders), "100", 0, 0, 100000, 0},
    {"backoff_rules", CT_STR, K(conf_logd, backoff_rules), NULL, 0, 0, 0, 0},
    {"builtin_rules", CT_BOOL, K(conf_logd, builtin_rules), "yes", 0, 0, 0, 0},
    {"suppress_hard_bounces", CT_BOOL, K(conf_logd, suppress_hard_bounces), "yes", 0, 0, 0, 0},
    {"poll_interval", CT_DURATION, K(conf_logd, poll_interval_ms), "200ms", 0, 0, 0, 0},
    {"flush_interval", CT_DURATION, K(conf_logd, flush_interval_ms), "1s", 0, 0, 0, 0},
    {"max_line_age", CT_DURATION, K(conf_logd, max_line_age_ms), "1h", 0, 0, 0, 0},
    {"events_max", CT_LONG, K(conf_logd, events_max), "100000", 0, 0, 100000000, 0},
    {"blocklist_interval", CT_DURATION, K(conf_logd, blocklist_interval_ms), "1h", 0, 0, 0, 0},
    {"filter_relays", CT_LIST, K(conf_logd, filter_relays), NULL, 0, 0, 0, 0},
    {0},
};

static const struct conf_key intake_keys[] = {
    {"bounce_domain", CT_STR, K(conf_intake, bounce_domain), NULL, 0, 0, 0, 0},
    {"bounce_local", CT_STR, K(conf_intake, bounce_local), "b", CK_NONEMPTY, 0, 0, 0},
    {"complaint_local", CT_STR, K(conf_intake, complaint_local), "fbl", CK_NONEMPTY, 0, 0, 0},
    {"unsubscribe_local", CT_STR, K(conf_intake, unsubscribe_local), "unsub", CK_NONEMPTY, 0, 0, 0},
    {"complaint_addresses", CT_LIST, K(conf_intake, complaint_addresses), NULL, 0, 0, 0, 0},
    {"secret_file", CT_STR, K(conf_intake, secret_file), NULL, 0, 0, 0, 0},
    {"token_max_age", CT_DURATION, K(conf_intake, token_max_age_ms), "30d", 0, 0, 0, 0},
    {"soft_bounce_limit", CT_LONG, K(conf_intake, soft_bounce_limit), "3", 0, 1, 1000, 0},
    {"soft_bounce_window", CT_DURATION, K(conf_intake, soft_bounce_window_ms), "7d", 0, 0, 0, 0},
    {"soft_bounce_expiry", CT_DURATION, K(conf_intake, soft_bounce_expiry_ms), "30d", 0, 0, 0, 0},
    {"max_report_size", CT_SIZE, K(conf_intake, max_report_size), "10M", 0, 0, 0, 0},
    {"keep_reports", CT_BOOL, K(conf_intake, keep_reports), "no", 0, 0, 0, 0},
    {"rewrite_sender", CT_BOOL, K(conf_intake, rewrite_sender), "yes", 0, 0, 0, 0},
    {0},
};

static const struct conf_key httpd_keys[] = {
    {"listen", CT_LIST, K(conf_httpd, listen), "127.0.0.1:8480", 0, 0, 0, 0},
    {"public_url", CT_STR, K(conf_httpd, public_url), NULL, 0, 0, 0, 0},
    {"max_connections", CT_LONG, K(conf_httpd, max_connections), "1024", 0, 1, 1000000, 0},
    {"max_connections_per_ip", CT_LONG, K(conf_httpd, max_connections_per_ip), "0", 0, 0,
	1000000, 0},
    {"request_timeout", CT_DURATION, K(conf_httpd, request_timeout_ms), "10s", 0, 0, 0, 0},
    {"max_body", CT_SIZE, K(conf_httpd, max_body), "4k", 0, 0, 0, 0},
    {"threads", CT_LONG, K(conf_httpd, threads), "2", 0, 1, 256, 0},
    {"queue_max", CT_LONG, K(conf_httpd, queue_max), "100000", 0, 16, 10000000, 0},
    {"metrics_listen", CT_STR, K(conf_httpd, metrics_listen), "127.0.0.1:9434", 0, 0, 0, 0},
    {"trusted_proxies", CT_CIDRS, K(conf_httpd, trusted_proxies), "127.0.0.0/8, ::1", 0, 0,
	0, 0},
    {"machine_networks", CT_CIDRS, K(conf_httpd, machine_networks),
	"17.0.0.0/8, 66.102.0.0/20, 66.249.80.0/20", 0, 0, 0, 0},
    {"machine_user_agents", CT_LIST, K(conf_httpd, machine_user_agents), NULL, 0, 0, 0, 0},
    {"machine_delay", CT_DURATION, K(conf_httpd, machine_delay_ms), "10s", 0, 0, 0, 0},
    {"submit", CT_STR, K(conf_httpd, submit), "inet:127.0.0.1:10027", CK_NONEMPTY, 0, 0, 0},
    {"submit_connections", CT_LONG, K(conf_httpd, submit_connections), "4", 0, 1, 256, 0},
    {"submit_timeout", CT_DURATION, K(conf_httpd, submit_timeout_ms), "60s", 0, 0, 0, 0},
    {"api_max_message", CT_SIZE, K(conf_httpd, api_max_message), "10M", 0, 0, 0, 0},
    {"api_max_recipients", CT_LONG, K(conf_httpd, api_max_recipients), "1000", 0, 1, 100000,
     0},
    {"api_listen", CT_LIST, K(conf_httpd, api_listen), NULL, 0, 0, 0, 0},
    {"api_import_max", CT_SIZE, K(conf_httpd, api_import_max), "256m", 0, 0, 0, 0},
    {"api_auth_failures", CT_RATE, K(conf_httpd, api_auth_failures), "30/m", 0, 0, 0, 0},
    {"api_auth_burst", CT_LONG, K(conf_httpd, api_auth_burst), "30", 0, 0, 1000000, 0},
    {0},
};

static const struct conf_key provider_keys[] = {
    {"mx", CT_LIST, K(conf_provider, mx), NULL, 0, 0, 0, 0},
    {"domains", CT_LIST, K(conf_provider, domains), NULL, 0, 0, 0, 0},
    {"rate", CT_RATE, K(conf_provider, rate), NULL, 0, 0, 0, 0},
    {"burst", CT_LONG, K(conf_provider, burst), "1", 0, 1, 1000000000, 0},
    {0},
};

static const struct conf_key pool_keys[] = {
    {"transport", CT_STR, K(conf_pool, transport), NULL, CK_REQUIRED, 0, 0, 0},
    {"addresses", CT_LIST, K(conf_pool, addresses), NULL, 0, 0, 0, 0},
    {"senders", CT_LIST, K(conf_pool, senders), NULL, 0, 0, 0, 0},
    {"schedule", CT_LIST, K(conf_pool, schedule), NULL, 0, 0, 0, 0},
    {"split", CT_LIST, K(conf_pool, split), NULL, 0, 0, 0, 0},
    {"overflow", CT_STR, K(conf_pool, overflow), NULL, 0, 0, 0, 0},
    {"hold_bounce_rate", CT_STR, K(conf_pool, hold_bounce_rate), NULL, 0, 0, 0, 0},
    {"hold_complaint_rate", CT_STR, K(conf_pool, hold_complaint_rate), NULL, 0, 0, 0, 0},
    {"hold_when_listed", CT_BOOL, K(conf_pool, hold_when_listed), "no", 0, 0, 0, 0},
    {"hold_min_messages", CT_LONG, K(conf_pool, hold_min_messages), "100", 0, 1, 1000000000, 0},
    {0},
};

static const struct conf_key domain_keys[] = {
    {"rate", CT_RATE, K(conf_domain, rate), NULL, 0, 0, 0, 0},
    {"burst", CT_LONG, K(conf_domain, burst), "1", 0, 1, 1000000000, 0},
    {0},
};

static const struct conf_key sender_keys[] = {
    {"rate", CT_RATE, K(conf_sender, rate), NULL, 0, 0, 0, 0},
    {"burst", CT_LONG, K(conf_sender, burst), "1", 0, 1, 1000000000, 0},
    {0},
};

static const char *const blocklist_kinds[] = {"ip", "domain", NULL};

static const struct conf_key blocklist_keys[] = {
    {"zone", CT_STR, K(conf_blocklist, zone), NULL, CK_REQUIRED, 0, 0, 0},
    {"kind", CT_ENUM, K(conf_blocklist, kind), "ip", 0, 0, 0, blocklist_kinds},
    {"listed", CT_LIST, K(conf_blocklist, listed), NULL, 0, 0, 0, 0},
    {"refused", CT_LIST, K(conf_blocklist, refused), NULL, 0, 0, 0, 0},
    {"key", CT_STR, K(conf_blocklist, key), NULL, 0, 0, 0, 0},
    {"delist_url", CT_STR, K(conf_blocklist, delist_url), NULL, 0, 0, 0, 0},
    {0},
};

static const struct conf_key webhookd_keys[] = {
    {"batch_events", CT_LONG, K(conf_webhookd, batch_events), "100", 0, 1, 10000, 0},
    {"batch_bytes", CT_SIZE, K(conf_webhookd, batch_bytes), "256k", 0, 0, 0, 0},
    {"request_timeout", CT_DURATION, K(conf_webhookd, request_timeout_ms), "10s", 0, 0, 0, 0},
    {"keepalive_idle", CT_DURATION, K(conf_webhookd, keepalive_idle_ms), "30s", 0, 0, 0, 0},
    {"backoff_min", CT_DURATION, K(conf_webhookd, backoff_min_ms), "1s", 0, 0, 0, 0},
    {"backoff_max", CT_DURATION, K(conf_webhookd, backoff_max_ms), "5m", 0, 0, 0, 0},
    {"poll_interval", CT_DURATION, K(conf_webhookd, poll_interval_ms), "200ms", 0, 0, 0, 0},
    {"claim_idle", CT_DURATION, K(conf_webhookd, claim_idle_ms), "30s", 0, 0, 0, 0},
    {"dead_max", CT_LONG, K(conf_webhookd, dead_max), "100000", 0, 1, 100000000, 0},
    {"ca_file", CT_STR, K(conf_webhookd, ca_file), NULL, 0, 0, 0, 0},
    {"metrics_listen", CT_STR, K(conf_webhookd, metrics_listen), "127.0.0.1:9436", 0, 0, 0, 0},
    {0},
};

static const struct conf_key tenant_keys[] = {
    {"domains", CT_LIST, K(conf_tenant, domains), NULL, CK_REQUIRED, 0, 0, 0},
    {"api_rate", CT_RATE, K(conf_tenant, api_rate), "10/s", 0, 0, 0, 0},
    {"api_burst", CT_LONG, K(conf_tenant, api_burst), "20", 0, 1, 1000000000, 0},
    {"webhook_url", CT_STR, K(conf_tenant, webhook_url), NULL, 0, 0, 0, 0},
    {"webhook_secret_file", CT_STR, K(conf_tenant, webhook_secret_file), NULL, 0, 0, 0, 0},
    {"webhook_retry", CT_DURATION, K(conf_tenant, webhook_retry_ms), "24h", 0, 0, 0, 0},
    {0},
};

static int check_redis(void *, struct outpost_conf *, const char **);
static int check_policy(void *, struct outpost_conf *, const char **);
static int check_dkim(void *, struct outpost_conf *, const char **);
static int check_policyd(struct conf_policy *, struct outpost_conf *, const char **);
static int check_provider(void *, struct outpost_conf *, const char **);
static int check_pool(void *, struct outpost_conf *, const char **);
static int check_pool_policy(void *, struct outpost_conf *, const char **);
static int check_domain(void *, struct outpost_conf *, const char **);
static int check_sender(void *, struct outpost_conf *, const char **);
static int check_dns(void *, struct outpost_conf *, const char **);
static int check_milter(void *, struct outpost_conf *, const char **);
static int check_intake(void *, struct outpost_conf *, const char **);
static int check_pool_addresses(void *, struct outpost_conf *, const char **);
static int check_httpd(void *, struct outpost_conf *, const char **);
static int check_blocklist(void *, struct outpost_conf *, const char **);
static int check_tenant(void *, struct outpost_conf *, const char **);
static int check_webhookd(void *, struct outpost_conf *, const char **);
static int check_logd(void *, struct outpost_conf *, const char **);

static const struct conf_section sections[] = {
    {"general", 0, offsetof(struct outpost_conf, general), 0, general_keys, NULL},
    {"redis", 0, offsetof(struct outpost_conf, redis), 0, redis_keys, check_redis},
    {"milter", 0, offsetof(struct outpost_conf, milter), 0, milter_keys, check_milter},
    {"policy", 0, offsetof(struct outpost_conf, policy), 0, policy_keys, check_policy},
    {"dkim", 0, offsetof(struct outpost_conf, dkim), 0, dkim_keys, check_dkim},
    {"suppress", 0, offsetof(struct outpost_conf, suppress), 0, suppress_keys, NULL},
    {"logd", 0, offsetof(struct outpost_conf, logd), 0, logd_keys, check_logd},
    {"dns", 0, offsetof(struct outpost_conf, dns), 0, dns_keys, check_dns},
    {"intake", 0, offsetof(struct outpost_conf, intake), 0, intake_keys, check_intake},
    {"httpd", 0, offsetof(struct outpost_conf, httpd), 0, httpd_keys, check_httpd},
    {"webhookd", 0, offsetof(struct outpost_conf, webhookd), 0, webhookd_keys, check_webhookd},
    {"provider", 1, offsetof(struct outpost_conf, providers),
	sizeof(struct conf_provider), provider_keys, check_provider},
    {"pool", 1, offsetof(struct outpost_conf, pools),
	sizeof(struct conf_pool), pool_keys, check_pool},
    {"domain", 1, offsetof(struct outpost_conf, domains),
	sizeof(struct conf_domain), domain_keys, check_domain},
    {"sender", 1, offsetof(struct outpost_conf, senders),
	sizeof(struct conf_sender), sender_keys, check_sender},
    {"blocklist", 1, offsetof(struct outpost_conf, blocklists),
	sizeof(struct conf_blocklist), blocklist_keys, check_blocklist},
    {"tenant", 1, offsetof(struct outpost_conf, tenants),
	sizeof(struct conf_tenant), tenant_keys, check_tenant},
};

/* keys that are gone, and what to set instead */
static const struct {
    const char *section, *key, *instead;
} retired_keys[] = {
    {"dns", "return_path", "[dns] return_path is gone: set [intake] bounce_domain, the one "
	"return-path domain of the milter, outpostctl dns and outpostctl verify"},
};

#define N_SECTIONS (sizeof(sections) / sizeof(sections[0]))
#define MAX_KEYS 64
#define INI_SECTION_MAX 49		/* inih cuts the name it passes on to this */

/* ---------------------------------------------------------------- checks */

/* check_redis - a server address or sentinels with a master name */
static int
check_redis(void *sect, struct outpost_conf *conf, const char **why)
{
    struct conf_redis *r = sect;

    (void) conf;
    if (r->sentinels.n > 0 && r->sentinel_master == NULL) {
	*why = "[redis] sentinels needs sentinel_master";
	return -1;
    }
    if (r->sentinel_master != NULL && r->sentinels.n == 0) {
	*why = "[redis] sentinel_master needs sentinels";
	return -1;
    }
    if (r->cluster.n > 0 && r->sentinels.n > 0) {
	*why = "[redis] cluster and sentinels exclude each other "
	    "(a Redis Cluster fails over on its own)";
	return -1;
    }
    /* the delay doubles from it: 0 would stay 0, an attempt after every failure */
    if (r->reconnect_min_ms < 10) {
	*why = "[redis] reconnect_min must be at least 10ms";
	return -1;
    }
    if (r->reconnect_min_ms > r->reconnect_max_ms) {
	*why = "[redis] reconnect_min is larger than reconnect_max";
	return -1;
    }
    if (r->command_timeout_ms <= 0 || r->connect_timeout_ms <= 0) {
	*why = "[redis] timeouts must be longer than zero";
	return -1;
    }
    return 0;
}

/* check_policy - listeners must be unix: or inet: */
static int
check_policy(void *sect, struct outpost_conf *conf, const char **why)
{
    struct conf_policy *p = sect;
    size_t i;

    (void) conf;
    for (i = 0; i < p->listen.n; i++) {
	if (strncmp(p->listen.v[i], "unix:", 5) != 0
	    && strncmp(p->listen.v[i], "inet:", 5) != 0) {
	    *why = "[policy] listen: each address must start with unix: or inet:";
	    return -1;
	}
	if (strncmp(p->listen.v[i], "unix:", 5) == 0 && strlen(p->listen.v[i] + 5) > 107) {
	    *why = "[policy] listen: a unix socket path of at most 107 bytes";
	    return -1;
	}
    }
    if (p->request_timeout_ms <= 0) {
	*why = "[policy] request_timeout must be longer than zero";
	return -1;
    }
    if (p->max_request_size < 256) {
	*why = "[policy] max_request_size must be at least 256";
	return -1;
    }
    return check_policyd(p, conf, why);
}

/* check_policyd - the settings of outpost-policyd's decisions */
static int
check_policyd(struct conf_policy *p, struct outpost_conf *conf, const char **why)
{
    struct warmup_tz tz;
    static char buf[160];

    if (warmup_tz_parse(p->timezone, &tz, why) < 0) {
	snprintf(buf, sizeof(buf), "[policy] %s", *why);
	*why = buf;
	return -1;
    }
    if (p->decision_timeout_ms <= 0 || p->mx_timeout_ms <= 0) {
	*why = "[policy] decision_timeout and mx_timeout must be longer than zero";
	return -1;
    }
    if (p->mx_timeout_ms >= p->decision_timeout_ms) {
	*why = "[policy] mx_timeout must be shorter than decision_timeout";
	return -1;
    }
    if (p->mx_min_ttl_ms > p->mx_max_ttl_ms) {
	*why = "[policy] mx_min_ttl is larger than mx_max_ttl";
	return -1;
    }
    if (p->defer_reply == NULL || p->tempfail_reply == NULL) {
	*why = "[policy] defer_reply and tempfail_reply must not be empty";
	return -1;
    }
    if (p->default_pool && conf_pool_find(conf, p->default_pool) == NULL) {
	*why = "[policy] default_pool names no [pool NAME] section";
	return -1;
    }
    return 0;
}

/* named_why - "[KIND NAME] why", in a static buffer */
static const char *
named_why(const char *kind, const char *name, const char *why)
{
    static char buf[300];

    snprintf(buf, sizeof(buf), "[%s %s] %s", kind, name, why);
    return buf;
}

/* check_provider - a provider limits with a rate or groups with mx/domains */
static int
check_provider(void *sect, struct outpost_conf *conf, const char **why)
{
    struct conf_provider *p = sect;
    size_t i;

    (void) conf;
    for (i = 0; i < p->mx.n; i++) {
	const char *m = p->mx.v[i];

	if (strchr(m, '*') && (strncmp(m, "*.", 2) != 0 || strchr(m + 1, '*'))) {
	    *why = named_why("provider", p->named.name, "mx: a pattern is a host name or *.domain");
	    return -1;
	}
    }
    return 0;
}

/* check_pool - schedule, split and overflow of a [pool NAME] */
static int
check_pool(void *sect, struct outpost_conf *conf, const char **why)
{
    if (check_pool_addresses(sect, conf, why) < 0)
	return -1;
    if (check_pool_policy(sect, conf, why) < 0) {
	*why = named_why("pool", ((struct conf_pool *) sect)->named.name, *why);
	return -1;
    }
    return 0;
}

/* hold_rate - "5%" or "0.3%" as a fraction; none: 0 */
static int
hold_rate(const char *s, double *out, const char **why)
{
    char *end;
    double v;

    *out = 0;
    if (s == NULL)
	return 0;
    v = strtod(s, &end);
    if (end == s || strcmp(end, "%") != 0 || !(v > 0 && v <= 100)) {
	*why = "hold_bounce_rate, hold_complaint_rate: expected a percentage above 0, "
	    "such as 5% or 0.3%";
	return -1;
    }
    *out = v / 100;
    return 0;
}

/* check_pool_policy - what outpost-policyd needs of a pool */
static int
check_pool_policy(void *sect, struct outpost_conf *conf, const char **why)
{
    struct conf_pool *p = sect;
    struct warmup_schedule sched;
    const struct conf_pool *q;
    size_t i, hops;

    if (warmup_schedule_parse(&p->schedule, &sched, why) < 0)
	return -1;
    for (i = 0; i < p->split.n; i++) {
	const char *colon = strrchr(p->split.v[i], ':');
	long pct;

	if (colon == NULL || colon == p->split.v[i]
	    || confval_long(colon + 1, 1, 100, &pct, why) < 0) {
	    *why = "split: expected PROVIDER:PERCENT items (1 to 100)";
	    return -1;
	}
    }
    if (p->split.n > 0 && sched.n == 0) {
	*why = "split needs a schedule";
	return -1;
    }
    if (hold_rate(p->hold_bounce_rate, &p->hold_bounce, why) < 0
	|| hold_rate(p->hold_complaint_rate, &p->hold_complaint, why) < 0)
	return -1;
    /* the spill-over chain must end, and name only pools that exist */
    for (q = p, hops = 0; q->overflow != NULL; hops++) {
	if (hops >= conf->pools.n) {
	    *why = "overflow: the pools spill over in a circle";
	    return -1;
	}
	if ((q = conf_pool_find(conf, q->overflow)) == NULL) {
	    *why = "overflow names no [pool NAME] section";
	    return -1;
	}
    }
    return 0;
}

/* check_rate_set - [domain NAME] and [sender NAME] need a rate */
static int
check_rate_set(const char *kind, const struct conf_named *named,
	       const struct conf_rate *rate, const char **why)
{
    if (rate->count <= 0) {
	*why = named_why(kind, named->name, "rate is required");
	return -1;
    }
    return 0;
}

/* check_domain - a [domain NAME] */
static int
check_domain(void *sect, struct outpost_conf *conf, const char **why)
{
    struct conf_domain *d = sect;

    (void) conf;
    return check_rate_set("domain", &d->named, &d->rate, why);
}

/* check_sender - a [sender NAME] */
static int
check_sender(void *sect, struct outpost_conf *conf, const char **why)
{
    struct conf_sender *s = sect;

    (void) conf;
    return check_rate_set("sender", &s->named, &s->rate, why);
}

/* check_dkim - From must be signed; header names must be header names */
static int
check_dkim(void *sect, struct outpost_conf *conf, const char **why)
{
    struct conf_dkim *d = sect;
    int has_from = 0;
    size_t i, j;

    (void) conf;
    for (i = 0; i < d->sign_headers.n + d->oversign_headers.n; i++) {
	const char *h = i < d->sign_headers.n ? d->sign_headers.v[i]
	    : d->oversign_headers.v[i - d->sign_headers.n];

	for (j = 0; h[j]; j++) {
	    if (h[j] <= ' ' || h[j] > '~' || h[j] == ':') {
		*why = "[dkim] sign_headers, oversign_headers: not a header field name";
		return -1;
	    }
	}
	if (i < d->sign_headers.n && strcasecmp(h, "From") == 0)
	    has_from = 1;
    }
    if (!has_from) {
	*why = "[dkim] sign_headers must include From (RFC 6376 section 5.4)";
	return -1;
    }
    return 0;
}

/* check_milter - the policy service is a unix socket; its answer takes time */
static int
check_milter(void *sect, struct outpost_conf *conf, const char **why)
{
    struct conf_milter *m = sect;

    (void) conf;
    /* libmilter refuses a longer one at start, and says why to syslog only */
    if ((strncmp(m->socket, "unix:", 5) == 0 || strncmp(m->socket, "local:", 6) == 0)
	&& strlen(strchr(m->socket, ':') + 1) > 107) {
	*why = "[milter] socket: a unix socket path of at most 107 bytes";
	return -1;
    }
    if (m->policy_service && (strncmp(m->policy_service, "unix:/", 6) != 0
			      || strlen(m->policy_service) > 5 + 107)) {
	*why = "[milter] policy_service must be unix:/path (a socket path of at most 107 bytes)";
	return -1;
    }
    if (m->policy_timeout_ms < 10) {
	*why = "[milter] policy_timeout must be at least 10ms";
	return -1;
    }
    /* libmilter counts whole seconds in an int, and reads 0 as "do not wait" */
    if (m->timeout_ms < 1000 || m->timeout_ms / 1000 > INT_MAX) {
	*why = "[milter] timeout must be at least 1s (whole seconds, at most 24855d)";
	return -1;
    }
    return 0;
}

/* check_dns - names must be names; templates may hold one %d */
static int
check_dns(void *sect, struct outpost_conf *conf, const char **why)
{
    struct conf_dns *d = sect;
    const char *p;

    (void) conf;
    if (d->record_ttl_ms < 1000) {
	*why = "[dns] record_ttl must be at least 1s";
	return -1;
    }
    if (d->lookup_timeout_ms < 1000 || d->lookup_timeout_ms > 30000) {
	*why = "[dns] lookup_timeout must be between 1s and 30s";
	return -1;
    }
    for (p = d->dmarc_report; p && (p = strchr(p, '%')) != NULL; p += 2) {
	if (p[1] != 'd') {
	    *why = "[dns] dmarc_report: only %d (the From: domain) may follow '%'";
	    return -1;
	}
    }
    if (d->dmarc_report && strchr(d->dmarc_report, '@') == NULL) {
	*why = "[dns] dmarc_report must be a mail address";
	return -1;
    }
    return 0;
}

/* check_httpd - the public URL, the limits */
static int
check_httpd(void *sect, struct outpost_conf *conf, const char **why)
{
    struct conf_httpd *h = sect;
    const char *u = h->public_url;

    (void) conf;
    if (u && ((strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0)
	      || strpbrk(u, " \t\"'<>?#") || u[strlen(u) - 1] == '/')) {
	*why = "[httpd] public_url must be a base URL such as https://links.example.com "
	    "(no trailing '/', no query)";
	return -1;
    }
    if (h->listen.n == 0) {
	*why = "[httpd] listen needs an address";
	return -1;
    }
    if (h->request_timeout_ms < 1000 || h->max_body < 64 || h->max_body > 1048576) {
	*why = "[httpd] request_timeout must be at least 1s, max_body between 64 and 1M";
	return -1;
    }
    if (h->submit && strncmp(h->submit, "inet:", 5) != 0 && strncmp(h->submit, "unix:/", 6) != 0) {
	*why = "[httpd] submit must be inet:HOST:PORT or unix:/PATH";
	return -1;
    }
    return 0;
}

/* check_webhookd - batches and delays that make sense */
static int
check_webhookd(void *sect, struct outpost_conf *conf, const char **why)
{
    struct conf_webhookd *w = sect;

    (void) conf;
    if (w->batch_bytes < 1024 || w->batch_bytes > 64 * 1048576ULL
	|| w->request_timeout_ms < 100 || w->backoff_min_ms < 10
	|| w->backoff_max_ms < w->backoff_min_ms || w->poll_interval_ms < 10
	|| w->claim_idle_ms < 300) {
	*why = "[webhookd] batch_bytes between 1k and 64M, request_timeout at least 100ms, "
	    "backoff_min at least 10ms and not above backoff_max, poll_interval at least 10ms, "
	    "claim_idle at least 300ms";
	return -1;
    }
    return 0;
}

/* check_logd - a pause between two reads of the log; the filters' next hops */
static int
check_logd(void *sect, struct outpost_conf *conf, const char **why)
{
    struct conf_logd *l = sect;
    struct conf_nexthop nh;
    size_t i;

    (void) conf;
    /* 0 would read the file again at once, forever: a core spent on nothing */
    if (l->poll_interval_ms < 10) {
	*why = "[logd] poll_interval must be at least 10ms";
	return -1;
    }
    for (i = 0; i < l->filter_relays.n; i++)
	if (confval_nexthop(l->filter_relays.v[i], &nh, why) < 0) {
	    *why = "[logd] filter_relays: each must be host:port, [address]:port "
		"or unix:PATH";
	    return -1;
	}
    return 0;
}

/* local_ok - a local part of the intake addresses: [a-z0-9._], no '-' */
static int
local_ok(const char *s)
{
    return s && *s && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._") == strlen(s)
	&& strlen(s) <= 16;
}

/* check_intake - the bounce domain, its local parts, the secret, the rules */
static int
check_intake(void *sect, struct outpost_conf *conf, const char **why)
{
    struct conf_intake *in = sect;
    const char *p;
    size_t i;

    (void) conf;
    if (in->bounce_domain == NULL)
	return 0;
    if ((p = strchr(in->bounce_domain, '%')) != NULL
	&& (p[1] != 'd' || strchr(p + 1, '%') || (p != in->bounce_domain && p[-1] != '.')
	    || (p[2] != '\0' && p[2] != '.'))) {
	*why = "[intake] bounce_domain: %d (the sender domain) may appear once, as whole labels";
	return -1;
    }
    if (strchr(in->bounce_domain, '@') || strchr(in->bounce_domain, ' ')) {
	*why = "[intake] bounce_domain must be a domain, such as bounces.example.com or bounces.%d";
	return -1;
    }
    if (!local_ok(in->bounce_local) || !local_ok(in->complaint_local)
	|| !local_ok(in->unsubscribe_local)) {
	*why = "[intake] bounce_local, complaint_local and unsubscribe_local: "
	    "1-16 of a-z 0-9 . _ (no '-': it starts the token)";
	return -1;
    }
    if (strcmp(in->bounce_local, in->complaint_local) == 0
	|| strcmp(in->bounce_local, in->unsubscribe_local) == 0
	|| strcmp(in->complaint_local, in->unsubscribe_local) == 0) {
	*why = "[intake] bounce_local, complaint_local and unsubscribe_local must differ";
	return -1;
    }
    for (i = 0; i < in->complaint_addresses.n; i++) {
	if (strchr(in->complaint_addresses.v[i], '@') == NULL) {
	    *why = "[intake] complaint_addresses: each must be a mail address";
	    return -1;
	}
    }
    if (in->secret_file == NULL) {
	*why = "[intake] bounce_domain needs secret_file (the token secret)";
	return -1;
    }
    if (in->token_max_age_ms < 86400000LL || in->token_max_age_ms > 3650 * 86400000LL) {
	*why = "[intake] token_max_age must be between 1d and 3650d";
	return -1;
    }
    if (in->soft_bounce_window_ms < 1000 || in->soft_bounce_expiry_ms < 0) {
	*why = "[intake] soft_bounce_window must be at least 1s";
	return -1;
    }
    if (in->max_report_size < 4096) {
	*why = "[intake] max_report_size must be at least 4k";
	return -1;
    }
    return 0;
}

/* check_pool_addresses - [pool NAME] addresses are IPv4 or IPv6 addresses */
static int
check_pool_addresses(void *sect, struct outpost_conf *conf, const char **why)
{
    struct conf_pool *p = sect;
    struct cidr c;
    size_t i;

    (void) conf;
    for (i = 0; i < p->addresses.n; i++) {
	if (confval_cidr(p->addresses.v[i], &c, why) < 0
	    || strchr(p->addresses.v[i], '/') != NULL) {
	    *why = "[pool] addresses: each must be an IPv4 or IPv6 address";
	    return -1;
	}
    }
    return 0;
}

/* check_blocklist - answer codes are IPv4 addresses or ranges LOW-HIGH */
static int
check_blocklist(void *sect, struct outpost_conf *conf, const char **why)
{
    struct conf_blocklist *b = sect;
    const struct conf_strlist *lists[2] = {&b->listed, &b->refused}, *l;
    struct in_addr lo, hi;
    char buf[40], *dash;
    size_t i, k;

    (void) conf;
    for (k = 0; k < 2; k++) {
	l = lists[k];
	for (i = 0; i < l->n; i++) {
	    snprintf(buf, sizeof(buf), "%s", l->v[i]);
	    if ((dash = strchr(buf, '-')) != NULL)
		*dash++ = '\0';
	    if (inet_pton(AF_INET, buf, &lo) != 1
		|| inet_pton(AF_INET, dash ? dash : buf, &hi) != 1
		|| ntohl(lo.s_addr) > ntohl(hi.s_addr)) {
		*why = named_why("blocklist", b->named.name,
				 "listed, refused: each is an IPv4 address or LOW-HIGH");
		return -1;
	    }
	}
    }
    if (b->zone == NULL || b->zone[0] == '\0' || b->zone[0] == '.'
	|| strchr(b->zone, ' ')) {
	*why = named_why("blocklist", b->named.name, "zone: a DNS zone name");
	return -1;
    }
    return 0;
}

/* check_tenant - domains owned once; a webhook URL with its secret */
static int
check_tenant(void *sect, struct outpost_conf *conf, const char **why)
{
    struct conf_tenant *t = sect;
    char dom[DOMAIN_MAX];
    const char *bad;
    size_t i;

    for (i = 0; i < t->domains.n; i++) {
	if (t->domains.v[i][0] == '\0' || strchr(t->domains.v[i], '@')
	    || strchr(t->domains.v[i], '.') == NULL
	    || domain_normalize(t->domains.v[i], strlen(t->domains.v[i]), dom, sizeof(dom),
				&bad) < 0) {
	    *why = named_why("tenant", t->named.name, "domains: sender domain names");
	    return -1;
	}
	/*
	 * Kept as the programs compare sender domains: the API scopes a
	 * key's suppressions by this name, the milter looks them up by the
	 * normalised sender domain.
	 */
	free(t->domains.v[i]);
	t->domains.v[i] = xstrdup(dom);
	if (conf_tenant_of_domain(conf, t->domains.v[i]) != t) {
	    *why = named_why("tenant", t->named.name,
			     "domains: a domain belongs to one tenant only");
	    return -1;
	}
    }
    if (t->webhook_url != NULL && strncmp(t->webhook_url, "http://", 7) != 0
	&& strncmp(t->webhook_url, "https://", 8) != 0) {
	*why = named_why("tenant", t->named.name, "webhook_url: an http:// or https:// URL");
	return -1;
    }
    if (t->webhook_url != NULL && t->webhook_secret_file == NULL) {
	*why = named_why("tenant", t->named.name, "webhook_url needs webhook_secret_file");
	return -1;
    }
    if (t->api_rate.count <= 0) {
	*why = named_why("tenant", t->named.name, "api_rate: more than zero");
	return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- parser */

struct parse_state {
    struct outpost_conf *conf;
    const char *path;
    FILE *fp;
    int line;			/* line the reader returned last */
    int indented;		/* and it began with white space: a continuation */
    int long_line;		/* first line longer than CONF_MAX_LINE */
    int err_line;
    char err[512];
    /* the section being read */
    char cur_name[128];
    const struct conf_section *cur;
    void *cur_obj;
    int *cur_seen;
    /* lines where keys of plain sections were set, and where named ones began */
    int seen[N_SECTIONS][MAX_KEYS];
    int *named_seen;		/* per named element, allocated with it */
    int sect_line[N_SECTIONS];
};

static int set_err(struct parse_state *, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void section_header(struct parse_state *, const char *);
static int begin_section(struct parse_state *, const char *);

/* set_err - remember the first error */
static int
set_err(struct parse_state *st, int line, const char *fmt, ...)
{
    va_list ap;

    if (st->err_line == 0 && st->err[0] == '\0') {
	st->err_line = line;
	va_start(ap, fmt);
	vsnprintf(st->err, sizeof(st->err), fmt, ap);
	va_end(ap);
    }
    return 0;
}

/* conf_reader - fgets() that counts lines and notices overlong ones */
static char *
conf_reader(char *str, int num, void *stream)
{
    struct parse_state *st = stream;
    char *s = fgets(str, num, st->fp);
    size_t len;

    if (s == NULL)
	return NULL;
    st->line++;
    st->indented = s[0] == ' ' || s[0] == '\t';
    len = strlen(s);
    if (len + 1 < (size_t) num && (len == 0 || s[len - 1] != '\n') && !feof(st->fp)) {
	/* fgets() stopped at neither a newline, a full buffer nor the end: a NUL */
	set_err(st, st->line, "a NUL byte in the line");
	s[0] = '\0';
    } else if (len > 0 && s[len - 1] != '\n' && !feof(st->fp)) {
	int c = fgetc(st->fp);

	/* a line that filled the buffer may still end here, its newline unread */
	if (c != EOF && c != '\n') {
	    /* inih would read the rest as a line of its own: refuse the file */
	    if (st->long_line == 0)
		st->long_line = st->line;
	    while ((c = fgetc(st->fp)) != EOF && c != '\n')
		 /* skip */ ;
	    s[0] = '\0';
	}
    }
    section_header(st, s);
    return s;
}

/*
 * section_header - begin a section when its header is read, so that an empty
 * section is still seen and errors name the header's line
 */
static void
section_header(struct parse_state *st, const char *s)
{
    const char *end;
    char name[128];

    s += strspn(s, " \t");
    if (*s != '[' || (end = strchr(s, ']')) == NULL)
	return;				/* not a header, or inih reports it */
    if ((size_t) (end - s - 1) >= sizeof(name)) {
	set_err(st, st->line, "section name too long");
	return;
    }
    memcpy(name, s + 1, (size_t) (end - s - 1));
    name[end - s - 1] = '\0';
    begin_section(st, name);
}

/* apply_defaults - give every key of a section its default */
static int
apply_value(struct parse_state *, const struct conf_key *, void *obj,
	    const char *value, int line);

static void
apply_defaults(struct parse_state *st, const struct conf_section *sec, void *obj)
{
    const struct conf_key *k;

    for (k = sec->keys; k->name; k++)
	if (k->dflt)
	    apply_value(st, k, obj, k->dflt, 0);
}

/* apply_value - parse one value into its place */
static int
apply_value(struct parse_state *st, const struct conf_key *k, void *obj,
	    const char *value, int line)
{
    char *field = (char *) obj + k->off;
    const char *why = NULL;
    long long ll;
    long l;
    int b;

    switch (k->type) {
    case CT_STR:
	if (*value == '\0' && (k->flags & CK_NONEMPTY)) {
	    why = "must not be empty";
	    break;
	}
	free(*(char **) field);
	*(char **) field = *value ? xstrdup(value) : NULL;
	return 1;
    case CT_OCTAL:
	if (strspn(value, "01234567") != strlen(value) || strlen(value) > 4
	    || *value == '\0') {
	    why = "expected octal permissions such as 0660";
	    break;
	}
	free(*(char **) field);
	*(char **) field = xstrdup(value);
	return 1;
    case CT_LONG:
	if (confval_long(value, k->min, k->max, &l, &why) < 0)
	    break;
	*(long *) field = l;
	return 1;
    case CT_BOOL:
	if (confval_bool(value, &b, &why) < 0)
	    break;
	*(int *) field = b;
	return 1;
    case CT_DURATION:
	if (confval_duration(value, &ll, &why) < 0)
	    break;
	*(long long *) field = ll;
	return 1;
    case CT_RATE:
	if (confval_rate(value, (struct conf_rate *) field, &why) < 0)
	    break;
	return 1;
    case CT_SIZE:
	if (confval_size(value, (unsigned long long *) field, &why) < 0)
	    break;
	return 1;
    case CT_LIST:
	if (confval_list(value, (struct conf_strlist *) field, &why) < 0)
	    break;
	return 1;
    case CT_CIDRS:{
	    struct cidr_list *cl = (struct cidr_list *) field;
	    struct conf_strlist items = {0};
	    size_t i;
	    int ok = 1;

	    confval_list(value, &items, &why);
	    for (i = 0; i < items.n && ok; i++) {
		struct cidr c;

		if (confval_cidr(items.v[i], &c, &why) < 0) {
		    set_err(st, line, "%s: %s: %s", k->name, items.v[i], why);
		    ok = 0;
		    break;
		}
		cl->v = xreallocarray(cl->v, cl->n + 1, sizeof(*cl->v));
		cl->v[cl->n++] = c;
	    }
	    conf_strlist_free(&items);
	    return ok;
	}
    case CT_FACILITY:
	if ((b = msg_facility_code(value)) < 0) {
	    why = "unknown syslog facility (use mail, daemon, user or local0-7)";
	    break;
	}
	*(int *) field = b;
	return 1;
    case CT_ENUM:
	for (b = 0; k->choices[b]; b++) {
	    if (strcasecmp(value, k->choices[b]) == 0) {
		*(int *) field = b;
		return 1;
	    }
	}
	{
	    char list[256] = "";

	    for (b = 0; k->choices[b]; b++) {
		if (b)
		    strncat(list, ", ", sizeof(list) - strlen(list) - 1);
		strncat(list, k->choices[b], sizeof(list) - strlen(list) - 1);
	    }
	    return set_err(st, line, "%s: '%s' is not one of: %s", k->name, value, list);
	}
    }
    return set_err(st, line, "%s: '%s': %s", k->name, value, why ? why : "bad value");
}

/* clear_lists - a list key set in the file replaces its default */
static void
clear_default_list(const struct conf_key *k, void *obj)
{
    char *field = (char *) obj + k->off;

    if (k->type == CT_LIST)
	conf_strlist_free((struct conf_strlist *) field);
    else if (k->type == CT_CIDRS) {
	struct cidr_list *cl = (struct cidr_list *) field;

	free(cl->v);
	cl->v = NULL;
	cl->n = 0;
    }
}

/* begin_section - "[name]" or "[name LABEL]" */
static int
begin_section(struct parse_state *st, const char *section)
{
    const char *sp = section + strcspn(section, " \t");
    const char *label = sp + strspn(sp, " \t");
    size_t nlen = (size_t) (sp - section);
    size_t i;

    snprintf(st->cur_name, sizeof(st->cur_name), "%s", section);
    st->cur = NULL;
    st->cur_obj = NULL;
    for (i = 0; i < N_SECTIONS; i++) {
	if (strlen(sections[i].name) == nlen
	    && strncmp(sections[i].name, section, nlen) == 0)
	    break;
    }
    if (i == N_SECTIONS)
	return set_err(st, st->line, "unknown section [%s]", section);

    if (!sections[i].named) {
	if (*label)
	    return set_err(st, st->line, "section [%.*s] takes no name",
			   (int) nlen, section);
	st->cur = &sections[i];
	st->cur_obj = (char *) st->conf + sections[i].off;
	st->cur_seen = st->seen[i];
	if (st->sect_line[i] == 0)
	    st->sect_line[i] = st->line;
	return 1;
    } else {
	struct conf_vec *vec = (struct conf_vec *) ((char *) st->conf + sections[i].off);
	struct conf_named *named;
	size_t j;

	if (*label == '\0')
	    return set_err(st, st->line, "section [%s] needs a name, as in [%s NAME]",
			   section, section);
	if (strspn(label, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		   "0123456789_-.") != strlen(label))
	    return set_err(st, st->line, "[%s]: names may hold letters, digits, '_', '-' and '.'",
			   section);
	for (j = 0; j < vec->n; j++) {
	    named = vec->v[j];
	    if (strcmp(named->name, label) == 0)
		return set_err(st, st->line, "[%s] defined twice (first on line %d)",
			       section, named->line);
	}
	/* every named element begins with its struct conf_named */
	vec->v = xreallocarray(vec->v, vec->n + 1, sizeof(*vec->v));
	st->cur_obj = vec->v[vec->n++] = xcalloc(1, sections[i].size);
	named = st->cur_obj;
	named->name = xstrdup(label);
	named->line = st->line;
	st->cur = &sections[i];
	apply_defaults(st, st->cur, st->cur_obj);
	free(st->named_seen);
	st->named_seen = xcalloc(MAX_KEYS, sizeof(int));
	st->cur_seen = st->named_seen;
	return 1;
    }
}

/* retired_key - what to set instead of a key that is gone, or NULL */
static const char *
retired_key(const char *section, const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(retired_keys) / sizeof(retired_keys[0]); i++)
	if (strcmp(retired_keys[i].section, section) == 0
	    && strcmp(retired_keys[i].key, name) == 0)
	    return retired_keys[i].instead;
    return NULL;
}

/* conf_handler - inih callback: one "name = value" */
static int
conf_handler(void *user, const char *section, const char *name, const char *value)
{
    struct parse_state *st = user;
    const struct conf_key *k;
    const char *retired;
    size_t slen = strlen(section);
    int idx;

    if (*section == '\0')
	return set_err(st, st->line, "'%s' is outside any section", name);
    /* a long "[sender NAME]" reaches us cut short: section_header() has it whole */
    if (st->cur == NULL || (slen >= INI_SECTION_MAX ? strncmp(section, st->cur_name, slen)
			    : strcmp(section, st->cur_name)) != 0)
	return 0;			/* a bad section, already reported */
    for (k = st->cur->keys, idx = 0; k->name; k++, idx++)
	if (strcmp(k->name, name) == 0)
	    break;
    if (k->name == NULL && (retired = retired_key(st->cur->name, name)) != NULL)
	return set_err(st, st->line, "%s", retired);
    if (k->name == NULL)
	return set_err(st, st->line, "unknown key '%s' in section [%s]", name,
		       st->cur->name);
    if (st->cur_seen[idx]) {
	/* a list continues on indented lines (inih repeats the key), and only there */
	if ((k->type != CT_LIST && k->type != CT_CIDRS) || !st->indented)
	    return set_err(st, st->line, "'%s' set twice in [%s] (first on line %d)",
			   name, st->cur_name, st->cur_seen[idx]);
    } else {
	clear_default_list(k, st->cur_obj);
	st->cur_seen[idx] = st->line;
    }
    return apply_value(st, k, st->cur_obj, value, st->line);
}

/* check_required - keys without defaults that must be set */
static int
check_required(struct parse_state *st, const struct conf_section *sec,
	       void *obj, const char *label, int line)
{
    const struct conf_key *k;

    for (k = sec->keys; k->name; k++) {
	if (!(k->flags & CK_REQUIRED))
	    continue;
	if ((k->type == CT_STR && *(char **) ((char *) obj + k->off) == NULL)
	    || (k->type == CT_LIST && ((struct conf_strlist *) ((char *) obj + k->off))->n == 0)) {
	    set_err(st, line, "[%s%s%s]: required key '%s' is missing", sec->name,
		    label ? " " : "", label ? label : "", k->name);
	    return -1;
	}
    }
    return 0;
}

/* conf_validate - required keys and per-section checks */
static int
conf_validate(struct parse_state *st)
{
    size_t i, j;
    const char *why;

    for (i = 0; i < N_SECTIONS; i++) {
	const struct conf_section *sec = &sections[i];

	if (!sec->named) {
	    void *obj = (char *) st->conf + sec->off;

	    if (check_required(st, sec, obj, NULL, st->sect_line[i]) < 0)
		return -1;
	    why = NULL;
	    if (sec->check && sec->check(obj, st->conf, &why) < 0) {
		set_err(st, st->sect_line[i], "%s", why);
		return -1;
	    }
	} else {
	    struct conf_vec *vec = (struct conf_vec *) ((char *) st->conf + sec->off);

	    for (j = 0; j < vec->n; j++) {
		const struct conf_named *named = vec->v[j];
		int line = named->line;

		if (check_required(st, sec, vec->v[j], named->name, line) < 0)
		    return -1;
		why = NULL;
		if (sec->check && sec->check(vec->v[j], st->conf, &why) < 0) {
		    set_err(st, line, "%s", why);
		    return -1;
		}
	    }
	}
    }
    return 0;
}

/* default_node - [logd] node (its older name), else the host name */
static char *
default_node(const struct outpost_conf *conf)
{
    char host[256];

    if (conf->logd.node)
	return xstrdup(conf->logd.node);
    if (gethostname(host, sizeof(host)) < 0 || host[0] == '\0')
	snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    return xstrdup(host);
}

/* conf_load - read, check and return a configuration */
struct outpost_conf *
conf_load(const char *path, char *err, size_t errlen)
{
    struct parse_state *st = xcalloc(1, sizeof(*st));
    struct outpost_conf *conf = xcalloc(1, sizeof(*conf));
    size_t i;
    int rc;

    st->conf = conf;
    st->path = path;
    conf->path = xstrdup(path);
    for (i = 0; i < N_SECTIONS; i++)
	if (!sections[i].named)
	    apply_defaults(st, &sections[i], (char *) conf + sections[i].off);

    if ((st->fp = fopen(path, "r")) == NULL) {
	snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
	goto fail;
    }
    rc = ini_parse_stream(conf_reader, st, conf_handler, st);
    if (ferror(st->fp)) {		/* fgets() failed: not the end of the file */
	snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
	fclose(st->fp);
	goto fail;
    }
    fclose(st->fp);
    if (st->long_line && (st->err_line == 0 || st->long_line < st->err_line)) {
	snprintf(err, errlen, "%s:%d: line longer than %d characters "
		 "(continue a list on indented lines)", path, st->long_line,
		 CONF_MAX_LINE);
	goto fail;
    }
    if (rc > 0 && (st->err[0] == '\0' || rc < st->err_line)) {
	snprintf(err, errlen, "%s:%d: syntax error (expected [section] or key = value)",
		 path, rc);
	goto fail;
    }
    if (rc < 0) {
	snprintf(err, errlen, "%s: cannot read: out of memory", path);
	goto fail;
    }
    if (st->err[0] == '\0')
	conf_validate(st);
    if (conf->general.node && conf->logd.node && strcmp(conf->general.node, conf->logd.node) != 0)
	set_err(st, 0, "[logd] node is the older name of [general] node: set one of them");
    if (conf->general.node == NULL)
	conf->general.node = default_node(conf);
    if (st->err[0]) {
	if (st->err_line > 0)
	    snprintf(err, errlen, "%s:%d: %s", path, st->err_line, st->err);
	else
	    snprintf(err, errlen, "%s: %s", path, st->err);
	goto fail;
    }
    free(st->named_seen);
    free(st);
    return conf;

fail:
    free(st->named_seen);
    free(st);
    conf_free(conf);
    return NULL;
}

/* free_section - free what the keys of one section own */
static void
free_section(const struct conf_section *sec, void *obj)
{
    const struct conf_key *k;

    for (k = sec->keys; k->name; k++) {
	char *field = (char *) obj + k->off;

	switch (k->type) {
	case CT_STR:
	case CT_OCTAL:
	    free(*(char **) field);
	    break;
	case CT_LIST:
	    conf_strlist_free((struct conf_strlist *) field);
	    break;
	case CT_CIDRS:
	    free(((struct cidr_list *) field)->v);
	    break;
	default:
	    break;
	}
    }
}

/* conf_free - release a configuration */
void
conf_free(struct outpost_conf *conf)
{
    size_t i, j;

    if (conf == NULL)
	return;
    for (i = 0; i < N_SECTIONS; i++) {
	if (!sections[i].named) {
	    free_section(&sections[i], (char *) conf + sections[i].off);
	} else {
	    struct conf_vec *vec = (struct conf_vec *) ((char *) conf + sections[i].off);

	    for (j = 0; j < vec->n; j++) {
		free_section(&sections[i], vec->v[j]);
		free(((struct conf_named *) vec->v[j])->name);
		free(vec->v[j]);
	    }
	    free(vec->v);
	}
    }
    free(conf->path);
    free(conf);
}

/* conf_named_find - look up a named section element */
static const void *
conf_named_find(const struct conf_vec *vec, const char *name)
{
    size_t i;

    for (i = 0; i < vec->n; i++)
	if (strcmp(((const struct conf_named *) vec->v[i])->name, name) == 0)
	    return vec->v[i];
    return NULL;
}

/* conf_provider_find - [provider NAME] by name */
const struct conf_provider *
conf_provider_find(const struct outpost_conf *conf, const char *name)
{
    return conf_named_find(&conf->providers, name);
}

/* conf_pool_find - [pool NAME] by name */
const struct conf_pool *
conf_pool_find(const struct outpost_conf *conf, const char *name)
{
    return conf_named_find(&conf->pools, name);
}

/* conf_tenant_find - the [tenant NAME] of this name, or NULL */
const struct conf_tenant *
conf_tenant_find(const struct outpost_conf *conf, const char *name)
{
    return conf_named_find(&conf->tenants, name);
}

/* conf_tenant_of_domain - the tenant that owns this sender domain, or NULL */
const struct conf_tenant *
conf_tenant_of_domain(const struct outpost_conf *conf, const char *domain)
{
    size_t i;

    for (i = 0; i < conf->tenants.n; i++)
	if (conf_strlist_has(&CONF_VEC_AT(&conf->tenants, i, struct conf_tenant)->domains,
			     domain))
	    return CONF_VEC_AT(&conf->tenants, i, struct conf_tenant);
    return NULL;
}

/* conf_pool_by_sender - the pool whose senders list names this, -1 none */
int
conf_pool_by_sender(const struct outpost_conf *conf, const char *who)
{
    size_t i;

    for (i = 0; i < conf->pools.n; i++)
	if (conf_strlist_has(&CONF_VEC_AT(&conf->pools, i, struct conf_pool)->senders, who))
	    return (int) i;
    return -1;
}
