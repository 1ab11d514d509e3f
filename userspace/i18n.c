// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: message translation set up once, in main() (i18n.h).
 */
#include <locale.h>
#include <stdlib.h>

#include "i18n.h"

#ifndef LOCALEDIR
#define LOCALEDIR "/usr/share/locale"
#endif

void i18n_init(void)
{
	const char *dir = secure_getenv("VAULTCTL_LOCALEDIR");

	setlocale(LC_ALL, "");
	/* "1,5" in a JSON dump or a dm table would be wrong: numbers stay C */
	setlocale(LC_NUMERIC, "C");
	bindtextdomain(VAULTCTL_TEXTDOMAIN, dir && *dir ? dir : LOCALEDIR);
	textdomain(VAULTCTL_TEXTDOMAIN);
}
