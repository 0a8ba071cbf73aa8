/*
 * Descendants that escaped their process group. A command that calls
 * setsid() and forks leaves the group proc_kill_group() reaches; once its
 * parent is gone it would be reparented to init and outlive everything.
 * Made a child subreaper, we inherit such orphans instead, and
 * reap_strays() kills and reaps them.
 */
#ifndef REAP_H
#define REAP_H

#include <stddef.h>
#include <sys/types.h>

/* Orphaned descendants become our children (PR_SET_CHILD_SUBREAPER).
 * 0, or -1 with errno. */
int reap_subreaper(void);
/*
 * Kills (SIGKILL) and reaps every descendant of ours except the subtrees
 * rooted at the pids in keep (running requests' commands, whose own
 * children are theirs) and at orphans still in a kept pid's process
 * group, until none is left or 64 rounds have passed. Returns how many
 * times a process was signalled.
 */
size_t reap_strays(const pid_t *keep, size_t nkeep);

#endif
