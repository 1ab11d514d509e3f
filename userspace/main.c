// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: sets up dm-vault encrypted block devices.
 */
#include "vaultctl.h"

int main(int argc, char **argv)
{
	return vaultctl_main(argc, argv);
}
