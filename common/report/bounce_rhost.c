/*
 * bounce_rhost - the vocabularies of large receivers (see bounce_rhost.h)
 *
 * Each provider has the host names its mail servers answer from and a
 * list of rules, tried in order: a rule speaks when the reply holds its
 * phrase and, where the rule names them, the status code and reply code.
 * Some providers number their refusals; those numbers are read first.
 * The phrases are the public wording of each provider's documentation
 * of its own replies, lower case.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bounce_class.h"
#include "bounce_rhost.h"

struct rhost_rule {
    int reason;
    const char *status;		/* "5.7.1", "5.7.606-649", or NULL: any */
    const char *phrase;		/* lower case; NULL: the code alone */
};

struct rhost_provider {
    const char *name;
    const char *hosts[6];	/* host name suffixes; NULL ends */
    const struct rhost_rule *rules;	/* BR_UNDEFINED ends */
    int (*codes) (const char *folded);	/* numbered refusals */
};

static int orange_codes(const char *t);
static int cox_codes(const char *t);
static int godaddy_codes(const char *t);
static int iua_codes(const char *t);
static int facebook_codes(const char *t);
static int docomo_rules(const char *t, const char *status,
			const char *command);

#define END {BR_UNDEFINED, NULL, NULL}

/* Microsoft: Exchange Online and Exchange Server non-delivery codes */
static const struct rhost_rule microsoft[] = {
    {BR_BLOCKED, "5.7.606-649", "banned sending ip"},
    {BR_BLOCKED, "5.7.511", "banned sender"},
    {BR_BLOCKED, "5.7.513", "customer block list"},
    {BR_BLOCKED, "5.7.506", "bad helo"},
    {BR_BLOCKED, "5.7.507", "rejected by recipient"},
    {BR_BLOCKED, "5.7.510", "does not accept email over ipv6"},
    {BR_BLOCKED, "5.7.25", "reverse dns"},
    {BR_BLOCKED, "5.7.1", "on our block list"},
    {BR_BLOCKED, "5.7.1", "blocked using"},
    {BR_BLOCKED, "4.7.500-699", "access denied, please try again later"},
    {BR_BLOCKED, "4.7.850-899", "access denied, please try again later"},
    {BR_BLOCKED, "4.4.2", "connection dropped"},
    {BR_AUTHFAILURE, "5.7.26", "spf or dkim"},
    {BR_AUTHFAILURE, "5.7.509", "dmarc"},
    {BR_AUTHFAILURE, "5.7.23", "sender policy framework"},
    {BR_BADREPUTATION, "4.7.650", "reputation"},
    {BR_USERUNKNOWN, "5.4.1", "recipient address rejected: access denied"},
    {BR_SUSPEND, "5.7.504", "recipient address rejected"},
    {BR_SUSPEND, "5.7.505", "banned recipient"},
    {BR_SUSPEND, "5.2.1", "mailbox cannot be accessed"},
    {BR_USERUNKNOWN, "5.1.10", "recipient not found"},
    {BR_USERUNKNOWN, "5.5.0", "mailbox unavailable"},
    {BR_USERUNKNOWN, "5.1.1", NULL},
    {BR_USERUNKNOWN, "5.1.3", "invalid recipient address"},
    {BR_SPEEDING, "5.2.2", "submission quota exceeded"},
    {BR_MAILBOXFULL, "5.2.2", NULL},
    {BR_NORELAYING, "5.7.1", "unable to relay"},
    {BR_NORELAYING, "5.7.1", "client was not authenticated"},
    {BR_NORELAYING, "5.4.1", "relay access denied"},
    {BR_NORELAYING, "5.7.64", "relay access denied"},
    {BR_POLICYVIOLATION, "5.7.900-999", "delivery not authorized"},
    {BR_POLICYVIOLATION, "5.0.350", "policy violation"},
    {BR_REJECTED, "5.7.1", "delivery not authorized"},
    {BR_REJECTED, "5.7.12", "not authenticated"},
    {BR_REJECTED, "5.7.13", "not authenticated"},
    {BR_REJECTED, "5.7.124", "allowed-senders list"},
    {BR_REJECTED, "5.7.133-136", "not authenticated"},
    {BR_REJECTED, "5.7.501-503", "access denied"},
    {BR_REJECTED, "5.7.512", "rfc 5322"},
    {BR_REJECTED, "5.7.750", "unregistered domains"},
    {BR_REJECTED, "5.1.7", NULL},
    {BR_REJECTED, "5.1.8", "bad outbound sender"},
    {BR_SPEEDING, "5.7.700-749", "access denied"},
    {BR_SPEEDING, "5.7.508", "exceeded permitted limits"},
    {BR_SPEEDING, "5.2.121-122", "receive limit"},
    {BR_SPEEDING, "4.3.2", "thread limit exceeded"},
    {BR_SPEEDING, "5.1.90", "daily limit"},
    {BR_EXPIRED, "4.4.7", NULL},
    {BR_EXPIRED, "5.4.300", "expired"},
    {BR_EXPIRED, "4.4.1", "connection timed out"},
    {BR_NETWORKERROR, "4.4.316", "connection refused"},
    {BR_NETWORKERROR, "5.4.316", "connection refused"},
    {BR_NETWORKERROR, "5.4.6", "loop"},
    {BR_NETWORKERROR, "5.4.14", "loop"},
    {BR_NETWORKERROR, "5.4.4", NULL},
    {BR_NETWORKERROR, "5.4.310", "does not exist"},
    {BR_FAILEDSTARTTLS, "4.4.317", "starttls"},
    {BR_FAILEDSTARTTLS, "5.4.317", "starttls"},
    {BR_FAILEDSTARTTLS, "4.7.321", "starttls"},
    {BR_FAILEDSTARTTLS, "5.7.321", "starttls"},
    {BR_AUTHFAILURE, "4.7.323-325", NULL},
    {BR_AUTHFAILURE, "5.7.322-325", NULL},
    {BR_MESGTOOBIG, "5.3.4", NULL},
    {BR_EXCEEDLIMIT, "5.2.3", NULL},
    {BR_CONTENTERROR, "5.6.11", NULL},
    {BR_CONTENTERROR, "5.3.0", "too many related errors"},
    {BR_SECURITYERROR, "5.7.3", NULL},
    {BR_SECURITYERROR, "5.7.57", NULL},
    {BR_SYSTEMERROR, "4.3.2", "service not"},
    {BR_SYSTEMFULL, "4.3.1", "insufficient system resources"},
    {BR_TOOMANYCONN, "5.5.3", "too many recipients"},
    {BR_TOOMANYCONN, "4.5.3", "too many recipients"},
    {BR_SPAMDETECTED, "5.2.1", "content filter"},
    {BR_SYSTEMERROR, "4.7.500", "server busy"},
    {BR_SYSTEMERROR, "4.7.700", "busy"},
    {BR_SYSTEMERROR, "4.4.318", NULL},
    {BR_SYSTEMERROR, "5.4.318", NULL},
    END
};

/* Outlook.com's older hosts */
static const struct rhost_rule outlook[] = {
    {BR_HOSTUNKNOWN, NULL, "the domain is not reachable"},
    {BR_USERUNKNOWN, NULL, "requested action not taken: mailbox unavailable"},
    END
};

/* Yahoo Inc: bracketed tags and their words */
static const struct rhost_rule yahoo[] = {
    {BR_AUTHFAILURE, NULL, "requires all senders to authenticate"},
    {BR_BLOCKED, NULL, "in spamhaus's list"},
    {BR_BLOCKED, NULL, "on spamhaus xbl"},
    {BR_BLOCKED, NULL, "[bl2"},
    {BR_NORELAYING, NULL, "relaying denied for"},
    {BR_NOTCOMPLIANTRFC, NULL, "not rfc compliant"},
    {BR_POLICYVIOLATION, NULL, "not accepted for policy reasons"},
    {BR_REJECTED, NULL, "due to unexpected volume or user complaints"},
    {BR_REJECTED, NULL, "unresolvable rfc"},
    {BR_REJECTED, NULL, "will be permanently deferred"},
    {BR_SPEEDING, NULL, "receiving mail too quickly"},
    {BR_SUSPEND, NULL, "is no longer valid"},
    {BR_SUSPEND, NULL, "mailbox is disabled"},
    {BR_SYNTAXERROR, NULL, "syntax error in parameters"},
    {BR_TOOMANYCONN, NULL, "max message per connection"},
    {BR_USERUNKNOWN, NULL, "doesn't have a"},
    {BR_USERUNKNOWN, NULL, "mailbox not found"},
    END
};

/* AOL */
static const struct rhost_rule aol[] = {
    {BR_HOSTUNKNOWN, NULL, "host or domain name not found"},
    {BR_NOTACCEPT, NULL, "malformed or unexpected name server reply"},
    END
};

/* Google's inbound servers (Gmail and Workspace) */
static const struct rhost_rule google[] = {
    {BR_AUTHFAILURE, NULL, "spf record of the sending domain"},
    {BR_AUTHFAILURE, NULL, "to authenticate with either spf or dkim"},
    {BR_AUTHFAILURE, NULL, "fails to pass spf checks"},
    {BR_AUTHFAILURE, NULL, "spf record with a hard fail"},
    {BR_AUTHFAILURE, NULL, "dmarc policy"},
    {BR_AUTHFAILURE, NULL, "fails to pass authentication checks"},
    {BR_AUTHFAILURE, NULL, "to authenticate with spf"},
    {BR_AUTHFAILURE, NULL, "to authenticate with dkim"},
    {BR_AUTHFAILURE, NULL, "their email with spf"},
    {BR_AUTHFAILURE, NULL, "their email with dkim"},
    {BR_AUTHFAILURE, NULL, "authenticated spf or dkim"},
    {BR_AUTHFAILURE, NULL, "add a dmarc record"},
    {BR_BADREPUTATION, NULL, "low reputation of the sending"},
    {BR_BLOCKED, NULL, "ip not in whitelist"},
    {BR_BLOCKED, NULL, "try again later, closing connection"},
    {BR_BLOCKED, NULL, "helo/ehlo argument"},
    {BR_BLOCKED, NULL, "unusual rate of"},
    {BR_REQUIREPTR, NULL, "ptr record"},
    {BR_EXCEEDLIMIT, "5.2.3", "message size limit"},
    {BR_MESGTOOBIG, NULL, "message size limit"},
    {BR_EXCEEDLIMIT, NULL, "exceeds google's limit"},
    {BR_EXCEEDLIMIT, NULL, "header size limit"},
    {BR_EXPIRED, NULL, "connection expired"},
    {BR_EXPIRED, NULL, "timeout - closing connection"},
    {BR_FAILEDSTARTTLS, NULL, "must issue a starttls command first"},
    {BR_FAILEDSTARTTLS, NULL, "tls required for rcpt domain"},
    {BR_FAILEDSTARTTLS, NULL, "to use tls/ssl"},
    {BR_MAILBOXFULL, NULL, "out of storage space"},
    {BR_MAILBOXFULL, NULL, "is over quota"},
    {BR_MAILBOXFULL, NULL, "email quota exceeded"},
    {BR_NETWORKERROR, NULL, "exceeded 50 hops"},
    {BR_NORELAYING, NULL, "mail relay denied"},
    {BR_NORELAYING, NULL, "invalid credentials for relay"},
    {BR_NORELAYING, NULL, "not authorized to send email directly to our servers"},
    {BR_NOTCOMPLIANTRFC, NULL, "in the from: header"},
    {BR_NOTCOMPLIANTRFC, NULL, "in from: header are not accepted"},
    {BR_NOTCOMPLIANTRFC, NULL, "rfc 5322 compliant"},
    {BR_NOTCOMPLIANTRFC, NULL, "valid message-id"},
    {BR_NOTCOMPLIANTRFC, NULL, "disallowed header"},
    {BR_NOTCOMPLIANTRFC, NULL, "encoded-word syntax"},
    {BR_NOTCOMPLIANTRFC, NULL, "valid rfc 5321 address"},
    {BR_NOTCOMPLIANTRFC, NULL, "message is malformed"},
    {BR_POLICYVIOLATION, NULL, "illegal attachment"},
    {BR_POLICYVIOLATION, NULL, "content presents a potential security issue"},
    {BR_POLICYVIOLATION, NULL, "has a policy that prohibited"},
    {BR_POLICYVIOLATION, NULL, "with the same message-id"},
    {BR_REJECTED, NULL, "mail sending denied"},
    {BR_REJECTED, NULL, "unauthenticated email is not accepted"},
    {BR_SECURITYERROR, NULL, "too many login attempts"},
    {BR_SECURITYERROR, NULL, "no identity changes permitted"},
    {BR_SECURITYERROR, NULL, "authentication required"},
    {BR_SECURITYERROR, NULL, "application-specific password"},
    {BR_SECURITYERROR, NULL, "log in with your web browser"},
    {BR_SECURITYERROR, NULL, "log in through your web browser"},
    {BR_SECURITYERROR, NULL, "username and password not accepted"},
    {BR_SPAMDETECTED, NULL, "nature of the content or the links"},
    {BR_SPAMDETECTED, NULL, "likely unsolicited mail"},
    {BR_SPEEDING, NULL, "receiving mail too quickly"},
    {BR_SPEEDING, NULL, "relay limit exceeded"},
    {BR_SPEEDING, NULL, "prevents additional messages from being delivered"},
    {BR_SPEEDING, NULL, "daily sending quota exceeded"},
    {BR_SPEEDING, NULL, "daily user sending limit"},
    {BR_SPEEDING, NULL, "relay sending limit"},
    {BR_SPEEDING, NULL, "has been rate limited"},
    {BR_SUSPEND, NULL, "account that you tried to reach is disabled"},
    {BR_SUSPEND, NULL, "account that you tried to reach is inactive"},
    {BR_SYNTAXERROR, NULL, "smtp protocol violation"},
    {BR_SYNTAXERROR, NULL, "syntax error"},
    {BR_SYNTAXERROR, NULL, "unrecognized command"},
    {BR_SYNTAXERROR, NULL, "unimplemented command"},
    {BR_SYNTAXERROR, NULL, "bad sequence of commands"},
    {BR_SYSTEMERROR, NULL, "temporary system problem"},
    {BR_SYSTEMERROR, NULL, "server busy"},
    {BR_SYSTEMERROR, NULL, "temporarily rejected"},
    {BR_SYSTEMERROR, NULL, "domains per transaction"},
    {BR_SYSTEMERROR, NULL, "policy size per transaction"},
    {BR_TOOMANYCONN, NULL, "too many recipients"},
    {BR_USERUNKNOWN, NULL, "account that you tried to reach does not exist"},
    {BR_USERUNKNOWN, NULL, "address couldn't be found"},
    END
};

/* Google Workspace's own notices */
static const struct rhost_rule gsuite[] = {
    {BR_NOTACCEPT, NULL, "null mx"},
    {BR_USERUNKNOWN, NULL, "because the address couldn't be found"},
    END
};

/* Apple iCloud */
static const struct rhost_rule apple[] = {
    {BR_AUTHFAILURE, NULL, "s dmarc policy"},
    {BR_AUTHFAILURE, NULL, "both spf and dkim"},
    {BR_BLOCKED, NULL, "due to having a domain present in the spamhaus"},
    {BR_BLOCKED, NULL, "due to listing in spamhaus"},
    {BR_BLOCKED, NULL, "dnsbl-lookup"},
    {BR_BLOCKED, NULL, "not accepting connections"},
    {BR_HASMOVED, NULL, "no longer on server"},
    {BR_MAILBOXFULL, NULL, "over quota"},
    {BR_NORELAYING, NULL, "relay access denied"},
    {BR_NOTACCEPT, NULL, "does not accept mail"},
    {BR_POLICYVIOLATION, NULL, "due to local policy"},
    {BR_REJECTED, NULL, "sender address rejected"},
    {BR_SPEEDING, NULL, "due to excessive volume"},
    {BR_USERUNKNOWN, NULL, "inactive email address"},
    {BR_USERUNKNOWN, NULL, "user does not exist"},
    {BR_USERUNKNOWN, NULL, "unknown or illegal alias"},
    END
};

/* Symantec/Broadcom MessageLabs (Email Security.cloud) */
static const struct rhost_rule messagelabs[] = {
    {BR_AUTHFAILURE, NULL, "domain authentication fail"},
    {BR_BADREPUTATION, NULL, "connection rejected by policy"},
    {BR_BLOCKED, NULL, "your ip is in the pbl"},
    {BR_BLOCKED, NULL, "your ip address has been"},
    {BR_BLOCKED, NULL, "your ip address ("},
    {BR_CONTENTERROR, NULL, "stray linefeeds"},
    {BR_FAILEDSTARTTLS, NULL, "connection required"},
    {BR_NORELAYING, NULL, " as a relay"},
    {BR_NOTCOMPLIANTRFC, NULL, "requested action aborted [4]"},
    {BR_NOTCOMPLIANTRFC, NULL, "not rfc 5322"},
    {BR_REJECTED, NULL, "not allowed for sender ip"},
    {BR_REJECTED, NULL, "your domain has been"},
    {BR_REJECTED, NULL, "your email address has been"},
    {BR_REJECTED, NULL, "badmailfrom"},
    {BR_SECURITYERROR, NULL, "smtp authentication"},
    {BR_SPAMDETECTED, NULL, "message filtered"},
    {BR_SPAMDETECTED, NULL, "outbound scanning"},
    {BR_TOOMANYCONN, NULL, "too many recipients received this hour"},
    {BR_TOOMANYCONN, NULL, "too many messages"},
    {BR_USERUNKNOWN, NULL, "no such user"},
    {BR_USERUNKNOWN, NULL, "invalid recipient"},
    {BR_USERUNKNOWN, NULL, "mailbox is not allowed"},
    END
};

/* Mimecast */
static const struct rhost_rule mimecast[] = {
    {BR_AUTHFAILURE, NULL, "spf sender invalid"},
    {BR_AUTHFAILURE, NULL, "dkim sender invalid"},
    {BR_AUTHFAILURE, NULL, "dmarc sender invalid"},
    {BR_BADREPUTATION, NULL, "internal resources are temporarily unavailable"},
    {BR_BADREPUTATION, NULL, "ip reputation"},
    {BR_BLOCKED, NULL, "sender address blocked"},
    {BR_BLOCKED, NULL, "recipient temporarily unavailable"},
    {BR_BLOCKED, NULL, "ip temporarily blacklisted"},
    {BR_EXPIRED, NULL, "past the expiration"},
    {BR_FAILEDSTARTTLS, NULL, "route requires"},
    {BR_FAILEDSTARTTLS, NULL, "invalid for this certificate"},
    {BR_MESGTOOBIG, NULL, "maximum email size exceeded"},
    {BR_NETWORKERROR, NULL, "incorrect hostname used for inbound"},
    {BR_NETWORKERROR, NULL, "mail loop detected"},
    {BR_NORELAYING, NULL, "open relay"},
    {BR_NOTACCEPT, NULL, "account inbounds disabled"},
    {BR_POLICYVIOLATION, NULL, "anti-spoofing policy"},
    {BR_POLICYVIOLATION, NULL, "content examination policy"},
    {BR_POLICYVIOLATION, NULL, "host network"},
    {BR_REJECTED, NULL, "envelope blocked"},
    {BR_REJECTED, NULL, "blocked senders"},
    {BR_REJECTED, NULL, "block policy for"},
    {BR_SECURITYERROR, NULL, "incorrect authentication data"},
    {BR_SECURITYERROR, NULL, "submitter failed to"},
    {BR_SYSTEMERROR, NULL, "unable to process"},
    {BR_SYSTEMERROR, NULL, "message ended early"},
    {BR_TOOMANYCONN, NULL, "account service is temporarily unavailable"},
    {BR_TOOMANYCONN, NULL, "too many recipients"},
    {BR_TOOMANYCONN, NULL, "outbound thread limit"},
    {BR_VIRUSDETECTED, NULL, "virus"},
    {BR_SPAMDETECTED, NULL, "spam"},
    {BR_USERUNKNOWN, NULL, "invalid address"},
    {BR_USERUNKNOWN, NULL, "user unknown"},
    {BR_USERUNKNOWN, NULL, "invalid recipient"},
    END
};

/* Cox: the words where no AUP# label is given */
static const struct rhost_rule cox[] = {
    {BR_BLOCKED, NULL, "too many bad commands"},
    {BR_BLOCKED, NULL, "too many invalid recipients"},
    {BR_REQUIREPTR, NULL, "dns check failure"},
    {BR_REQUIREPTR, NULL, "no rdns"},
    {BR_POLICYVIOLATION, NULL, "no data before greeting"},
    {BR_POLICYVIOLATION, NULL, "attachment extension is forbidden"},
    {BR_REJECTED, NULL, "sender rejected"},
    {BR_SYSTEMERROR, NULL, "server temporarily not available"},
    {BR_TOOMANYCONN, NULL, "too many sessions from"},
    {BR_TOOMANYCONN, NULL, "try again later"},
    {BR_TOOMANYCONN, NULL, "message threshold exceeded"},
    {BR_USERUNKNOWN, NULL, "recipient rejected"},
    END
};

/* GoDaddy: the words where no IB code is given */
static const struct rhost_rule godaddy[] = {
    {BR_BLOCKED, NULL, "rbl reject"},
    {BR_BLOCKED, NULL, "spamhaus.org/query/bl"},
    {BR_EXPIRED, NULL, "in the queue too long"},
    {BR_EXPIRED, NULL, "delivery timeout"},
    {BR_MAILBOXFULL, NULL, "account storage limit"},
    {BR_SPAMDETECTED, NULL, "rejected for spam or virus"},
    {BR_SUSPEND, NULL, "account disabled"},
    {BR_SYSTEMERROR, NULL, "message is looping"},
    {BR_USERUNKNOWN, NULL, "recipient not found"},
    {BR_USERUNKNOWN, NULL, "account does not exist"},
    END
};

/* Tencent QQ */
static const struct rhost_rule tencent[] = {
    {BR_AUTHFAILURE, NULL, "spf check failed"},
    {BR_AUTHFAILURE, NULL, "dmarc check failed"},
    {BR_BLOCKED, NULL, "suspected bounce attacks"},
    {BR_BLOCKED, NULL, "suspected spam ip"},
    {BR_BLOCKED, NULL, "connection denied"},
    {BR_MESGTOOBIG, NULL, "message too large"},
    {BR_SPAMDETECTED, NULL, "spam is embedded"},
    {BR_SPAMDETECTED, NULL, "mail content denied"},
    {BR_REJECTED, NULL, "suspected spam"},
    {BR_REJECTED, NULL, "rejected by recipients"},
    {BR_SPEEDING, NULL, "mailbox unavailable or access deni"},
    {BR_SPEEDING, NULL, "receiving messages is limited"},
    {BR_SUSPEND, NULL, "deactivated mailbox"},
    {BR_SYNTAXERROR, NULL, "bad address syntax"},
    {BR_TOOMANYCONN, NULL, "frequency limited"},
    {BR_USERUNKNOWN, NULL, "mailbox not found"},
    END
};

/* KDDI au: the address in the reply says it was refused at RCPT */
static const struct rhost_rule kddi[] = {
    {BR_FILTERED, NULL, "550 : user unknown"},
    {BR_USERUNKNOWN, NULL, ">: user unknown"},
    END
};

/* Spectrum (Charter) */
static const struct rhost_rule spectrum[] = {
    {BR_BLOCKED, NULL, "aup#1000"},
    {BR_BLOCKED, NULL, "aup#1010"},
    {BR_BLOCKED, NULL, "aup#1020"},
    {BR_BLOCKED, NULL, "aup#1030"},
    {BR_BLOCKED, NULL, "aup#1090"},
    {BR_BLOCKED, NULL, "aup#1260"},
    {BR_REQUIREPTR, NULL, "aup#1050"},
    {BR_REJECTED, NULL, "aup#1040"},
    {BR_TOOMANYCONN, NULL, "aup#1060"},
    {BR_TOOMANYCONN, NULL, "aup#1070"},
    {BR_TOOMANYCONN, NULL, "aup#1080"},
    {BR_SPEEDING, NULL, "aup#1500"},
    {BR_SYSTEMERROR, NULL, "aup#1100"},
    END
};

/* Zoho */
static const struct rhost_rule zoho[] = {
    {BR_AUTHFAILURE, NULL, "rejected per dmarc policy"},
    {BR_BLOCKED, NULL, "greylisted, try again"},
    {BR_REJECTED, NULL, "email flagged as spam"},
    {BR_REJECTED, NULL, "mail rejected by destination domain"},
    {BR_POLICYVIOLATION, NULL, "policy violation detected"},
    {BR_POLICYVIOLATION, NULL, "restricted by policy"},
    {BR_SYSTEMERROR, NULL, "temporary system error"},
    {BR_USERUNKNOWN, NULL, "user does not exist"},
    {BR_VIRUSDETECTED, NULL, "detected by zoho mail"},
    END
};

/* Orange and La Poste: the codes carry it, the words are French */
static const struct rhost_rule orange[] = {
    {BR_USERUNKNOWN, NULL, "destinataire invalide"},
    {BR_MAILBOXFULL, NULL, "boite du destinataire pleine"},
    {BR_SUSPEND, NULL, "boite du destinataire archivee"},
    {BR_REJECTED, NULL, "emetteur invalide"},
    END
};

/* Cloudflare Email Routing */
static const struct rhost_rule cloudflare[] = {
    {BR_BLOCKED, NULL, "found on one or more dnsbls"},
    {BR_SYSTEMERROR, NULL, "upstream error"},
    END
};

/* NTT docomo: see docomo_rules() */
static const struct rhost_rule none[] = {
    END
};

static const struct rhost_provider providers[] = {
    {"microsoft", {".prod.outlook.com", ".protection.outlook.com",
     ".onmicrosoft.com", ".exchangelabs.com", NULL}, microsoft, NULL},
    {"outlook", {".hotmail.com", NULL}, outlook, NULL},
    {"yahoo", {".yahoodns.net", NULL}, yahoo, NULL},
    {"aol", {".mail.aol.com", ".mx.aol.com", NULL}, aol, NULL},
    {"google", {"aspmx.l.google.com", "gmail-smtp-in.l.google.com", NULL},
     google, NULL},
    {"gsuite", {"googlemail.com", NULL}, gsuite, NULL},
    {"apple", {".mail.icloud.com", ".apple.com", ".me.com", NULL}, apple,
     NULL},
    {"messagelabs", {".messagelabs.com", NULL}, messagelabs, NULL},
    {"mimecast", {".mimecast.com", NULL}, mimecast, NULL},
    {"cox", {"cox.net", NULL}, cox, cox_codes},
    {"godaddy", {"smtp.secureserver.net", "mailstore1.secureserver.net",
     NULL}, godaddy, godaddy_codes},
    {"tencent", {".qq.com", NULL}, tencent, NULL},
    {"kddi", {".ezweb.ne.jp", "msmx.au.com", NULL}, kddi, NULL},
    {"spectrum", {"charter.net", NULL}, spectrum, NULL},
    {"zoho", {".zoho.com", ".zohomail.com", NULL}, zoho, NULL},
    {"orange", {".laposte.net", ".orange.fr", ".wanadoo.fr", NULL}, orange,
     orange_codes},
    {"docomo", {"mfsmax.docomo.ne.jp", NULL}, none, NULL},
    {"cloudflare", {".mx.cloudflare.net", NULL}, cloudflare, NULL},
    {"iua", {".email.ua", NULL}, none, iua_codes},
    {"facebook", {".facebook.com", NULL}, none, facebook_codes},
};

/* host_is - name ends with suffix, at a label boundary */
static int
host_is(const char *name, size_t nl, const char *suffix)
{
    size_t sl = strlen(suffix);

    if (nl < sl || strncasecmp(name + nl - sl, suffix, sl) != 0)
	return 0;
    return suffix[0] == '.' || nl == sl || name[nl - sl - 1] == '.';
}

/* domain_served - the provider's host names lie under the domain */
static int
domain_served(const char *host, const char *domain, size_t dl)
{
    size_t hl = strlen(host);

    /* "example.com" serves "mx.example.com", "example.com" itself */
    if (dl == 0 || memchr(domain, '.', dl) == NULL || hl < dl)
	return 0;
    if (strncasecmp(host + hl - dl, domain, dl) != 0)
	return 0;
    return hl == dl || host[hl - dl - 1] == '.';
}

/* provider_of_host - the provider answering from this host, or NULL */
static const struct rhost_provider *
provider_of_host(const char *host)
{
    size_t i, k, hl = host ? strlen(host) : 0;

    while (hl > 0 && host[hl - 1] == '.')
	hl--;
    for (i = 0; hl && i < sizeof(providers) / sizeof(providers[0]); i++)
	for (k = 0; providers[i].hosts[k]; k++)
	    if (host_is(host, hl, providers[i].hosts[k]))
		return providers + i;
    return NULL;
}

/* find_provider - the provider whose rules apply, or NULL */
static const struct rhost_provider *
find_provider(const char *rhost, const char *domain, const char *lhost)
{
    const struct rhost_provider *p;
    size_t i, k, dl = domain ? strlen(domain) : 0;

    /* the recipient's domain first: the reply came from its servers */
    for (i = 0; dl && i < sizeof(providers) / sizeof(providers[0]); i++)
	for (k = 0; providers[i].hosts[k]; k++)
	    if (domain_served(providers[i].hosts[k], domain, dl))
		return providers + i;
    if ((p = provider_of_host(rhost)) != NULL)
	return p;
    return provider_of_host(lhost);
}

/* status_fits - the status code matches "5.7.1" or "5.7.606-649" */
static int
status_fits(const char *want, const char *status)
{
    const char *dash = strchr(want, '-'), *dot;
    size_t pl;
    long lo, hi, n;
    char *end;

    if (dash == NULL)
	return strcmp(want, status) == 0;
    dot = strrchr(want, '.');
    if (dot == NULL || dot > dash)
	return 0;
    pl = (size_t) (dot - want) + 1;
    if (strncmp(want, status, pl) != 0 || !isdigit((unsigned char) status[pl]))
	return 0;
    lo = strtol(dot + 1, NULL, 10);
    hi = strtol(dash + 1, NULL, 10);
    n = strtol(status + pl, &end, 10);
    return *end == 0 && n >= lo && n <= hi;
}

/* code_after - the three digits that end "ofr_506", "lpn105-104" */
static int
code_after(const char *p)
{
    int i;

    if (*p == '_')
	p++;
    else {
	/* "105_104", "105-104": the second number counts */
	for (i = 0; i < 3; i++)
	    if (!isdigit((unsigned char) p[i]))
		return -1;
	if (p[3] != '_' && p[3] != '-')
	    return -1;
	p += 4;
    }
    for (i = 0; i < 3; i++)
	if (!isdigit((unsigned char) p[i]))
	    return -1;
    if (isalnum((unsigned char) p[3]))
	return -1;
    return (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
}

/* orange_codes - Orange's OFR/LPN/OUK numbers */
static int
orange_codes(const char *t)
{
    static const struct {
	int code;
	int reason;
    } table[] = {
	{102, BR_BLOCKED}, {103, BR_BLOCKED}, {104, BR_TOOMANYCONN},
	{305, BR_SECURITYERROR}, {401, BR_BLOCKED}, {402, BR_SECURITYERROR},
	{403, BR_REJECTED}, {405, BR_REJECTED}, {415, BR_REJECTED},
	{416, BR_USERUNKNOWN}, {417, BR_MAILBOXFULL}, {418, BR_USERUNKNOWN},
	{420, BR_SUSPEND}, {421, BR_REJECTED}, {426, BR_SUSPEND},
	{505, BR_SYSTEMERROR}, {506, BR_SPAMDETECTED}, {510, BR_BLOCKED},
	{514, BR_MESGTOOBIG}, {999, BR_BLOCKED},
    };
    static const char *const tags[] = {"ofr", "lpn", "ouk"};
    const char *p;
    int code;

    for (size_t k = 0; k < 3; k++)
	for (p = t; (p = strstr(p, tags[k])) != NULL; p += 3) {
	    if (p > t && isalnum((unsigned char) p[-1]))
		continue;
	    if ((code = code_after(p + 3)) < 0)
		continue;
	    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].code == code)
		    return table[i].reason;
	    return BR_UNDEFINED;
	}
    return BR_UNDEFINED;
}

/* iua_codes - i.ua numbers its refusals in a link: ".i.ua/err/2/" */
static int
iua_codes(const char *t)
{
    static const int reasons[] = {
	BR_UNDEFINED, BR_NORELAYING, BR_USERUNKNOWN, BR_SUSPEND,
	BR_MAILBOXFULL, BR_TOOMANYCONN, BR_NORELAYING, BR_BLOCKED,
	BR_REJECTED, BR_BLOCKED, BR_FILTERED,
    };
    const char *p = strstr(t, ".i.ua/err/");
    int code;

    if (p == NULL || !isdigit((unsigned char) p[10]))
	return BR_UNDEFINED;
    code = atoi(p + 10);
    return code > 0 && code <= 10 ? reasons[code] : BR_UNDEFINED;
}

/* facebook_codes - Facebook labels its refusals: "RCP-P1", "POL-T2", ... */
static int
facebook_codes(const char *t)
{
    static const struct {
	const char *label;
	int reason;
    } table[] = {
	{"pol-p7", BR_AUTHFAILURE}, {"pol-p1", BR_BLOCKED},
	{"pol-p2", BR_BLOCKED}, {"pol-p3", BR_BLOCKED}, {"pol-p4", BR_BLOCKED},
	{"pol-t1", BR_BLOCKED}, {"pol-t2", BR_BLOCKED}, {"pol-t3", BR_BLOCKED},
	{"msg-p2", BR_CONTENTERROR}, {"rcp-p2", BR_FILTERED},
	{"rcp-p3", BR_FILTERED}, {"msg-p1", BR_MESGTOOBIG},
	{"int-p2", BR_MESGTOOBIG}, {"msg-p3", BR_NOTCOMPLIANTRFC},
	{"dns-p1", BR_REJECTED}, {"dns-p2", BR_REJECTED},
	{"dns-t1", BR_REJECTED}, {"dns-p3", BR_REQUIREPTR},
	{"dns-t2", BR_REQUIREPTR}, {"pol-p6", BR_SPAMDETECTED},
	{"rcp-t4", BR_SUSPEND}, {"rcp-t1", BR_SYSTEMERROR},
	{"con-t1", BR_TOOMANYCONN}, {"con-t2", BR_TOOMANYCONN},
	{"con-t3", BR_TOOMANYCONN}, {"con-t4", BR_TOOMANYCONN},
	{"msg-t1", BR_TOOMANYCONN}, {"rcp-p1", BR_USERUNKNOWN},
	{"int-p1", BR_USERUNKNOWN}, {"int-p3", BR_USERUNKNOWN},
	{"int-p4", BR_USERUNKNOWN}, {"pol-p5", BR_VIRUSDETECTED},
    };
    const char *p;

    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
	for (p = t; (p = strstr(p, table[i].label)) != NULL; p += 6)
	    if ((p == t || !isalnum((unsigned char) p[-1]))
		&& !isalnum((unsigned char) p[6]))
		return table[i].reason;
    return BR_UNDEFINED;
}

/* label_after - the word after a tag ("aup#cxbl" -> "cxbl") */
static void
label_after(const char *p, char *out, size_t outsz)
{
    size_t o = 0;

    while (*p && isalnum((unsigned char) *p) && o + 1 < outsz)
	out[o++] = *p++;
    out[o] = 0;
}

/* cox_codes - Cox's AUP# labels */
static int
cox_codes(const char *t)
{
    static const struct {
	const char *label;
	int reason;
    } table[] = {
	{"cxbl", BR_BLOCKED}, {"cdrbl", BR_BLOCKED},
	{"cxdns", BR_REQUIREPTR}, {"cxsndr", BR_AUTHFAILURE},
	{"cxsmtp", BR_REJECTED}, {"cxcnct", BR_TOOMANYCONN},
	{"cxmxrt", BR_TOOMANYCONN}, {"cxthrt", BR_SECURITYERROR},
	{"cxmj", BR_SECURITYERROR},
    };
    const char *p = strstr(t, "aup#");
    char label[16];

    if (p == NULL)
	return BR_UNDEFINED;
    label_after(p + 4, label, sizeof(label));
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
	if (strcmp(label, table[i].label) == 0)
	    return table[i].reason;
    /* IPBLnnnn: a block list; URLBLnnn: a listed link in the body */
    if (strncmp(label, "ipbl", 4) == 0)
	return BR_BLOCKED;
    if (strncmp(label, "urlbl", 5) == 0)
	return BR_SPAMDETECTED;
    return BR_UNDEFINED;
}

/* godaddy_codes - GoDaddy's IBnnn codes */
static int
godaddy_codes(const char *t)
{
    static const struct {
	const char *label;
	int reason;
    } table[] = {
	{"ib401", BR_SECURITYERROR}, {"ib501", BR_NOTCOMPLIANTRFC},
	{"ib502", BR_NOTCOMPLIANTRFC}, {"ib506", BR_REJECTED},
	{"ib508", BR_AUTHFAILURE}, {"ib108", BR_REQUIREPTR},
	{"ib212", BR_SPAMDETECTED}, {"ib705", BR_VIRUSDETECTED},
	{"ib605", BR_TOOMANYCONN}, {"ib007", BR_TOOMANYCONN},
	{"ib101", BR_SPEEDING}, {"ib110", BR_BLOCKED}, {"ib111", BR_BLOCKED},
	{"ib112", BR_BLOCKED}, {"ib113", BR_BLOCKED}, {"ib504", BR_SPEEDING},
	{"ib510", BR_SPEEDING}, {"ib607", BR_SPEEDING},
	{"ib103", BR_BADREPUTATION}, {"ib104", BR_BLOCKED},
	{"ib105", BR_BLOCKED}, {"ib106", BR_BLOCKED},
    };
    const char *p;
    char label[16];

    for (p = t; (p = strstr(p, " ib")) != NULL; p += 3) {
	label_after(p + 1, label, sizeof(label));
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
	    if (strcmp(label, table[i].label) == 0)
		return table[i].reason;
    }
    return BR_UNDEFINED;
}

/* docomo_rules - NTT docomo: its words, else the refused command */
static int
docomo_rules(const char *t, const char *status, const char *command)
{
    static const struct {
	const char *phrase;
	int reason;
    } table[] = {
	{"552 too much mail data", BR_MAILBOXFULL},
	{"503 bad sequence of commands", BR_SYNTAXERROR},
	{"504 command parameter not implemented", BR_SYNTAXERROR},
	{"552 too many recipients", BR_TOOMANYCONN},
	{"550 unknown user", BR_USERUNKNOWN},
    };

    if (strcmp(status, "5.1.1") == 0 || strcmp(status, "5.0.911") == 0)
	return BR_USERUNKNOWN;
    /* "5.2.0": the domain filter refused it after the message */
    if (strcmp(status, "5.2.0") == 0)
	return BR_FILTERED;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
	if (strstr(t, table[i].phrase))
	    return table[i].reason;
    /* "Message rejected" alone: refused at RCPT, or after the message */
    if (strcmp(status, "5.0.0") == 0 && command != NULL) {
	if (strcmp(command, "RCPT") == 0)
	    return BR_USERUNKNOWN;
	if (strcmp(command, "DATA") == 0)
	    return BR_REJECTED;
    }
    return BR_UNDEFINED;
}

/* bounce_rhost_provider - name of the provider whose rules apply */
const char *
bounce_rhost_provider(const char *rhost, const char *domain,
		      const char *lhost)
{
    const struct rhost_provider *p = find_provider(rhost, domain, lhost);

    return p ? p->name : NULL;
}

/* bounce_rhost_reason - the reason the provider's own rules give */
int
bounce_rhost_reason(const struct bounce_evidence *ev, const char *folded)
{
    const struct rhost_provider *p = find_provider(ev->rhost, ev->domain,
						   ev->lhost);
    const struct rhost_rule *r;
    const char *status = ev->status, *command = ev->command;
    int reason;

    if (p == NULL || folded == NULL || folded[0] == 0)
	return BR_UNDEFINED;
    if (status == NULL)
	status = "";
    if (strcmp(p->name, "docomo") == 0)
	return docomo_rules(folded, status, command);
    if (p->codes && (reason = p->codes(folded)) != BR_UNDEFINED)
	return reason;
    for (r = p->rules; r->reason != BR_UNDEFINED; r++) {
	if (r->status && !status_fits(r->status, status))
	    continue;
	if (r->phrase && strstr(folded, r->phrase) == NULL)
	    continue;
	return r->reason;
    }
    return BR_UNDEFINED;
}

/* host_copy - the host name at p, lower case, without a final dot */
static int
host_copy(const char *p, char *out, size_t outsz)
{
    size_t o = 0;
    int dots = 0;

    while (*p == ' ' || *p == '<')
	p++;
    while ((isalnum((unsigned char) *p) || *p == '.' || *p == '-')
	   && o + 1 < outsz) {
	dots += *p == '.';
	out[o++] = (char) tolower((unsigned char) *p++);
    }
    while (o > 0 && out[o - 1] == '.')
	o--, dots--;
    out[o] = 0;
    /* a name with a dot, not an address literal */
    if (dots < 1 || o == 0 || isdigit((unsigned char) out[o - 1])) {
	out[0] = 0;
	return -1;
    }
    return 0;
}

/* bounce_rhost_find - the remote MTA a notice names */
int
bounce_rhost_find(const char *text, char *out, size_t outsz)
{
    static const char *const leads[] = {
	"remote-mta: dns;", "generating server:", "while talking to ",
	"relay=", "host ",
    };
    const char *p;
    char name[256];

    if (outsz == 0)
	return -1;
    out[0] = 0;
    if (text == NULL)
	return -1;
    for (size_t i = 0; i < sizeof(leads) / sizeof(leads[0]); i++) {
	size_t n = strlen(leads[i]);

	for (p = text; (p = strcasestr(p, leads[i])) != NULL; p += n) {
	    const char *q = p + n, *e;

	    if (host_copy(q, name, sizeof(name)) < 0)
		continue;
	    /* "host X" counts only where an address or "said" follows */
	    if (i == 4) {
		for (e = q; *e == ' '; e++)
		    /* void */ ;
		e += strlen(name);
		while (*e == ' ' || *e == '.')
		    e++;
		if (*e != '[' && *e != '(' && strncasecmp(e, "said", 4) != 0)
		    continue;
	    }
	    snprintf(out, outsz, "%s", name);
	    return 0;
	}
    }
    return -1;
}
