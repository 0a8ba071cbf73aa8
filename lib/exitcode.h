/* DJB-style exit codes shared by every program of the project. */
#ifndef EXITCODE_H
#define EXITCODE_H

enum {
	EXIT_OK = 0,     /* done, nothing wrong */
	EXIT_PERM = 100, /* permanent: usage, bad config, protocol violation */
	EXIT_TEMP = 111  /* temporary: I/O, resources, peer vanished */
};

#endif
