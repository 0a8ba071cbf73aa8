/* Small file-descriptor helpers; all retry on EINTR. */
#ifndef FDUTIL_H
#define FDUTIL_H

#include <stddef.h>
#include <sys/types.h>

int fd_nonblock(int fd);
int fd_block(int fd);
int fd_cloexec(int fd);
/* Moves fd to number to (closing fd); no-op when equal. */
int fd_move(int to, int fd);
/* Blocking helpers for set-up code and tests: all or error. */
int fd_write_all(int fd, const void *p, size_t n);
/* Returns bytes read (< n only at EOF) or -1. */
ssize_t fd_read_full(int fd, void *p, size_t n);
/* Closes *fd if open and sets it to -1. */
void fd_close(int *fd);
/* 1 if fd is open. */
int fd_is_open(int fd);
/*
 * Closes every fd from first up but those in keep (any order): for a
 * child about to exec, so it inherits nothing it was not given.
 * close_range(2), else (ENOSYS) one close per possible fd.
 */
void fd_close_from(int first, const int *keep, size_t nkeep);

#endif
