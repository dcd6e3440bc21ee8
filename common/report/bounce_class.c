/*
 * bounce_class - why a message failed, and whether to stop sending
 * (see bounce_class.h)
 *
 * The decision goes in three steps.  First the reasons that either the
 * status code or an unambiguous phrase can establish are tried in a fixed
 * order, most specific first (a full mailbox is a full mailbox whatever
 * the code says).  Then, when the status code is generic or missing, the
 * wording alone is matched against the remaining reasons.  Last come the
 * status code's own meaning, the status class, and the DSN Action.
 *
 * A phrase is a lower-case string; "*" inside it means "anything, then":
 * "mailbox*full" matches "mailbox is full" and "Mailbox Full".  The text is
 * matched lower-cased with runs of blanks folded to one space.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "blname.h"
#include "bounce_class.h"
#include "bounce_rhost.h"
#include "xalloc.h"

static const char *reason_names[BR_COUNT] = {
    [BR_UNDEFINED] = "undefined",
    [BR_ONHOLD] = "onhold",
    [BR_DELIVERED] = "delivered",
    [BR_FEEDBACK] = "feedback",
    [BR_VACATION] = "vacation",
    [BR_USERUNKNOWN] = "userunknown",
    [BR_HOSTUNKNOWN] = "hostunknown",
    [BR_HASMOVED] = "hasmoved",
    [BR_NOTACCEPT] = "notaccept",
    [BR_MAILBOXFULL] = "mailboxfull",
    [BR_SUSPEND] = "suspend",
    [BR_FILTERED] = "filtered",
    [BR_REJECTED] = "rejected",
    [BR_BLOCKED] = "blocked",
    [BR_SPAMDETECTED] = "spamdetected",
    [BR_VIRUSDETECTED] = "virusdetected",
    [BR_POLICYVIOLATION] = "policyviolation",
    [BR_AUTHFAILURE] = "authfailure",
    [BR_REQUIREPTR] = "requireptr",
    [BR_BADREPUTATION] = "badreputation",
    [BR_SECURITYERROR] = "securityerror",
    [BR_NORELAYING] = "norelaying",
    [BR_NOTCOMPLIANTRFC] = "notcompliantrfc",
    [BR_CONTENTERROR] = "contenterror",
    [BR_MESGTOOBIG] = "mesgtoobig",
    [BR_EXCEEDLIMIT] = "exceedlimit",
    [BR_TOOMANYCONN] = "toomanyconn",
    [BR_SPEEDING] = "speeding",
    [BR_EXPIRED] = "expired",
    [BR_NETWORKERROR] = "networkerror",
    [BR_SYSTEMERROR] = "systemerror",
    [BR_SYSTEMFULL] = "systemfull",
    [BR_MAILERERROR] = "mailererror",
    [BR_SYNTAXERROR] = "syntaxerror",
    [BR_UNSUBSCRIBE] = "unsubscribe",
    [BR_FAILEDSTARTTLS] = "failedstarttls",
};

/* detail numbers of the pseudo status codes (X.0.9NN) */
static const short pseudo_detail[BR_COUNT] = {
    [BR_UNDEFINED] = 900, [BR_ONHOLD] = 901, [BR_SYNTAXERROR] = 902,
    [BR_NORELAYING] = 909, [BR_FILTERED] = 910, [BR_USERUNKNOWN] = 911,
    [BR_HOSTUNKNOWN] = 912, [BR_HASMOVED] = 916, [BR_REJECTED] = 918,
    [BR_SUSPEND] = 921, [BR_MAILBOXFULL] = 922, [BR_EXCEEDLIMIT] = 923,
    [BR_AUTHFAILURE] = 926, [BR_SYSTEMERROR] = 930, [BR_SYSTEMFULL] = 931,
    [BR_NOTACCEPT] = 932, [BR_MESGTOOBIG] = 934, [BR_MAILERERROR] = 939,
    [BR_NETWORKERROR] = 944, [BR_TOOMANYCONN] = 945, [BR_SPEEDING] = 946,
    [BR_EXPIRED] = 947, [BR_CONTENTERROR] = 960, [BR_SECURITYERROR] = 970,
    [BR_BLOCKED] = 971, [BR_POLICYVIOLATION] = 972, [BR_REQUIREPTR] = 973,
    [BR_NOTCOMPLIANTRFC] = 974, [BR_BADREPUTATION] = 975,
    [BR_FAILEDSTARTTLS] = 976,
    [BR_SPAMDETECTED] = 980, [BR_VIRUSDETECTED] = 981,
};

/*
 * What an enhanced status code means by itself.  Codes that say little
 * (X.0.0, 4.7.0, X.5.0, ...) are left out: the wording decides those.
 */
static const struct status_meaning {
    const char *code;
    int reason;
} status_table[] = {
    {"2.1.5", BR_DELIVERED},
    {"4.1.6", BR_HASMOVED}, {"4.1.7", BR_REJECTED}, {"4.1.8", BR_REJECTED},
    {"4.1.9", BR_SYSTEMERROR}, {"4.2.1", BR_BLOCKED},
    {"4.2.2", BR_MAILBOXFULL}, {"4.2.3", BR_EXCEEDLIMIT},
    {"4.2.4", BR_FILTERED}, {"4.3.1", BR_SYSTEMFULL},
    {"4.3.2", BR_NOTACCEPT}, {"4.3.3", BR_SYSTEMERROR},
    {"4.3.5", BR_SYSTEMERROR}, {"4.4.1", BR_EXPIRED},
    {"4.4.2", BR_NETWORKERROR}, {"4.4.3", BR_SYSTEMERROR},
    {"4.4.4", BR_NETWORKERROR}, {"4.4.5", BR_SYSTEMFULL},
    {"4.4.6", BR_NETWORKERROR}, {"4.4.7", BR_EXPIRED},
    {"4.5.3", BR_SYSTEMERROR}, {"4.5.5", BR_SYSTEMERROR},
    {"4.6.0", BR_CONTENTERROR}, {"4.6.2", BR_CONTENTERROR},
    {"4.6.5", BR_CONTENTERROR}, {"4.7.1", BR_BLOCKED},
    {"4.7.2", BR_BLOCKED}, {"4.7.5", BR_SECURITYERROR},
    {"4.7.6", BR_SECURITYERROR}, {"4.7.7", BR_SECURITYERROR},
    {"4.7.12", BR_SECURITYERROR}, {"4.7.15", BR_SECURITYERROR},
    {"4.7.16", BR_MESGTOOBIG}, {"4.7.24", BR_AUTHFAILURE},
    {"4.7.25", BR_REQUIREPTR}, {"4.7.26", BR_AUTHFAILURE},
    {"5.1.0", BR_USERUNKNOWN}, {"5.1.1", BR_USERUNKNOWN},
    {"5.1.2", BR_HOSTUNKNOWN}, {"5.1.3", BR_USERUNKNOWN},
    {"5.1.4", BR_FILTERED}, {"5.1.6", BR_HASMOVED},
    {"5.1.7", BR_REJECTED}, {"5.1.8", BR_REJECTED},
    {"5.1.9", BR_SYSTEMERROR}, {"5.1.10", BR_NOTACCEPT},
    {"5.2.0", BR_FILTERED}, {"5.2.1", BR_FILTERED},
    {"5.2.2", BR_MAILBOXFULL}, {"5.2.3", BR_EXCEEDLIMIT},
    {"5.2.4", BR_FILTERED}, {"5.3.0", BR_SYSTEMERROR},
    {"5.3.1", BR_SYSTEMFULL}, {"5.3.2", BR_NOTACCEPT},
    {"5.3.3", BR_SYSTEMERROR}, {"5.3.4", BR_MESGTOOBIG},
    {"5.3.5", BR_SYSTEMERROR}, {"5.4.0", BR_NETWORKERROR},
    {"5.4.3", BR_SYSTEMERROR}, {"5.4.4", BR_HOSTUNKNOWN},
    {"5.5.2", BR_SYNTAXERROR}, {"5.5.3", BR_TOOMANYCONN},
    {"5.5.4", BR_SYSTEMERROR}, {"5.5.5", BR_SYSTEMERROR},
    {"5.5.6", BR_SYNTAXERROR}, {"5.6.0", BR_CONTENTERROR},
    {"5.6.1", BR_CONTENTERROR}, {"5.6.2", BR_CONTENTERROR},
    {"5.6.3", BR_CONTENTERROR}, {"5.6.5", BR_CONTENTERROR},
    {"5.6.6", BR_CONTENTERROR}, {"5.6.7", BR_CONTENTERROR},
    {"5.6.8", BR_CONTENTERROR}, {"5.6.9", BR_CONTENTERROR},
    {"5.7.0", BR_SECURITYERROR}, {"5.7.1", BR_SECURITYERROR},
    {"5.7.2", BR_SECURITYERROR}, {"5.7.3", BR_SECURITYERROR},
    {"5.7.4", BR_SECURITYERROR}, {"5.7.5", BR_SECURITYERROR},
    {"5.7.6", BR_SECURITYERROR}, {"5.7.7", BR_SECURITYERROR},
    {"5.7.8", BR_SECURITYERROR}, {"5.7.9", BR_SECURITYERROR},
    {"5.7.10", BR_SECURITYERROR}, {"5.7.11", BR_SECURITYERROR},
    {"5.7.13", BR_SUSPEND}, {"5.7.14", BR_SECURITYERROR},
    {"5.7.15", BR_SECURITYERROR}, {"5.7.16", BR_MESGTOOBIG},
    {"5.7.17", BR_HASMOVED}, {"5.7.18", BR_HASMOVED},
    {"5.7.19", BR_SECURITYERROR}, {"5.7.20", BR_AUTHFAILURE},
    {"5.7.21", BR_AUTHFAILURE}, {"5.7.22", BR_AUTHFAILURE},
    {"5.7.23", BR_AUTHFAILURE}, {"5.7.24", BR_AUTHFAILURE},
    {"5.7.25", BR_REQUIREPTR}, {"5.7.26", BR_AUTHFAILURE},
    {"5.7.27", BR_NOTACCEPT}, {"5.7.28", BR_SPAMDETECTED},
    {"5.7.29", BR_AUTHFAILURE},
};

/* wording, per reason; NULL ends each list */
static const char *const w_userunknown[] = {
    "user unknown", "unknown user", "unknown recipient", "recipient unknown",
    "no such user", "no such mailbox", "no such recipient",
    "no such address", "no such person", "user not found",
    "user does not exist", "user doesn't exist", "user not exist",
    "recipient not found", "recipient does not exist",
    "recipient not exist", "address does not exist", "address unknown",
    "mailbox not found", "mailbox does not exist", "mailbox not present",
    "mailbox unavailable", "mailbox is unavailable", "mailbox invalid",
    "invalid mailbox", "invalid recipient", "invalid address",
    "unknown mailbox", "unknown address", "unknown local*part",
    "unknown e*mail address", "not a valid mailbox",
    "not a valid recipient", "not a valid user", "is not a known user",
    "no account by that name", "no mailbox here by that name",
    "no mailbox by that name", "account does not exist",
    "email account that you tried to reach does not exist",
    "recipient address rejected: unknown user",
    "recipient address rejected: user unknown",
    "recipient address rejected: invalid user",
    "recipient address rejected: undeliverable address",
    "recipient is not local", "not a local address",
    "not listed in domino directory", "not listed in public name",
    "the recipient name is not recognized", "recipient name not recognized",
    "no such user here", "no user with that name", "unknown account",
    "user missing home directory", "does not have an account here",
    "non*existent user", "nonexistent", "badrcptto",
    "not in my validrcptto", "no valid recipients",
    "is not an active address", "destination addresses were unknown",
    "delivery to the following recipient failed permanently",
    "resolver.adr.recipnotfound", "resolver.adr.recipientnotfound",
    "recipient*was not found in", "user*was not found", "user*does not exist",
    "mailbox*does not exist", "rcpt*does not exist",
    "does not exist here", "utilisateur inconnu", "usuario desconocido",
    "unbekannter empf", "adresse inconnue",
    "doesn't have a*account", "does not have a*account",
    "recipient address rejected: access denied",
    "recipient address rejected.", "address couldn't be found", "address could not be found",
    /* more wordings of this reason, from many MTAs */
    "bad address", "address invalid", "address not present in directory",
    "can't accept user", "destination server rejected recipients",
    "email address could not be found", "invalid mailbox path",
    "mailbox unavaiable", "nessun utente simile", "no existe dicha persona",
    "no existe ese usuario", "no mail box available for this user",
    "no mailbox found", "no such address here", "not a valid user here",
    "not email addresses", "invalid-recipient", "rejected: userunknown",
    "recipient is not accepted", "recipient not ok",
    "recipient refuses to accept your mail",
    "requested action not taken: mailbox unavailable",
    "resolver.adr.recipient notfound",
    "your envelope recipient has been denied", "recipients was undeliverable",
    "email name is not found", "there is no one at this address",
    "address is wrong or no longer valid", "badrecipientto", "validrcptto",
    "this spectator does not exist", "user not known", "unknown virtual user",
    "adresse nicht gefunden", "does not exist at the organization",
    "in name directory", "user (*) unknown", "> not found",
    "destinataire invalide",
    /* an inactive mailbox is read as a missing one (Sisimai) */
    "mailbox is inactive", "user not active",
    NULL
};
static const char *const w_hostunknown[] = {
    "host unknown", "unknown host", "host or domain name not found",
    "domain does not exist", "no such domain", "domain not found",
    "name or service not known", "unrouteable address",
    "unroutable address", "domain is not reachable",
    "domain must exist", "unknown domain", "domain name not found",
    "no mx or a record", "host not found", 
    "couldn't find any host named", "mail domain mentioned in email address is unknown",
    "account or domain may not exist", "553 *does not exist",
    /* more wordings of this reason, from many MTAs */
    "unknown domain name", "recipient domain must exist", "host unreachable",
    NULL
};
/* the domain does not exist, whatever the code's class says */
static const char *const w_hostunknown_sure[] = {
    "domain does not exist", "domain is not reachable", "domain must exist",
    "host or domain name not found", "host unknown",
    "mail domain mentioned in email address is unknown",
    "name or service not known", "no such domain",
    "recipient address rejected: unknown domain name",
    "the account or domain may not exist", "unknown host",
    "unroutable address", "unrouteable address", "553 *does not exist",
    NULL
};
static const char *const w_hasmoved[] = {
    "has been replaced by", "address has changed", "mailbox has moved",
    "no longer at this address", "user has moved",
    NULL
};
static const char *const w_notaccept[] = {
    "does not accept mail", "host/domain does not accept mail",
    "not accepting mail", "null mx", "nullmx",
    "no mx record found for domain", "mail receiving disabled",
    "smtp protocol returned a permanent error",
    "doesn't receive email", "does not receive email", "doesn't receive mail",
    "indicated no smtp service",
    /* more wordings of this reason, from many MTAs */
    "host does not accept mail", "name server: .: host not found",
    "no route for current request",
    NULL
};
static const char *const w_mailboxfull[] = {
    "mailbox full", "mailbox is full", "mailbox*full", "full mailbox",
    "over quota", "over*quota", "quota exceeded", "quota*exceeded",
    "exceeded*quota", "exceeds*quota", "mailbox*quota", "disk quota",
    "insufficient disk space", "not enough space", "not enough storage",
    "enough*space", "no space left", "mailfolder is full",
    "exceeded storage allocation", "mailbox size limit exceeded",
    "mailbox exceeds allowed size", "would exceed*storage",
    "too much mail data", "space has been used up",
    "too many messages on the server", "account is over",
    "boite du destinataire pleine", "postfach voll", "quota violation",
    "mailbox exceeded", "mailbox*exceeded*limit",
    /* more wordings of this reason, from many MTAs */
    "exceeding receiving limits", "not sufficient disk space",
    "user has exceeded quota", "maildir*quota", "account is*quota",
    "mailbox would exceed",
    /* German, French, Spanish; accented letters in UTF-8 and ISO-8859-1 */
    "postfach ist voll", "boite aux lettres pleine",
    "bo\xc3\xaete aux lettres pleine", "bo\xeete aux lettres pleine",
    "bo\xc3\xaete du destinataire pleine", "bo\xeete du destinataire pleine",
    "buzon lleno", "buz\xc3\xb3n lleno", "buz\xf3n lleno",
    NULL
};
static const char *const w_suspend[] = {
    "has been suspended", "is currently suspended", "account suspended",
    "user suspended", "mailbox currently suspended", "account disabled",
    "mailbox disabled", "mailbox is disabled", "account is disabled",
    "account has been disabled", "account is inactive", "inactive account",
    "is a deactivated mailbox", "account has been deactivated",
    "temporarily inactive", "invalid/inactive user",
    "account is locked", "mailbox is frozen", "account is frozen",
    "archived recipient", "this address no longer accepts mail",
    "the email account that you tried to reach is disabled",
    "the email account that you tried to reach is inactive",
    "user or domain is disabled", "recipient suspend",
    /* more wordings of this reason, from many MTAs */
    "temporary locked", "boite du destinataire archivee",
    "user is terminated", "mailbox unavailable or access denied",
    "disabled or discontinued", "account has been temporarily suspended",
    "this mailbox is disabled",
    NULL
};
static const char *const w_filtered[] = {
    "message filtered", "user reject", "refuses to receive",
    "refuse to receive", "not accepting any mail", "rejected due to user rules",
    "recipient preferences", "blocked by the recipient",
    "only accepting mail from specific", "account is protected by",
    "has restricted sms e-mail", "bounced address",
    /* more wordings of this reason, from many MTAs */
    "not found recipient account",
    NULL
};
static const char *const w_rejected[] = {
    "sender rejected", "sender address rejected", "sender verify failed",
    "sender was rejected", "sender is in my black list",
    "invalid sender", "bad sender", "sender not pre-approved",
    "domain of sender address", "unroutable sender address",
    "sender domain", "null sender is not allowed",
    "empty envelope senders not allowed", "bogus mail from",
    "mail from not owned by user", "returned mail not accepted here",
    "you are not allowed to post", "not permitted to post",
    "you do not have permission to post", "may not exist, or you may not have permission",
    "administrative prohibition", "batv", "no third-party dsns",
    "sender address has been blacklisted", "email address is not verified",
    "address rejected", "from: domain is invalid",
    "fully qualified email address required",
    "purported responsible address",
    /* more wordings of this reason, from many MTAs */
    "access denied (in reply to mail from command)",
    "access denied (sender blacklisted)", "backscatter protection",
    "recipient's list of senders to accept mail from",
    "without a valid sender domain", "bouncedeny", "valid-address-filter",
    "delivery not authorized, message refused", "senderfilterconfig",
    "emetteur invalide", "envelope blocked", "invalid domain, see <url:",
    "not a registered gateway user",
    "recipient addresses rejected : access denied", "recursive cname records",
    "rule imposed mailbox access for", "from a different address or alias",
    "sender email address rejected", "sender is spammer",
    "sender domain is empty", "spam reporting address",
    "syntax error: empty email address",
    "this server does not accept mail from", "unsigned dsn for",
    "address that has been blacklisted",
    "your email address has been blacklisted",
    "to submit messages to this e-mail system has been rejected",
    NULL
};
static const char *const w_rejected_not[] = {
    "recipient address rejected", "5.1.0 address rejected",
    "sender ip address rejected", NULL
};
static const char *const w_blocked[] = {
    "blocked using", "blocked by", "blacklisted", "black list", "blocklist",
    "block list", "listed in", "listed at", "dnsbl", " rbl", "spamhaus",
    "spamcop", "barracudacentral", "client host rejected",
    "helo command rejected", "refused to talk to me",
    "connection refused", "connection reset", "connection dropped",
    "not allowed to connect", "your ip", "sending ip",
    "ip address", "dynamic ip", "dial-up", "dialup", "residential",
    "service not available, closing transmission channel",
    "not currently accepting mail from your ip",
    "smtp error from remote mail server after initial connection",
    "your server requires confirmation", "confirm this mail server",
    "go away", "too many unwanted messages", "user complaints",
    "rejecting open proxy", "use the smtp server of your isp",
    "is not allowed to send mail from", "banned sending ip",
    "host network not allowed", "your network is", "poor reputation",
    "sender ip", "esmtp not accepting connections",
    "invalid ip for sending mail",
    /* more wordings of this reason, from many MTAs */
    "said: 550 blocked", "bad sender ip address", "dnsbl:", "abus detecte",
    "may not be mail exchanger", "was not authenticated",
    "connection refused by", "currently sending spam see", "zombied",
    "extreme bad ip profile", "hosts with dynamic ip", "is in a black list",
    "is listed in spamhaus", "no access from mail server",
    "no matches to nameserver query", "on our block list",
    "refused - see http", "multi-blacklist", "has not passed validation",
    "forbidden by your ip", "looks suspiciously like spammer",
    "too many spams from your ip", "was blocked by", "from dynamic ips",
    "you are sending spam", "listed in the rbl", "temporary blacklisted",
    "access from ip address*blocked", "is in an*rbl on",
    "mail server at*is blocked", "rejected based on blacklist",
    "temporarily deferred due to user complaints", "listed as abusive",
    "is blocked by rbl", "is blacklisted",
    "service refused, please try later", "your access ip*has been rejected",
    "abuseat.org", "blocked - see http",
    NULL
};
static const char *const w_spamdetected[] = {
    "spam", "unsolicited", "bulk mail", "bulk e-mail", "bulk email",
    "junk mail", "content filter", "message content rejected",
    "rejecting banned content", "mail content denied",
    "message rejected for policy reasons", "uribl",
    "recurrent pattern detection", "rejected by spam",
    "appears to be unsolicited", "mail score", "scored as",
    /* more wordings of this reason, from many MTAs */
    "blocked for abuse", "message rejected because of unacceptable content",
    "reject bulk.advertising", "rejected - bulk email",
    "rejecting mail content", "classification as bulk mail",
    "our system has detected that this message is",
    "temporarily blocked by our filter", "greylisted*please try again in",
    "mail rejete. mail rejected.", "probability of being",
    "blocked by policy: no spam", "considered as spam or virus",
    "failed several antispam checks",
    NULL
};
static const char *const w_virusdetected[] = {
    "virus", "malware", "infected", "malicious content",
    "executable attachment", NULL
};
static const char *const w_policyviolation[] = {
    "policy violation", "violates*policy", "violation of*policy",
    "denied by policy", "rejected for policy reasons",
    "not accepted for policy reasons", "due to local policy",
    "organization policy", "organizational settings",
    "security policies", "illegal attachment", "members-only",
    "closed mailing list", "protocol violation", "header error",
    "header are not accepted", "messages with multiple addresses",
    "message given low priority", "mass mailer",
    "not subscribed to this group", "prohibited attachment",
    "content presents a potential",
    /* more wordings of this reason, from many MTAs */
    "not accepting mail with", "non-member to a members-only list",
    "email not accepted for policy reasons",
    "message rejected due to local policy",
    "not accept messages containing images or other attachments",
    "using a mass mailer", "posts without solving a captcha",
    NULL
};
static const char *const w_authfailure[] = {
    "sender policy framework",
    "authentication requirements", "required authentication level",
    "not pass authentication", "unauthenticated email",
    "authentication checks", "dmarc policy", "dmarc verification", "dmarc check", "fails dmarc", "failed dmarc", "not pass dmarc", "spf check", "spf fail", "fails spf", "failed spf", "spf validation", "spf record for", "dkim fail", "failed dkim", "dkim validation", "dkim verification", "dkim check",
    /* more wordings of this reason, from many MTAs */
    "spf.pobox.com", "bad spf records", "inspect your spf settings",
    "per it's spf record",
    "spf (sender policy framework) domain authentication fail",
    "meet the authentication requirements",
    NULL
};
static const char *const w_requireptr[] = {
    "reverse dns", "reverse lookup", "ptr record", "ptr-record",
    "no ptr", "rdns", "cannot find your hostname",
    "cannot resolve your address", "ip name lookup failed",
    "unresolvable relay host name", "forward dns entry does not point",
    "mismatches client ip", "not resolve your hostname", "unverifyable sending ip", "unverifiable sending ip",
    /* more wordings of this reason, from many MTAs */
    "must have a ptr record", "bad dns ptr", "fix reverse dns", "missing ptr",
    "no ptr record", "custom reverse dns name", "ptr record setup",
    "sender ip reverse lookup rejected", "does not have a ptr record",
    "no reverse dns", "generic dns ptr",
    "dns lookup failure: *try again later", "invalid rdns record",
    NULL
};
static const char *const w_badreputation[] = {
    "reputation", "low sender score", "unexpected volume or user complaints",
    NULL
};
static const char *const w_securityerror[] = {
    "authentication required", "authentication failed",
    "authentication failure", "authentication credentials invalid",
    "unauthenticated senders not allowed", "insecure mail relay",
    "verification failure", "must authenticate",
    "not authorized to send", "access denied",
    "certificate",
    /* more wordings of this reason, from many MTAs */
    "account not subscribed to ses",
    "authentication turned on in your email client",
    "executable files are not allowed in compressed files",
    "you don't authenticate", "is a dead domain", "authentification invalide",
    "authentification requise", "not authorized to perform ses:",
    NULL
};
/* the receiver wanted an encrypted session the sender did not give */
static const char *const w_failedstarttls[] = {
    "starttls is required", "tls required but not supported",
    "must issue a starttls command first", "does not support tls",
    "tls is required", "tls required", "requires encryption (tls)",
    "tls negotiation failed", "starttls failed", "cannot start tls",
    "encryption required",
    NULL
};
static const char *const w_norelaying[] = {
    "relay access denied", "relaying denied", "relay denied",
    "relaying not permitted", "relay not permitted", "not permitted to relay",
    "unable to relay", "we do not relay", "relaying mail to",
    "no relaying", "relay not allowed", "relaying not allowed",
    "not allowed to relay", "that domain isn't in my list of allowed rcpthosts",
    "is not a gateway", "does not relay",
    /* more wordings of this reason, from many MTAs */
    "as a relay", "not permitted to relay through this server",
    "when attempting to send to a non-local", "not an open relay",
    "not local host", "specified domain is not allowed",
    "not configured to relay mail", "we don't handle mail for",
    "not allowed to relay through this machine",
    NULL
};
static const char *const w_notcompliantrfc[] = {
    "duplicate header", "is not rfc 5322 compliant", "not rfc 5322 compliant",
    "not rfc5322 compliant", "rfcmessagenoncompliant", " multiple * header",
    "multiple addresses in from", "bare lf", NULL
};
static const char *const w_contenterror[] = {
    "header size exceeds", "message header size", "content*not supported",
    /* "mime" or "charset" alone also name the returned message's parts */
    "mime header", "mime part", "8bit data", "8-bit data",
    "utf-8 header", "invalid charset", "unsupported charset",
    "improper use of",
    /* more wordings of this reason, from many MTAs */
    "8-bit data in message header", "mime complexity",
    "too many received: headers", "invalid mime headers",
    "improperly-formatted binary content", "unnecessary base64 encoding",
    NULL
};
static const char *const w_mesgtoobig[] = {
    "message too big", "message is too big",
    "message is too large", "message size exceeds", "message length exceeds",
    "size limit", "size exceeds", "exceeds size", "exceeds the maximum size",
    "larger than the current system limit", "too large for",
    "message size", "mail size", "message exceeded", "size of message",
    "line limit exceeded",
    /* more wordings of this reason, from many MTAs */
    "exceeded maximum inbound message size", "maximum incoming message size",
    "max message size exceeded", "message file too big",
    "taille limite du message atteinte", "message too large for this",
    NULL
};
static const char *const w_exceedlimit[] = {
    "message length exceeds administrative limit", "message too large",
    "exceeds per-mailbox", "message too large for this mailbox",
    /* more wordings of this reason, from many MTAs */
    "message header size exceeds limit",
    NULL
};
static const char *const w_toomanyconn[] = {
    "too many connections", "too many simultaneous", "too many concurrent",
    "connection limit", "too many recipients", "too many hosts",
    "too many sessions", "connection rate limit",
    /* more wordings of this reason, from many MTAs */
    "at maximum connection limit", "per-domain connection limit",
    "max emails per hour", "daily message quota exceeded",
    "maximum sending rate exceeded", "too many errors from your ip",
    "too many smtp sessions", "trop de connexions",
    "already made numerous attempts to deliver",
    NULL
};
static const char *const w_speeding[] = {
    "rate limit", "rate-limit", "ratelimit", "sending too fast",
    "too many messages", "too many emails", "receiving mail at a rate",
    "throttl", "exceeded*number of messages", "please slow down",
    "temporarily rate",
    /* more wordings of this reason, from many MTAs */
    "try again slower", "temporarily rate limited",
    NULL
};
static const char *const w_expired[] = {
    "retry timeout exceeded", "delivery time expired", "delivery expired",
    "message expired", "message timed out", "has been delayed",
    "been in the queue too long", "in queue too long", "giving up on",
    "could not be delivered for", "too long in queue",
    "unable to deliver message after multiple retries",
    "not reachable within the allowed queue period",
    "retry time not reached", "have been failing for a long time",
    "delivery attempts will continue", "connection timed out",
    "no answer from host", "could not find a gateway for",
    "server did not respond", "timeout", "timed out", "envelope expired",
    /* more wordings of this reason, from many MTAs */
    "failed to deliver to domain", "it has not been collected after",
    "sitting in queue for", "cannot connect to remote server",
    "connection refulsed", "could not be delivered for more than",
    /* a provider gave up connecting; the queue expired after it */
    "did not accept our requests to connect", "host not reachable",
    "was not delivered within",
    NULL
};
static const char *const w_networkerror[] = {
    "host name lookup failure", "no route to host", "host is unreachable",
    "network is unreachable", "dns lookup",
    "dns failure", "dns error", "lookup failure", "mail loop",
    "routing loop", "forwarding loop", "message looping", "too many hops",
    "hop count exceeded", "loops back to myself", "unable to resolve",
    
    "connection closed", "lost connection", "network error",
    "malformed name server reply", "unrouteable mail domain",
    "dns type",
    "host not found, try again",
    "name server reply",
    /* more wordings of this reason, from many MTAs */
    "could not connect and send the mail to",
    "dns records for the destination computer could not be found",
    "mail forwarding loop for", "forwarding loop count exceeded",
    "unable to resolve route", "malformed or unexpected name server reply",
    NULL
};
static const char *const w_systemerror[] = {
    "system error", "internal error", "server error", "configuration error",
    "config error", "local error", "temporary local problem",
    "service currently unavailable", "service unavailable",
    "queue file write error", "interrupted system call",
    "can't create user output file", "it encountered an error",
    "misconfigured", "mail system error", "transaction failed",
    "timeout waiting for input", "aliasing/forwarding loop",
    "error while processing", "could not load drd",
    /* more wordings of this reason, from many MTAs */
    "internal error reading data", "internal server error",
    "it would create a mail loop", "local configuration error",
    "local error in processing", "loop was found in the mail exchanger",
    "there is no mdb", "remote server is misconfigured",
    "system config error", "unable to connect*daemon",
    NULL
};
static const char *const w_systemfull[] = {
    "mail system full", "system full", "disk full", "file system full",
    "insufficient system storage", "out of disk space", NULL
};
static const char *const w_mailererror[] = {
    "x-unix", "procmail", "mailer error", "command died", "program exited",
    "exit status", "pipe to |", "unable to deliver to program",
    "could not be delivered to the program",
    /* more wordings of this reason, from many MTAs */
    "|| exit ", "bin/maidrop", "command failed: ", "command output:",
    "pipe to |/",
    NULL
};
static const char *const w_vacation[] = {
    "out of office", "out of the office", "on vacation", "away from the office",
    "auto-reply", "autoreply", "automatic reply",
    /* more wordings of this reason, from many MTAs */
    "i am away", "i will be traveling",
    NULL
};

static const char *const *const wording[BR_COUNT] = {
    [BR_USERUNKNOWN] = w_userunknown,
    [BR_HOSTUNKNOWN] = w_hostunknown,
    [BR_HASMOVED] = w_hasmoved,
    [BR_NOTACCEPT] = w_notaccept,
    [BR_MAILBOXFULL] = w_mailboxfull,
    [BR_SUSPEND] = w_suspend,
    [BR_FILTERED] = w_filtered,
    [BR_REJECTED] = w_rejected,
    [BR_BLOCKED] = w_blocked,
    [BR_SPAMDETECTED] = w_spamdetected,
    [BR_VIRUSDETECTED] = w_virusdetected,
    [BR_POLICYVIOLATION] = w_policyviolation,
    [BR_AUTHFAILURE] = w_authfailure,
    [BR_REQUIREPTR] = w_requireptr,
    [BR_BADREPUTATION] = w_badreputation,
    [BR_SECURITYERROR] = w_securityerror,
    [BR_NORELAYING] = w_norelaying,
    [BR_NOTCOMPLIANTRFC] = w_notcompliantrfc,
    [BR_CONTENTERROR] = w_contenterror,
    [BR_MESGTOOBIG] = w_mesgtoobig,
    [BR_EXCEEDLIMIT] = w_exceedlimit,
    [BR_TOOMANYCONN] = w_toomanyconn,
    [BR_SPEEDING] = w_speeding,
    [BR_EXPIRED] = w_expired,
    [BR_NETWORKERROR] = w_networkerror,
    [BR_SYSTEMERROR] = w_systemerror,
    [BR_SYSTEMFULL] = w_systemfull,
    [BR_MAILERERROR] = w_mailererror,
    [BR_VACATION] = w_vacation,
    [BR_FAILEDSTARTTLS] = w_failedstarttls,
};

/* reasons the status code or wording may establish, most specific first */
static const int first_pass[] = {
    BR_MAILBOXFULL, BR_MESGTOOBIG, BR_EXCEEDLIMIT, BR_SUSPEND, BR_HASMOVED,
    BR_NORELAYING, BR_AUTHFAILURE, BR_USERUNKNOWN, BR_FILTERED,
    BR_REQUIREPTR, BR_NOTCOMPLIANTRFC, BR_BADREPUTATION, BR_CONTENTERROR,
    BR_REJECTED, BR_HOSTUNKNOWN, BR_SPAMDETECTED, BR_TOOMANYCONN,
    BR_SPEEDING, BR_BLOCKED,
};

/* reasons only wording can establish, when the code is generic */
static const int second_pass[] = {
    BR_MAILBOXFULL, BR_AUTHFAILURE, BR_BADREPUTATION, BR_SPEEDING,
    BR_SPAMDETECTED, BR_VIRUSDETECTED, BR_POLICYVIOLATION, BR_NORELAYING,
    BR_SYSTEMERROR, BR_NETWORKERROR, BR_SUSPEND, BR_CONTENTERROR,
    BR_SYSTEMFULL, BR_NOTACCEPT, BR_EXPIRED, BR_FAILEDSTARTTLS,
    BR_SECURITYERROR,
    BR_MAILERERROR,
};

/*
 * What an MTA's own program says when it gives up, in the words its
 * source writes (Exim's routers and transports, the DragonFly Mail
 * Agent, OpenSMTPD, Domino, Exchange, Gmail, Courier, carriers'
 * gateways): a phrase of this table names the reason in that MTA's
 * sense.  Each phrase is a fixed message of one program, not the
 * wording of a remote reply, and none is worded alike by another.
 */
static const struct format_phrase {
    const char *phrase;
    int reason;
} format_table[] = {
    /* Exim */
    {"all host address lookups failed permanently", BR_HOSTUNKNOWN},
    {"all relevant mx records point to non-existent hosts", BR_HOSTUNKNOWN},
    {"an mx or srv record indicated no smtp service", BR_NOTACCEPT},
    {"no host found for existing smtp connection", BR_NOTACCEPT},
    {"angle-brackets nested too deep", BR_SYNTAXERROR},
    {"expected word or \"<\"", BR_SYNTAXERROR},
    {"domain missing in source-routed address", BR_SYNTAXERROR},
    {"delivery to file forbidden", BR_SYSTEMERROR},
    {"delivery to pipe forbidden", BR_SYSTEMERROR},
    {"too many \"received\" headers", BR_CONTENTERROR},
    {"retry time not reached for any host after a long failure period",
     BR_EXPIRED},
    {"all hosts have been failing for a long time", BR_EXPIRED},
    /* DragonFly Mail Agent */
    {"could not deliver for the last ", BR_EXPIRED},
    {"dns lookup failure: host ", BR_HOSTUNKNOWN},
    /* OpenSMTPD */
    {"envelope expired", BR_EXPIRED},
    {"could not retrieve credentials", BR_SECURITYERROR},
    {"address family mismatch on destination mxs", BR_NETWORKERROR},
    {"all routes to destination blocked", BR_NETWORKERROR},
    {"bad dns lookup error code", BR_NETWORKERROR},
    {"could not retrieve source address", BR_NETWORKERROR},
    {"network error on destination mxs", BR_NETWORKERROR},
    {"no valid route to remote mx", BR_NETWORKERROR},
    {"no valid route to destination", BR_NETWORKERROR},
    {"temporary failure in mx lookup", BR_NETWORKERROR},
    {"destination seem to reject all mails", BR_NOTACCEPT},
    {"no mx found for domain", BR_NOTACCEPT},
    {"no mx found for destination", BR_NOTACCEPT},
    /* Domino and Notes: the directory has no such entry */
    {"not listed in domino directory", BR_USERUNKNOWN},
    {"not listed in public name & address book", BR_USERUNKNOWN},
    {"no se encuentra en el directorio de domino", BR_USERUNKNOWN},
    {"dans l'annuaire domino", BR_USERUNKNOWN},
    {"cannot route mail to user", BR_FILTERED},
    {"several matches found in domino directory", BR_SYSTEMERROR},
    {"message has exceeded maximum hop count", BR_NETWORKERROR},
    /* Exchange 2000/2003 IMS codes: "MSEXCH:IMS:... (000C05A6)" */
    {"(000c05a6)", BR_USERUNKNOWN},
    {"(000c0595)", BR_FILTERED},
    {"(00010256)", BR_SYSTEMERROR},
    {"(000d06b5)", BR_SYSTEMERROR},
    {"(00120270)", BR_NETWORKERROR},
    {"(00050311)", BR_CONTENTERROR},
    {"(000502cc)", BR_CONTENTERROR},
    {"(000b0981)", BR_SECURITYERROR},
    /* Exchange 2007 and later: the category of its own NDR code */
    {"smtpsend.dns.nonexistentdomain", BR_HOSTUNKNOWN},
    {"smtpsend.dns.mxloopback", BR_NETWORKERROR},
    {"resolver.adr.badprimary", BR_SYSTEMERROR},
    {"resolver.adr.recipnotfound", BR_USERUNKNOWN},
    {"resolver.adr.recipientnotfound", BR_USERUNKNOWN},
    {"resolver.adr.exrecipnotfound", BR_USERUNKNOWN},
    {"resolver.adr.reciplimit", BR_TOOMANYCONN},
    {"resolver.adr.invalidinsmtp", BR_SYSTEMERROR},
    {"resolver.adr.ambiguous", BR_SYSTEMERROR},
    {"resolver.rst.authrequired", BR_SECURITYERROR},
    {"resolver.rst.notauthorized", BR_REJECTED},
    {"resolver.rst.recipsizelimit", BR_EXCEEDLIMIT},
    {"queue.expired", BR_EXPIRED},
    /* Oracle (Sun) Messaging Server */
    {"illegal host/domain name found", BR_HOSTUNKNOWN},
    /* au (EZweb) */
    {"the user(s) account is temporarily over quota", BR_MAILBOXFULL},
    {"the user(s) account is disabled", BR_SUSPEND},
    {"the user(s) account is temporarily limited", BR_SUSPEND},
    {"your message was not delivered within ", BR_EXPIRED},
    /* au (KDDI) */
    {"as their mailbox is full", BR_MAILBOXFULL},
    {"due to the following smtp relay error", BR_NORELAYING},
    {"as the remote domain doesnt exist", BR_HOSTUNKNOWN},
    /* BIGLOBE and its partner providers */
    {"mail delivery failed... user unknown", BR_FILTERED},
    {"the number of messages in recipient's mailbox exceeded the local limit",
     BR_MAILBOXFULL},
    /* 1&1, GMX */
    {"mail size limit exceeded", BR_MESGTOOBIG},
    {"delivery retry timeout exceeded", BR_EXPIRED},
    /* Google Workspace's own notice */
    {"because the address couldn't be found. check for typos", BR_USERUNKNOWN},
    /* PowerMTA's category of the bounce, in its DSN field */
    {"x-powermta-bouncecategory: bad-domain", BR_HOSTUNKNOWN},
    {"x-powermta-bouncecategory: bad-mailbox", BR_USERUNKNOWN},
    {"x-powermta-bouncecategory: message-expired", BR_EXPIRED},
    {"x-powermta-bouncecategory: no-answer-from-host", BR_NETWORKERROR},
    {"x-powermta-bouncecategory: policy-related", BR_POLICYVIOLATION},
    {"x-powermta-bouncecategory: quota-issues", BR_MAILBOXFULL},
    {"x-powermta-bouncecategory: routing-errors", BR_SYSTEMERROR},
    {"x-powermta-bouncecategory: spam-related", BR_SPAMDETECTED},
    /* a carrier's MMS gateway: the number has no mailbox */
    {"no valid recipients for this mm", BR_USERUNKNOWN},
    /* Gmail's own findings when no remote reply was had */
    {"dns error: could not contact dns servers", BR_EXPIRED},
    {"dns error: domain name not found", BR_HOSTUNKNOWN},
    {"dns error: dns server returned answer with no data", BR_HOSTUNKNOWN},
    /* Courier */
    {"this domain's dns violates rfc 1035", BR_SYSTEMERROR},
    {"dns lookup failed.", BR_NETWORKERROR},
};

/*
 * qmail's own messages (qmail-remote, qmail-local, qmail-ldap), read in
 * its sense only in a qmail notice: its clones word some of them alike
 * and mean otherwise.
 */
static const struct format_phrase qmail_table[] = {
    {"sorry, i couldn't find any host ", BR_HOSTUNKNOWN},
    {"sorry, i couldn't find a mail exchanger or ip address", BR_NOTACCEPT},
    {"sorry, i wasn't able to establish an smtp connection", BR_NETWORKERROR},
    {"although i'm listed as a best-preference mx or a for that host",
     BR_NETWORKERROR},
    {"message size exceeds fixed maximum message size", BR_MESGTOOBIG},
    {"bad interpreter: no such file or directory", BR_SYSTEMERROR},
    {"mailbox unavailable (not enough free space)", BR_SYSTEMFULL},
    {"no mailbox here by that name", BR_USERUNKNOWN},
    {"exeeded the maximum size the user accepts", BR_EXCEEDLIMIT},
    {"exceeded the maximum size the user accepts", BR_EXCEEDLIMIT},
    {"mailaddress is administrativ", BR_SUSPEND},
    {"automatic homedir creator crashed", BR_SYSTEMERROR},
    {"illegal value in ldap attribute", BR_SYSTEMERROR},
    {"ldap attribute is not given but mandatory", BR_SYSTEMERROR},
    {"timeout while performing search on ldap server", BR_SYSTEMERROR},
    {"too many results returned but needs to be unique", BR_SYSTEMERROR},
    {"error while executing qmail-forward", BR_SYSTEMERROR},
    {"error in automatic homedir creation", BR_SYSTEMERROR},
    {"temporary failure in ldap lookup", BR_SYSTEMERROR},
    {"unable to contact ldap server", BR_SYSTEMERROR},
    {"unable to login into ldap server", BR_SYSTEMERROR},
};

/* fml's refusals of a post, in fml notices */
static const struct format_phrase fml_table[] = {
    {" header may cause mail loop", BR_REJECTED},
    {"not member article from ", BR_REJECTED},
    {"reject mail from ", BR_REJECTED},
    {"reject spammers:", BR_REJECTED},
    {"you are not a member of this mailing list", BR_REJECTED},
    {"duplicated message-id", BR_NOTCOMPLIANTRFC},
    {" has detected a loop condition so that", BR_SYSTEMERROR},
    {"loop back warning:", BR_SYSTEMERROR},
};

/* IMail's own messages, in IMail notices */
static const struct format_phrase imail_table[] = {
    {"unknown user", BR_USERUNKNOWN},
    {"invalid final delivery userid", BR_USERUNKNOWN},
    {"unknown host", BR_HOSTUNKNOWN},
    {"user mailbox exceeds allowed size", BR_MAILBOXFULL},
    {"requested action not taken: virus detected", BR_VIRUSDETECTED},
    {"blacklisted url in message", BR_SPAMDETECTED},
    {"delivery failed ", BR_EXPIRED},
};

/*
 * Local delivery agents (dovecot, mail.local, procmail, maildrop,
 * vpopmail, vmailmgr) name themselves in their errors; what they say
 * is about the mailbox on that host, and an error of theirs that says
 * nothing more is the mailer's.
 */
static const struct lda_phrase {
    const char *agent;		/* marker of the agent, in its errors */
    const char *phrase;		/* NULL: any other error of the agent */
    int reason;
} lda_table[] = {
    {"> was automatically rejected:", "not enough disk space", BR_MAILBOXFULL},
    {"> was automatically rejected:", "quota exceeded", BR_MAILBOXFULL},
    {"> was automatically rejected:", "mailbox doesn't exist: ", BR_USERUNKNOWN},
    {"> was automatically rejected:", NULL, BR_MAILERERROR},
    {"mail.local: ", "disc quota exceeded", BR_MAILBOXFULL},
    {"mail.local: ", "mailbox full or quota exceeded", BR_MAILBOXFULL},
    {"mail.local: ", "temporary file write error", BR_SYSTEMERROR},
    {"mail.local: ", ": invalid mailbox path", BR_USERUNKNOWN},
    {"mail.local: ", ": unknown user:", BR_USERUNKNOWN},
    {"mail.local: ", ": user missing home directory", BR_USERUNKNOWN},
    {"mail.local: ", ": user unknown", BR_USERUNKNOWN},
    {"mail.local: ", NULL, BR_MAILERERROR},
    {"procmail: ", "quota exceeded while writing", BR_MAILBOXFULL},
    {"procmail: ", "user over quota", BR_MAILBOXFULL},
    {"procmail: ", "service unavailable", BR_SYSTEMERROR},
    {"procmail: ", "no space left to finish writing", BR_SYSTEMFULL},
    {"procmail: ", NULL, BR_MAILERERROR},
    {"maildrop: ", "maildir over quota.", BR_MAILBOXFULL},
    {"maildrop: ", "cannot find system user", BR_USERUNKNOWN},
    {"maildrop: ", "invalid user specified.", BR_USERUNKNOWN},
    {"maildrop: ", NULL, BR_MAILERERROR},
    {"vdelivermail: ", "user does not exist, but will deliver to ", BR_FILTERED},
    {"vdelivermail: ", "domain is over quota", BR_MAILBOXFULL},
    {"vdelivermail: ", "user is over quota", BR_MAILBOXFULL},
    {"vdelivermail: ", "account is locked email bounced", BR_SUSPEND},
    {"vdelivermail: ", "no mailbox here by that name", BR_USERUNKNOWN},
    {"vdelivermail: ", NULL, BR_MAILERERROR},
    {"vdeliver: ", "delivery failed due to system quota violation", BR_MAILBOXFULL},
    {"vdeliver: ", "invalid or unknown base user or domain", BR_USERUNKNOWN},
    {"vdeliver: ", "invalid or unknown virtual user", BR_USERUNKNOWN},
    {"vdeliver: ", "user name does not refer to a virtual user", BR_USERUNKNOWN},
    {"vdeliver: ", NULL, BR_MAILERERROR},
};

static int phrase_in(const char *text, const char *phrase);
static int said(const char *text, int reason);
static int said_scan(const char *text, int reason, const char *const *p);
static int format_reason(const struct bounce_evidence *ev, const char *text);
static int lda_reason(const struct bounce_evidence *ev, const char *text);
static const char *command_word(const char *text);
static int status_reason(const char *status);
static int weak_reason(int reason);
static int before_data(const char *command);
static int probe(int reason, int sr, const struct bounce_evidence *ev,
		 const char *text);
static int passing(const char *text);
static int for_now(const char *text);
static char *fold_text(const char *in);
static int code_reason(const char *status, const char *replycode);

/* bounce_reason_name - the printable name of a reason */
const char *
bounce_reason_name(int reason)
{
    if (reason < 0 || reason >= BR_COUNT || reason_names[reason] == NULL)
	return "undefined";
    return reason_names[reason];
}

/* fold_text - lower case, blanks folded, for phrase matching; caller frees */
static char *
fold_text(const char *in)
{
    size_t n = strlen(in), o = 0, i;
    char *out = xmalloc(n + 1);

    for (i = 0; i < n; i++) {
	unsigned char c = (unsigned char) in[i];

	if (isspace(c)) {
	    if (o > 0 && out[o - 1] != ' ')
		out[o++] = ' ';
	} else {
	    out[o++] = (char) tolower(c);
	}
    }
    out[o] = 0;
    return out;
}

/*
 * What is known of the text being classified: the answers of said()
 * (the probes ask the same question several times) and the set of its
 * three-letter sequences, hashed, so that a phrase with a sequence the
 * text lacks is not searched for.  bounce_classify() sets it up for
 * each text; one per thread, as the milter's are.
 */
#define TRIGRAM_BITS	8192
static _Thread_local struct {
    const char *text;
    const char *end;			/* its terminating null */
    signed char answer[BR_COUNT];	/* -1: not asked yet */
    unsigned char trigram[TRIGRAM_BITS / 8];
} said_memo;

/* trigram_hash - the bit of the sequence at p (three bytes) */
static unsigned
trigram_hash(const char *p)
{
    return ((unsigned char) p[0] * 961u + (unsigned char) p[1] * 31u
	    + (unsigned char) p[2]) % TRIGRAM_BITS;
}

/* memo_start - the text being classified, its sequences noted */
static void
memo_start(const char *text)
{
    const char *p = text;

    said_memo.text = text;
    memset(said_memo.answer, -1, sizeof(said_memo.answer));
    memset(said_memo.trigram, 0, sizeof(said_memo.trigram));
    for (; p[0] && p[1] && p[2]; p++) {
	unsigned h = trigram_hash(p);

	said_memo.trigram[h / 8] |= (unsigned char) (1u << (h % 8));
    }
    said_memo.end = p + strlen(p);
}

/* memo_lacks - the text being classified cannot hold these n bytes */
static int
memo_lacks(const char *text, const char *piece, size_t n)
{
    /* only a search within the text being classified */
    if (said_memo.text == NULL || text < said_memo.text
	|| text > said_memo.end)
	return 0;
    for (size_t i = 0; i + 2 < n; i++) {
	unsigned h = trigram_hash(piece + i);

	if ((said_memo.trigram[h / 8] & (1u << (h % 8))) == 0)
	    return 1;
    }
    return 0;
}

/* phrase_in - text holds the pieces of phrase ("a*b") in that order */
static int
phrase_in(const char *text, const char *phrase)
{
    const char *star, *hit;
    char piece[128];
    size_t n;

    if (strchr(phrase, '*') == NULL)
	return !memo_lacks(text, phrase, strlen(phrase))
	    && strstr(text, phrase) != NULL;
    for (;;) {
	star = strchr(phrase, '*');
	n = star ? (size_t) (star - phrase) : strlen(phrase);
	if (n >= sizeof(piece))
	    n = sizeof(piece) - 1;
	memcpy(piece, phrase, n);
	piece[n] = 0;
	if (memo_lacks(text, piece, n) || (hit = strstr(text, piece)) == NULL)
	    return 0;
	if (star == NULL)
	    return 1;
	text = hit + n;
	phrase = star + 1;
    }
}


/* said - the folded text uses wording of this reason */
static int
said(const char *text, int reason)
{
    const char *const *p = wording[reason];
    int hit = 0;

    if (p == NULL || text[0] == 0)
	return 0;
    if (text == said_memo.text && said_memo.answer[reason] >= 0)
	return said_memo.answer[reason];
    hit = said_scan(text, reason, p);
    if (text == said_memo.text)
	said_memo.answer[reason] = (signed char) hit;
    return hit;
}

/* said_scan - the search said() remembers */
static int
said_scan(const char *text, int reason, const char *const *p)
{
    if (reason == BR_REJECTED)
	for (const char *const *q = w_rejected_not; *q; q++)
	    if (phrase_in(text, *q))
		return 0;
    for (; *p; p++)
	if (phrase_in(text, *p))
	    return 1;
    return 0;
}

/* status_reason - what the enhanced status code means alone */
static int
status_reason(const char *status)
{
    size_t i;

    if (status == NULL || status[0] == 0)
	return BR_UNDEFINED;
    for (i = 0; i < sizeof(status_table) / sizeof(status_table[0]); i++)
	if (strcmp(status_table[i].code, status) == 0)
	    return status_table[i].reason;
    /* a pseudo code X.0.9NN names its reason */
    if (strncmp(status + 1, ".0.9", 4) == 0) {
	int d = atoi(status + 4);

	for (i = 0; i < BR_COUNT; i++)
	    if (pseudo_detail[i] == d && d != 0)
		return (int) i;
    }
    return BR_UNDEFINED;
}

/* weak_reason - a reason the wording may still refine */
static int
weak_reason(int reason)
{
    switch (reason) {
    case BR_UNDEFINED:
    case BR_ONHOLD:
    case BR_SYSTEMERROR:
    case BR_SECURITYERROR:
    case BR_EXPIRED:
    case BR_NETWORKERROR:
    case BR_HOSTUNKNOWN:
    case BR_USERUNKNOWN:
	return 1;
    default:
	return 0;
    }
}

/* before_data - the refused command comes before the message is sent */
static int
before_data(const char *command)
{
    return command != NULL && (strcmp(command, "CONN") == 0
			       || strcmp(command, "HELO") == 0
			       || strcmp(command, "EHLO") == 0
			       || strcmp(command, "MAIL") == 0
			       || strcmp(command, "RCPT") == 0
			       || strcmp(command, "STARTTLS") == 0);
}

/*
 * names_blocklist - the text names a DNS blocklist by its zone, by an
 * operator after "blocked using" or by a listing page: a refusal of the
 * sending address, whatever "spam" or "reputation" in the list's name says
 */
static int
names_blocklist(const char *text)
{
    struct blname b;

    return blname_find(text, strlen(text), &b) && b.how != BLNAME_WORD;
}

/*
 * passing - the words say the failure passes ("temporarily unavailable",
 * "try again later", "will retry", greylisting)
 */
static int
passing(const char *text)
{
    static const char *const words[] = {
	"temporar", "try again later", "try again in ", "retry later",
	"please retry", "will retry", "greylist", "graylist", NULL
    };

    for (const char *const *p = words; *p; p++)
	if (phrase_in(text, *p))
	    return 1;
    return 0;
}

/*
 * for_now - the words say the refusal passes and do not name a missing
 * mailbox: a code of the directory (X.1.1) beside them is no verdict on
 * the address
 */
static int
for_now(const char *text)
{
    return passing(text) && !said(text, BR_USERUNKNOWN);
}

/* probe - first-pass test of one reason */
static int
probe(int reason, int sr, const struct bounce_evidence *ev, const char *text)
{
    const char *cmd = ev->command;

    switch (reason) {
    case BR_MESGTOOBIG:
	/* a per-mailbox size limit is the narrower finding */
	return sr == reason || (sr != BR_EXCEEDLIMIT && said(text, reason));
    case BR_BLOCKED:
	/* refused before any address was given: the client itself */
	if (sr == BR_UNDEFINED && cmd != NULL
	    && (strcmp(cmd, "CONN") == 0 || strcmp(cmd, "HELO") == 0
		|| strcmp(cmd, "EHLO") == 0))
	    return 1;
	return sr == reason || said(text, reason);
    case BR_MAILBOXFULL:
    case BR_EXCEEDLIMIT:
    case BR_HASMOVED:
    case BR_AUTHFAILURE:
    case BR_REQUIREPTR:
    case BR_TOOMANYCONN:
	return sr == reason || said(text, reason);
    case BR_SUSPEND:
	return sr == reason || strcmp(ev->replycode, "525") == 0
	    || said(text, reason);
    case BR_FAILEDSTARTTLS:
	/* 523, 524 and 538 are the replies of RFC 3207 and RFC 4954 */
	return (cmd != NULL && strcmp(cmd, "STARTTLS") == 0)
	    || strcmp(ev->replycode, "523") == 0
	    || strcmp(ev->replycode, "524") == 0
	    || strcmp(ev->replycode, "538") == 0 || said(text, reason);
    case BR_NORELAYING:
	/* refused at the greeting: the client, not the relay */
	if (cmd != NULL && (strcmp(cmd, "CONN") == 0 || strcmp(cmd, "HELO") == 0
			    || strcmp(cmd, "EHLO") == 0))
	    return 0;
	return said(text, reason);
    case BR_BADREPUTATION:
	if (names_blocklist(text))
	    return 0;
	return said(text, reason);
    case BR_NOTCOMPLIANTRFC:
    case BR_SPEEDING:
	return said(text, reason);
    case BR_CONTENTERROR:
	/* spam is a content the filter refused, the narrower finding */
	if (probe(BR_SPAMDETECTED, sr, ev, text))
	    return 0;
	return sr == reason || said(text, reason);
    case BR_USERUNKNOWN:
	/* refused at MAIL FROM: the sender was the problem, not the mailbox */
	if (cmd != NULL && strcmp(cmd, "MAIL") == 0)
	    return 0;
	if (sr == BR_USERUNKNOWN) {
	    /* "5.1.1" with words of another cause: the words win */
	    return !(said(text, BR_MAILBOXFULL) || said(text, BR_BLOCKED)
		     || said(text, BR_HASMOVED) || said(text, BR_NOTACCEPT)
		     || said(text, BR_NORELAYING) || said(text, BR_REJECTED)
		     || said(text, BR_SUSPEND) || said(text, BR_TOOMANYCONN)
		     || for_now(text));
	}
	/*
	 * The words alone count where the recipient was refused, or where
	 * a specific status code (5.5.0, 5.3.0: not X.0.0) backs them.  A
	 * bare "unknown user" with no command and no code is as often a
	 * filter's refusal after the message: that is left to "filtered".
	 */
	if (cmd != NULL && strcmp(cmd, "RCPT") != 0)
	    return 0;
	/*
	 * Without the command, the words say only that the message was
	 * refused for this address: a filter does that too (Sisimai's
	 * reading).  Only a code of the directory (X.1.x) backs them then.
	 */
	if (cmd == NULL && (ev->status[0] == 0 || ev->status[2] != '1'))
	    return 0;
	return said(text, BR_USERUNKNOWN);
    case BR_FILTERED:
	/* refused after the message was seen: the recipient's filter */
	if (sr == BR_FILTERED)
	    return said(text, BR_USERUNKNOWN) || said(text, BR_FILTERED);
	if (before_data(cmd))
	    return 0;
	return said(text, BR_FILTERED) || said(text, BR_USERUNKNOWN);
    case BR_REJECTED:
	if (sr == BR_REJECTED)
	    return 1;
	if (cmd != NULL && strcmp(cmd, "MAIL") == 0)
	    return sr == BR_USERUNKNOWN || said(text, reason);
	if (cmd != NULL && strcmp(cmd, "DATA") == 0 && sr != BR_USERUNKNOWN)
	    return said(text, reason);
	if (sr == BR_UNDEFINED || sr == BR_ONHOLD || sr == BR_SECURITYERROR
	    || sr == BR_SYSTEMERROR)
	    return said(text, reason);
	return 0;
    case BR_HOSTUNKNOWN:
	if (sr == BR_HOSTUNKNOWN)
	    return !said(text, BR_NETWORKERROR);
	/*
	 * the domain's absence in so many words, even in a deferral, unless
	 * the words say it passes ("temporary failure in name resolution")
	 */
	for (const char *const *p = w_hostunknown_sure; *p; p++)
	    if (phrase_in(text, *p))
		return !passing(text);
	/* a temporary lookup failure says nothing about the domain */
	if (ev->status[0] == '4' || ev->replycode[0] == '4'
	    || said(text, BR_NETWORKERROR))
	    return 0;
	return said(text, reason);
    case BR_SPAMDETECTED:
	if (ev->status[0] == 0 || names_blocklist(text))
	    return 0;
	if (sr == reason)
	    return 1;
	if (before_data(cmd))
	    return 0;
	return said(text, reason);
    default:
	return 0;
    }
}

/*
 * code_reason - what a specific status code's subject, or else the reply
 * code of a report without one, says when nothing else did (RFC 3463
 * section 3, RFC 5321 section 4.2)
 */
static int
code_reason(const char *status, const char *replycode)
{
    static const struct {
	const char *code;
	int reason;
    } replies[] = {
	{"421", BR_BLOCKED}, {"451", BR_SYSTEMERROR}, {"452", BR_SYSTEMFULL},
	{"530", BR_SECURITYERROR}, {"535", BR_SECURITYERROR},
	{"550", BR_REJECTED}, {"551", BR_REJECTED}, {"552", BR_MAILBOXFULL},
	{"553", BR_REJECTED}, {"554", BR_REJECTED},
    };

    /* "X.0.x" and "X.Y.0" say little: the words would have said more */
    if (status && status[0])
	if (status[1] != '.' || status[2] == '0' || status[3] != '.'
	    || strcmp(status + 4, "0") == 0)
	    return BR_UNDEFINED;
    if (status && status[0]) {
	switch (status[2]) {
	case '1':
	    return status[0] == '5' ? BR_USERUNKNOWN : BR_UNDEFINED;
	case '2':
	    return BR_FILTERED;
	case '3':
	    return BR_SYSTEMERROR;
	case '4':
	    return BR_NETWORKERROR;
	case '5':
	    return BR_SYNTAXERROR;
	case '6':
	    return BR_CONTENTERROR;
	case '7':
	    return BR_SECURITYERROR;
	}
    }
    for (size_t i = 0; replycode && i < sizeof(replies) / sizeof(replies[0]);
	 i++)
	if (strcmp(replycode, replies[i].code) == 0)
	    return replies[i].reason;
    return BR_UNDEFINED;
}

/* format_reason - the reason an MTA's own fixed message names, or 0 */
static int
format_reason(const struct bounce_evidence *ev, const char *text)
{
    const char *p;
    size_t i;

    /* refused at the greeting: the client, whatever follows */
    if (ev->command && (strcmp(ev->command, "HELO") == 0
			|| strcmp(ev->command, "EHLO") == 0))
	return ev->mta != NULL && strcmp(ev->mta, "qmail") == 0
	    ? BR_BLOCKED : BR_UNDEFINED;
    for (i = 0; i < sizeof(format_table) / sizeof(format_table[0]); i++)
	if (phrase_in(text, format_table[i].phrase))
	    return format_table[i].reason;
    /* Exim's router found no such local user */
    if (ev->mta != NULL && strcmp(ev->mta, "exim") == 0
	&& strstr(text, "user not found") != NULL)
	return BR_USERUNKNOWN;
    if (ev->mta != NULL && strcmp(ev->mta, "fml") == 0)
	for (i = 0; i < sizeof(fml_table) / sizeof(fml_table[0]); i++)
	    if (phrase_in(text, fml_table[i].phrase))
		return fml_table[i].reason;
    if (ev->mta != NULL && strcmp(ev->mta, "imail") == 0)
	for (i = 0; i < sizeof(imail_table) / sizeof(imail_table[0]); i++)
	    if (phrase_in(text, imail_table[i].phrase))
		return imail_table[i].reason;
    if (ev->mta != NULL && strcmp(ev->mta, "qmail") == 0) {
	for (i = 0; i < sizeof(qmail_table) / sizeof(qmail_table[0]); i++)
	    if (phrase_in(text, qmail_table[i].phrase))
		return qmail_table[i].reason;
	/* qmail gave up on a queue it kept retrying, unless a host refused */
	if (strstr(text, "this message has been in the queue too long.") != NULL
	    && strstr(text, " does not like recipient.") == NULL)
	    return BR_EXPIRED;
    }
    /*
     * Gmail numbers the stage of the session its peer refused: "(state
     * 14)" is the recipient, 15 to 18 the message.  A specific status
     * code (not X.0.X, not X.X.0) says more than the stage.
     */
    if ((p = strstr(text, "(state ")) != NULL) {
	static const struct {
	    int state;
	    int reason;
	} states[] = {
	    {6, BR_FAILEDSTARTTLS}, {8, BR_SYSTEMERROR},
	    {9, BR_FAILEDSTARTTLS}, {12, BR_NORELAYING}, {13, BR_BLOCKED},
	    {14, BR_USERUNKNOWN}, {15, BR_FILTERED}, {17, BR_FILTERED},
	    {18, BR_FILTERED},
	};
	int n = atoi(p + 7), sr = status_reason(ev->status);

	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
	    if (states[i].state != n || !isdigit((unsigned char) p[7]))
		continue;
	    if (sr != BR_UNDEFINED && strstr(ev->status, ".0") == NULL)
		return sr;
	    return states[i].reason;
	}
    }
    return BR_UNDEFINED;
}

/* bounce_lda_named - the text quotes a local delivery agent's error */
int
bounce_lda_named(const char *text)
{
    const char *prev = NULL;
    int hit = 0;

    for (size_t i = 0; i < sizeof(lda_table) / sizeof(lda_table[0]) && !hit; i++) {
	if (prev != NULL && strcmp(prev, lda_table[i].agent) == 0)
	    continue;
	prev = lda_table[i].agent;
	hit = strcasestr(text, prev) != NULL;
    }
    return hit;
}

/* lda_reason - the reason a local delivery agent's error names, or 0 */
static int
lda_reason(const struct bounce_evidence *ev, const char *text)
{
    const char *agent = NULL;
    size_t i;

    if (ev->command && strcmp(ev->command, "DATA") != 0)
	return BR_UNDEFINED;
    for (i = 0; i < sizeof(lda_table) / sizeof(lda_table[0]); i++) {
	if (agent != NULL && strcmp(agent, lda_table[i].agent) != 0)
	    break;
	if (agent == NULL && strstr(text, lda_table[i].agent) == NULL)
	    continue;
	agent = lda_table[i].agent;
	if (lda_table[i].phrase == NULL
	    || strstr(text, lda_table[i].phrase) != NULL)
	    return lda_table[i].reason;
    }
    return BR_UNDEFINED;
}

/* bounce_classify - the reason of one failed recipient */
int
bounce_classify(const struct bounce_evidence *ev)
{
    int sr = status_reason(ev->status), reason = BR_UNDEFINED;
    int hint = BR_UNDEFINED;
    char *text = fold_text(ev->text ? ev->text : "");
    size_t i;

    memo_start(text);

    if (ev->status[0] == '2')
	reason = BR_DELIVERED;
    /*
     * The reporting MTA's own fixed message first; a missing mailbox or
     * host, a timeout or a system error may yet be refined by the rules
     * below, and stands when none speaks (Sisimai's order).
     */
    if (reason == BR_UNDEFINED) {
	hint = format_reason(ev, text);
	if (hint != BR_UNDEFINED && !weak_reason(hint))
	    reason = hint;
    }
    if (reason == BR_UNDEFINED)
	reason = lda_reason(ev, text);
    /* a large receiver's own vocabulary comes next */
    if (reason == BR_UNDEFINED)
	reason = bounce_rhost_reason(ev, text);
    if (reason == BR_UNDEFINED
	&& (ev->diag_type == NULL || ev->diag_type[0] == 0
	    || strcmp(ev->diag_type, "smtp") == 0)) {
	for (i = 0; i < sizeof(first_pass) / sizeof(first_pass[0]); i++)
	    if (first_pass[i] == hint || probe(first_pass[i], sr, ev, text)) {
		reason = first_pass[i];
		break;
	    }
    }
    if (reason == BR_UNDEFINED)
	reason = hint;
    if (reason == BR_UNDEFINED && (weak_reason(sr) || (ev->diag_type
			   && ev->diag_type[0] && strcmp(ev->diag_type, "smtp") != 0))) {
	for (i = 0; i < sizeof(second_pass) / sizeof(second_pass[0]); i++)
	    if (second_pass[i] == BR_FAILEDSTARTTLS
		? probe(BR_FAILEDSTARTTLS, sr, ev, text)
		: said(text, second_pass[i])) {
		reason = second_pass[i];
		break;
	    }
	if (reason == BR_UNDEFINED && sr != BR_UNDEFINED)
	    reason = sr;
	if (reason == BR_UNDEFINED && ev->status[0] && ev->status[1] == '.') {
	    if (ev->status[2] == '6')
		reason = BR_CONTENTERROR;
	    else if (ev->status[2] == '7')
		reason = BR_SECURITYERROR;
	}
	if (reason == BR_UNDEFINED && ev->diag_type
	    && strncmp(ev->diag_type, "x-unix", 6) == 0)
	    reason = BR_MAILERERROR;
	/* 500-504: the remote end did not understand what it was sent */
	if (reason == BR_UNDEFINED && ev->replycode[0] == '5'
	    && ev->replycode[1] == '0' && ev->replycode[2] <= '4')
	    reason = BR_SYNTAXERROR;
	if (reason == BR_UNDEFINED && ev->action
	    && (strcmp(ev->action, "delayed") == 0
		|| strcmp(ev->action, "expired") == 0))
	    reason = BR_EXPIRED;
	if (reason == BR_UNDEFINED && ev->command
	    && (strcmp(ev->command, "HELO") == 0
		|| strcmp(ev->command, "EHLO") == 0))
	    reason = BR_BLOCKED;
    } else if (reason == BR_UNDEFINED) {
	reason = sr;
    }
    /* a code that says something is better than "onhold" */
    if (reason == BR_UNDEFINED && text[0] != 0 && !said(text, BR_VACATION))
	reason = code_reason(ev->status, ev->replycode);
    if (reason == BR_UNDEFINED) {
	if (said(text, BR_VACATION))
	    reason = BR_VACATION;
	else if (text[0] != 0)
	    reason = BR_ONHOLD;
    }
    /* only the code named a missing mailbox, and the words say "for now" */
    if (reason == BR_USERUNKNOWN && sr == BR_USERUNKNOWN && for_now(text))
	reason = BR_ONHOLD;
    said_memo.text = NULL;
    free(text);
    return reason;
}

/*
 * Providers whose refusals carry no usable wording (or wording in the
 * sender's language only), where the kind of address tells the reason.
 * A mailing list service refuses a post because the poster is not a
 * member or the list is gone: the sender was refused, not the address.
 */
static const struct provider_rule {
    const char *domain;		/* the recipient's domain, or a parent */
    int reason;
} provider_table[] = {
    {"googlegroups.com", BR_REJECTED},
};

/* bounce_provider_reason - the reason a provider's refusal implies */
int
bounce_provider_reason(const char *domain, int reason)
{
    size_t i, dl, pl;

    if (domain == NULL || (reason != BR_UNDEFINED && reason != BR_ONHOLD))
	return reason;
    dl = strlen(domain);
    for (i = 0; i < sizeof(provider_table) / sizeof(provider_table[0]); i++) {
	pl = strlen(provider_table[i].domain);
	if (dl >= pl && strcasecmp(domain + dl - pl,
				   provider_table[i].domain) == 0
	    && (dl == pl || domain[dl - pl - 1] == '.'))
	    return provider_table[i].reason;
    }
    return reason;
}

/* bounce_is_hard - suppress the address at once? */
int
bounce_is_hard(int reason, const char *status, const char *replycode)
{
    switch (reason) {
    case BR_USERUNKNOWN:
    case BR_HOSTUNKNOWN:
    case BR_HASMOVED:
	return 1;
    case BR_NOTACCEPT:
	/* a null MX is final; "not accepting now" is not */
	if (status && status[0])
	    return status[0] == '5';
	if (replycode && replycode[0])
	    return replycode[0] == '5';
	return 1;
    default:
	return 0;
    }
}

/* bounce_pseudo_status - X.0.9NN standing for a reason */
int
bounce_pseudo_status(int reason, int temporary, char *out, size_t outsz)
{
    int d = reason >= 0 && reason < BR_COUNT ? pseudo_detail[reason] : 0;

    if (d == 0 || outsz < 8) {
	if (outsz)
	    out[0] = 0;
	return -1;
    }
    /* a missing mailbox or domain is never temporary */
    if (reason == BR_USERUNKNOWN || reason == BR_HOSTUNKNOWN
	|| reason == BR_HASMOVED)
	temporary = 0;
    snprintf(out, outsz, "%c.0.%d", temporary ? '4' : '5', d);
    return 0;
}

/* bounce_replycode_find - SMTP reply code in text, matching status if given */
int
bounce_replycode_find(const char *text, const char *status, char *out,
		      size_t outsz)
{
    const char *p;
    char first[4] = "";

    if (outsz < 4)
	return -1;
    out[0] = 0;
    for (p = text; *p; p++) {
	if ((*p != '2' && *p != '4' && *p != '5')
	    || !isdigit((unsigned char) p[1]) || !isdigit((unsigned char) p[2]))
	    continue;
	if (p > text && (isalnum((unsigned char) p[-1]) || strchr(".:-/#[=_", p[-1])))
	    continue;
	if (p[1] > '5' || (p[3] != ' ' && p[3] != '-' && p[3] != 0
			   && p[3] != '\n' && p[3] != ')'))
	    continue;
	if (p[3] == '-' && !isdigit((unsigned char) p[4]))
	    continue;
	/* "550 5.1.1" or "550-5.1.1": the code with its status */
	if (status && status[0] && (p[3] == ' ' || p[3] == '-')
	    && strncmp(p + 4, status, strlen(status)) == 0) {
	    memcpy(out, p, 3);
	    out[3] = 0;
	    return 0;
	}
	if (first[0] == 0 && (status == NULL || status[0] == 0
			      || status[0] == p[0])) {
	    /* a lone number is a code only after a colon, or at line start */
	    const char *b = p;

	    while (b > text && (b[-1] == ' ' || b[-1] == '<' || b[-1] == '>'
				|| b[-1] == '(' || b[-1] == '"' || b[-1] == '\t'))
		b--;
	    if (b == text || b[-1] == '\n' || b[-1] == ':' || b[-1] == ';'
		|| strncasecmp(b - (b - text >= 4 ? 4 : 0), "said", 4) == 0
		|| (b - text >= 5 && strncasecmp(b - 5, "error", 5) == 0)) {
		memcpy(first, p, 3);
		first[3] = 0;
	    }
	}
    }
    if (first[0]) {
	memcpy(out, first, 4);
	return 0;
    }
    return -1;
}

/*
 * command_word - an SMTP command written as such ("RCPT TO:", "MAIL
 * FROM", "DATA") and standing alone, not inside a word or a host name.
 * When several stand in the text, the one latest in a session is the
 * one that failed: a session that got as far as DATA got past RCPT.
 */
static const char *
command_word(const char *text)
{
    static const struct {
	const char *word;
	const char *command;
    } words[] = {
	{"HELO", "HELO"}, {"EHLO", "EHLO"}, {"STARTTLS", "STARTTLS"},
	{"AUTH PLAIN", "AUTH"}, {"AUTH LOGIN", "AUTH"}, {"MAIL F", "MAIL"},
	{"RCPT", "RCPT"}, {"DATA", "DATA"},
    };
    const char *found = NULL;

    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
	size_t n = strlen(words[i].word);

	for (const char *p = text; (p = strstr(p, words[i].word)) != NULL; p += n) {
	    if ((p > text && isalnum((unsigned char) p[-1]))
		|| (p > text && (p[-1] == '.' || p[-1] == '@' || p[-1] == '-'))
		|| (strchr(words[i].word, ' ') == NULL
		    && (isalnum((unsigned char) p[n]) || p[n] == '.'
			|| p[n] == '@' || p[n] == '-' || p[n] == '_')))
		continue;
	    found = words[i].command;
	    break;
	}
    }
    return found;
}

/* bounce_command_find - the SMTP command a text says was refused */
const char *
bounce_command_find(const char *text)
{
    static const struct {
	const char *phrase;
	const char *command;
    } table[] = {
	{"in reply to rcpt to", "RCPT"}, {"after rcpt to", "RCPT"},
	{"in reply to mail from", "MAIL"}, {"after mail from", "MAIL"},
	{"in reply to end of data", "DATA"}, {"in reply to data", "DATA"},
	{"after end of data", "DATA"}, {"after data", "DATA"},
	{"final data", "DATA"}, {"after the data", "DATA"},
	{"in reply to helo", "HELO"}, {"in reply to ehlo", "EHLO"},
	{"after helo", "HELO"}, {"after ehlo", "EHLO"},
	{"after initial connection", "CONN"}, {"in reply to rcpt", "RCPT"},
	{"in reply to mail", "MAIL"}, {">>> rcpt to", "RCPT"},
	{">>> mail from", "MAIL"}, {">>> data", "DATA"},
	{"rcpt to:<", "RCPT"}, {"[rcpt_to]", "RCPT"}, {"[mail_from]", "MAIL"},
	{"in reply to starttls", "STARTTLS"}, {"after starttls", "STARTTLS"},
	/* Exim with pipelining; other MTAs' "SMTP:RCPT host ..." */
	{"after pipelined rcpt to", "RCPT"}, {"after pipelined mail from", "MAIL"},
	{"after pipelined data", "DATA"}, {"smtp:rcpt", "RCPT"},
	{"smtp:mail", "MAIL"}, {"smtp:data", "DATA"},
	/* qmail-remote's own account of the session */
	{"but sender was rejected", "MAIL"}, {"but my name was rejected", "HELO"},
	{"but greeting failed", "CONN"},
	{"no recipients were accepted", "RCPT"}, {"failed on data command", "DATA"},
	{"wasn't able to establish an smtp connection", "CONN"},
	/* Gmail's notices number the stage of the session that failed */
	{"(state 6)", "STARTTLS"}, {"(state 9)", "STARTTLS"},
	{"(state 13)", "EHLO"}, {"(state 14)", "RCPT"}, {"(state 15)", "DATA"},
	{"(state 17)", "DATA"}, {"(state 18)", "DATA"},
	{"does not like recipient", "RCPT"},
	/* m-FILTER names the command under its own rule line */
	{"-------smtp command data", "DATA"}, {"-------smtp command rcpt", "RCPT"},
	{"-------smtp command mail", "MAIL"},
	/* 1&1: "SMTP error from remote server for TEXT command" */
	{"for text command", "DATA"},
	/* Postfix: the greeting was refused */
	{"refused to talk to me", "HELO"},
	{"does not like sender", "MAIL"},
	{"failed after i sent the message", "DATA"},
    };
    char *t = fold_text(text);
    const char *found = NULL, *best = NULL;
    size_t i;

    /* the last refusal mentioned is the one that failed */
    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
	const char *hit = strstr(t, table[i].phrase);

	if (hit != NULL && (best == NULL || hit > best)) {
	    best = hit;
	    found = table[i].command;
	}
    }
    /* Sendmail: "... while talking to X.:" then "<<<" with no ">>>": the greeting */
    for (const char *w = t; (w = strstr(w, "while talking to ")) != NULL; w++) {
	const char *q = w + 17;

	while (*q && *q != ' ' && *q != ':')
	    q++;
	while (*q == ':' || *q == ' ')
	    q++;
	if (strncmp(q, "<<<", 3) == 0 && (best == NULL || w > best)) {
	    best = w;
	    found = "CONN";
	}
    }
    free(t);
    if (found == NULL)
	found = command_word(text);
    return found;
}

/* bounce_text_is_temporary - the wording calls the failure temporary */
int
bounce_text_is_temporary(const char *text)
{
    static const char *const temp[] = {
	" temporar", " persistent", NULL
    };
    char *t = fold_text(text);
    int hit = 0;

    for (size_t i = 0; temp[i] && !hit; i++)
	hit = strstr(t, temp[i]) != NULL;
    free(t);
    return hit;
}
