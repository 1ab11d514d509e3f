/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vaultctl: message translation (gettext, text domain "vaultctl").
 *
 * The message helpers (log_err, log_warn, log_verbose, l2_err, token_why,
 * the tokens' set_error/fail, vaulttab's tab_fail, ...) translate their format
 * themselves and are declared to xgettext as keywords (userspace/Makefile's
 * XGETTEXT_KEYWORDS), so their call sites need no _().  Text printed with
 * printf/fputs and prompts built with snprintf use _() explicitly; static
 * tables (option help, command summaries) use N_() where they are defined
 * and _() where they are printed.  log_dbg stays English: it is for
 * developers and bug reports.  See po/README.
 */
#ifndef VAULTCTL_I18N_H
#define VAULTCTL_I18N_H

#include <libintl.h>

#define VAULTCTL_TEXTDOMAIN	"vaultctl"

#define _(s)	gettext(s)
#define N_(s)	(s)

/*
 * setlocale() from the environment (but LC_NUMERIC stays "C": JSON, tables
 * and progress lines are read by programs) and binds the text domain to
 * LOCALEDIR, or to $VAULTCTL_LOCALEDIR (a test hook for the build tree's
 * catalogues; ignored in a setuid/setgid process).  Once, in main().
 */
void i18n_init(void);

#endif
