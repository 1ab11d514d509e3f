// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: a QR code on the terminal (libqrencode), for the recovery key.
 */
#include <errno.h>
#include <string.h>

#include <qrencode.h>

#include "qrcode.h"
#include "secure_mem.h"

/* Light (true) or dark module at X, Y of the code with its quiet zone. */
static int light(const QRcode *q, int x, int y)
{
	x -= QR_QUIET;
	y -= QR_QUIET;
	if (x < 0 || y < 0 || x >= q->width || y >= q->width)
		return 1;
	return !(q->data[y * q->width + x] & 1);
}

int qr_print(FILE *f, const char *text)
{
	/* indexed by (top light) * 2 + (bottom light) */
	static const char *const glyph[4] = { " ", "\u2584", "\u2580", "\u2588" };
	QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
	int x, y, size;

	if (!q)
		return errno ? -errno : -ENOMEM;
	size = q->width + 2 * QR_QUIET;
	for (y = 0; y < size; y += 2) {
		fputs("\033[40;97m", f);
		for (x = 0; x < size; x++)
			fputs(glyph[light(q, x, y) * 2 + (y + 1 < size ? light(q, x, y + 1) : 0)], f);
		fputs("\033[0m\n", f);
	}
	/* the modules encode the key */
	secure_wipe(q->data, (size_t)q->width * (size_t)q->width);
	QRcode_free(q);
	fflush(f);
	return ferror(f) ? -EIO : 0;
}
