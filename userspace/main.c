// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: sets up dm-vault encrypted block devices.
 */
#include "i18n.h"
#include "vaultctl.h"

int main(int argc, char **argv)
{
	i18n_init();
	return vaultctl_main(argc, argv);
}
