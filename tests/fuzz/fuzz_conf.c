/* libFuzzer harness: conf_parse() on arbitrary bytes must never crash,
 * leak, or accept a file and then fail a lookup on it. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "conf.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf c;

	/* Errors go to stderr; thousands per second would drown the run. */
	log_set_level(LOG_FATAL);
	if (conf_parse(&c, "fuzz", (const char *)data, size) == 0) {
		for (size_t i = 0; i < c.nusers; i++) {
			if (conf_user_find(&c, c.users[i].name) == NULL)
				__builtin_trap();
			(void)conf_user_has(&c.users[i], "sftp:rw");
		}
		for (size_t i = 0; i < c.ncommands; i++)
			if (conf_command_find(&c, c.commands[i].name) == NULL ||
			    c.commands[i].argv[c.commands[i].argc] != NULL)
				__builtin_trap();
		for (size_t i = 0; i < c.nexports; i++)
			if (conf_export_find(&c, c.exports[i].name) == NULL ||
			    c.exports[i].file[0] != '/')
				__builtin_trap();
		conf_free(&c);
	} else if (strncmp(c.error, "fuzz:", 5) != 0) {
		__builtin_trap();
	}
	return 0;
}
