/*
 * machine - was an open or a click a person's, or a machine's? (machine.h)
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "machine.h"

static const char *const agent_words[] = {
    "googleimageproxy", "ggpht.com", "yahoomailproxy", "bot", "crawler", "spider",
    "scanner", "preview", "python-requests", "curl/", "wget/", "go-http-client",
    "java/", "okhttp", "libwww", "httpclient", "headlesschrome", "barracuda",
    "proofpoint", "mimecast", "urldefense", "safelinks", NULL,
};

/* has_word - word (lower case) in low, a string already in lower case */
static int
has_word(const char *low, const char *word)
{
    /* strstr(3) is linear in the lengths whatever the agent, and vectorised */
    return *word != '\0' && strstr(low, word) != NULL;
}

/* has_word_nocase - a configured word, of any case */
static int
has_word_nocase(const char *low, const char *word)
{
    char w[128];
    size_t i, wl = strlen(word);

    if (wl >= sizeof(w))
	return 0;
    for (i = 0; i <= wl; i++)
	w[i] = (char) tolower((unsigned char) word[i]);
    return has_word(low, w);
}

/* machine_classify - MACHINE_HUMAN, or the first signal of a machine */
int
machine_classify(const struct machine_rules *r, const char *ua, const char *addr,
		 long long delay_ms)
{
    char low[MACHINE_UA_MAX + 1];
    size_t len, i;

    if (ua == NULL || *ua == '\0')
	return MACHINE_NO_AGENT;
    /* the agent in lower case once, not once per word */
    len = strnlen(ua, MACHINE_UA_MAX);
    for (i = 0; i < len; i++)
	low[i] = (char) tolower((unsigned char) ua[i]);
    low[len] = '\0';
    for (i = 0; agent_words[i]; i++)
	if (has_word(low, agent_words[i]))
	    return MACHINE_AGENT;
    for (i = 0; r->agents && i < r->agents->n; i++)
	if (has_word_nocase(low, r->agents->v[i]))
	    return MACHINE_AGENT;
    if (strcmp(ua, "Mozilla/5.0") == 0)
	return MACHINE_APPLE;
    if (addr && r->networks && cidr_list_match_str(r->networks, addr))
	return MACHINE_NETWORK;
    /* 0 is off: a negative delay (the sender's clock ahead) is no signal then */
    if (r->delay_ms > 0 && delay_ms < r->delay_ms)
	return MACHINE_EARLY;
    return MACHINE_HUMAN;
}

/* machine_signal_name - "human", "agent", "apple", ... */
const char *
machine_signal_name(int signal)
{
    static const char *const names[] = {
	"human", "agent", "apple", "no-agent", "network", "early",
    };

    return signal >= 0 && signal <= MACHINE_EARLY ? names[signal] : "unknown";
}
