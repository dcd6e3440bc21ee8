/*
 * help - outpostctl --help and usage errors, from the table of commands
 *
 * SYNOPSIS
 *	#include "ctl.h"
 *
 *	void ctl_help_all(FILE *fp);
 *	int ctl_help_wanted(int argc, char **argv);
 *	void ctl_help(FILE *fp, const char *command, const char *sub);
 *	int ctl_usage(const char *command, const char *sub);
 *
 * DESCRIPTION
 *	Every form of every command is printed the same way, from the
 *	usage rows of ctl_commands:
 *
 *	    "  outpostctl SYNOPSIS\n      WHAT\n"
 *
 *	so that a new command (or subcommand) has its help, and is found by
 *	the tests that read "outpostctl --help", without code of its own.
 *
 *	ctl_help_all() prints the global usage and every form.
 *	ctl_help_wanted() says whether a command's arguments (argv[0] the
 *	command) ask for help: "--help" or "-h" anywhere before "--".
 *	ctl_help() prints the forms of command, only those of subcommand
 *	sub when sub names one (else all of them).  ctl_usage() does the
 *	same on standard error, for a usage error, and returns 2, the exit
 *	status of one.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ctl.h"

static const struct ctl_command *find(const char *command);
static int is_sub(const char *synopsis, const char *sub);
static void print_form(FILE *fp, const struct ctl_usage *u);

/* find - a command's row, or NULL */
static const struct ctl_command *
find(const char *command)
{
    const struct ctl_command *c;

    for (c = ctl_commands; c->name; c++)
	if (strcmp(c->name, command) == 0)
	    return c;
    return NULL;
}

/* is_sub - is the second word of synopsis sub? */
static int
is_sub(const char *synopsis, const char *sub)
{
    const char *w = strchr(synopsis, ' ');
    size_t n = strlen(sub);

    return w != NULL && strncmp(w + 1, sub, n) == 0 && (w[1 + n] == ' ' || w[1 + n] == '\0');
}

/* print_form - one form of a command */
static void
print_form(FILE *fp, const struct ctl_usage *u)
{
    fprintf(fp, "  outpostctl %s\n      %s\n", u->synopsis, u->what);
}

/* ctl_help_all - the global usage and every command */
void
ctl_help_all(FILE *fp)
{
    const struct ctl_command *c;
    const struct ctl_usage *u;

    fprintf(fp, "usage: outpostctl [-c FILE] [-v] COMMAND [ARGS...]\n"
	    "       outpostctl [COMMAND [SUBCOMMAND]] --help\n"
	    "options:\n"
	    "  -c FILE  the configuration file (default %s)\n"
	    "  -v       more messages on standard error; repeat for more\n"
	    "  -h, --help  this text\n"
	    "commands:\n", OUTPOST_CONF_PATH);
    for (c = ctl_commands; c->name; c++)
	for (u = c->usage; u->synopsis; u++)
	    print_form(fp, u);
    fprintf(fp, "Times are RFC 3339 UTC (2026-12-06T09:30:00Z), days YYYY-MM-DD.\n"
	    "--json prints one JSON object; see outpostctl(8), JSON OUTPUT.\n");
}

/* ctl_help_wanted - "--help" or "-h" among a command's arguments */
int
ctl_help_wanted(int argc, char **argv)
{
    int i;

    for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
	if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
	    return 1;
    return 0;
}

/* ctl_help - the forms of a command, or of one of its subcommands */
void
ctl_help(FILE *fp, const char *command, const char *sub)
{
    const struct ctl_command *c = find(command);
    const struct ctl_usage *u;
    int any = 0;

    if (c == NULL) {
	ctl_help_all(fp);
	return;
    }
    for (u = c->usage; sub && u->synopsis; u++)
	any |= is_sub(u->synopsis, sub);
    fprintf(fp, "usage:\n");
    for (u = c->usage; u->synopsis; u++)
	if (!any || is_sub(u->synopsis, sub))
	    print_form(fp, u);
}

/* ctl_usage - a usage error: the forms on standard error, status 2 */
int
ctl_usage(const char *command, const char *sub)
{
    ctl_help(stderr, command, sub);
    return 2;
}
