/* test_bounce_rhost - large receivers' rules, commands, code fallbacks, lenient complaints */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bounce.h"
#include "bounce_rhost.h"

/* rhost - reason name for a reply from a remote host to a domain */
static const char *
rhost(const char *host, const char *domain, const char *status,
      const char *reply, const char *cmd, const char *text)
{
    struct bounce_evidence ev = {status, reply, text, "failed", cmd, "smtp",
				 host, domain, NULL};

    return bounce_reason_name(bounce_classify(&ev));
}

/* classify_in - reason name of a reply in a notice of that MTA */
static const char *
classify_in(const char *mta, const char *status, const char *text)
{
    struct bounce_evidence ev = {status, "", text, "failed", NULL, "smtp",
				 NULL, NULL, NULL, mta};

    return bounce_reason_name(bounce_classify(&ev));
}

/* classify - reason name without a remote host */
static const char *
classify(const char *status, const char *reply, const char *text,
	 const char *cmd)
{
    return rhost(NULL, NULL, status, reply, cmd, text);
}

static void
test_provider_choice(void **state)
{
    (void) state;
    /* the recipient's domain, the remote MTA, the reporting MTA */
    assert_string_equal(bounce_rhost_provider(NULL, "outlook.com", NULL),
			"microsoft");
    assert_string_equal(bounce_rhost_provider("mx1.ORANGE.fr.", NULL, NULL),
			"orange");
    assert_string_equal(bounce_rhost_provider(NULL, "example.net",
					      "bay0-mc1.hotmail.com"),
			"outlook");
    assert_string_equal(bounce_rhost_provider("mta7.am0.yahoodns.net",
					      "example.org", NULL), "yahoo");
    /* a look-alike is not the provider */
    assert_null(bounce_rhost_provider("mx.notcox.net.example", "example.org",
				      NULL));
    assert_null(bounce_rhost_provider("evilqq.com", NULL, NULL));
    assert_null(bounce_rhost_provider(NULL, "com", NULL));
    assert_null(bounce_rhost_provider(NULL, NULL, NULL));
}

static void
test_provider_rules(void **state)
{
    (void) state;
    /* Microsoft: the sub-code range decides, with the words */
    assert_string_equal(rhost("a-b.mail.protection.outlook.com", "example.org",
			      "5.7.606", "550", "RCPT",
			      "550 5.7.606 access denied, banned sending ip "
			      "[192.0.2.9]"), "blocked");
    assert_string_equal(rhost("a-b.mail.protection.outlook.com", "example.org",
			      "5.7.720", "550", "MAIL", "550 5.7.720 access "
			      "denied, tenant has exceeded threshold"),
			"speeding");
    assert_string_equal(rhost("a-b.mail.protection.outlook.com", "example.org",
			      "5.7.751", "550", "MAIL", "550 5.7.751 access "
			      "denied, tenant has exceeded threshold"),
			"securityerror");
    assert_string_equal(rhost("a-b.mail.protection.outlook.com", "example.org",
			      "5.4.1", "550", "RCPT",
			      "550 5.4.1 Recipient address rejected: Access "
			      "denied. AS(201806281)"), "userunknown");
    assert_string_equal(rhost("a-b.mail.protection.outlook.com", "example.org",
			      "5.7.1", "550", "RCPT",
			      "550 5.7.1 Service unavailable, Client host "
			      "[192.0.2.9] blocked using Spamhaus"), "blocked");
    /* not a Microsoft domain: the generic reading */
    assert_string_equal(rhost(NULL, "hotmail.example", "5.4.1", "550", NULL,
			      "550 5.4.1 Recipient address rejected: Access "
			      "denied"), "filtered");
    /* Orange: the LPN/OFR number, whatever the words */
    assert_string_equal(rhost("smtp-in.orange.fr", "example.fr", "5.5.0",
			      "550", "RCPT", "550 5.5.0 Le compte du "
			      "destinataire est bloque. LPN007_426"), "suspend");
    assert_string_equal(rhost("smtp-in.orange.fr", "example.fr", "", "550",
			      NULL, "550 mwinf ME Adresse IP source bloquee. "
			      "OFR006_102 Ref"), "blocked");
    assert_string_equal(rhost("smtp-in.orange.fr", "example.fr", "", "550",
			      "RCPT", "550 Invalid recipient. LPN416"),
			"userunknown");
    /* Cox's AUP# labels, GoDaddy's IB codes */
    assert_string_equal(rhost("mx.east.cox.net", "example.net", "", "554",
			      NULL, "554 192.0.2.1 rejected - see "
			      "https://www.cox.com AUP#CXDNS"), "requireptr");
    assert_string_equal(rhost("smtp.secureserver.net", "example.com", "",
			      "554", NULL, "554 Connection refused. This IP "
			      "address is listed on the Spamhaus Block List "
			      "(SBL). IB104"), "blocked");
    /* Yahoo, Google, Apple, MessageLabs, Mimecast, QQ, Zoho wordings */
    assert_string_equal(rhost("mta5.am0.yahoodns.net", "example.com", "4.7.0",
			      "421", "MAIL", "421 4.7.0 [TSS04] Messages from "
			      "192.0.2.1 temporarily deferred due to unexpected "
			      "volume or user complaints"), "rejected");
    assert_string_equal(rhost("gmail-smtp-in.l.google.com", "example.com",
			      "5.7.1", "550", "DATA", "550-5.7.1 Our system has "
			      "detected that this message is likely unsolicited "
			      "mail"), "spamdetected");
    assert_string_equal(rhost("mx01.mail.icloud.com", "example.com", "5.1.6",
			      "550", "RCPT", "550 5.1.6 recipient no longer on "
			      "server"), "hasmoved");
    assert_string_equal(rhost("cluster1.eu.messagelabs.com", "example.com",
			      "", "553", "MAIL", "553-Sorry, your email address "
			      "has been blacklisted. Please visit "
			      "www.symanteccloud.com/troubleshooting"),
			"rejected");
    assert_string_equal(rhost("eu-smtp-inbound-1.mimecast.com", "example.com",
			      "", "550", "RCPT", "550 Invalid Recipient"),
			"userunknown");
    assert_string_equal(rhost("mx3.qq.com", "example.com", "5.0.0", "550",
			      "RCPT", "550 Mailbox unavailable or access "
			      "denied"), "speeding");
    assert_string_equal(rhost("mx.zoho.com", "example.com", "5.7.7", "554",
			      "DATA", "554 5.7.7 Email policy violation "
			      "detected"), "policyviolation");
    /* docomo: "Message rejected" by where it was refused */
    assert_string_equal(rhost("mfsmax.docomo.ne.jp", "example.jp", "5.0.0",
			      "550", "RCPT", "550 Message rejected"),
			"userunknown");
    assert_string_equal(rhost("mfsmax.docomo.ne.jp", "example.jp", "5.0.0",
			      "550", "DATA", "550 Message rejected"),
			"rejected");
    /* nothing the provider says: the generic rules decide */
    assert_string_equal(rhost("mx.east.cox.net", "example.net", "5.2.2", "552",
			      "RCPT", "552 mailbox full"), "mailboxfull");
}

static void
test_rhost_find(void **state)
{
    char    h[256];

    (void) state;
    assert_int_equal(bounce_rhost_find("<a@example.org>: host MX1.Example.ORG"
				       "[192.0.2.1] said: 550 no", h,
				       sizeof(h)), 0);
    assert_string_equal(h, "mx1.example.org");
    assert_int_equal(bounce_rhost_find("SMTP error from remote mail server "
				       "after RCPT TO:<a@b.example>:\n host "
				       "mx.b.example [192.0.2.2]: 550", h,
				       sizeof(h)), 0);
    assert_string_equal(h, "mx.b.example");
    assert_int_equal(bounce_rhost_find("... while talking to mx.c.example.:\n"
				       ">>> RCPT To:<a@c.example>", h,
				       sizeof(h)), 0);
    assert_string_equal(h, "mx.c.example");
    assert_int_equal(bounce_rhost_find("to=<a@d.example>, relay=mx.d.example"
				       "[192.0.2.3]:25, dsn=5.1.1", h,
				       sizeof(h)), 0);
    assert_string_equal(h, "mx.d.example");
    /* "host" in prose, an address literal: no host */
    assert_int_equal(bounce_rhost_find("the host example.org is down", h,
				       sizeof(h)), -1);
    assert_int_equal(bounce_rhost_find("host 192.0.2.1[192.0.2.1] said", h,
				       sizeof(h)), -1);
}

static void
test_commands(void **state)
{
    (void) state;
    assert_string_equal(bounce_command_find("SMTP error from remote mail "
					    "server after pipelined RCPT TO:<a"
					    "@b.example>: 550 unknown"),
			"RCPT");
    assert_string_equal(bounce_command_find("Technical details: SMTP:RCPT "
					    "host 192.0.2.8: 553 no"), "RCPT");
    assert_string_equal(bounce_command_find("Connected to 192.0.2.1 but "
					    "sender was rejected."), "MAIL");
    assert_string_equal(bounce_command_find("Connected to 192.0.2.1 but "
					    "greeting failed."), "CONN");
    assert_string_equal(bounce_command_find("550 550 Unknown user "
					    "a@b.example (state 18)."),
			"DATA");
    assert_string_equal(bounce_command_find("550 550 5.1.1 <a@b.example>... "
					    "User Unknown (state 14)."),
			"RCPT");
    assert_string_equal(bounce_command_find("... while talking to mx.b.example.:"
					    "\n<<< 554 go away"), "CONN");
    assert_string_equal(bounce_command_find("... while talking to mx.b.example.:"
					    "\n>>> DATA\n<<< 554 no"), "DATA");
    assert_string_equal(bounce_command_find("(in reply to STARTTLS command)"),
			"STARTTLS");
    assert_string_equal(bounce_command_find("-------server message\n550 no\n"
					    "\n-------SMTP command\nDATA\n"),
			"DATA");
    assert_string_equal(bounce_command_find("SMTP error from remote server "
					    "for TEXT command, host: mx"),
			"DATA");
    assert_string_equal(bounce_command_find("connect to mx.b.example[192.0.2.4]"
					    ": server refused to talk to me: "
					    "554 go away"), "HELO");
}

static void
test_more_providers(void **state)
{
    (void) state;
    /* i.ua numbers its refusals in a link */
    assert_string_equal(rhost("mx2.email.ua", "example.org", "5.0.0", "550",
			      "RCPT", "550 see https://mail.i.ua/err/4/ now"),
			"mailboxfull");
    /* Facebook labels them */
    assert_string_equal(rhost("mx.b.facebook.com", "example.org", "5.0.0",
			      "550", "RCPT", "550 5.0.0 RCP-P3 see the help"),
			"filtered");
    assert_string_equal(rhost("mx.b.facebook.com", "example.org", "4.0.0",
			      "450", "RCPT", "450 4.0.0 CON-T2 later"),
			"toomanyconn");
    /* Cloudflare's routing */
    assert_string_equal(rhost("route1.mx.cloudflare.net", "example.org",
			      "5.7.1", "554", "RCPT", "554 5.7.1 client found on"
			      " one or more DNSBLs"), "blocked");
    /* a label inside a word is not one */
    assert_string_not_equal(rhost("mx.b.facebook.com", "example.org", "5.0.0",
				  "550", "RCPT", "550 xrcp-p3x"), "filtered");
}

static void
test_command_words(void **state)
{
    (void) state;
    /* a command written as such, the latest of the session wins */
    assert_string_equal(bounce_command_find("no connection went far enough; "
					    "furthest was RCPT TO reply: 550 "
					    "nobody"), "RCPT");
    assert_string_equal(bounce_command_find("MAIL FROM: a@b.example\n"
					    "RCPT TO: c@d.example\n"
					    "DATA refused"), "DATA");
    /* inside a word, a host name or an address: not a command */
    assert_null(bounce_command_find("550 DATABASE error at mx.DATA.example"));
    assert_null(bounce_command_find("550 unknown RCPTX@b.example"));
}

static void
test_format_phrases(void **state)
{
    (void) state;
    /* an MTA's own fixed messages, whatever the generic tables read */
    assert_string_equal(classify_in("qmail", "5.4.4", "Sorry, I couldn't find "
				    "a mail exchanger or IP address. (#5.4.4)"),
			"notaccept");
    /* qmail's words in its own notices only: a clone means otherwise */
    assert_string_equal(classify_in("qmail", "4.4.1", "Sorry, I wasn't able "
				    "to establish an SMTP connection. (#4.4.1)"
				    " I'm not going to try again; this message "
				    "has been in the queue too long."),
			"networkerror");
    assert_string_equal(classify_in(NULL, "4.4.1", "Sorry, I wasn't able "
				    "to establish an SMTP connection. (#4.4.1)"
				    " I'm not going to try again; this message "
				    "has been in the queue too long."),
			"expired");
    assert_string_equal(classify("", "", "Could not deliver for the last "
				 "7200 seconds. Giving up.", NULL), "expired");
    assert_string_equal(classify_in("qmail", "4.4.3", "Temporary failure in "
				    "LDAP lookup. (#4.4.3)"), "systemerror");
    assert_string_equal(classify("", "", "all relevant MX records point to "
				 "non-existent hosts", NULL), "hostunknown");
    /* a missing host yields to a more specific finding of the code */
    assert_string_equal(classify("5.2.2", "552", "552 5.2.2 mailbox full; "
				 "DNS lookup failure: host mx.b.example not "
				 "found", NULL), "mailboxfull");
    /* a queue that timed out after a refusal: the refusal speaks */
    assert_string_equal(classify("5.1.1", "", "192.0.2.9 does not like "
				 "recipient. this message has been in the queue "
				 "too long.", "RCPT"), "userunknown");
    /* refused at the greeting: the client, not the MTA's words */
    assert_string_equal(classify("", "554", "554 envelope expired", "HELO"),
			"blocked");
    /* a directory's own words, and an old Exchange's codes */
    assert_string_equal(classify("", "", "User x (x@b.example) not listed in "
				 "Domino Directory", NULL), "userunknown");
    assert_string_equal(classify("", "", "MSEXCH:IMS:A:B:C 0 (000C05A6) "
				 "Unknown Recipient", NULL), "userunknown");
    /* a mailbox's absence in words alone, with no command: a filter's */
    assert_string_equal(classify("", "", "This user doesn't have a "
				 "b.example account (x@b.example) [0]", NULL),
			"filtered");
    /* Gmail's session stage, unless a specific code says more */
    assert_string_equal(classify("5.7.0", "554", "554 554 5.7.0 Bad header "
				 "(state 18).", NULL), "filtered");
    assert_string_equal(classify("5.2.2", "550", "550 550 5.2.2 <a@b.example>"
				 " too much mail (state 14).", NULL),
			"mailboxfull");
    assert_string_equal(classify("", "550", "550 550 not here (state 14).",
				 NULL), "userunknown");
    assert_string_equal(classify("", "", "DNS Error: Domain name not found",
				 NULL), "hostunknown");
    /* Postfix defers a destination: not an account suspended */
    assert_string_equal(classify("4.0.0", "421", "delivery temporarily "
				 "suspended: connect to mx.b.example[192.0.2.4]"
				 ": server refused to talk to me: 421 not now",
				 "HELO"), "blocked");
    /* a carrier's own notice */
    assert_string_equal(classify("", "", "Could not be delivered to: "
				 "<x@b.example> As their mailbox is full.",
				 NULL), "mailboxfull");
    assert_string_equal(classify("", "", "Mail Delivery Failed... User "
				 "unknown", NULL), "filtered");
    assert_string_equal(classify("", "", "Mail size limit exceeded. For "
				 "explanation visit the help", NULL),
			"mesgtoobig");
    assert_string_equal(classify("", "", "** Address not found ** Your "
				 "message wasn't delivered to x@b.example "
				 "because the address couldn't be found. Check "
				 "for typos", NULL), "userunknown");
    /* a list manager's refusal words only in its own notices */
    assert_string_equal(classify_in("fml", "", "reject mail from "
				    "x@b.example"), "rejected");
    assert_string_not_equal(classify_in(NULL, "", "reject mail from "
					"x@b.example"), "rejected");
    /* qmail: its name refused at the greeting is the client blocked */
    {
	struct bounce_evidence ev = {"5.7.1", "550", "Connected to 192.0.2.1 "
				     "but my name was rejected. Remote host "
				     "said: 550 5.7.1 no such user", "failed",
				     "HELO", "smtp", NULL, NULL, NULL, "qmail"};

	assert_string_equal(bounce_reason_name(bounce_classify(&ev)),
			    "blocked");
    }
    /* Exim's router: no such local user */
    assert_string_equal(classify_in("exim", "5.0.0", "550 5.0.0 user not "
				    "found"), "userunknown");
    /* IMail's own words name a missing mailbox, a filter's do not */
    assert_string_equal(classify_in("imail", "", "Unknown user: x@b.example"),
			"userunknown");
    assert_string_equal(classify_in(NULL, "", "Unknown user: x@b.example"),
			"filtered");
    /* a content code with spam words: the spam filter's refusal */
    assert_string_equal(classify("5.6.1", "500", "500 5.6.1 Message content "
				 "rejected", NULL), "spamdetected");
    assert_string_equal(classify("5.6.0", "554", "554 5.6.0 bad part",
				 NULL), "contenterror");
    /* RFC words name a malformed message only where they say so */
    assert_string_equal(classify("5.7.1", "550", "550 5.7.1 message has "
				 "multiple Subject headers", NULL),
			"notcompliantrfc");
    assert_string_not_equal(classify("5.5.2", "504", "504 5.5.2 Helo command "
				     "rejected: need an RFC 1123 name", "HELO"),
			    "notcompliantrfc");
    /* relaying refused at the greeting is the client refused */
    assert_string_not_equal(classify("5.7.1", "554", "554 5.7.1 relaying "
				     "denied, go away", "CONN"), "norelaying");
    assert_string_equal(classify("5.7.1", "554", "554 5.7.1 relaying "
				 "denied", "RCPT"), "norelaying");
    /* a domain's absence said outright, even deferred; a lookup failure not */
    assert_string_equal(classify("4.4.3", "450", "450 4.4.3 Host or domain "
				 "name not found. Name service error for "
				 "name=b.example type=MX: Host not found, try "
				 "again", NULL), "hostunknown");
    assert_string_equal(classify("", "", "Name service error for domain "
				 "b.example: Host not found, try again", NULL),
			"networkerror");
    /* an inactive mailbox refused at RCPT is read as a missing one */
    assert_string_equal(classify("5.0.0", "550", "550 mailbox is inactive",
				 "RCPT"), "userunknown");
    assert_string_equal(classify("5.0.0", "550", "550 invalid/inactive user",
				 "RCPT"), "suspend");
    /* a 5.1.1 whose words name another cause: the words win */
    assert_string_equal(classify("5.1.1", "554", "554 5.1.1 <a@b.example>: "
				 "Relay access denied", "RCPT"), "norelaying");
    /* local delivery agents */
    assert_string_equal(classify("5.2.2", "", "maildrop: maildir over quota.",
				 NULL), "mailboxfull");
    assert_string_equal(classify("5.0.0", "", "procmail: Couldn't create "
				 "\"/var/mail/x\"", NULL), "mailererror");
    assert_string_equal(classify("5.0.0", "", "Your message to <a@b.example> "
				 "was automatically rejected: Mailbox doesn't "
				 "exist: a", NULL), "userunknown");
}

static void
test_command_decides(void **state)
{
    (void) state;
    /* the same words: refused at RCPT, or after the message */
    assert_string_equal(classify("5.0.0", "550", "550 User unknown", "RCPT"),
			"userunknown");
    assert_string_equal(classify("5.0.0", "550", "550 User unknown", "DATA"),
			"filtered");
    /* no command: a code of the directory backs the words, else a filter */
    assert_string_equal(classify("5.7.1", "550", "550 5.7.1 User unknown",
				 NULL), "filtered");
    assert_string_equal(classify("5.1.1", "550", "550 5.1.1 User unknown",
				 NULL), "userunknown");
    assert_string_equal(classify("5.3.0", "553", "553 5.3.0 No such user here",
				 "RCPT"), "userunknown");
    /* refused at the greeting, with nothing more said: the client */
    assert_string_equal(classify("5.5.0", "554", "554 a problem occurred",
				 "CONN"), "blocked");
    assert_string_equal(classify("5.7.1", "550", "550 5.7.1 Access denied",
				 "EHLO"), "securityerror");
}

static void
test_failedstarttls(void **state)
{
    (void) state;
    assert_string_equal(classify("5.7.10", "538", "538 5.7.10 Encryption "
				 "needed", NULL), "failedstarttls");
    assert_string_equal(classify("", "500", "500 Remote server does not "
				 "support TLS", NULL), "failedstarttls");
    assert_string_equal(classify("4.7.0", "454", "454 4.7.0 TLS not "
				 "available", "STARTTLS"), "failedstarttls");
    assert_false(bounce_is_hard(BR_FAILEDSTARTTLS, "5.7.10", "538"));
    /* a specific finding of the first pass comes before it */
    assert_string_equal(classify("5.2.2", "552", "552 5.2.2 mailbox full; "
				 "TLS required next time", NULL), "mailboxfull");
    assert_string_equal(classify("5.7.0", "530", "530 5.7.0 Must issue a "
				 "STARTTLS command first", "MAIL"),
			"failedstarttls");
}

static void
test_code_fallback(void **state)
{
    (void) state;
    /* a specific code and unknown words: the code's subject */
    assert_string_equal(classify("5.3.4", "552", "552 zorglub", NULL),
			"mesgtoobig");
    assert_string_equal(classify("5.4.9", "554", "554 zorglub", NULL),
			"networkerror");
    assert_string_equal(classify("5.5.9", "554", "554 zorglub", NULL),
			"syntaxerror");
    /* codes that say little: onhold */
    assert_string_equal(classify("4.3.0", "451", "451 zorglub", NULL),
			"onhold");
    assert_string_equal(classify("5.0.0", "550", "550 zorglub", NULL),
			"onhold");
    /* no status: the reply code */
    assert_string_equal(classify("", "552", "552 zorglub", NULL),
			"mailboxfull");
    assert_string_equal(classify("", "421", "421 zorglub", NULL), "blocked");
    assert_string_equal(classify("", "", "zorglub", NULL), "onhold");
}

static const char arf_pasted[] =
    "From: feedback@isp.example\n"
    "To: abuse@sender.example\n"
    "Subject: complaint\n"
    "Content-Type: multipart/mixed; boundary=\"X\"\n"
    "\n"
    "--X\n"
    "Content-Type: text/plain\n"
    "\n"
    "A user of ours complained.\n"
    "feedback-type: Abuse\n"
    "User-Agent: isp-fbl/1.0\n"
    "Version: 1\n"
    "\n"
    "--X\n"
    "Content-Type: text/plain\n"
    "\n"
    "Received: from mx.sender.example\n"
    "From: news@sender.example\n"
    "To: Some One <victim@isp.example>\n"
    "Subject: offer\n"
    "\n"
    "buy\n"
    "--X--\n";

static const char arf_headers_part[] =
    "From: fbl@isp.example\n"
    "To: abuse@sender.example\n"
    "Subject: report\n"
    "Content-Type: multipart/report; report-type=feedback-report; "
    "boundary=\"Y\"\n"
    "\n"
    "--Y\n"
    "Content-Type: text/plain\n"
    "\n"
    "report\n"
    "--Y\n"
    "Content-Type: message/feedback-report\n"
    "\n"
    "Feedback-Type: OPT-OUT\n"
    "Version: 1\n"
    "\n"
    "--Y\n"
    "Content-Type: text/rfc822-headers\n"
    "\n"
    "From: news@sender.example\n"
    "X-HmXmrOriginalRecipient: <reader@isp.example>\n"
    "To: undisclosed-recipients:;\n"
    "\n"
    "--Y--\n";

static void
test_arf_lenient(void **state)
{
    struct bounce_report r;
    const char *why;

    (void) state;
    assert_int_equal(bounce_parse(arf_pasted, sizeof(arf_pasted) - 1, &r,
				  &why), BOUNCE_ARF);
    assert_int_equal(r.nrcpts, 1);
    assert_string_equal(r.rcpts[0].addr, "victim@isp.example");
    assert_string_equal(r.rcpts[0].feedback_type, "abuse");
    bounce_report_free(&r);

    assert_int_equal(bounce_parse(arf_headers_part,
				  sizeof(arf_headers_part) - 1, &r, &why),
		     BOUNCE_ARF);
    assert_int_equal(r.nrcpts, 1);
    assert_string_equal(r.rcpts[0].addr, "reader@isp.example");
    assert_string_equal(r.rcpts[0].feedback_type, "opt-out");
    bounce_report_free(&r);
}

/* a DSN whose Remote-MTA is a large receiver: its rules apply */
static const char dsn_rhost[] =
    "From: MAILER-DAEMON@mx.sender.example\n"
    "To: sender@sender.example\n"
    "Subject: Undelivered Mail Returned to Sender\n"
    "Content-Type: multipart/report; report-type=delivery-status; "
    "boundary=\"Z\"\n"
    "\n"
    "--Z\n"
    "Content-Type: text/plain\n"
    "\n"
    "<someone@example.fr>: host smtp-in.orange.fr[192.0.2.5] said: 550\n"
    "    5.5.0 Boite du destinataire archivee. Archived recipient. LPN007_420\n"
    "    (in reply to RCPT TO command)\n"
    "--Z\n"
    "Content-Type: message/delivery-status\n"
    "\n"
    "Reporting-MTA: dns; mx.sender.example\n"
    "\n"
    "Final-Recipient: rfc822; someone@example.fr\n"
    "Action: failed\n"
    "Status: 5.5.0\n"
    "Remote-MTA: dns; smtp-in.orange.fr\n"
    "Diagnostic-Code: smtp; 550 5.5.0 Boite du destinataire archivee.\n"
    "    Archived recipient. LPN007_420\n"
    "--Z--\n";

static void
test_dsn_rhost(void **state)
{
    struct bounce_report r;
    const char *why;

    (void) state;
    assert_int_equal(bounce_parse(dsn_rhost, sizeof(dsn_rhost) - 1, &r, &why),
		     BOUNCE_DSN);
    assert_int_equal(r.nrcpts, 1);
    assert_string_equal(bounce_reason_name(r.rcpts[0].reason), "suspend");
    assert_false(r.rcpts[0].hard);
    assert_string_equal(r.rcpts[0].command, "RCPT");
    bounce_report_free(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_provider_choice),
	cmocka_unit_test(test_provider_rules),
	cmocka_unit_test(test_rhost_find),
	cmocka_unit_test(test_commands),
	cmocka_unit_test(test_more_providers),
	cmocka_unit_test(test_command_words),
	cmocka_unit_test(test_format_phrases),
	cmocka_unit_test(test_command_decides),
	cmocka_unit_test(test_failedstarttls),
	cmocka_unit_test(test_code_fallback),
	cmocka_unit_test(test_arf_lenient),
	cmocka_unit_test(test_dsn_rhost),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
