/*
 * follow - read a log file as it grows, across rotations and restarts
 *
 * SYNOPSIS
 *	#include "follow.h"
 *
 *	struct follow *follow_new(const char *path, unsigned long long ino,
 *				  long long offset, int at_end);
 *	int follow_poll(struct follow *f, size_t max_lines,
 *			void (*fn)(const char *line, size_t len, void *arg),
 *			void *arg);
 *	void follow_position(const struct follow *f, unsigned long long *ino,
 *			     long long *offset);
 *	long long follow_overlong(const struct follow *f);
 *	void follow_free(struct follow *f);
 *
 * DESCRIPTION
 *	follow_new() prepares to read path from a saved position: the inode
 *	and offset of the end of the last line handled before (ino 0: none
 *	saved; then the file is read from its start, or from its end with
 *	at_end when it exists at the first poll: a file that appears later
 *	is read from its start, all of it being new).  When path is no
 *	longer that inode, the file was rotated while nobody read it: the
 *	directory is searched for the old inode ("maillog.1") and its rest
 *	is read first.  A saved offset beyond the
 *	end of the same inode means the file was truncated: it is read again
 *	from the start.
 *
 *	follow_poll() hands fn each complete line (without its newline) that
 *	is available now, at most max_lines, and returns how many; -1 with
 *	errno set when the file cannot be opened yet (it is tried again at
 *	the next call).
 *	At the end of the file it checks path: a new inode there means
 *	rotation, and the old file is read to its end (a last line without
 *	a newline included) before the new one is opened; a shorter file of
 *	the same inode means truncation (copytruncate) and reading restarts
 *	at 0.  Lines longer than ML_LINE_MAX are skipped and counted
 *	(follow_overlong()).
 *
 *	follow_position() gives the position after the last line handed to
 *	fn: store it with what those lines produced, and a restart neither
 *	loses nor repeats a line.
 */
#ifndef OUTPOST_FOLLOW_H
#define OUTPOST_FOLLOW_H

#include <stddef.h>

struct follow;

struct follow *follow_new(const char *path, unsigned long long ino, long long offset,
			  int at_end);
int follow_poll(struct follow *f, size_t max_lines,
		void (*fn)(const char *line, size_t len, void *arg), void *arg);
void follow_position(const struct follow *f, unsigned long long *ino,
		     long long *offset);
long long follow_overlong(const struct follow *f);
void follow_free(struct follow *f);

#endif
