/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vaultctl: a QR code on the terminal (libqrencode), for the recovery key.
 */
#ifndef VAULTCTL_QRCODE_H
#define VAULTCTL_QRCODE_H

#include <stdio.h>

/*
 * Prints TEXT as a QR code (error correction L, 8-bit mode) to F: two
 * module rows per line with the Unicode half blocks, light modules drawn
 * white on an explicit black background (so it scans on dark and light
 * terminals alike), the quiet zone of QR_QUIET modules the standard asks.  The module matrix
 * is wiped before it is freed.  0, or a negative errno.
 */
#define QR_QUIET	4
int qr_print(FILE *f, const char *text);

#endif
