/* test_bounce - bounce reading and classification */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bounce.h"
#include "mime.h"

/*
 * strcasestr - the C library's, counting the bytes it looks at, so that a
 * test can say that the reading of a notice stays linear without timing it
 * (the report library's calls, in this program, land here)
 */
static size_t strcasestr_looked;

char *
strcasestr(const char *hay, const char *needle)
{
    size_t k = strlen(needle), i;

    for (; *hay; hay++) {
	strcasestr_looked++;
	for (i = 0; i < k && hay[i]
	     && tolower((unsigned char) hay[i]) == tolower((unsigned char) needle[i]); i++)
	    /* void */ ;
	if (i == k)
	    return (char *) hay;
    }
    return k == 0 ? (char *) hay : NULL;
}

/* strncasecmp - the C library's, counting its calls */
static size_t strncasecmp_calls;

int
strncasecmp(const char *a, const char *b, size_t n)
{
    int d = 0;

    strncasecmp_calls++;
    for (size_t i = 0; i < n && d == 0; i++) {
	d = tolower((unsigned char) a[i]) - tolower((unsigned char) b[i]);
	if (a[i] == 0)
	    break;
    }
    return d;
}

/* classify - reason name for evidence */
static const char *
classify(const char *status, const char *reply, const char *text,
	 const char *cmd)
{
    struct bounce_evidence ev = {status, reply, text, "failed", cmd, "smtp"};

    return bounce_reason_name(bounce_classify(&ev));
}

static void
test_classify(void **state)
{
    (void) state;
    assert_string_equal(classify("5.1.1", "550", "User unknown", "RCPT"),
			"userunknown");
    /* the words of a full mailbox win over 5.1.1 */
    assert_string_equal(classify("5.1.1", "552", "Mailbox full", NULL),
			"mailboxfull");
    assert_string_equal(classify("5.2.2", "", "", NULL), "mailboxfull");
    assert_string_equal(classify("5.7.1", "554",
				 "Client host rejected: blocked using zen.example",
				 "RCPT"), "blocked");
    assert_string_equal(classify("5.7.1", "550",
				 "rejected due to spam content", "DATA"),
			"spamdetected");
    assert_string_equal(classify("5.0.0", "550",
				 "Unknown user (in reply to end of DATA command)",
				 "DATA"), "filtered");
    assert_string_equal(classify("5.7.26", "550", "", NULL), "authfailure");
    assert_string_equal(classify("4.4.7", "", "", NULL), "expired");
    assert_string_equal(classify("5.1.2", "550", "Host unknown", NULL),
			"hostunknown");
    assert_string_equal(classify("", "", "retry timeout exceeded", NULL),
			"expired");
    /* the sending provider could not connect until the queue gave up */
    assert_string_equal(classify("", "", "The recipient server did not accept "
				 "our requests to connect. [mx.example: socket "
				 "error]", NULL), "expired");
    assert_string_equal(classify("", "", "Your message was not delivered "
				 "within 0 days and 1 hours.", NULL),
			"expired");
    assert_string_equal(classify("2.1.5", "250", "Ok", NULL), "delivered");
    assert_string_equal(classify("", "", "", NULL), "undefined");
    assert_string_equal(classify("", "", "something odd", NULL), "onhold");
}

/*
 * test_status_for_now - "no such mailbox" in the code and "for now" in
 * the words: the mailbox is there, or the refusal passes; never hard
 */
static void
test_status_for_now(void **state)
{
    static const char *const texts[] = {
	"550 5.1.1 <u@example.net>: Mailbox temporarily unavailable, please "
	"try again later",
	"550 5.1.1 mailbox temporarily disabled",
	"550 5.1.1 Recipient temporarily unavailable",
	"550 5.1.1 Too many connections, try again later",
	"550 5.1.1 Greylisted, please try again in 5 minutes",
    };
    struct bounce_evidence ev = {"5.1.1", "550", NULL, "failed", "RCPT", "smtp"};

    (void) state;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
	int reason;

	ev.text = texts[i];
	reason = bounce_classify(&ev);
	if (reason == BR_USERUNKNOWN || bounce_is_hard(reason, "5.1.1", "550"))
	    fail_msg("%s: %s", texts[i], bounce_reason_name(reason));
    }
    /* the words name the missing mailbox too: it stands */
    ev.text = "550 5.1.1 User unknown, try again later";
    assert_int_equal(bounce_classify(&ev), BR_USERUNKNOWN);
    ev.text = "550 5.1.1 <u@example.net>: Recipient address rejected";
    assert_int_equal(bounce_classify(&ev), BR_USERUNKNOWN);
}

/* test_foreign_full - a full mailbox in German, French and Spanish */
static void
test_foreign_full(void **state)
{
    (void) state;
    assert_string_equal(classify("", "", "Grund: Das Postfach ist voll.", NULL),
			"mailboxfull");
    assert_string_equal(classify("", "", "Raison : bo\xc3\xaete aux lettres "
				 "pleine", NULL), "mailboxfull");
    assert_string_equal(classify("", "", "Raison : bo\xeete aux lettres "
				 "pleine", NULL), "mailboxfull");
    assert_string_equal(classify("", "", "Motivo: buz\xc3\xb3n lleno", NULL),
			"mailboxfull");
}

/*
 * test_host_for_now - a deferral whose words say the host cannot be
 * reached for now, or the name not resolved for now, is no missing domain
 */
static void
test_host_for_now(void **state)
{
    struct bounce_evidence ev = {"4.4.1", "451", NULL, "failed", NULL, "smtp"};

    (void) state;
    ev.text = "451 4.4.1 Host unreachable, will retry";
    assert_false(bounce_is_hard(bounce_classify(&ev), "4.4.1", "451"));
    ev.status = "4.4.0";
    ev.replycode = "";
    ev.text = "DNS lookup failed: temporary failure in name resolution: "
	"name or service not known";
    assert_false(bounce_is_hard(bounce_classify(&ev), "4.4.0", ""));
    /* the domain's absence in so many words stands, even in a deferral */
    ev.status = "4.1.2";
    ev.replycode = "450";
    ev.text = "450 4.1.2 <u@example.net>: Recipient address rejected: "
	"unknown domain name";
    assert_int_equal(bounce_classify(&ev), BR_HOSTUNKNOWN);
}

static void
test_verdicts(void **state)
{
    char    out[16];

    (void) state;
    assert_true(bounce_is_hard(BR_USERUNKNOWN, "4.1.1", "450"));
    assert_true(bounce_is_hard(BR_HOSTUNKNOWN, "", ""));
    assert_true(bounce_is_hard(BR_NOTACCEPT, "5.1.10", ""));
    assert_false(bounce_is_hard(BR_NOTACCEPT, "4.0.0", ""));
    assert_false(bounce_is_hard(BR_MAILBOXFULL, "5.2.2", "552"));
    assert_false(bounce_is_hard(BR_BLOCKED, "5.7.1", "554"));
    assert_int_equal(bounce_pseudo_status(BR_EXPIRED, 1, out, sizeof(out)), 0);
    assert_string_equal(out, "4.0.947");
    assert_int_equal(bounce_pseudo_status(BR_USERUNKNOWN, 1, out, sizeof(out)), 0);
    assert_string_equal(out, "5.0.911");
    assert_int_equal(bounce_pseudo_status(BR_FEEDBACK, 0, out, sizeof(out)), -1);
    assert_int_equal(bounce_replycode_find("host said: 550 5.1.1 nope", "5.1.1",
					   out, sizeof(out)), 0);
    assert_string_equal(out, "550");
    assert_int_equal(bounce_replycode_find("id 12345 at 192.0.2.250", "", out,
					   sizeof(out)), -1);
    assert_string_equal(bounce_command_find("(in reply to RCPT TO command)"),
			"RCPT");
    assert_null(bounce_command_find("nothing"));
    /* temporary only when the words say so */
    assert_true(bounce_text_is_temporary("this is a temporary failure"));
    assert_true(bounce_text_is_temporary("a Persistent transient error"));
    assert_false(bounce_text_is_temporary("please try again"));
    /* a provider's refusal refines only an undecided reason */
    assert_int_equal(bounce_provider_reason("googlegroups.com", BR_ONHOLD),
		     BR_REJECTED);
    assert_int_equal(bounce_provider_reason("Lists.GoogleGroups.com",
					    BR_UNDEFINED), BR_REJECTED);
    assert_int_equal(bounce_provider_reason("notgooglegroups.com",
					    BR_ONHOLD), BR_ONHOLD);
    assert_int_equal(bounce_provider_reason("googlegroups.com",
					    BR_MAILBOXFULL), BR_MAILBOXFULL);
    assert_int_equal(bounce_provider_reason(NULL, BR_ONHOLD), BR_ONHOLD);
}

/* wording of many MTAs, one line per reason, as the MTAs write it */
static void
test_wordings(void **state)
{
    (void) state;
    assert_string_equal(classify("5.0.0", "552", "552 Message too large", NULL),
			"exceedlimit");
    assert_string_equal(classify("5.0.0", "552",
				 "552 Message too large for this mailbox", NULL),
			"mesgtoobig");
    assert_string_equal(classify("5.0.0", "550",
				 "550 Mailbox is frozen", NULL), "suspend");
    assert_string_equal(classify("5.0.0", "550",
				 "550 sorry, your remotehost looks suspiciously "
				 "like spammer", "RCPT"), "blocked");
    assert_string_equal(classify("5.0.0", "550",
				 "550 Please inspect your SPF settings", "DATA"),
			"authfailure");
    assert_string_equal(classify("5.0.0", "550",
				 "550 this system is not configured to relay "
				 "mail", "RCPT"), "norelaying");
    assert_string_equal(classify("5.0.0", "554",
				 "554 Message rejected due to local policy",
				 "DATA"), "policyviolation");
    /* a MIME-formatted notification is no content error */
    assert_string_equal(classify("5.0.0", "550",
				 "This is a MIME-formatted message. 550 Host "
				 "unknown", NULL), "hostunknown");
}

static const char postfix_dsn[] =
    "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\n"
    "To: sender@example.com\n"
    "Subject: Undelivered Mail Returned to Sender\n"
    "Content-Type: multipart/report; report-type=delivery-status;\n"
    "\tboundary=\"B\"\n"
    "\n"
    "--B\n"
    "Content-Type: text/plain\n"
    "\n"
    "<gone@example.net>: host mx.example.net[192.0.2.2] said: 550 5.1.1\n"
    "    <gone@example.net>: Recipient address rejected: User unknown (in reply\n"
    "    to RCPT TO command)\n"
    "\n"
    "--B\n"
    "Content-Type: message/delivery-status\n"
    "\n"
    "Reporting-MTA: dns; mx.example.org\n"
    "\n"
    "Final-Recipient: rfc822; Gone@Example.NET\n"
    "Action: failed\n"
    "Status: 5.1.1\n"
    "Diagnostic-Code: smtp; 550 5.1.1 <gone@example.net>: Recipient address\n"
    "    rejected: User unknown\n"
    "\n"
    "--B\n"
    "Content-Type: text/rfc822-headers\n"
    "\n"
    "From: sender@example.com\n"
    "To: gone@example.net\n"
    "Message-ID: <token-123@example.com>\n"
    "\n"
    "--B--\n";

static void
test_dsn_message(void **state)
{
    struct bounce_report r;
    const char *why = NULL;
    char    mid[64];

    (void) state;
    assert_int_equal(bounce_parse(postfix_dsn, strlen(postfix_dsn), &r, &why),
		     BOUNCE_DSN);
    assert_int_equal(r.nrcpts, 1);
    assert_string_equal(r.rcpts[0].addr, "gone@example.net");
    assert_string_equal(r.rcpts[0].status, "5.1.1");
    assert_string_equal(r.rcpts[0].replycode, "550");
    assert_int_equal(r.rcpts[0].reason, BR_USERUNKNOWN);
    assert_true(r.rcpts[0].hard);
    assert_string_equal(r.rcpts[0].command, "RCPT");
    assert_non_null(r.orig_headers);
    assert_int_equal(mime_header(r.orig_headers, r.orig_headers_len,
				 "Message-ID", mid, sizeof(mid)) > 0, 1);
    assert_string_equal(mid, "<token-123@example.com>");
    bounce_report_free(&r);
}

/* the queue's own verdict (4.4.7) beside the remote answer (4.7.1) */
static const char expired_dsn[] =
    "From: MAILER-DAEMON@mx.example.org\n"
    "To: sender@example.com\n"
    "Subject: Returned mail: see transcript for details\n"
    "Content-Type: multipart/report; report-type=delivery-status;\n"
    "\tboundary=\"B\"\n"
    "\n"
    "--B\n"
    "Content-Type: message/delivery-status\n"
    "\n"
    "Reporting-MTA: dns; mx.example.org\n"
    "\n"
    "Final-Recipient: rfc822; slow@example.net\n"
    "Action: failed\n"
    "Status: 4.4.7\n"
    "Diagnostic-Code: smtp; 450 4.7.1 Client host rejected: cannot find\n"
    "    your hostname\n"
    "\n"
    "--B--\n";

static void
test_generic_status(void **state)
{
    struct bounce_report r;
    const char *why = NULL;

    (void) state;
    assert_int_equal(bounce_parse(expired_dsn, strlen(expired_dsn), &r, &why),
		     BOUNCE_DSN);
    assert_int_equal(r.nrcpts, 1);
    assert_string_equal(r.rcpts[0].status, "4.7.1");
    assert_string_equal(r.rcpts[0].replycode, "450");
    assert_int_equal(r.rcpts[0].reason, BR_REQUIREPTR);
    assert_false(r.rcpts[0].hard);
    bounce_report_free(&r);
}

static const char exim_text[] =
    "From: Mail Delivery System <Mailer-Daemon@mx.example.org>\n"
    "To: sender@example.com\n"
    "Subject: Mail delivery failed: returning message to sender\n"
    "\n"
    "This message was created automatically by mail delivery software.\n"
    "\n"
    "A message that you sent could not be delivered to one or more of its\n"
    "recipients. This is a permanent error. The following address(es) failed:\n"
    "\n"
    "  full@example.net\n"
    "    SMTP error from remote mail server after RCPT TO:<full@example.net>:\n"
    "    host mx.example.net [192.0.2.3]: 552 5.2.2 Mailbox full\n"
    "  nobody@example.net\n"
    "    Unrouteable address\n"
    "\n"
    "------ This is a copy of the message, including all the headers. ------\n"
    "\n"
    "From: sender@example.com\n"
    "To: full@example.net, nobody@example.net\n"
    "Subject: hello\n"
    "\n"
    "hello\n";

static void
test_text_bounce(void **state)
{
    struct bounce_report r;
    const char *why = NULL;
    char   *crlf = malloc(2 * sizeof(exim_text));
    size_t  i, o = 0;

    (void) state;
    /* the same with CRLF line ends */
    for (i = 0; exim_text[i]; i++) {
	if (exim_text[i] == '\n')
	    crlf[o++] = '\r';
	crlf[o++] = exim_text[i];
    }
    assert_int_equal(bounce_parse(crlf, o, &r, &why), BOUNCE_DSN);
    assert_int_equal(r.nrcpts, 2);
    assert_string_equal(r.rcpts[0].addr, "full@example.net");
    assert_string_equal(r.rcpts[0].status, "5.2.2");
    assert_string_equal(r.rcpts[0].replycode, "552");
    assert_int_equal(r.rcpts[0].reason, BR_MAILBOXFULL);
    assert_false(r.rcpts[0].hard);
    assert_string_equal(r.rcpts[1].addr, "nobody@example.net");
    assert_int_equal(r.rcpts[1].reason, BR_HOSTUNKNOWN);
    assert_string_equal(r.rcpts[1].status, "5.0.912");
    assert_true(r.rcpts[1].hard);
    assert_non_null(r.orig_headers);
    bounce_report_free(&r);
    free(crlf);
}

/* an old Sendmail's transcript: one reply line per address, host lines between */
static const char transcript_text[] =
    "From: Mail Delivery Subsystem <MAILER-DAEMON@relay.example.com>\n"
    "To: sender@example.com\n"
    "Subject: Returned mail: unknown host\n"
    "\n"
    "   ----- Transcript of session follows -----\n"
    "554 <one@gone.example>... Remote protocol error: connection reset "
    "by peer while reading\n"
    "550 nodomain.example (smtp)... 550 Host unknown\n"
    "554 <two@nodomain.example>... 550 Host unknown (no such name)\n"
    "While talking to mx.other.example:\n"
    ">>> RCPT To:<three@other.example>\n"
    "<<< 550 Mailbox missing here\n"
    "550 <three@other.example>... User unknown\n"
    "\n"
    "   ----- Unsent message follows -----\n"
    "From: sender@example.com\n"
    "To: one@gone.example\n"
    "\n"
    "hello\n";

static void
test_transcript_rcpts(void **state)
{
    struct bounce_report r;
    const char *why = NULL;

    (void) state;
    assert_int_equal(bounce_parse(transcript_text, strlen(transcript_text),
				  &r, &why), BOUNCE_DSN);
    assert_int_equal(r.nrcpts, 3);
    /* each address has its own line's words, not the next one's */
    assert_string_equal(r.rcpts[0].addr, "one@gone.example");
    assert_int_equal(r.rcpts[0].reason, BR_BLOCKED);
    assert_string_equal(r.rcpts[1].addr, "two@nodomain.example");
    assert_int_equal(r.rcpts[1].reason, BR_HOSTUNKNOWN);
    assert_string_equal(r.rcpts[2].addr, "three@other.example");
    assert_int_equal(r.rcpts[2].reason, BR_USERUNKNOWN);
    bounce_report_free(&r);
}

/* a webmail gateway's notice: the error first, the envelope under details */
static const char details_text[] =
    "From: gateway@sms.example.net\n"
    "To: sender@example.com\n"
    "Subject: Re: hello\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"O\"\n"
    "\n"
    "--O\n"
    "Content-Type: multipart/alternative;\n"
    "boundary=\"I\"\n"
    "\n"
    "--I\n"
    "Content-Type: text/plain\n"
    "\n"
    "Error: bad address\n"
    "\n"
    "Error message below:\n"
    "550 - the mailbox is not known here\n"
    "\n"
    "Message details:\n"
    "  Subject: hello\n"
    "  MAIL FROM: sender@example.com\n"
    "  RCPT TO: 5550100@sms.example.net\n"
    "  Size (in bytes): 12\n"
    "\n"
    "--I--\n"
    "\n"
    "--O--\n";

/* an old Exchange notice: a field names the original message mid-notice */
static const char ims_text[] =
    "From: System Administrator <postmaster@example.net>\n"
    "To: sender@example.com\n"
    "Subject: Undeliverable: hello\n"
    "\n"
    "Your message\n"
    "\n"
    "did not reach the following recipient(s):\n"
    "\n"
    "gone@example.net on Mon, 2 May 2005 10:00:00 +0000\n"
    "    The recipient could not be found\n"
    "\tThe MTS-ID of the original message is: c=us;a=\n"
    ";p=x;l=HOST-0000\n"
    "    MSEXCH:IMS:X:Y:HOST 0 (000C05A6) Unknown Recipient\n";

static void
test_notice_layouts(void **state)
{
    struct bounce_report r;
    const char *why = NULL;

    (void) state;
    /* a multipart whose boundary was lost in a broken fold is still read */
    assert_int_equal(bounce_parse(details_text, strlen(details_text), &r,
				  &why), BOUNCE_DSN);
    assert_int_equal(r.nrcpts, 1);
    assert_string_equal(r.rcpts[0].addr, "5550100@sms.example.net");
    /* the error before the details is its diagnostic */
    assert_string_equal(r.rcpts[0].replycode, "550");
    bounce_report_free(&r);
    /* a field that mentions the original message does not end the notice */
    assert_int_equal(bounce_parse(ims_text, strlen(ims_text), &r, &why),
		     BOUNCE_DSN);
    assert_int_equal(r.nrcpts, 1);
    assert_int_equal(r.rcpts[0].reason, BR_USERUNKNOWN);
    assert_true(r.rcpts[0].hard);
    bounce_report_free(&r);
}

/* a carrier's DSN: the cause is said above the address, no Diagnostic-Code */
static const char carrier_dsn[] =
    "From: Postmaster@carrier.example\n"
    "To: sender@example.com\n"
    "Subject: Mail System Error - Returned Mail\n"
    "%s"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=delivery-status; "
    "boundary=\"B\"\n"
    "\n"
    "--B\n"
    "Content-Type: text/plain\n"
    "\n"
    "The user(s) account is temporarily limited.\n"
    "\n"
    "<m0001@carrier.example>: 550 unknown user (in reply to RCPT TO command)\n"
    "\n"
    "--B\n"
    "Content-Type: message/delivery-status\n"
    "\n"
    "Reporting-MTA: dns; mx.carrier.example\n"
    "\n"
    "Final-Recipient: rfc822; m0001@carrier.example\n"
    "Action: failed\n"
    "Status: 5.0.0\n"
    "\n"
    "--B--\n";

/* Postfix: the refused command only in the text part */
static const char postfix_mail_from[] =
    "From: MAILER-DAEMON@mx.example.com (Mail Delivery System)\n"
    "To: sender@example.com\n"
    "Subject: Undelivered Mail Returned to Sender\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=delivery-status; "
    "boundary=\"P\"\n"
    "\n"
    "--P\n"
    "Content-Type: text/plain\n"
    "\n"
    "<who@example.net>: host mx.example.net[192.0.2.5] said: 550\n"
    "    5.7.1 Access denied (in reply to MAIL FROM command)\n"
    "\n"
    "--P\n"
    "Content-Type: message/delivery-status\n"
    "\n"
    "Reporting-MTA: dns; mx.example.com\n"
    "\n"
    "Final-Recipient: rfc822; who@example.net\n"
    "Action: failed\n"
    "Status: 5.7.1\n"
    "Diagnostic-Code: smtp; 550 5.7.1 Access denied\n"
    "\n"
    "--P--\n";

static void
test_postfix_command(void **state)
{
    struct bounce_report r;
    const char *why = NULL;

    (void) state;
    assert_int_equal(bounce_parse(postfix_mail_from, strlen(postfix_mail_from),
				  &r, &why), BOUNCE_DSN);
    assert_int_equal(r.nrcpts, 1);
    assert_string_equal(r.rcpts[0].command, "MAIL");
    assert_int_equal(r.rcpts[0].reason, BR_REJECTED);
    bounce_report_free(&r);
}

/* qmail's notice: its own words in its own sense */
static const char qmail_text[] =
    "From: MAILER-DAEMON@mx.example.com\n"
    "To: sender@example.com\n"
    "Subject: failure notice\n"
    "\n"
    "Hi. This is the qmail-send program at mx.example.com.\n"
    "I'm afraid I wasn't able to deliver your message to the following "
    "addresses.\n"
    "\n"
    "<who@nomx.example>:\n"
    "Sorry, I couldn't find a mail exchanger or IP address. (#5.4.4)\n"
    "\n"
    "--- Below this line is a copy of the message.\n"
    "\n"
    "From: sender@example.com\n"
    "To: who@nomx.example\n";

static void
test_qmail_notice(void **state)
{
    struct bounce_report r;
    const char *why = NULL;

    (void) state;
    assert_int_equal(bounce_parse(qmail_text, strlen(qmail_text), &r, &why),
		     BOUNCE_DSN);
    assert_string_equal(r.mta, "qmail");
    assert_int_equal(r.nrcpts, 1);
    assert_int_equal(r.rcpts[0].reason, BR_NOTACCEPT);
    assert_true(r.rcpts[0].hard);
    bounce_report_free(&r);
}

/* a DSN whose notice quotes the local delivery agent */
static const char lda_dsn[] =
    "From: MAILER-DAEMON@gw.example.com\n"
    "To: sender@example.com\n"
    "Subject: Returned mail\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=delivery-status; "
    "boundary=\"L\"\n"
    "\n"
    "--L\n"
    "Content-Type: text/plain\n"
    "\n"
    "Your message to <box> was automatically rejected:\n"
    "Quota exceeded (mailbox for user is full)\n"
    "\n"
    "--L\n"
    "Content-Type: message/delivery-status\n"
    "\n"
    "Reporting-MTA: dns; gw.example.com\n"
    "\n"
    "Final-Recipient: rfc822; box@example.net\n"
    "Action: failed\n"
    "Status: 5.1.1\n"
    "Diagnostic-Code: smtp; 550 5.1.1 <box@example.net>... no such box\n"
    "\n"
    "--L--\n";

/* PowerMTA's DSN with its own category of the bounce */
static const char pmta_dsn[] =
    "From: postmaster@pmta.example.com\n"
    "To: sender@example.com\n"
    "Subject: Delivery report\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=delivery-status; "
    "boundary=\"Q\"\n"
    "\n"
    "--Q\n"
    "Content-Type: text/plain\n"
    "\n"
    "Delivery failed.\n"
    "--Q\n"
    "Content-Type: message/delivery-status\n"
    "\n"
    "Reporting-MTA: dns; pmta.example.com\n"
    "X-PowerMTA-VirtualMTA: vmta1\n"
    "\n"
    "Final-Recipient: rfc822; box@example.net\n"
    "Action: failed\n"
    "Status: 5.0.0\n"
    "Diagnostic-Code: smtp; 550 not now\n"
    "X-PowerMTA-BounceCategory: quota-issues\n"
    "\n"
    "--Q--\n";

static void
test_pmta_category(void **state)
{
    struct bounce_report r;
    const char *why = NULL;

    (void) state;
    assert_int_equal(bounce_parse(pmta_dsn, strlen(pmta_dsn), &r, &why),
		     BOUNCE_DSN);
    assert_int_equal(r.nrcpts, 1);
    assert_int_equal(r.rcpts[0].reason, BR_MAILBOXFULL);
    bounce_report_free(&r);
}

/* a DSN whose Status and Diagnostic-Code disagree */
static const char two_codes_dsn[] =
    "From: MAILER-DAEMON@mx.example.com\n"
    "To: sender@example.com\n"
    "Subject: Returned mail\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=delivery-status; "
    "boundary=\"T\"\n"
    "\n"
    "--T\n"
    "Content-Type: message/delivery-status\n"
    "\n"
    "Reporting-MTA: dns; mx.example.com\n"
    "\n"
    "Final-Recipient: rfc822; box@example.net\n"
    "Action: failed\n"
    "Status: %s\n"
    "Diagnostic-Code: smtp; %s\n"
    "\n"
    "--T--\n";

static void
test_status_preference(void **state)
{
    static const struct {
	const char *status, *diag, *want;
    } cases[] = {
	/* a user-unknown Status, the words' code names the sender's IP */
	{"5.1.1", "550 5.7.1 sending host is on our list", "5.7.1"},
	/* the reply code's class decides between classes */
	{"4.4.7", "550 5.2.2 over the limit", "5.2.2"},
	{"5.0.0", "550 5.1.1 no box", "5.1.1"},
	/* a specific Status stays against a generic code in the words */
	{"5.2.2", "552 5.0.0 full", "5.2.2"},
	/* a command error in the words does not replace 5.1.1 */
	{"5.1.1", "550 5.5.1 unknown", "5.1.1"},
    };
    struct bounce_report r;
    const char *why = NULL;
    char    msg[2048];

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	snprintf(msg, sizeof(msg), two_codes_dsn, cases[i].status,
		 cases[i].diag);
	assert_int_equal(bounce_parse(msg, strlen(msg), &r, &why), BOUNCE_DSN);
	assert_string_equal(r.rcpts[0].status, cases[i].want);
	bounce_report_free(&r);
    }
    snprintf(msg, sizeof(msg), two_codes_dsn, "5.1.1",
	     "550 5.7.1 sending host is on our block list");
    assert_int_equal(bounce_parse(msg, strlen(msg), &r, &why), BOUNCE_DSN);
    assert_int_equal(r.rcpts[0].reason, BR_BLOCKED);
    assert_false(r.rcpts[0].hard);
    bounce_report_free(&r);
}

static void
test_lda_dsn(void **state)
{
    struct bounce_report r;
    const char *why = NULL;

    (void) state;
    assert_int_equal(bounce_parse(lda_dsn, strlen(lda_dsn), &r, &why),
		     BOUNCE_DSN);
    assert_int_equal(r.nrcpts, 1);
    assert_int_equal(r.rcpts[0].reason, BR_MAILBOXFULL);
    assert_false(r.rcpts[0].hard);
    bounce_report_free(&r);
}

/* an Exim notice about a host it kept retrying */
static const char exim_retry[] =
    "From: Mail Delivery System <Mailer-Daemon@relay.example.com>\n"
    "To: sender@example.com\n"
    "Subject: Mail delivery failed: returning message to sender\n"
    "Message-Id: <E1aBcDeF-000123-Gh@relay.example.com>\n"
    "%s"
    "\n"
    "This message was created automatically by mail delivery software.\n"
    "\n"
    "A message that you sent could not be delivered to one or more of its\n"
    "recipients. This is a permanent error. The following address(es) "
    "failed:\n"
    "\n"
    "  late@slow.example\n"
    "    retry timeout exceeded\n"
    "\n"
    "------ This is a copy of the message, including all the headers. "
    "------\n"
    "From: sender@example.com\n"
    "To: late@slow.example\n";

static void
test_exim_temporary(void **state)
{
    struct bounce_report r;
    const char *why = NULL;
    char    msg[2048];

    (void) state;
    /* Exim gave up on a queue it kept: a temporary cause, expired */
    snprintf(msg, sizeof(msg), exim_retry, "");
    assert_int_equal(bounce_parse(msg, strlen(msg), &r, &why), BOUNCE_DSN);
    assert_string_equal(r.mta, "exim");
    assert_int_equal(r.rcpts[0].reason, BR_EXPIRED);
    assert_string_equal(r.rcpts[0].status, "4.0.947");
    bounce_report_free(&r);
    /* a provider's look-alike notice is not Exim's */
    snprintf(msg, sizeof(msg), exim_retry, "X-GMX-Antispam: 0\n");
    assert_int_equal(bounce_parse(msg, strlen(msg), &r, &why), BOUNCE_DSN);
    assert_string_equal(r.mta, "");
    assert_int_equal(r.rcpts[0].reason, BR_EXPIRED);
    assert_string_equal(r.rcpts[0].status, "5.0.947");
    bounce_report_free(&r);
}

static void
test_carrier_dsn(void **state)
{
    struct bounce_report r;
    const char *why = NULL;
    char    msg[2048];

    (void) state;
    /* one address, no Diagnostic-Code: the words above its line count */
    snprintf(msg, sizeof(msg), carrier_dsn, "");
    assert_int_equal(bounce_parse(msg, strlen(msg), &r, &why), BOUNCE_DSN);
    assert_int_equal(r.nrcpts, 1);
    assert_int_equal(r.rcpts[0].reason, BR_SUSPEND);
    assert_false(r.rcpts[0].hard);
    bounce_report_free(&r);
    /* the carrier's spam mark: the recipient's filter kept it out */
    snprintf(msg, sizeof(msg), carrier_dsn, "X-SPASIGN: NG\n");
    assert_int_equal(bounce_parse(msg, strlen(msg), &r, &why), BOUNCE_DSN);
    assert_int_equal(r.rcpts[0].reason, BR_FILTERED);
    assert_false(r.rcpts[0].hard);
    bounce_report_free(&r);
}

/* a mailing list manager's refusal of a post */
static const char list_text[] =
    "From: talk-admin@lists.example.org\n"
    "To: poster@example.com\n"
    "Subject: %s\n"
    "X-MLServer: fml [fml 4.0]\n"
    "Message-ID: <200101010000.AA0001.FML@lists.example.org>\n"
    "\n"
    "%s <talk@lists.example.org>.\n"
    "\n"
    "Send \"help\" to talk-ctl@lists.example.org for the guide.\n";

/* a notice that lists its failed recipients as bullets */
static const char bullet_text[] =
    "From: Mail Delivery System <postmaster@gw.example.com>\n"
    "To: sender@example.com\n"
    "Subject: Delivery status notification\n"
    "\n"
    "Delivery to the following recipients failed permanently:\n"
    "\n"
    "  * one@b.example\n"
    "  * two@c.example\n"
    "\n"
    "Technical details:\n"
    "SMTP:RCPT host 192.0.2.8: 550 5.1.1 <one@b.example>... no mailbox\n";

static void
test_bullet_rcpts(void **state)
{
    struct bounce_report r;
    const char *why = NULL;

    (void) state;
    assert_int_equal(bounce_parse(bullet_text, strlen(bullet_text), &r, &why),
		     BOUNCE_DSN);
    assert_int_equal(r.nrcpts, 2);
    assert_string_equal(r.rcpts[0].addr, "one@b.example");
    assert_string_equal(r.rcpts[1].addr, "two@c.example");
    bounce_report_free(&r);
}

static void
test_list_refusal(void **state)
{
    struct bounce_report r;
    const char *why = NULL;
    char    msg[1024];

    (void) state;
    snprintf(msg, sizeof(msg), list_text, "Your post",
	     "You are not a member of this mailing list");
    assert_int_equal(bounce_parse(msg, strlen(msg), &r, &why), BOUNCE_DSN);
    assert_int_equal(r.nrcpts, 1);
    assert_string_equal(r.rcpts[0].addr, "talk@lists.example.org");
    assert_int_equal(r.rcpts[0].reason, BR_REJECTED);
    bounce_report_free(&r);
    /* the words say nothing: the subject does */
    snprintf(msg, sizeof(msg), list_text, "Loop Alert: mail to",
	     "Your mail was kept back by");
    assert_int_equal(bounce_parse(msg, strlen(msg), &r, &why), BOUNCE_DSN);
    assert_int_equal(r.nrcpts, 1);
    assert_int_equal(r.rcpts[0].reason, BR_SYSTEMERROR);
    bounce_report_free(&r);
}

static const char arf_msg[] =
    "From: fbl@isp.example\n"
    "To: fbl-reports@example.com\n"
    "Subject: complaint\n"
    "Content-Type: multipart/report; report-type=feedback-report; boundary=F\n"
    "\n"
    "--F\n"
    "Content-Type: text/plain\n"
    "\n"
    "A complaint.\n"
    "--F\n"
    "Content-Type: message/feedback-report\n"
    "\n"
    "Feedback-Type: abuse\n"
    "Version: 1\n"
    "Source-IP: 192.0.2.9\n"
    "Original-Mail-From: <bounces@example.com>\n"
    "--F\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "From: news@example.com\n"
    "To: Reader <reader@isp.example>\n"
    "Subject: news\n"
    "\n"
    "text\n"
    "--F--\n";

static void
test_arf_message(void **state)
{
    struct bounce_report r;
    const char *why = NULL;

    (void) state;
    assert_int_equal(bounce_parse(arf_msg, strlen(arf_msg), &r, &why),
		     BOUNCE_ARF);
    /* no Original-Rcpt-To: the original's To is the complainer */
    assert_int_equal(r.nrcpts, 1);
    assert_string_equal(r.rcpts[0].addr, "reader@isp.example");
    assert_int_equal(r.rcpts[0].reason, BR_FEEDBACK);
    assert_string_equal(r.rcpts[0].feedback_type, "abuse");
    assert_false(r.rcpts[0].hard);
    assert_string_equal(r.source_ip, "192.0.2.9");
    assert_string_equal(r.orig_mail_from, "bounces@example.com");
    bounce_report_free(&r);
}

static void
test_other_kinds(void **state)
{
    const char unsub[] = "From: Reader <reader@isp.example>\n"
	"To: unsubscribe-42@example.com\nSubject: Unsubscribe\n\nplease\n";
    const char vacation[] = "From: someone@example.net\nTo: news@example.com\n"
	"Auto-Submitted: auto-replied\nSubject: Out of office\n\naway\n";
    const char plain[] = "From: friend@example.net\nTo: me@example.com\n"
	"Subject: lunch?\n\nsee you at noon\n";
    struct bounce_report r;
    const char *why = NULL;

    (void) state;
    assert_int_equal(bounce_parse(unsub, strlen(unsub), &r, &why),
		     BOUNCE_UNSUBSCRIBE);
    assert_int_equal(r.nrcpts, 1);
    assert_string_equal(r.rcpts[0].addr, "reader@isp.example");
    assert_string_equal(r.rcpts[0].feedback_type, "opt-out");
    bounce_report_free(&r);
    assert_int_equal(bounce_parse(vacation, strlen(vacation), &r, &why),
		     BOUNCE_AUTOREPLY);
    assert_int_equal(r.rcpts[0].reason, BR_VACATION);
    bounce_report_free(&r);
    assert_int_equal(bounce_parse(plain, strlen(plain), &r, &why),
		     BOUNCE_UNKNOWN);
    assert_int_equal(r.nrcpts, 0);
    bounce_report_free(&r);
}

/* test_delay_notice - a plain-text warning of delay is no failure yet */
static void
test_delay_notice(void **state)
{
    const char gmail[] = "From: Mail Delivery Subsystem <mailer-daemon@mail.example>\n"
	"To: bounces@example.com\n"
	"Subject: Delivery Status Notification (Delay)\n\n"
	"THIS IS A WARNING MESSAGE ONLY.\n\n"
	"Delivery to the following recipient has been delayed:\n\n"
	"     slow@mx.example.net\n\n"
	"Message will be retried for 2 more day(s)\n\n"
	"Technical details of temporary failure:\n"
	"The recipient server did not accept our requests to connect.\n";
    const char exim[] = "From: Mail Delivery System <Mailer-Daemon@mx.example>\n"
	"To: bounces@example.com\n"
	"Subject: Warning: message 1abcDE-000123-Xy delayed 24 hours\n\n"
	"A message that you sent has not yet been delivered to one or more of\n"
	"its recipients after more than 24 hours on the queue.\n\n"
	"  grey@tarpit.example.net\n"
	"    Delay reason: SMTP error from remote mail server after RCPT TO:\n"
	"    451 4.7.1 Greylisted, please try again later\n\n"
	"No action is required on your part. Delivery attempts will continue.\n";
    /* Sendmail's warning in plain text says "Warning:", not "delay" */
    const char sendmail[] = "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example>\n"
	"To: bounces@example.com\n"
	"Subject: Warning: could not send message for past 4 hours\n\n"
	"    **********************************************\n"
	"    **      THIS IS A WARNING MESSAGE ONLY      **\n"
	"    **  YOU DO NOT NEED TO RESEND YOUR MESSAGE  **\n"
	"    **********************************************\n\n"
	"The original message was received at Mon, 7 Dec 2026 02:00:00\n\n"
	"   ----- Transcript of session follows -----\n"
	"<late@slow.example.net>... Deferred: Connection timed out with "
	"mx.slow.example.net.\n"
	"Warning: message still undelivered after 4 hours\n"
	"Will keep trying until message is 5 days old\n";
    /* the original's subject names a delay; the notice is a failure */
    const char final[] = "From: MAILER-DAEMON@mx.example\n"
	"To: bounces@example.com\n"
	"Subject: Undeliverable: your parcel is delayed\n\n"
	"Delivery has failed to these recipients:\n\n"
	"gone@example.net\n"
	"    550 5.1.1 User unknown\n";
    struct bounce_report r;
    const char *why = NULL;

    (void) state;
    assert_int_equal(bounce_parse(gmail, strlen(gmail), &r, &why), BOUNCE_DSN);
    assert_int_equal(r.nrcpts, 1);
    assert_string_equal(r.rcpts[0].action, "delayed");
    assert_false(r.rcpts[0].hard);
    bounce_report_free(&r);
    assert_int_equal(bounce_parse(exim, strlen(exim), &r, &why), BOUNCE_DSN);
    assert_int_equal(r.nrcpts, 1);
    assert_string_equal(r.rcpts[0].action, "delayed");
    bounce_report_free(&r);
    assert_int_equal(bounce_parse(sendmail, strlen(sendmail), &r, &why),
		     BOUNCE_DSN);
    assert_int_equal(r.nrcpts, 1);
    assert_string_equal(r.rcpts[0].action, "delayed");
    assert_string_equal(r.rcpts[0].status, "4.0.947");
    bounce_report_free(&r);
    assert_int_equal(bounce_parse(final, strlen(final), &r, &why), BOUNCE_DSN);
    assert_int_equal(r.nrcpts, 1);
    assert_string_equal(r.rcpts[0].action, "");
    assert_true(r.rcpts[0].hard);
    bounce_report_free(&r);
}

/*
 * test_autoreply_languages - an automatic reply is known by its subject
 * in other languages and charsets, and by a subject that opens with it
 * whatever words of failure the original's subject adds
 */
static void
test_autoreply_languages(void **state)
{
    static const char *const subjects[] = {
	"=?UTF-8?Q?Respuesta_autom=C3=A1tica:_Ofertas?=",
	"=?ISO-8859-1?B?Uulwb25zZSBhdXRvbWF0aXF1ZSA6IFZvdHJlIGNvbW1hbmRl?=",
	"Risposta automatica: Offerte",
	"Automatisch antwoord: Aanbieding",
	"Automatische Antwort: Angebot",
	/* KOI8-R and UTF-8 Russian, ISO-2022-JP Japanese */
	"=?KOI8-R?B?4dfUz8/U18XUOiD6yc3O0dEg0sHT0NLPxMHWwQ==?=",
	"=?UTF-8?B?0JDQstGC0L7QvNCw0YLQuNGH0LXRgdC60LjQuSDQvtGC0LLQtdGC?=",
	"=?ISO-2022-JP?B?GyRCPCtGMDF+RXobKEI6IBskQiU7ITwlaxsoQg==?=",
	/* the original's subject said "failed" */
	"Automatic reply: Your payment failed - update your card",
	"Out of Office: Re: Delivery failure on order 42",
    };
    char    msg[1024];
    struct bounce_report r;
    const char *why = NULL;

    (void) state;
    for (size_t i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++) {
	snprintf(msg, sizeof(msg), "From: Pat <pat@example.net>\n"
		 "To: news@example.com\nSubject: %s\n\n"
		 "Je suis absent. Urgent: contact\n"
		 "helpdesk@example.net\n", subjects[i]);
	if (bounce_parse(msg, strlen(msg), &r, &why) != BOUNCE_AUTOREPLY)
	    fail_msg("%s: kind %s", subjects[i], bounce_kind_name(r.kind));
	assert_int_equal(r.nrcpts, 1);
	assert_string_equal(r.rcpts[0].addr, "pat@example.net");
	assert_int_equal(r.rcpts[0].reason, BR_VACATION);
	bounce_report_free(&r);
    }
    /* the other RFC 3834 markings, and Precedence: auto_reply */
    static const char *const marks[] = {
	"Auto-Submitted: auto-generated", "Auto-Submitted: auto-notified",
	"Precedence: auto_reply",
    };
    for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
	snprintf(msg, sizeof(msg), "From: Pat <pat@example.net>\n"
		 "To: news@example.com\n%s\nSubject: Re: Winter sale\n\n"
		 "Thanks, your mail is noted. For anything urgent:\n"
		 "helpdesk@example.net\n", marks[i]);
	if (bounce_parse(msg, strlen(msg), &r, &why) != BOUNCE_AUTOREPLY)
	    fail_msg("%s: kind %s", marks[i], bounce_kind_name(r.kind));
	assert_string_equal(r.rcpts[0].addr, "pat@example.net");
	bounce_report_free(&r);
    }
    /* a bounce of an automatic reply is a bounce */
    snprintf(msg, sizeof(msg), "From: MAILER-DAEMON@mx.example.net\n"
	     "To: news@example.com\nSubject: Undeliverable: Automatic reply: hi\n\n"
	     "gone@example.net\n    550 5.1.1 User unknown\n");
    assert_int_equal(bounce_parse(msg, strlen(msg), &r, &why), BOUNCE_DSN);
    assert_int_equal(r.nrcpts, 1);
    assert_string_equal(r.rcpts[0].addr, "gone@example.net");
    bounce_report_free(&r);
}

/*
 * test_challenge - a challenge-response system asks the sender to prove
 * itself: an automatic reply about its own user, not a failure of the
 * addresses it names
 */
static void
test_challenge(void **state)
{
    const char cr[] = "From: gina@home.example\nTo: news@example.com\n"
	"Subject: Re: Winter sale [Confirmation required]\n\n"
	"I use a challenge-response system to protect my mailbox from spam.\n"
	"Your message to gina@home.example is held pending verification.\n"
	"helpdesk@home.example can help.\n";
    const char service[] = "From: Verify <verify@safe.example>\n"
	"To: news@example.com\n"
	"Subject: Please verify your message to gina@home.example\n\n"
	"gina@home.example only accepts mail from approved senders.\n"
	"Click the link below to confirm you are a real person.\n";
    struct bounce_report r;
    const char *why = NULL;

    (void) state;
    assert_int_equal(bounce_parse(cr, strlen(cr), &r, &why), BOUNCE_AUTOREPLY);
    assert_int_equal(r.nrcpts, 1);
    assert_string_equal(r.rcpts[0].addr, "gina@home.example");
    assert_int_equal(r.rcpts[0].reason, BR_VACATION);
    bounce_report_free(&r);
    assert_int_equal(bounce_parse(service, strlen(service), &r, &why),
		     BOUNCE_AUTOREPLY);
    assert_int_equal(r.nrcpts, 1);
    assert_false(r.rcpts[0].hard);
    assert_int_equal(r.rcpts[0].reason, BR_VACATION);
    bounce_report_free(&r);
}

/*
 * test_quoted_summary - a notice that quotes the original's To and Cc
 * beside its other fields: the recipients are those the notice says
 * failed, each with its own words
 */
static void
test_quoted_summary(void **state)
{
    const char ndr[] = "From: postmaster@corp.example\n"
	"To: bounces@example.com\nSubject: Undeliverable: Winter sale\n\n"
	"Your message\n\n"
	"  To:      luke@corp.example; mia@corp.example; ned@partner.example\n"
	"  Cc:      olga@partner.example\n"
	"  Subject: Winter sale\n"
	"  Sent:    Mon, 7 Dec 2026 05:59:00 +0000\n\n"
	"did not reach the following recipient(s):\n\n"
	"mia@corp.example on Mon, 7 Dec 2026 06:00:01 +0000\n"
	"    The recipient's mailbox is full and can't accept messages now.\n"
	"    <mx.corp.example #5.2.2>\n\n"
	"luke@corp.example on Mon, 7 Dec 2026 06:00:01 +0000\n"
	"    The e-mail account does not exist at the organization.\n"
	"    <mx.corp.example #5.1.1>\n";
    const char only[] = "From: postmaster@corp.example\n"
	"To: bounces@example.com\nSubject: Delivery failure\n\n"
	"Your message\n\n"
	"  To:      pia@corp.example\n"
	"  Subject: Winter sale\n\n"
	"could not be delivered: 550 5.1.1 User unknown\n";
    struct bounce_report r;
    const char *why = NULL;

    (void) state;
    assert_int_equal(bounce_parse(ndr, strlen(ndr), &r, &why), BOUNCE_DSN);
    assert_int_equal(r.nrcpts, 2);
    assert_string_equal(r.rcpts[0].addr, "mia@corp.example");
    assert_int_equal(r.rcpts[0].reason, BR_MAILBOXFULL);
    assert_false(r.rcpts[0].hard);
    assert_string_equal(r.rcpts[1].addr, "luke@corp.example");
    assert_int_equal(r.rcpts[1].reason, BR_USERUNKNOWN);
    assert_true(r.rcpts[1].hard);
    bounce_report_free(&r);
    /* the quoted To is the only word on the recipient: it is the one */
    assert_int_equal(bounce_parse(only, strlen(only), &r, &why), BOUNCE_DSN);
    assert_int_equal(r.nrcpts, 1);
    assert_string_equal(r.rcpts[0].addr, "pia@corp.example");
    bounce_report_free(&r);
}

/*
 * test_quoted_report - a plain notice returning a message that was a
 * report itself: the recipients are the notice's, not the quoted ones
 */
static void
test_quoted_report(void **state)
{
    const char msg[] = "From: Mail Delivery System <Mailer-Daemon@mx.example>\n"
	"To: bounces@example.com\n"
	"Subject: Mail delivery failed: returning message to sender\n\n"
	"A message that you sent could not be delivered to one or more of its\n"
	"recipients. This is a permanent error. The following address(es) failed:\n\n"
	"  vera@host.example\n"
	"    SMTP error from remote mail server after RCPT TO:<vera@host.example>:\n"
	"    550 5.1.1 <vera@host.example>: Recipient address rejected: User unknown\n\n"
	"------ This is a copy of the message, including all the headers. ------\n\n"
	"From: MAILER-DAEMON@lists.example.com\nTo: vera@host.example\n"
	"Subject: Undelivered Mail Returned to Sender\n\n"
	"Reporting-MTA: dns; lists.example.com\n\n"
	"Final-Recipient: rfc822; walt@other.example\nAction: failed\n"
	"Status: 4.4.1\n"
	"Diagnostic-Code: X-Postfix; connect to mx.other.example: timed out\n";
    struct bounce_report r;
    const char *why = NULL;

    (void) state;
    assert_int_equal(bounce_parse(msg, strlen(msg), &r, &why), BOUNCE_DSN);
    assert_int_equal(r.nrcpts, 1);
    assert_string_equal(r.rcpts[0].addr, "vera@host.example");
    assert_int_equal(r.rcpts[0].reason, BR_USERUNKNOWN);
    assert_true(r.rcpts[0].hard);
    bounce_report_free(&r);
}

/*
 * test_quoted_arf - a notice returning a message that held the fields of
 * a complaint (an abuse desk's mail) is a bounce, not a complaint
 */
static void
test_quoted_arf(void **state)
{
    const char msg[] = "From: Mail Delivery System <Mailer-Daemon@mx.example>\n"
	"To: bounces@example.com\n"
	"Subject: Mail delivery failed: returning message to sender\n\n"
	"This is a permanent error. The following address(es) failed:\n\n"
	"  vera@host.example\n"
	"    550 5.1.1 <vera@host.example>: Recipient address rejected: "
	"User unknown\n\n"
	"------ This is a copy of the message, including all the headers. ------\n\n"
	"From: desk@example.com\nTo: vera@host.example\nSubject: report\n\n"
	"Please find the report below.\n\n"
	"Feedback-Type: abuse\nUser-Agent: SomeFBL/1.0\nVersion: 1\n"
	"Original-Rcpt-To: xena@victim.example\n";
    struct bounce_report r;
    const char *why = NULL;

    (void) state;
    assert_int_equal(bounce_parse(msg, strlen(msg), &r, &why), BOUNCE_DSN);
    assert_int_equal(r.nrcpts, 1);
    assert_string_equal(r.rcpts[0].addr, "vera@host.example");
    assert_true(r.rcpts[0].hard);
    bounce_report_free(&r);
}

/*
 * test_quoted_ses - a bounce returning a message that held an SES
 * notification is about its own recipient, not about the quoted ones
 */
static void
test_quoted_ses(void **state)
{
    const char msg[] = "From: MAILER-DAEMON@mail.example.net\n"
	"To: bounces@example.com\nSubject: failure notice\nMIME-Version: 1.0\n"
	"Content-Type: multipart/mixed; boundary=\"OUT\"\n\n"
	"--OUT\nContent-Type: text/plain\n\n"
	"This is a permanent error; I've given up.\n\n"
	"<yuri@example.net>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n"
	"--OUT\nContent-Type: message/rfc822\n\n"
	"From: ops@example.com\nTo: yuri@example.net\nSubject: FYI\n\n"
	"{\"notificationType\":\"Bounce\",\"bounce\":{\"bouncedRecipients\":"
	"[{\"emailAddress\":\"zed@far.example\",\"status\":\"5.1.1\"}]}}\n"
	"--OUT--\n";
    struct bounce_report r;
    const char *why = NULL;

    (void) state;
    assert_int_equal(bounce_parse(msg, strlen(msg), &r, &why), BOUNCE_DSN);
    assert_int_equal(r.nrcpts, 1);
    assert_string_equal(r.rcpts[0].addr, "yuri@example.net");
    assert_int_equal(r.rcpts[0].reason, BR_USERUNKNOWN);
    bounce_report_free(&r);
}

/*
 * test_foreign_leads - the word that introduces the recipient in German,
 * French, Spanish, Russian and Japanese notices, in their charsets
 */
static void
test_foreign_leads(void **state)
{
    static const char *const lines[] = {
	"Empf\xc3\xa4nger: anna@example.net",	/* UTF-8 */
	"Empf\xe4nger: anna@example.net",		/* ISO-8859-1 */
	"Destinataire : anna@example.net",		/* French spacing */
	"Destinatario: anna@example.net",
	/* "Получатель:" in UTF-8 and KOI8-R */
	"\xd0\x9f\xd0\xbe\xd0\xbb\xd1\x83\xd1\x87\xd0\xb0\xd1\x82\xd0\xb5"
	"\xd0\xbb\xd1\x8c: anna@example.net",
	"\xf0\xcf\xcc\xd5\xde\xc1\xd4\xc5\xcc\xd8: anna@example.net",
	/* "宛先:" in UTF-8 (ASCII and full-width colon) and ISO-2022-JP */
	"\xe5\xae\x9b\xe5\x85\x88: anna@example.net",
	"\xe5\xae\x9b\xe5\x85\x88\xef\xbc\x9a anna@example.net",
	"\x1b$B08@h\x1b(B: anna@example.net",
    };
    char    msg[1024];
    struct bounce_report r;
    const char *why = NULL;

    (void) state;
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
	snprintf(msg, sizeof(msg), "From: MAILER-DAEMON@mx.example.net\n"
		 "To: bounces@example.com\nSubject: Unzustellbar\n\n"
		 "Undeliverable.\n\n%s\n550 5.1.1 unknown\n", lines[i]);
	bounce_parse(msg, strlen(msg), &r, &why);
	if (r.nrcpts != 1)
	    fail_msg("line %zu: %zu recipients", i, r.nrcpts);
	assert_string_equal(r.rcpts[0].addr, "anna@example.net");
	bounce_report_free(&r);
    }
}

static void
test_ses_json(void **state)
{
    const char ses[] = "From: no-reply@sns.amazonaws.com\nTo: ops@example.com\n"
	"Subject: AWS Notification Message\n\n"
	"{\"Type\" : \"Notification\", \"Message\" : \"{\\\"notificationType\\\":"
	"\\\"Bounce\\\",\\\"bounce\\\":{\\\"bouncedRecipients\\\":[{\\\"emailAddress"
	"\\\":\\\"gone@example.net\\\",\\\"action\\\":\\\"failed\\\",\\\"status\\\":"
	"\\\"5.1.1\\\",\\\"diagnosticCode\\\":\\\"smtp; 550 5.1.1 user unknown\\\"}]}}\"}\n";
    struct bounce_report r;
    const char *why = NULL;

    (void) state;
    assert_int_equal(bounce_parse(ses, strlen(ses), &r, &why), BOUNCE_DSN);
    assert_int_equal(r.nrcpts, 1);
    assert_string_equal(r.rcpts[0].addr, "gone@example.net");
    assert_int_equal(r.rcpts[0].reason, BR_USERUNKNOWN);
    assert_string_equal(r.rcpts[0].replycode, "550");
    bounce_report_free(&r);
}

/*
 * test_ses_subtype - an SES recipient without status or diagnostic: the
 * notification's bounceType and bounceSubType say what happened
 */
static void
test_ses_subtype(void **state)
{
    static const struct {
	const char *type, *subtype;
	int reason, hard;
	const char *status;
    } cases[] = {
	{"Permanent", "NoEmail", BR_USERUNKNOWN, 1, "5.0.911"},
	{"Transient", "MailboxFull", BR_MAILBOXFULL, 0, "4.0.922"},
	{"Transient", "MessageTooLarge", BR_MESGTOOBIG, 0, "4.0.934"},
	{"Transient", "ContentRejected", BR_CONTENTERROR, 0, "4.0.960"},
    };
    char    msg[1024];
    struct bounce_report r;
    const char *why = NULL;

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	snprintf(msg, sizeof(msg), "From: no-reply@sns.example.com\n"
		 "To: ops@example.com\nSubject: AWS Notification Message\n\n"
		 "{\"notificationType\":\"Bounce\",\"bounce\":{\"bounceType\":"
		 "\"%s\",\"bounceSubType\":\"%s\",\"bouncedRecipients\":"
		 "[{\"emailAddress\":\"x@example.net\"}]}}\n", cases[i].type,
		 cases[i].subtype);
	assert_int_equal(bounce_parse(msg, strlen(msg), &r, &why), BOUNCE_DSN);
	assert_int_equal(r.nrcpts, 1);
	if (r.rcpts[0].reason != cases[i].reason)
	    fail_msg("%s: %s", cases[i].subtype,
		     bounce_reason_name(r.rcpts[0].reason));
	assert_int_equal(r.rcpts[0].hard, cases[i].hard);
	assert_string_equal(r.rcpts[0].status, cases[i].status);
	bounce_report_free(&r);
    }
}

/* test_ses_limits - fields in any order, a complaint, the recipient cap */
static void
test_ses_limits(void **state)
{
    const char head[] = "From: no-reply@sns.amazonaws.com\nTo: ops@example.com\n"
	"Subject: AWS Notification Message\n\n";
    const char complaint[] = "{\"complaint\":{\"complainedRecipients\":"
	"[{\"emailAddress\":\"angry@example.net\"}],\"complaintFeedbackType\":"
	"\"abuse\"},\"notificationType\":\"Complaint\"}";
    size_t  cap = 1500 * 64 + 256, o;
    char   *msg = malloc(cap);
    struct bounce_report r;
    const char *why = NULL;

    (void) state;
    o = (size_t) snprintf(msg, cap, "%s%s", head, complaint);
    assert_int_equal(bounce_parse(msg, o, &r, &why), BOUNCE_ARF);
    assert_int_equal(r.nrcpts, 1);
    assert_string_equal(r.rcpts[0].addr, "angry@example.net");
    assert_string_equal(r.rcpts[0].feedback_type, "abuse");
    bounce_report_free(&r);

    /* 1500 recipients: the first BOUNCE_MAX_RCPTS are read */
    o = (size_t) snprintf(msg, cap, "%s{\"notificationType\":\"Bounce\",\"bounce\":"
			  "{\"bouncedRecipients\":[", head);
    for (int i = 0; i < 1500; i++)
	o += (size_t) snprintf(msg + o, cap - o, "%s{\"emailAddress\":\"u%d@example.org\"}",
			       i ? "," : "", i);
    o += (size_t) snprintf(msg + o, cap - o, "]}}");
    assert_int_equal(bounce_parse(msg, o, &r, &why), BOUNCE_DSN);
    assert_int_equal(r.nrcpts, BOUNCE_MAX_RCPTS);
    assert_true(r.truncated);
    assert_false(r.over_budget);
    assert_string_equal(r.rcpts[BOUNCE_MAX_RCPTS - 1].addr, "u999@example.org");
    bounce_report_free(&r);
    free(msg);
}

/*
 * test_cpu_budget - a report that has spent its CPU budget is given up: not
 * read at all, over_budget set, whatever it had found dropped; the same
 * report within the budget is read
 */
static void
test_cpu_budget(void **state)
{
    const char head[] = "From: MAILER-DAEMON@mx.example.net\nTo: b@example.com\n"
	"Subject: Undelivered Mail Returned to Sender\n\n"
	"This is the mail system at host mx.example.net.\n\n";
    size_t  cap = 200 * 80 + 256, o;
    char   *msg = malloc(cap);
    struct bounce_report r;
    const char *why = NULL;

    (void) state;
    o = (size_t) snprintf(msg, cap, "%s", head);
    for (int i = 0; i < 200; i++)
	o += (size_t) snprintf(msg + o, cap - o, "<u%d@example.org>: host mx.example.org "
			       "said: 550 5.1.1 unknown user\n", i);
    assert_int_equal(bounce_parse_within(msg, o, 1000000000LL, &r, &why), BOUNCE_DSN);
    assert_int_equal(r.nrcpts, 200);
    assert_false(r.over_budget);
    bounce_report_free(&r);

    /* a budget the first recipient already exceeds */
    why = NULL;
    assert_int_equal(bounce_parse_within(msg, o, 1, &r, &why), -1);
    assert_true(r.over_budget);
    assert_non_null(why);
    assert_string_equal(why, "over its CPU budget");
    bounce_report_free(&r);
    free(msg);
}

/*
 * test_rcpts_linear - a notice naming 1,000 recipients, each with its own
 * diagnostic, is read in time linear in its size: the text about each
 * recipient is found without a search of the notice per recipient (that
 * would look at about 1,000 x 120 KB here)
 */
static void
test_rcpts_linear(void **state)
{
    const char head[] = "From: MAILER-DAEMON@mx.example.net\nTo: b@example.com\n"
	"Subject: Undelivered Mail Returned to Sender\n\n"
	"This is the mail system at host mx.example.net.\n\n";
    size_t  nrcpts = 1000, cap = nrcpts * 300 + 256, o;
    char   *msg = malloc(cap), want[64];
    struct bounce_report r;
    const char *why = NULL;

    (void) state;
    o = (size_t) snprintf(msg, cap, "%s", head);
    for (size_t i = 0; i < nrcpts; i++)
	o += (size_t) snprintf(msg + o, cap - o, "<user%zu@example.org>: host "
			       "mx%zu.example.org[192.0.2.1] said: 550 5.1.1 "
			       "<user%zu@example.org>: Recipient address rejected: "
			       "User unknown in virtual mailbox table (in reply to "
			       "RCPT TO command)\n\n", i, i, i);
    strcasestr_looked = 0;
    assert_int_equal(bounce_parse(msg, o, &r, &why), BOUNCE_DSN);
    assert_int_equal(r.nrcpts, nrcpts);
    /* each recipient has its own words, not its neighbour's */
    for (size_t i = 0; i < nrcpts; i += 333) {
	snprintf(want, sizeof(want), "user%zu@example.org", i);
	assert_string_equal(r.rcpts[i].addr, want);
	snprintf(want, sizeof(want), "host mx%zu.example.org[", i);
	assert_non_null(strstr(r.rcpts[i].diag, want));
	assert_string_equal(r.rcpts[i].status, "5.1.1");
    }
    assert_true(strcasestr_looked < 8 * o);
    bounce_report_free(&r);
    free(msg);
}

/*
 * test_line_linear - a line naming thousands of "<address>"es, one after
 * the other: the line is searched for "Message-ID" once, not once per
 * address on it (5,000 x 95 KB here)
 */
static void
test_line_linear(void **state)
{
    const char head[] = "From: MAILER-DAEMON@mx.example.net\nTo: b@example.com\n"
	"Subject: Undelivered Mail Returned to Sender\n\n"
	"The following addresses failed: ";
    size_t  naddrs = 5000, cap = naddrs * 24 + 256, o;
    char   *msg = malloc(cap);
    struct bounce_report r;
    const char *why = NULL;

    (void) state;
    o = (size_t) snprintf(msg, cap, "%s", head);
    for (size_t i = 0; i < naddrs; i++)
	o += (size_t) snprintf(msg + o, cap - o, "<u%zu@example.org>", i);
    o += (size_t) snprintf(msg + o, cap - o, "\n");
    strncasecmp_calls = 0;
    assert_int_equal(bounce_parse(msg, o, &r, &why), BOUNCE_DSN);
    /* the others stand after a word that is not a recipient's lead */
    assert_int_equal(r.nrcpts, 1);
    assert_string_equal(r.rcpts[0].addr, "u0@example.org");
    assert_true(strncasecmp_calls < 4 * o);
    bounce_report_free(&r);
    free(msg);
}

/* test_samples - a few real messages kept in tests/data/bounces */
static void
test_samples(void **state)
{
    static const struct {
	const char *file;
	size_t  nrcpts;
	int     reason;
	const char *status;
    } cases[] = {
	{"lhost-postfix-02.eml", 2, BR_USERUNKNOWN, "5.2.1"},
	{"lhost-qmail-02.eml", 2, BR_USERUNKNOWN, "5.1.1"},
	{"lhost-gmail-01.eml", 1, BR_USERUNKNOWN, "5.1.1"},
	{"arf-16.eml", 7, BR_FEEDBACK, ""},
	{"lhost-exim-06.eml", 1, BR_EXPIRED, "4.0.947"},
    };
    char    path[512];

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	struct bounce_report r;
	const char *why = NULL;
	FILE   *fp;
	char   *buf = malloc(1 << 20);
	size_t  n;

	snprintf(path, sizeof(path), "%s/tests/data/bounces/%s", TEST_SRCDIR,
		 cases[i].file);
	if ((fp = fopen(path, "rb")) == NULL)
	    fail_msg("%s: cannot open", path);
	n = fread(buf, 1, 1 << 20, fp);
	fclose(fp);
	bounce_parse(buf, n, &r, &why);
	if (r.nrcpts != cases[i].nrcpts)
	    fail_msg("%s: %zu recipients", cases[i].file, r.nrcpts);
	assert_int_equal(r.rcpts[0].reason, cases[i].reason);
	assert_string_equal(r.rcpts[0].status, cases[i].status);
	bounce_report_free(&r);
	free(buf);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_classify),
	cmocka_unit_test(test_verdicts),
	cmocka_unit_test(test_host_for_now),
	cmocka_unit_test(test_foreign_full),
	cmocka_unit_test(test_status_for_now),
	cmocka_unit_test(test_wordings),
	cmocka_unit_test(test_dsn_message),
	cmocka_unit_test(test_generic_status),
	cmocka_unit_test(test_text_bounce),
	cmocka_unit_test(test_transcript_rcpts),
	cmocka_unit_test(test_notice_layouts),
	cmocka_unit_test(test_postfix_command),
	cmocka_unit_test(test_qmail_notice),
	cmocka_unit_test(test_pmta_category),
	cmocka_unit_test(test_status_preference),
	cmocka_unit_test(test_lda_dsn),
	cmocka_unit_test(test_exim_temporary),
	cmocka_unit_test(test_carrier_dsn),
	cmocka_unit_test(test_bullet_rcpts),
	cmocka_unit_test(test_list_refusal),
	cmocka_unit_test(test_arf_message),
	cmocka_unit_test(test_other_kinds),
	cmocka_unit_test(test_delay_notice),
	cmocka_unit_test(test_autoreply_languages),
	cmocka_unit_test(test_challenge),
	cmocka_unit_test(test_quoted_summary),
	cmocka_unit_test(test_quoted_report),
	cmocka_unit_test(test_quoted_arf),
	cmocka_unit_test(test_quoted_ses),
	cmocka_unit_test(test_foreign_leads),
	cmocka_unit_test(test_ses_json),
	cmocka_unit_test(test_ses_limits),
	cmocka_unit_test(test_ses_subtype),
	cmocka_unit_test(test_cpu_budget),
	cmocka_unit_test(test_rcpts_linear),
	cmocka_unit_test(test_line_linear),
	cmocka_unit_test(test_samples),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
