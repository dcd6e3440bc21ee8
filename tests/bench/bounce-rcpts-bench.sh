#!/bin/bash
# bounce-rcpts-bench.sh - CPU time of "outpostctl classify" on plain-text
# notices naming many recipients (prints figures)
#
# usage (from the build directory): ../tests/bench/bounce-rcpts-bench.sh
# For 100 and 1,000 recipients and notices of 100 KB, 1 MB and 4 MB, each
# recipient named on a line of its own with its diagnostic and words
# after it ("spread"), prints the user + system CPU seconds of one
# classify run and the rows found (only the first 256 KB of a notice is
# read, so the larger ones name fewer).  Then the same recipients after
# SIZE bytes of words, up to the 256 KB that are read ("late"): each
# recipient is named far from the start.  The time should grow with the
# size read, not with recipients x size.  Nothing is asserted.
src=${OUTPOST_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${OUTPOST_BUILDDIR:-$([ -x ./outpostctl ] && pwd || echo "$src")}
ctl=$build/outpostctl
[ -x "$ctl" ] || { echo "$ctl not built (run from the build directory)" >&2; exit 1; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# gen LAYOUT N SIZE - a notice of about SIZE bytes naming N recipients
gen() {
    awk -v late="$([ "$1" = late ] && echo 1)" -v n="$2" -v size="$3" 'BEGIN {
        printf "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
        printf "To: sender@example.com\nSubject: Undelivered Mail Returned to Sender\n"
        printf "Content-Type: text/plain\n\n"
        printf "This is the mail system at host mx.example.net.\n\n"
        per = int(size / n)
        if (late) {
            words = size < 262144 - n * 150 ? size : 262144 - n * 150
            for (; words > 0; words -= 72)
                printf "%s\n", "the remote server gave this answer about the addresses below and more"
            printf "\n"
            per = 0
        }
        for (i = 1; i <= n; i++) {
            line = sprintf("<user%d@example.org>: host mx%d.example.org[192.0.2.1] said: " \
                           "550 5.1.1 user unknown (in reply to RCPT TO command)", i, i % 7)
            printf "%s\n", line
            for (pad = per - length(line) - 2; pad > 0; pad -= 71)
                printf "%s\n", "the remote server gave this answer about the address above and more"
            printf "\n"
        }
    }'
}

TIMEFORMAT='%U %S'
for layout in spread late; do
    for n in 100 1000; do
	for size in 102400 1048576 4194304; do
	    gen "$layout" "$n" "$size" >"$tmp/n.eml"
	    cpu=$( { time "$ctl" classify "$tmp/n.eml" >"$tmp/rows"; } 2>&1 )
	    awk -v l="$layout" -v n="$n" -v s="$size" -v c="$cpu" \
		-v r="$(wc -l <"$tmp/rows")" 'BEGIN {
		split(c, t, " ")
		printf "classify %-6s: %4d recipients, %7d bytes: %.3f s CPU, %d rows\n",
		    l, n, s, t[1] + t[2], r
	    }'
	done
    done
done
