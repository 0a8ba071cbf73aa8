/* The release every program reports with --version (and cmd's caps). */
#ifndef VERSION_H
#define VERSION_H

#ifndef HANDLER_VERSION
#define HANDLER_VERSION "0.1.0"
#endif

#endif
