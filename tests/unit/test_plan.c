/* test_plan - the end-of-message plan of outpost-milter: each combination */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf.h"
#include "listunsub.h"
#include "plan.h"
#include "testutil.h"
#include "tracking.h"
#include "verp.h"
#include "webtoken.h"

/* what the fake steps answer, and what they were asked */
struct fake {
    int report_fails;		/* report step: tempfail */
    const char *new_sender;	/* sender step: NULL keeps the sender */
    int sign_fails;		/* sign step: an error */
    size_t nsig;		/* signatures made */
    int tempfail_on_error;
    const char *new_body;	/* body step: NULL keeps the body */
    char calls[16];		/* 'r', 's', 'b', 'k' in call order */
};

static const char *const sigs[] = {" v=1; a=rsa-sha256", " v=1; a=ed25519-sha256"};

/* called - note one step */
static void
called(struct fake *f, char c)
{
    size_t n = strlen(f->calls);

    assert_true(n + 1 < sizeof(f->calls));
    f->calls[n] = c;
}

/* fake_report - the report step */
static int
fake_report(void *arg, struct plan_reply *reply)
{
    struct fake *f = arg;

    called(f, 'r');
    if (!f->report_fails)
	return 0;
    reply->rcode = "451";
    reply->xcode = "4.3.2";
    snprintf(reply->text, sizeof(reply->text), "too many reports");
    return -1;
}

/* fake_sender - the sender step */
static int
fake_sender(void *arg, char *out, size_t size)
{
    struct fake *f = arg;

    called(f, 's');
    if (f->new_sender == NULL)
	return 0;
    snprintf(out, size, "%s", f->new_sender);
    return 1;
}

/* fake_sign - the signing step */
static void
fake_sign(void *arg, struct plan_sign *out)
{
    struct fake *f = arg;
    size_t i;

    called(f, 'k');
    out->tempfail_on_error = f->tempfail_on_error;
    out->domain = "shop.example";
    if (f->sign_fails) {
	out->result = PLAN_SIGN_FAILED;
	out->why = "libopendkim: broken";
	return;
    }
    out->result = PLAN_SIGNED;
    out->n = f->nsig;
    for (i = 0; i < f->nsig; i++)
	out->sig[i] = sigs[i];
}

/* fake_body - the tracking step */
static int
fake_body(void *arg, const char **body, size_t *len)
{
    struct fake *f = arg;

    called(f, 'b');
    if (f->new_body == NULL)
	return 0;
    *body = f->new_body;
    *len = strlen(f->new_body);
    return 1;
}

static const struct plan_steps steps = {fake_report, fake_sender, fake_sign, fake_body};
static char *dropped[] = {"<gone@example.org>", "<gone2@example.org>"};

/* state - a message with accepted recipients, ndrop of them dropped */
static struct msg_state
state(int report, size_t accepted, size_t ndrop, int signing)
{
    struct msg_state st;

    memset(&st, 0, sizeof(st));
    st.qid = "4QTEST";
    st.report = report;
    st.accepted = accepted;
    st.drop = dropped;
    st.ndrop = ndrop;
    st.signing = signing;
    return st;
}

/* unsigned mail, nothing suppressed: continue, counted, sender kept */
static void
test_unsigned(void **unused)
{
    struct fake f = {0};
    struct msg_state st = state(0, 1, 0, 0);
    struct plan p;

    (void) unused;
    plan_message(&st, &steps, &f, &p);
    assert_int_equal(p.verdict, PLAN_CONTINUE);
    assert_string_equal(f.calls, "s");
    assert_string_equal(p.sender, "");
    assert_int_equal(p.ndel, 0);
    assert_int_equal(p.nsig, 0);
    assert_int_equal(p.nhdr, 0);
    assert_null(p.body);
    assert_true(p.count);
}

/* signed mail: the signatures in order, the new sender in brackets */
static void
test_signed(void **unused)
{
    struct fake f = {.nsig = 2, .new_sender = "b-TOKEN@bounce.example"};
    struct msg_state st = state(0, 2, 0, 1);
    struct plan p;

    (void) unused;
    plan_message(&st, &steps, &f, &p);
    assert_int_equal(p.verdict, PLAN_CONTINUE);
    assert_string_equal(f.calls, "sk");
    assert_string_equal(p.sender, "<b-TOKEN@bounce.example>");
    assert_int_equal(p.nsig, 2);
    assert_ptr_equal(p.sig[0], sigs[0]);
    assert_ptr_equal(p.sig[1], sigs[1]);
    assert_string_equal(p.sign_domain, "shop.example");
    assert_false(p.sign_refused_tempfails);
    assert_true(p.count);
}

/* a signing error: tempfail (on_error = tempfail) or send unsigned */
static void
test_sign_error(void **unused)
{
    struct fake f = {.sign_fails = 1, .tempfail_on_error = 1};
    struct msg_state st = state(0, 1, 0, 1);
    struct plan p;

    (void) unused;
    plan_message(&st, &steps, &f, &p);
    assert_int_equal(p.verdict, PLAN_TEMPFAIL);
    assert_string_equal(p.reply.rcode, "451");
    assert_string_equal(p.reply.xcode, "4.7.0");
    assert_false(p.count);
    assert_int_equal(p.nsig, 0);

    memset(&f, 0, sizeof(f));
    f.sign_fails = 1;
    plan_message(&st, &steps, &f, &p);
    assert_int_equal(p.verdict, PLAN_CONTINUE);
    assert_int_equal(p.nsig, 0);
    assert_true(p.count);
    /* a header the MTA refuses later follows the same setting */
    memset(&f, 0, sizeof(f));
    f.nsig = 1;
    f.tempfail_on_error = 1;
    plan_message(&st, &steps, &f, &p);
    assert_int_equal(p.verdict, PLAN_CONTINUE);
    assert_true(p.sign_refused_tempfails);
}

/* every recipient suppressed: discard, nothing else asked, nothing counted */
static void
test_suppressed_all(void **unused)
{
    struct fake f = {.nsig = 1, .new_sender = "b-T@bounce.example"};
    struct msg_state st = state(0, 2, 2, 1);
    struct plan p;

    (void) unused;
    plan_message(&st, &steps, &f, &p);
    assert_int_equal(p.verdict, PLAN_DISCARD);
    assert_string_equal(f.calls, "");
    assert_int_equal(p.ndel, 0);
    assert_string_equal(p.sender, "");
    assert_false(p.count);
}

/* some recipients suppressed, the rest signed and tagged */
static void
test_suppressed_some_signed(void **unused)
{
    struct fake f = {.nsig = 1, .new_sender = "b-T@bounce.example"};
    struct msg_state st = state(0, 3, 2, 1);
    struct plan p;

    (void) unused;
    plan_message(&st, &steps, &f, &p);
    assert_int_equal(p.verdict, PLAN_CONTINUE);
    assert_string_equal(f.calls, "sk");
    assert_int_equal(p.ndel, 2);
    assert_string_equal(p.del[0], "<gone@example.org>");
    assert_string_equal(p.del[1], "<gone2@example.org>");
    assert_string_equal(p.sender, "<b-T@bounce.example>");
    assert_int_equal(p.nsig, 1);
    assert_true(p.count);
}

/* some suppressed and the signing fails with on_error = tempfail: nothing deleted */
static void
test_suppressed_some_sign_tempfail(void **unused)
{
    struct fake f = {.sign_fails = 1, .tempfail_on_error = 1};
    struct msg_state st = state(0, 3, 1, 1);
    struct plan p;

    (void) unused;
    plan_message(&st, &steps, &f, &p);
    assert_int_equal(p.verdict, PLAN_TEMPFAIL);
    assert_string_equal(p.reply.xcode, "4.7.0");
    assert_false(p.count);
}

/* a report (intake) read: the report step first, never signed */
static void
test_intake(void **unused)
{
    struct fake f = {0};
    struct msg_state st = state(1, 1, 0, 0);
    struct plan p;

    (void) unused;
    plan_message(&st, &steps, &f, &p);
    assert_int_equal(p.verdict, PLAN_CONTINUE);
    assert_int_equal(f.calls[0], 'r');
    assert_null(strchr(f.calls, 'k'));
    assert_int_equal(p.nsig, 0);
    assert_true(p.count);
}

/* a report whose reading tempfails: its reply, nothing else asked */
static void
test_intake_tempfail(void **unused)
{
    struct fake f = {.report_fails = 1, .nsig = 1};
    struct msg_state st = state(1, 2, 1, 1);
    struct plan p;

    (void) unused;
    plan_message(&st, &steps, &f, &p);
    assert_int_equal(p.verdict, PLAN_TEMPFAIL);
    assert_string_equal(f.calls, "r");
    assert_string_equal(p.reply.rcode, "451");
    assert_string_equal(p.reply.xcode, "4.3.2");
    assert_string_equal(p.reply.text, "too many reports");
    assert_int_equal(p.ndel, 0);
    assert_false(p.count);
}

/* a report to a dropped intake address (reports not kept): read, then discarded */
static void
test_intake_dropped(void **unused)
{
    struct fake f = {0};
    struct msg_state st = state(1, 1, 1, 0);
    struct plan p;

    (void) unused;
    plan_message(&st, &steps, &f, &p);
    assert_int_equal(p.verdict, PLAN_DISCARD);
    assert_string_equal(f.calls, "r");
    assert_false(p.count);
}

/* a report beside outgoing recipients: the intake address deleted, the rest goes on */
static void
test_intake_mixed(void **unused)
{
    struct fake f = {0};
    struct msg_state st = state(1, 2, 1, 0);
    struct plan p;

    (void) unused;
    plan_message(&st, &steps, &f, &p);
    assert_int_equal(p.verdict, PLAN_CONTINUE);
    assert_string_equal(f.calls, "rs");
    assert_int_equal(p.ndel, 1);
    assert_true(p.count);
}

static const struct plan_header lu_hdr[] = {
    {"List-Unsubscribe", " <https://links.example/u/TOKEN>"},
    {"List-Unsubscribe-Post", " List-Unsubscribe=One-Click"},
};

/* the List-Unsubscribe fields decided at the end of the header: added, in order */
static void
test_headers_added(void **unused)
{
    struct fake f = {.nsig = 2};
    struct msg_state st = state(0, 1, 0, 1);
    struct plan p;

    (void) unused;
    st.hdr = lu_hdr;
    st.nhdr = 2;
    plan_message(&st, &steps, &f, &p);
    assert_int_equal(p.verdict, PLAN_CONTINUE);
    assert_int_equal(p.nhdr, 2);
    assert_ptr_equal(p.hdr[0].name, lu_hdr[0].name);
    assert_ptr_equal(p.hdr[0].value, lu_hdr[0].value);
    assert_string_equal(p.hdr[1].name, "List-Unsubscribe-Post");
    assert_int_equal(p.nsig, 2);
    assert_true(p.count);
    /* unsigned mail gets them too */
    memset(&f, 0, sizeof(f));
    st.signing = 0;
    plan_message(&st, &steps, &f, &p);
    assert_int_equal(p.nhdr, 2);
    assert_int_equal(p.nsig, 0);
}

/* a discarded or tempfailed message adds nothing */
static void
test_headers_not_added(void **unused)
{
    struct fake f = {.nsig = 1};
    struct msg_state st = state(0, 1, 1, 1);
    struct plan p;

    (void) unused;
    st.hdr = lu_hdr;
    st.nhdr = 2;
    plan_message(&st, &steps, &f, &p);
    assert_int_equal(p.verdict, PLAN_DISCARD);
    assert_int_equal(p.nhdr, 0);
    memset(&f, 0, sizeof(f));
    f.report_fails = 1;
    st = state(1, 2, 0, 0);
    st.hdr = lu_hdr;
    st.nhdr = 2;
    plan_message(&st, &steps, &f, &p);
    assert_int_equal(p.verdict, PLAN_TEMPFAIL);
    assert_int_equal(p.nhdr, 0);
}

/* ---------------------------------------------- the List-Unsubscribe step */

#define SECRET "listunsub-test-secret-0123456789\n"
#define NOW 1800000000LL

/* lu_load - a listunsub from a configuration text; keys for decoding in *keys */
static struct listunsub *
lu_load(const char *text, struct verp_keys **keys, char *err, size_t errlen)
{
    char conftext[1024], *secret = testutil_write_tmp(SECRET), *path;
    struct outpost_conf *conf;
    struct listunsub *lu;

    snprintf(conftext, sizeof(conftext), text, secret);
    path = testutil_write_tmp(conftext);
    if ((conf = conf_load(path, err, errlen)) == NULL)
	fail_msg("%s", err);
    lu = listunsub_new(conf, getuid(), err, errlen);
    if (keys)
	*keys = verp_keys_load(secret, 0, getuid(), err, errlen);
    conf_free(conf);
    unlink(path);
    unlink(secret);
    free(path);
    free(secret);
    return lu;
}

static const char lu_conf[] =
    "[milter]\nlist_unsubscribe_senders = shop.example, Tenant7\n"
    "[httpd]\npublic_url = https://links.example\n"
    "[intake]\nsecret_file = %s\n";

/* lu_msg - one recipient from an opted-in sender domain */
static struct listunsub_msg
lu_msg(void)
{
    struct listunsub_msg m;

    memset(&m, 0, sizeof(m));
    m.sender_domain = "shop.example";
    m.nrcpts = 1;
    m.rcpt = "alice@example.org";
    m.now = NOW;
    m.lead_space = 1;
    return m;
}

/* an opted-in sender: both fields, a token httpd reads back */
static void
test_lu_added(void **unused)
{
    struct verp_keys *keys;
    struct listunsub_hdrs h;
    struct listunsub_msg m = lu_msg();
    struct webtoken t;
    char err[512];
    struct listunsub *lu = lu_load(lu_conf, &keys, err, sizeof(err));
    const char *tok, *end;

    (void) unused;
    assert_non_null(lu);
    assert_non_null(keys);
    m.mailto = "unsub-TOKEN@bounce.example";
    assert_int_equal(listunsub_make(lu, &m, &h), LISTUNSUB_ADD);
    assert_string_equal(h.post, " List-Unsubscribe=One-Click");
    assert_memory_equal(h.unsub, " <https://links.example/u/", 26);
    tok = h.unsub + 26;
    end = strchr(tok, '>');
    assert_non_null(end);
    assert_string_equal(end, ">,\n <mailto:unsub-TOKEN@bounce.example>");
    assert_int_equal(webtoken_decode(keys, WEBTOKEN_UNSUB, tok, (size_t) (end - tok), NOW,
				     86400, &t), WEBTOKEN_OK);
    assert_string_equal(t.rcpt, "alice@example.org");
    assert_string_equal(t.sender_domain, "shop.example");
    assert_int_equal(t.issued, NOW);
    /* without the intake: the https URL alone; without LEADSPC no space */
    m.mailto = NULL;
    m.lead_space = 0;
    assert_int_equal(listunsub_make(lu, &m, &h), LISTUNSUB_ADD);
    assert_int_equal(h.unsub[0], '<');
    assert_int_equal(h.unsub[strlen(h.unsub) - 1], '>');
    assert_null(strstr(h.unsub, "mailto"));
    assert_string_equal(h.post, "List-Unsubscribe=One-Click");
    /* opted in by its SASL user, any case, whatever the sender domain */
    m.sender_domain = "other.example";
    m.auth_user = "tenant7";
    assert_int_equal(listunsub_make(lu, &m, &h), LISTUNSUB_ADD);
    listunsub_free(lu);
    verp_keys_free(keys);
}

/* nothing for others, for a message with its own field, for several recipients */
static void
test_lu_not_added(void **unused)
{
    struct listunsub_hdrs h;
    struct listunsub_msg m = lu_msg();
    char err[512];
    struct listunsub *lu = lu_load(lu_conf, NULL, err, sizeof(err));

    (void) unused;
    m.sender_domain = "other.example";
    m.auth_user = "tenant8";
    assert_int_equal(listunsub_make(lu, &m, &h), LISTUNSUB_NOT_OPTED);
    assert_int_equal(listunsub_make(NULL, &m, &h), LISTUNSUB_NOT_OPTED);
    m = lu_msg();
    m.has_field = 1;
    assert_int_equal(listunsub_make(lu, &m, &h), LISTUNSUB_PRESENT);
    m = lu_msg();
    m.nrcpts = 2;
    assert_int_equal(listunsub_make(lu, &m, &h), LISTUNSUB_RECIPIENTS);
    m.nrcpts = 0;
    assert_int_equal(listunsub_make(lu, &m, &h), LISTUNSUB_RECIPIENTS);
    m = lu_msg();
    m.auth_user = "tenant7";
    m.sender_domain = "";			/* null sender: no scope */
    assert_int_equal(listunsub_make(lu, &m, &h), LISTUNSUB_NO_TOKEN);
    assert_string_equal(listunsub_status_name(LISTUNSUB_RECIPIENTS), "recipients");
    listunsub_free(lu);
}

/* off without senders; refused without public_url or secret_file */
static void
test_lu_setup(void **unused)
{
    char err[512];

    (void) unused;
    assert_null(lu_load("[intake]\nsecret_file = %s\n", NULL, err, sizeof(err)));
    assert_string_equal(err, "");
    assert_null(lu_load("[milter]\nlist_unsubscribe_senders = shop.example\n"
			"[intake]\nsecret_file = %s\n", NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "needs [httpd] public_url and [intake] secret_file"));
}

/* a tracked message: the body step before signing, its body replaces the old */
static void
test_body_step(void **unused)
{
    struct fake f = {.nsig = 1, .new_body = "new body\r\n"};
    struct msg_state st = state(0, 1, 0, 1);
    struct plan p;

    (void) unused;
    st.tracking = 1;
    plan_message(&st, &steps, &f, &p);
    assert_string_equal(f.calls, "sbk");
    assert_ptr_equal(p.body, f.new_body);
    assert_int_equal(p.body_len, 10);
    /* the step sends it unchanged */
    memset(&f, 0, sizeof(f));
    f.nsig = 1;
    plan_message(&st, &steps, &f, &p);
    assert_string_equal(f.calls, "sbk");
    assert_null(p.body);
    /* not tracked: not asked */
    memset(&f, 0, sizeof(f));
    f.new_body = "x";
    st.tracking = 0;
    plan_message(&st, &steps, &f, &p);
    assert_string_equal(f.calls, "sk");
    assert_null(p.body);
    /* discarded: not asked */
    memset(&f, 0, sizeof(f));
    f.new_body = "x";
    st = state(0, 1, 1, 1);
    st.tracking = 1;
    plan_message(&st, &steps, &f, &p);
    assert_int_equal(p.verdict, PLAN_DISCARD);
    assert_string_equal(f.calls, "");
}

/* ------------------------------------------------------- the tracking step */

static const char tr_conf[] =
    "[milter]\ntracking_senders = shop.example, tenant7\ntracking_max_size = 4k\n"
    "[httpd]\npublic_url = https://links.example\n"
    "[intake]\nsecret_file = %s\n";

/* tr_load - a tracking setup from a configuration text, and the keys */
static struct tracking *
tr_load(const char *text, struct verp_keys **keys)
{
    char conftext[1024], err[512], *secret = testutil_write_tmp(SECRET), *path;
    struct outpost_conf *conf;
    struct tracking *t;

    snprintf(conftext, sizeof(conftext), text, secret);
    path = testutil_write_tmp(conftext);
    if ((conf = conf_load(path, err, sizeof(err))) == NULL)
	fail_msg("%s", err);
    t = tracking_new(conf, getuid(), err, sizeof(err));
    *keys = verp_keys_load(secret, 0, getuid(), err, sizeof(err));
    conf_free(conf);
    unlink(path);
    unlink(secret);
    free(path);
    free(secret);
    return t;
}

/* tr_begin - a message's header given to m; its decision */
static int
tr_begin(struct tracking_msg *m, const struct tracking *t, const char *domain, size_t nrcpts)
{
    struct tracking_who who = {domain, nrcpts, "alice@example.org"};

    memset(m, 0, sizeof(*m));
    tracking_msg_begin(m, t, NULL, domain);
    tracking_header(m, t, "From", " news@shop.example", 0);
    tracking_header(m, t, "Message-ID", " <m1@shop.example>", 0);
    tracking_header(m, t, "X-Campaign-ID", " spring-sale ", 0);
    tracking_header(m, t, "MIME-Version", " 1.0", 0);
    tracking_header(m, t, "Content-Type", " text/html; charset=utf-8", 0);
    return tracking_eoh(m, t, &who);
}

/* token_of - decode the token after route in text; its status */
static int
token_of(const struct verp_keys *k, const char *text, const char *route, int kind,
	 struct webtoken *t)
{
    const char *p = strstr(text, route);
    size_t n;

    if (p == NULL)
	return -1;
    p += strlen(route);
    n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
    return webtoken_decode(k, kind, p, n, NOW, 86400, t);
}

/* an opted-in sender's HTML: the link and the pixel, tokens that say it all */
static void
test_tracking_rewrite(void **unused)
{
    static const char body[] = "<html><body><p>Hi <a href=\"https://shop.example/sale?a=1&amp;b=2\">"
	"sale</a> <a href=\"mailto:x@shop.example\">mail</a></p></body></html>\r\n";
    struct verp_keys *keys;
    struct tracking *t = tr_load(tr_conf, &keys);
    struct tracking_msg m;
    struct webtoken tok;

    (void) unused;
    assert_non_null(t);
    assert_int_equal(tr_begin(&m, t, "shop.example", 1), TRACKING_ON);
    assert_int_equal(tracking_body(&m, (const unsigned char *) body, strlen(body)), 0);
    assert_int_equal(tracking_rewrite(&m, t, NOW), TRACKING_ON);
    assert_non_null(m.out);
    assert_int_equal(m.rw.links, 1);
    assert_true(m.rw.pixel);
    assert_null(strstr(m.out, "https://shop.example/sale"));
    assert_non_null(strstr(m.out, "mailto:x@shop.example"));
    assert_int_equal(token_of(keys, m.out, "https://links.example/c/", WEBTOKEN_CLICK, &tok),
		     WEBTOKEN_OK);
    assert_string_equal(tok.url, "https://shop.example/sale?a=1&b=2");
    assert_string_equal(tok.rcpt, "alice@example.org");
    assert_string_equal(tok.sender_domain, "shop.example");
    assert_string_equal(tok.msgid, "<m1@shop.example>");
    assert_string_equal(tok.campaign, "spring-sale");
    assert_int_equal(tok.link, 0);
    assert_int_equal(token_of(keys, m.out, "https://links.example/o/", WEBTOKEN_OPEN, &tok),
		     WEBTOKEN_OK);
    assert_string_equal(tok.campaign, "spring-sale");
    tracking_msg_reset(&m);
    tracking_free(t);
    verp_keys_free(keys);
}

/* links of this server already (an earlier message's, quoted): left as they are */
static void
test_tracking_own_links(void **unused)
{
    static const char body[] = "<p><a href=\"https://links.example/c/AAAA\">quoted</a> "
	"<a href=\"HTTPS://LINKS.EXAMPLE/u/BBBB\">unsubscribe</a> "
	"<a href=\"https://links.example.org/x\">another host</a></p>\r\n";
    struct verp_keys *keys;
    struct tracking *t = tr_load(tr_conf, &keys);
    struct tracking_msg m;
    struct webtoken tok;

    (void) unused;
    assert_int_equal(tr_begin(&m, t, "shop.example", 1), TRACKING_ON);
    assert_int_equal(tracking_body(&m, (const unsigned char *) body, strlen(body)), 0);
    assert_int_equal(tracking_rewrite(&m, t, NOW), TRACKING_ON);
    assert_int_equal(m.rw.links, 1);
    assert_int_equal(m.rw.kept, 2);
    assert_non_null(strstr(m.out, "href=\"https://links.example/c/AAAA\""));
    assert_non_null(strstr(m.out, "href=\"HTTPS://LINKS.EXAMPLE/u/BBBB\""));
    assert_int_equal(token_of(keys, m.out, "https://links.example/c/", WEBTOKEN_CLICK, &tok),
		     WEBTOKEN_MALFORMED);	/* the first /c/ is the quoted one */
    assert_null(strstr(m.out, "\"https://links.example.org/x\""));
    tracking_msg_reset(&m);
    tracking_free(t);
    verp_keys_free(keys);
}

/* others, several recipients, too large, nothing to rewrite: unchanged */
static void
test_tracking_unchanged(void **unused)
{
    struct verp_keys *keys;
    struct tracking *t = tr_load(tr_conf, &keys);
    struct tracking_msg m;
    char big[1500];
    int i;

    (void) unused;
    assert_int_equal(tr_begin(&m, t, "other.example", 1), TRACKING_NOT_OPTED);
    tracking_msg_reset(&m);
    assert_int_equal(tr_begin(&m, NULL, "shop.example", 1), TRACKING_NOT_OPTED);
    tracking_msg_reset(&m);
    assert_int_equal(tr_begin(&m, t, "shop.example", 2), TRACKING_RECIPIENTS);
    tracking_msg_reset(&m);
    /* 4k at most: the third chunk of 1500 bytes is too many */
    assert_int_equal(tr_begin(&m, t, "shop.example", 1), TRACKING_ON);
    memset(big, 'x', sizeof(big));
    for (i = 0; i < 2; i++)
	assert_int_equal(tracking_body(&m, (unsigned char *) big, sizeof(big)), 0);
    assert_int_equal(tracking_body(&m, (unsigned char *) big, sizeof(big)), -1);
    assert_true(m.gave_up);
    assert_int_equal(m.len - m.body_off, 3000);	/* kept for the signer */
    assert_int_equal(tracking_rewrite(&m, t, NOW), TRACKING_TOO_BIG);
    assert_string_equal(tracking_status_name(TRACKING_TOO_BIG), "too_big");
    tracking_msg_reset(&m);
    /* HTML without a link still gets the pixel; plain text without one: nothing */
    assert_int_equal(tr_begin(&m, t, "shop.example", 1), TRACKING_ON);
    tracking_body(&m, (const unsigned char *) "<p>hi</p>\r\n", 11);
    assert_int_equal(tracking_rewrite(&m, t, NOW), TRACKING_ON);
    assert_true(m.rw.pixel);
    tracking_msg_reset(&m);
    /* opted in by its SASL user, any case */
    memset(&m, 0, sizeof(m));
    tracking_msg_begin(&m, t, "TENANT7", "other.example");
    tracking_header(&m, t, "Content-Type", " text/plain", 0);
    {
	struct tracking_who who = {"other.example", 1, "alice@example.org"};

	assert_int_equal(tracking_eoh(&m, t, &who), TRACKING_ON);
    }
    tracking_body(&m, (const unsigned char *) "see https://x.example/\r\n", 24);
    assert_int_equal(tracking_rewrite(&m, t, NOW), TRACKING_RW + TRACKRW_NOTHING);
    assert_string_equal(tracking_status_name(TRACKING_RW + TRACKRW_NOTHING), "nothing");
    tracking_msg_reset(&m);
    tracking_free(t);
    verp_keys_free(keys);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_body_step),
	cmocka_unit_test(test_tracking_rewrite),
	cmocka_unit_test(test_tracking_unchanged),
	cmocka_unit_test(test_tracking_own_links),
	cmocka_unit_test(test_lu_added),
	cmocka_unit_test(test_lu_not_added),
	cmocka_unit_test(test_lu_setup),
	cmocka_unit_test(test_headers_added),
	cmocka_unit_test(test_headers_not_added),
	cmocka_unit_test(test_unsigned),
	cmocka_unit_test(test_signed),
	cmocka_unit_test(test_sign_error),
	cmocka_unit_test(test_suppressed_all),
	cmocka_unit_test(test_suppressed_some_signed),
	cmocka_unit_test(test_suppressed_some_sign_tempfail),
	cmocka_unit_test(test_intake),
	cmocka_unit_test(test_intake_tempfail),
	cmocka_unit_test(test_intake_dropped),
	cmocka_unit_test(test_intake_mixed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
