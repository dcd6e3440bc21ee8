/*
 * policy_answer - the milter's side of the Postfix policy protocol (see policy_answer.h)
 *
 * Pure functions over buffers: no I/O, no allocation, so the unit tests and
 * the fuzz target drive them directly.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "policy_answer.h"

/* put - append name=value\n; 0 when it does not fit */
static int
put(char *buf, size_t size, size_t *used, const char *name, const char *value)
{
    size_t n = strlen(name), i;

    if (*used + n + 1 + strlen(value) + 1 >= size)
	return 0;
    memcpy(buf + *used, name, n);
    *used += n;
    buf[(*used)++] = '=';
    for (i = 0; value[i]; i++)		/* a CR or LF would end the line */
	buf[(*used)++] = (value[i] == '\r' || value[i] == '\n') ? '?' : value[i];
    buf[(*used)++] = '\n';
    buf[*used] = '\0';
    return 1;
}

/* put_opt - put, unless the value is NULL or empty */
static int
put_opt(char *buf, size_t size, size_t *used, const char *name, const char *value)
{
    return value == NULL || *value == '\0' || put(buf, size, used, name, value);
}

/* policy_request_format - an RCPT request, see the header */
size_t
policy_request_format(const struct policy_query *q, char *buf, size_t size)
{
    size_t used = 0;

    if (size == 0)
	return 0;
    buf[0] = '\0';
    if (!put(buf, size, &used, "request", "smtpd_access_policy")
	|| !put(buf, size, &used, "protocol_state", "RCPT")
	|| !put_opt(buf, size, &used, "protocol_name", q->protocol_name)
	|| !put_opt(buf, size, &used, "client_address", q->client_address)
	|| !put_opt(buf, size, &used, "client_name", q->client_name)
	|| !put_opt(buf, size, &used, "helo_name", q->helo_name)
	|| (q->sender && !put(buf, size, &used, "sender", q->sender))
	|| !put_opt(buf, size, &used, "recipient", q->recipient)
	|| !put_opt(buf, size, &used, "sasl_username", q->sasl_username)
	|| !put_opt(buf, size, &used, "queue_id", q->queue_id)
	|| !put_opt(buf, size, &used, "instance", q->instance)
	|| used + 2 > size)
	return 0;
    buf[used++] = '\n';
    buf[used] = '\0';
    return used;
}

/* policy_answer_end - length of the first complete answer, 0 if incomplete */
size_t
policy_answer_end(const char *buf, size_t len)
{
    const char *p;

    if (len == 0)
	return 0;
    if (buf[0] == '\n')
	return 1;
    for (p = buf; (p = memchr(p, '\n', len - (size_t) (p - buf))) != NULL; p++)
	if ((size_t) (p - buf) + 1 < len && p[1] == '\n')
	    return (size_t) (p - buf) + 2;
    return 0;
}

/* policy_answer_parse - one answer, see the header */
int
policy_answer_parse(const char *buf, size_t len, struct policy_verdict *v,
		    const char **why)
{
    const char *line = buf, *end = buf + len, *nl, *eq, *action = NULL;
    size_t llen, alen = 0;

    if (len > POLICY_ANSWER_MAX)
	return (*why = "answer too long", -1);
    if (memchr(buf, '\0', len) != NULL)
	return (*why = "NUL byte in answer", -1);
    while (line < end) {
	nl = memchr(line, '\n', (size_t) (end - line));
	llen = (size_t) ((nl ? nl : end) - line);
	if (llen > 0 && line[llen - 1] == '\r')
	    llen--;
	if (llen == 0)
	    break;			/* the empty line ends the answer */
	if ((eq = memchr(line, '=', llen)) == NULL)
	    return (*why = "answer line without '='", -1);
	if (eq - line == 6 && strncasecmp(line, "action", 6) == 0) {
	    if (action != NULL)
		return (*why = "two actions in one answer", -1);
	    action = eq + 1;
	    alen = llen - 7;
	}
	if (nl == NULL)
	    break;
	line = nl + 1;
    }
    if (action == NULL)
	return (*why = "answer without action", -1);
    return policy_action_map(action, alen, v);
}

/* copy_text - printable ASCII, '%' doubled when pct, always terminated */
static void
copy_text(const char *s, size_t len, char *out, size_t size, int pct)
{
    size_t i, o = 0;

    for (i = 0; i < len; i++) {
	unsigned char c = (unsigned char) s[i];

	if (c == '%' && pct) {
	    if (o + 2 >= size)
		break;
	    out[o++] = '%';
	} else if (o + 1 >= size) {
	    break;
	}
	out[o++] = (c >= ' ' && c < 0x7f) ? (char) c : '?';
    }
    out[o] = '\0';
}

/* is_enhanced - length of a D.D{1,3}.D{1,3} status code opening s, 0 if none */
static size_t
is_enhanced(const char *s, size_t len)
{
    size_t i = 0, part, digits;

    for (part = 0; part < 3; part++) {
	if (part > 0) {
	    if (i >= len || s[i] != '.')
		return 0;
	    i++;
	}
	for (digits = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++)
	    digits++;
	if (digits == 0 || digits > (part == 0 ? 1u : 3u))
	    return 0;
    }
    return (i == len || s[i] == ' ' || s[i] == '\t') ? i : 0;
}

/* set_reply - a 4xx or 5xx reply: code, enhanced code, text */
static int
set_reply(struct policy_verdict *v, int kind, const char *rcode, const char *text,
	  size_t tlen, const char *dflt)
{
    char cls = kind == POLICY_TEMPFAIL ? '4' : '5';
    size_t n;

    v->kind = kind;
    memcpy(v->rcode, rcode, 3);
    v->rcode[3] = '\0';
    v->xcode[0] = cls;
    memcpy(v->xcode + 1, ".7.1", 5);
    if ((n = is_enhanced(text, tlen)) > 0) {
	if (text[0] == cls) {		/* another class would contradict rcode */
	    memcpy(v->xcode, text, n);
	    v->xcode[n] = '\0';
	}
	text += n;
	tlen -= n;
	while (tlen > 0 && (*text == ' ' || *text == '\t'))
	    text++, tlen--;
    }
    if (tlen == 0)
	copy_text(dflt, strlen(dflt), v->text, sizeof(v->text), 1);
    else
	copy_text(text, tlen, v->text, sizeof(v->text), 1);
    return kind;
}

/* word_is - the action word equals name, case-insensitive */
static int
word_is(const char *w, size_t wlen, const char *name)
{
    return wlen == strlen(name) && strncasecmp(w, name, wlen) == 0;
}

/* policy_action_map - what an action asks for, see the header */
int
policy_action_map(const char *action, size_t len, struct policy_verdict *v)
{
    const char *text;
    size_t wlen, tlen, i;
    int digits;

    memset(v, 0, sizeof(*v));
    while (len > 0 && (*action == ' ' || *action == '\t'))
	action++, len--;
    while (len > 0 && (action[len - 1] == ' ' || action[len - 1] == '\t'))
	len--;
    for (wlen = 0; wlen < len && action[wlen] != ' ' && action[wlen] != '\t'; wlen++)
	;
    for (text = action + wlen, tlen = len - wlen;
	 tlen > 0 && (*text == ' ' || *text == '\t'); text++, tlen--)
	;
    copy_text(action, wlen, v->action, sizeof(v->action), 0);
    for (digits = wlen > 0, i = 0; i < wlen; i++)
	if (action[i] < '0' || action[i] > '9')
	    digits = 0;

    if (digits && wlen == 3 && action[0] == '4')
	return set_reply(v, POLICY_TEMPFAIL, action, text, tlen, "Service unavailable");
    if (digits && wlen == 3 && action[0] == '5')
	return set_reply(v, POLICY_REJECT, action, text, tlen, "Access denied");
    if ((digits && tlen == 0) || word_is(action, wlen, "OK") || word_is(action, wlen, "DUNNO")
	|| word_is(action, wlen, "PREPEND") || word_is(action, wlen, "WARN")
	|| word_is(action, wlen, "INFO") || word_is(action, wlen, "DEFER_IF_REJECT"))
	return v->kind = POLICY_CONTINUE;
    if (word_is(action, wlen, "DEFER") || word_is(action, wlen, "DEFER_IF_PERMIT"))
	return set_reply(v, POLICY_TEMPFAIL, "450", text, tlen, "Service unavailable");
    if (word_is(action, wlen, "REJECT"))
	return set_reply(v, POLICY_REJECT, "554", text, tlen, "Access denied");
    if (word_is(action, wlen, "FILTER") && tlen > 0) {
	copy_text(text, tlen, v->filter, sizeof(v->filter), 0);
	return v->kind = POLICY_FILTER;
    }
    return v->kind = POLICY_UNKNOWN;
}
