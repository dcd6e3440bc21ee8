/*
 * verp - tagged return-path tokens (see verp.h)
 *
 * The body is a bit string written and read most significant bit first;
 * the MAC covers it packed into bytes (zero padded), so that the bits are
 * authenticated exactly as they travel.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "msg.h"
#include "verp.h"
#include "xalloc.h"

#define VERP_VERSION		2	/* the MAC covers the bound domain too */
#define VERP_VERSION_UNBOUND	1	/* before: accepted until it ages out */
#define BODY_BYTES_MAX	(VERP_TOKEN_MAX * 5 / 8 + 1)

/* 5-bit symbols */
#define SYM_DOT		26
#define SYM_DASH	27
#define SYM_AT		28
#define SYM_EXT		29		/* 4 more bits: 0-9 _ + = */
#define SYM_BYTE	30		/* 8 more bits: any other byte */
#define SYM_END		31

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
static const char ext_chars[] = "0123456789_+=";

struct verp_keys {
    size_t n;
    struct {
	unsigned char *v;
	size_t len;
	EVP_MD_CTX *inner, *outer;	/* HMAC-SHA256 keyed once: verp_keys_hmac() */
    } key[VERP_KEYS_MAX];
};

struct bits {
    unsigned char *buf;
    size_t cap;			/* bytes */
    size_t n;			/* bits written or read */
    size_t end;			/* bits available (reader) */
    int overflow;
};

static void hmac_prepare(struct verp_keys *k);
static void bits_put(struct bits *b, unsigned long long v, int width);
static int bits_get(struct bits *b, int width, unsigned long long *v);
static void put_string(struct bits *b, const char *s);
static int get_string(struct bits *b, char *out, size_t size);
static void mac(const struct verp_keys *k, size_t i, int kind, const char *bound,
		const unsigned char *body, size_t len, unsigned char out[VERP_MAC_BYTES]);
static size_t finish(const struct verp_keys *k, int kind, const char *bound,
		     struct bits *b, char *out, size_t size);

/* ---------------------------------------------------------------- keys */

/* verp_keys_parse - secrets, one a line; the first signs */
struct verp_keys *
verp_keys_parse(const char *buf, size_t len, const char *name, char *err,
		size_t errlen)
{
    struct verp_keys *k = xcalloc(1, sizeof(*k));
    const char *p = buf, *end = buf + len, *nl, *s, *e;
    int line = 0;

    for (; p < end; p = nl + 1) {
	line++;
	if ((nl = memchr(p, '\n', (size_t) (end - p))) == NULL)
	    nl = end;
	for (s = p; s < nl && (*s == ' ' || *s == '\t'); s++)
	    /* void */ ;
	for (e = nl; e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'); e--)
	    /* void */ ;
	if (s == e || *s == '#')
	    continue;
	if ((size_t) (e - s) < VERP_SECRET_MIN) {
	    snprintf(err, errlen, "%s:%d: secret shorter than %d bytes", name, line,
		     VERP_SECRET_MIN);
	    goto fail;
	}
	if (k->n == VERP_KEYS_MAX) {
	    snprintf(err, errlen, "%s:%d: more than %d secrets", name, line, VERP_KEYS_MAX);
	    goto fail;
	}
	k->key[k->n].len = (size_t) (e - s);
	k->key[k->n].v = xmalloc(k->key[k->n].len);
	memcpy(k->key[k->n].v, s, k->key[k->n].len);
	k->n++;
    }
    if (k->n == 0) {
	snprintf(err, errlen, "%s: no secret", name);
	goto fail;
    }
    hmac_prepare(k);
    return k;
fail:
    verp_keys_free(k);
    return NULL;
}

/* verp_keys_load - read a private secret file */
struct verp_keys *
verp_keys_load(const char *path, int check_owner, uid_t owner, char *err,
	       size_t errlen)
{
    struct verp_keys *k;
    struct stat st;
    char *buf;
    ssize_t n;
    int fd;

    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
	snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
	return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
	snprintf(err, errlen, "%s: not a regular file", path);
	close(fd);
	return NULL;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
	snprintf(err, errlen, "%s: mode %04o: the secret must be private (chmod 600)",
		 path, (unsigned) (st.st_mode & 07777));
	close(fd);
	return NULL;
    }
    if (check_owner && st.st_uid != owner) {
	snprintf(err, errlen, "%s: owned by uid %u, not by the daemon user (uid %u)",
		 path, (unsigned) st.st_uid, (unsigned) owner);
	close(fd);
	return NULL;
    }
    if (st.st_size > VERP_KEYS_FILE_MAX) {
	snprintf(err, errlen, "%s: larger than %d bytes", path, VERP_KEYS_FILE_MAX);
	close(fd);
	return NULL;
    }
    buf = xmalloc(VERP_KEYS_FILE_MAX + 1);
    n = read(fd, buf, VERP_KEYS_FILE_MAX + 1);
    if (n < 0)
	snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
    else if (n > VERP_KEYS_FILE_MAX)		/* it grew since fstat() */
	snprintf(err, errlen, "%s: larger than %d bytes", path, VERP_KEYS_FILE_MAX);
    close(fd);
    if (n < 0 || n > VERP_KEYS_FILE_MAX) {
	free(buf);
	return NULL;
    }
    k = verp_keys_parse(buf, (size_t) n, path, err, errlen);
    OPENSSL_cleanse(buf, VERP_KEYS_FILE_MAX + 1);
    free(buf);
    return k;
}

/* verp_keys_free - wipe and release */
void
verp_keys_free(struct verp_keys *k)
{
    size_t i;

    if (k == NULL)
	return;
    for (i = 0; i < k->n; i++) {
	OPENSSL_cleanse(k->key[i].v, k->key[i].len);
	free(k->key[i].v);
	EVP_MD_CTX_free(k->key[i].inner);
	EVP_MD_CTX_free(k->key[i].outer);
    }
    free(k);
}

/* verp_keys_count - how many secrets */
size_t
verp_keys_count(const struct verp_keys *k)
{
    return k->n;
}

/*
 * verp_key_id - a name for secret i that does not reveal it: the first
 * VERP_KEY_ID_BYTES of HMAC-SHA256(secret, "outpost secret id"), in hex
 */
void
verp_key_id(const struct verp_keys *k, size_t i, char out[2 * VERP_KEY_ID_BYTES + 1])
{
    static const char label[] = "outpost secret id";
    unsigned char full[EVP_MAX_MD_SIZE];
    unsigned int flen = 0, j;

    if (HMAC(EVP_sha256(), k->key[i].v, (int) k->key[i].len, (const unsigned char *) label,
	     sizeof(label) - 1, full, &flen) == NULL || flen < VERP_KEY_ID_BYTES)
	memset(full, 0, sizeof(full));
    for (j = 0; j < VERP_KEY_ID_BYTES; j++)
	snprintf(out + 2 * j, 3, "%02x", full[j]);
}

/* ---------------------------------------------------------------- bits */

/* bits_put - append the low width bits of v */
static void
bits_put(struct bits *b, unsigned long long v, int width)
{
    int i;

    for (i = width - 1; i >= 0; i--, b->n++) {
	if (b->n / 8 >= b->cap) {
	    b->overflow = 1;
	    return;
	}
	if ((v >> i) & 1)
	    b->buf[b->n / 8] |= (unsigned char) (0x80 >> (b->n % 8));
    }
}

/* bits_get - read width bits; -1 past the end */
static int
bits_get(struct bits *b, int width, unsigned long long *v)
{
    int i;

    if (b->n + (size_t) width > b->end)
	return -1;
    *v = 0;
    for (i = 0; i < width; i++, b->n++)
	*v = (*v << 1) | ((b->buf[b->n / 8] >> (7 - b->n % 8)) & 1);
    return 0;
}

/* put_string - a string in the 5-bit code, then the end code */
static void
put_string(struct bits *b, const char *s)
{
    const unsigned char *p;
    const char *x;

    for (p = (const unsigned char *) s; *p; p++) {
	if (*p >= 'a' && *p <= 'z')
	    bits_put(b, *p - 'a', 5);
	else if (*p == '.')
	    bits_put(b, SYM_DOT, 5);
	else if (*p == '-')
	    bits_put(b, SYM_DASH, 5);
	else if (*p == '@')
	    bits_put(b, SYM_AT, 5);
	else if ((x = strchr(ext_chars, *p)) != NULL) {
	    bits_put(b, SYM_EXT, 5);
	    bits_put(b, (unsigned long long) (x - ext_chars), 4);
	} else {
	    bits_put(b, SYM_BYTE, 5);
	    bits_put(b, *p, 8);
	}
    }
    bits_put(b, SYM_END, 5);
}

/* get_string - read a string up to the end code; -1 if malformed */
static int
get_string(struct bits *b, char *out, size_t size)
{
    unsigned long long s, x;
    size_t n = 0;
    int c;

    for (;;) {
	if (bits_get(b, 5, &s) < 0)
	    return -1;
	if (s == SYM_END)
	    break;
	if (s < 26)
	    c = 'a' + (int) s;
	else if (s == SYM_DOT)
	    c = '.';
	else if (s == SYM_DASH)
	    c = '-';
	else if (s == SYM_AT)
	    c = '@';
	else if (s == SYM_EXT) {
	    if (bits_get(b, 4, &x) < 0 || x >= sizeof(ext_chars) - 1)
		return -1;
	    c = (unsigned char) ext_chars[x];
	} else {
	    /* a byte the short codes cover would be a second spelling */
	    if (bits_get(b, 8, &x) < 0 || x == 0 || (x >= 'a' && x <= 'z')
		|| x == '.' || x == '-' || x == '@' || strchr(ext_chars, (int) x))
		return -1;
	    c = (int) x;
	}
	if (n + 1 >= size)
	    return -1;
	out[n++] = (char) c;
    }
    out[n] = '\0';
    return 0;
}

/* ---------------------------------------------------------------- tokens */

/*
 * mac - HMAC-SHA256(key i, kind | length | bound | body), truncated; a
 * NULL bound (a token of VERP_VERSION_UNBOUND) is HMAC(kind | body)
 */
static void
mac(const struct verp_keys *k, size_t i, int kind, const char *bound,
    const unsigned char *body, size_t len, unsigned char out[VERP_MAC_BYTES])
{
    unsigned char full[EVP_MAX_MD_SIZE];
    unsigned int flen = 0;
    size_t bl = bound ? strnlen(bound, DOMAIN_MAX - 1) : 0, at = 1, j;
    unsigned char *msg = xmalloc(len + bl + 2);

    msg[0] = (unsigned char) kind;
    if (bound) {
	/* the domain as the report's address spells it, whatever its case */
	msg[at++] = (unsigned char) bl;
	for (j = 0; j < bl; j++)
	    msg[at++] = (unsigned char) tolower((unsigned char) bound[j]);
    }
    memcpy(msg + at, body, len);
    if (HMAC(EVP_sha256(), k->key[i].v, (int) k->key[i].len, msg, at + len, full,
	     &flen) == NULL || flen < VERP_MAC_BYTES) {
	/* cannot happen with SHA-256; a zero MAC verifies nothing useful */
	memset(full, 0, sizeof(full));
    }
    memcpy(out, full, VERP_MAC_BYTES);
    free(msg);
}

/*
 * hmac_prepare - the SHA-256 states after each secret's inner and outer pad
 * (RFC 2104), so that a MAC costs two copies and the message's blocks: the
 * one-shot HMAC() of OpenSSL 3 looks its algorithm up at every call, under
 * a lock that every thread shares
 */
static void
hmac_prepare(struct verp_keys *k)
{
    unsigned char key[64], pad[64];
    unsigned int len = 0;
    size_t i, j;

    for (i = 0; i < k->n; i++) {
	memset(key, 0, sizeof(key));
	if (k->key[i].len > sizeof(key)) {
	    if (EVP_Digest(k->key[i].v, k->key[i].len, key, &len, EVP_sha256(), NULL) != 1)
		msg_fatal("SHA-256 failed");
	} else {
	    memcpy(key, k->key[i].v, k->key[i].len);
	}
	k->key[i].inner = EVP_MD_CTX_new();
	k->key[i].outer = EVP_MD_CTX_new();
	for (j = 0; j < sizeof(pad); j++)
	    pad[j] = key[j] ^ 0x36;
	if (k->key[i].inner == NULL || k->key[i].outer == NULL
	    || EVP_DigestInit_ex(k->key[i].inner, EVP_sha256(), NULL) != 1
	    || EVP_DigestUpdate(k->key[i].inner, pad, sizeof(pad)) != 1)
	    msg_fatal("SHA-256 failed");
	for (j = 0; j < sizeof(pad); j++)
	    pad[j] = key[j] ^ 0x5c;
	if (EVP_DigestInit_ex(k->key[i].outer, EVP_sha256(), NULL) != 1
	    || EVP_DigestUpdate(k->key[i].outer, pad, sizeof(pad)) != 1)
	    msg_fatal("SHA-256 failed");
    }
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(pad, sizeof(pad));
}

/* verp_keys_hmac - HMAC-SHA256 of data under secret i */
void
verp_keys_hmac(const struct verp_keys *k, size_t i, const void *data, size_t len,
	       unsigned char out[32])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned char inner[32];
    unsigned int n = 0;

    if (i >= k->n || c == NULL
	|| EVP_MD_CTX_copy_ex(c, k->key[i].inner) != 1
	|| EVP_DigestUpdate(c, data, len) != 1
	|| EVP_DigestFinal_ex(c, inner, &n) != 1 || n != 32
	|| EVP_MD_CTX_copy_ex(c, k->key[i].outer) != 1
	|| EVP_DigestUpdate(c, inner, sizeof(inner)) != 1
	|| EVP_DigestFinal_ex(c, out, &n) != 1 || n != 32)
	msg_fatal("verp_keys_hmac: HMAC-SHA256 failed");
    EVP_MD_CTX_free(c);
}

/* b32_put - nbits of buf as base32 characters; returns characters written */
static size_t
b32_put(const unsigned char *buf, size_t nbits, char *out)
{
    struct bits r = {(unsigned char *) buf, 0, 0, 0, 0};
    unsigned long long v;
    size_t n = 0;

    r.end = (nbits + 4) / 5 * 5;
    while (r.n < nbits) {
	if (bits_get(&r, 5, &v) < 0)
	    break;
	out[n++] = b32[v];
    }
    return n;
}

/* finish - MAC and body as text; 0 if it does not fit */
static size_t
finish(const struct verp_keys *k, int kind, const char *bound, struct bits *b, char *out,
       size_t size)
{
    unsigned char m[VERP_MAC_BYTES + 1] = {0};
    size_t chars = VERP_MAC_CHARS + (b->n + 4) / 5, n;

    if (b->overflow || chars + 1 > size)
	return 0;
    mac(k, 0, kind, bound ? bound : "", b->buf, (b->n + 7) / 8, m);
    n = b32_put(m, VERP_MAC_BYTES * 8, out);
    n += b32_put(b->buf, b->n, out + n);
    out[n] = '\0';
    return n;
}

/* verp_day - days since the epoch, modulo 65536 */
unsigned
verp_day(long long now)
{
    return (unsigned) ((now / 86400) & 0xffff);
}

/* verp_encode - a token naming rcpt and sender_domain; 0 if too long */
size_t
verp_encode(const struct verp_keys *k, int kind, unsigned day, const char *rcpt,
	    const char *sender_domain, char *out, size_t size)
{
    return verp_encode_bound(k, kind, day, rcpt, sender_domain, "", out, size);
}

/* verp_encode_bound - the same, good only at the bounce domain of bound */
size_t
verp_encode_bound(const struct verp_keys *k, int kind, unsigned day, const char *rcpt,
		  const char *sender_domain, const char *bound, char *out, size_t size)
{
    unsigned char buf[BODY_BYTES_MAX + 8] = {0};
    struct bits b = {buf, sizeof(buf), 0, 0, 0};

    if (strlen(rcpt) + strlen(sender_domain) > VERP_TOKEN_MAX / 2)
	return 0;
    bits_put(&b, VERP_VERSION, 3);
    bits_put(&b, 0, 1);
    bits_put(&b, day & 0xffff, 16);
    put_string(&b, rcpt);
    put_string(&b, sender_domain);
    return finish(k, kind, bound, &b, out, size);
}

/* verp_encode_id - a token naming an id kept elsewhere */
size_t
verp_encode_id(const struct verp_keys *k, int kind, unsigned day,
	       unsigned long long id, char *out, size_t size)
{
    return verp_encode_id_bound(k, kind, day, id, "", out, size);
}

/* verp_encode_id_bound - the same, good only at the bounce domain of bound */
size_t
verp_encode_id_bound(const struct verp_keys *k, int kind, unsigned day,
		     unsigned long long id, const char *bound, char *out, size_t size)
{
    unsigned char buf[16] = {0};
    struct bits b = {buf, sizeof(buf), 0, 0, 0};

    bits_put(&b, VERP_VERSION, 3);
    bits_put(&b, 1, 1);
    bits_put(&b, day & 0xffff, 16);
    bits_put(&b, id >> 32, 32);
    bits_put(&b, id & 0xffffffffULL, 32);
    return finish(k, kind, bound, &b, out, size);
}

/* b32_get - base32 text (any case) into bits; -1 on a foreign character */
static int
b32_get(const char *s, size_t len, unsigned char *buf, size_t cap)
{
    struct bits w = {buf, cap, 0, 0, 0};
    const char *p;
    size_t i;
    int c;

    memset(buf, 0, cap);
    for (i = 0; i < len; i++) {
	c = (unsigned char) s[i];
	if (c >= 'A' && c <= 'Z')
	    c += 'a' - 'A';
	if (c == '\0' || (p = strchr(b32, c)) == NULL)
	    return -1;
	bits_put(&w, (unsigned long long) (p - b32), 5);
    }
    return w.overflow ? -1 : 0;
}

/*
 * parse - read a token's form into out, its MAC into macbuf and its body
 * into body; *used is the body's length in bits.  VERP_OK or VERP_MALFORMED.
 */
static int
parse(const char *tok, size_t len, unsigned char macbuf[VERP_MAC_BYTES + 1],
      unsigned char body[BODY_BYTES_MAX + 8], size_t *used, struct verp_token *out)
{
    struct bits r = {body, BODY_BYTES_MAX + 8, 0, 0, 0};
    unsigned long long v, hi, lo;
    size_t nbits;

    memset(out, 0, sizeof(*out));
    if (len <= VERP_MAC_CHARS || len > VERP_TOKEN_MAX)
	return VERP_MALFORMED;
    if (b32_get(tok, VERP_MAC_CHARS, macbuf, VERP_MAC_BYTES + 1) < 0
	|| b32_get(tok + VERP_MAC_CHARS, len - VERP_MAC_CHARS, body, BODY_BYTES_MAX + 8) < 0)
	return VERP_MALFORMED;
    nbits = (len - VERP_MAC_CHARS) * 5;
    r.end = nbits;
    if (bits_get(&r, 3, &v) < 0 || (v != VERP_VERSION && v != VERP_VERSION_UNBOUND))
	return VERP_MALFORMED;
    out->version = (int) v;
    if (bits_get(&r, 1, &v) < 0)
	return VERP_MALFORMED;
    out->mode = (int) v;
    if (bits_get(&r, 16, &v) < 0)
	return VERP_MALFORMED;
    out->day = (unsigned) v;
    if (out->mode == 0) {
	if (get_string(&r, out->rcpt, sizeof(out->rcpt)) < 0
	    || get_string(&r, out->sender_domain, sizeof(out->sender_domain)) < 0)
	    return VERP_MALFORMED;
    } else {
	if (bits_get(&r, 32, &hi) < 0 || bits_get(&r, 32, &lo) < 0)
	    return VERP_MALFORMED;
	out->id = (hi << 32) | lo;
    }
    /* one spelling only: nothing but zero padding within the last character */
    *used = r.n;
    if (nbits - *used >= 5)
	return VERP_MALFORMED;
    while (r.n < nbits)
	if (bits_get(&r, 1, &v) < 0 || v != 0)
	    return VERP_MALFORMED;
    return VERP_OK;
}

/* verp_decode - check and read a token */
int
verp_decode(const struct verp_keys *k, int kind, const char *tok, size_t len,
	    unsigned today, long max_age_days, struct verp_token *out)
{
    return verp_decode_bound(k, kind, tok, len, "", today, max_age_days, out);
}

/* verp_decode_bound - the same, at the bounce domain of bound */
int
verp_decode_bound(const struct verp_keys *k, int kind, const char *tok, size_t len,
		  const char *bound, unsigned today, long max_age_days,
		  struct verp_token *out)
{
    unsigned char macbuf[VERP_MAC_BYTES + 1], m[VERP_MAC_BYTES];
    unsigned char body[BODY_BYTES_MAX + 8];
    size_t i, used;
    unsigned age;
    int ok = 0;

    if (parse(tok, len, macbuf, body, &used, out) != VERP_OK)
	return VERP_MALFORMED;
    for (i = 0; i < k->n && !ok; i++) {
	mac(k, i, kind, out->version == VERP_VERSION_UNBOUND ? NULL : bound ? bound : "",
	    body, (used + 7) / 8, m);
	ok = CRYPTO_memcmp(m, macbuf, VERP_MAC_BYTES) == 0;
    }
    if (!ok)
	return VERP_FORGED;
    age = (today - out->day) & 0xffff;
    if (age != 0xffff && (long) age > max_age_days)
	return VERP_STALE;
    return VERP_OK;
}

/* verp_peek - read a token without checking its MAC */
int
verp_peek(const char *tok, size_t len, struct verp_token *out)
{
    unsigned char macbuf[VERP_MAC_BYTES + 1];
    unsigned char body[BODY_BYTES_MAX + 8];
    size_t used;

    return parse(tok, len, macbuf, body, &used, out);
}

/* verp_status_name - for logs and counters */
const char *
verp_status_name(int status)
{
    switch (status) {
    case VERP_OK: return "ok";
    case VERP_MALFORMED: return "malformed";
    case VERP_FORGED: return "forged";
    case VERP_STALE: return "stale";
    }
    return "unknown";
}

/* verp_return_domain - bounce_domain with "%d" standing for the sender domain */
size_t
verp_return_domain(const char *bounce_domain, const char *sender_domain, char *out,
		   size_t size)
{
    const char *pct;
    int n;

    if (bounce_domain == NULL || size == 0)
	return 0;
    if ((pct = strstr(bounce_domain, "%d")) != NULL)
	n = snprintf(out, size, "%.*s%s%s", (int) (pct - bounce_domain), bounce_domain,
		     sender_domain, pct + 2);
    else
	n = snprintf(out, size, "%s", bounce_domain);
    if (n < 0 || (size_t) n >= size) {
	out[0] = '\0';
	return 0;
    }
    return (size_t) n;
}
