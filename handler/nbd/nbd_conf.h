/*
 * The nbd module's configuration (docs/conf.md, docs/nbd.md): exports
 * beyond the command line's (`nbd-export NAME PATH ro|rw [DESCRIPTION]`)
 * and the negotiation time limit (`limit nbd-negotiation`). nbd_conf.c
 * parses them into struct nbd_conf, which the module gets as s->mconf.
 */
#ifndef NBD_CONF_H
#define NBD_CONF_H

#include <stdint.h>

#include "conf.h"
#include "nbd_export.h"

/* Seconds a client has from the greeting to the end of the options. */
#define NBD_DEFAULT_NEGOTIATION_S 10

struct nbd_conf {
	struct nbd_exports exports;  /* nbd-export items, in file order */
	uint32_t negotiation_ms;     /* limit nbd-negotiation */
};

extern const struct conf_module nbd_conf_module;

#endif
