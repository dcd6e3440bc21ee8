/*
 * sandbox - the limits of a process that reads hostile input
 *
 * SYNOPSIS
 *	#include "sandbox.h"
 *
 *	int sandbox_enter(char *err, size_t errlen);
 *	int sandbox_cpu_budget(long seconds);
 *
 * DESCRIPTION
 *	sandbox_enter() makes the calling process (single-threaded, its
 *	descriptors already the ones it needs) unable to reach anything new:
 *	no core files, no file written, no descriptor above the ones open
 *	(RLIMIT_NOFILE), SANDBOX_MAX_MEMORY of address space (not in an
 *	AddressSanitizer build, which reserves terabytes), no new privileges,
 *	and a seccomp filter that allows reading and writing the descriptors
 *	it has, memory, clocks, resource limits and exit.  open(2) and its
 *	kin fail with EACCES (a library that tries a file finds none), and so
 *	does sysinfo(2) (glibc's qsort() asks it, and copes);
 *	any other system call (socket, connect, fork, execve, ptrace,
 *	kill of another process ...) kills the process with SIGSYS.
 *
 *	sandbox_cpu_budget() lets the process use seconds more of CPU
 *	time from now (RLIMIT_CPU; beyond it the kernel sends SIGXCPU, which
 *	kills it): the backstop for one request, reset before each.
 *
 * DIAGNOSTICS
 *	Both return 0, or -1 (sandbox_enter() with a message in err).
 */
#ifndef OUTPOST_SANDBOX_H
#define OUTPOST_SANDBOX_H

#include <stddef.h>

#define SANDBOX_MAX_MEMORY (512L * 1024 * 1024)

int sandbox_enter(char *err, size_t errlen);
int sandbox_cpu_budget(long seconds);

#endif
