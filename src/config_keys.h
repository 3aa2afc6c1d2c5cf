/* SPDX-License-Identifier: BSD-3-Clause */
/* The configuration keys, one table: a key is one row (name, type, default,
 * range or check, one line of documentation, where it goes in struct
 * tgotp_config). The parser's options, the checks, the copy into plain C,
 * the free and the key reference are all made from it. */
#ifndef TGOTP_CONFIG_KEYS_H
#define TGOTP_CONFIG_KEYS_H

#include <stddef.h>

struct cfg_t;
struct cfg_opt_t;

enum tgotp_key_type {
	TGOTP_KEY_INT,	   /* long: decimal, min..max */
	TGOTP_KEY_AMOUNT,  /* double: decimal with at most 4 digits after a point, min..max */
	TGOTP_KEY_BOOL,	   /* bool: true or false */
	TGOTP_KEY_STR,	   /* char *: "" when not given and without a default */
	TGOTP_KEY_ENUM,	   /* an enum: the index of the value in values[] */
	TGOTP_KEY_LIST,	   /* {"a", "b"}: char ** (NULL-terminated) and a size_t count */
	TGOTP_KEY_SECTION, /* name { keys }, at most once: a struct that starts with bool enabled */
	TGOTP_KEY_TITLED,  /* name TITLE { keys }, any number: an array of structs that start
			      with char *title, and a size_t count */
};

/* A further check of a value as the parser reads it: reports with cfg_error
 * (the file, the line and the key) and returns -1 to refuse it. */
typedef int tgotp_key_check(struct cfg_t *cfg, struct cfg_opt_t *opt);

struct tgotp_config_key {
	const char *name;
	enum tgotp_key_type type;
	const char *def;		     /* as written in the file; NULL: none */
	long min, max;			     /* INT, AMOUNT */
	const char *const *values;	     /* ENUM: the accepted values, NULL-terminated */
	tgotp_key_check *check;		     /* or NULL */
	const char *doc;		     /* one sentence for the key reference */
	size_t offset;			     /* of the field, in the struct the table fills */
	size_t count;			     /* LIST, TITLED: offset of the size_t count */
	size_t size;			     /* TITLED: the size of one element */
	const struct tgotp_config_key *keys; /* SECTION, TITLED: the keys inside */
	size_t nkeys;
};

/* The top-level keys (sections among them); *n is set to their number. */
const struct tgotp_config_key *tgotp_config_keys(size_t *n);

/* The keys of the section called name, or the top-level keys for NULL or a
 * name that is no section (libconfuse calls the top level "root"). */
const struct tgotp_config_key *tgotp_config_section_keys(const char *name, size_t *n);

/* The row called name among keys, or NULL. */
const struct tgotp_config_key *tgotp_config_key_named(const struct tgotp_config_key *keys, size_t n,
						      const char *name);

/* The row whose field sits at offset among keys, or NULL: how code names a
 * key without writing its name again. */
const struct tgotp_config_key *tgotp_config_key_at(const struct tgotp_config_key *keys, size_t n,
						   size_t offset);

/* The name of the key whose field sits at offset: at the top level of
 * struct tgotp_config for section TGOTP_KEY_TOP, else inside the section
 * whose field sits at section (e.g. offsetof(struct tgotp_config, ldap)).
 * "?" when there is none. */
#define TGOTP_KEY_TOP ((size_t)-1)
const char *tgotp_config_key_name(size_t section, size_t offset);

#endif
