/* Value checks (ranges, URLs, paths, enumerations) for the configuration. */
#ifndef TGOTP_CONFIG_CHECK_H
#define TGOTP_CONFIG_CHECK_H

#include <confuse.h>

/* Registers a check on every key that needs one; errors are reported with
 * cfg_error (the file, the line and the key). */
void tgotp_config_add_checks(cfg_t *cfg);

#endif
