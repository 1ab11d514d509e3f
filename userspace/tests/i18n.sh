#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vaultctl's messages in other languages (gettext; po/README): the
# catalogues are valid and complete, po/vaultctl.pot is current, no
# user-facing text bypasses gettext, and vaultctl speaks Vietnamese with
# LANG=vi_VN.UTF-8 (help, a wrong passphrase, the passphrase prompt on a
# terminal) and English with LANG=C.
#
# The machine need not have vi_VN generated: localedef builds it under the
# scratch directory and LOCPATH points glibc there.  vaultctl reads the
# build tree's catalogues through $VAULTCTL_LOCALEDIR (i18n.h), here
# $(dirname VAULTCTL)/locale, which userspace/Makefile's "mo" fills.
# Prints KTAP.  Usage: i18n.sh VAULTCTL.  $VALGRIND_CMD prefixes vaultctl.

VAULTCTL=${1:?usage: i18n.sh VAULTCTL}
case $VAULTCTL in /*) ;; *) VAULTCTL=$(pwd)/$VAULTCTL ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
PO=$(cd "$SRC/../po" && pwd)
LOCALEDIR=$(dirname "$VAULTCTL")/locale
. "$HERE/lib.sh"
test_dir i18n
check() { name=$1; shift; if "$@"; then ok "$name"; else nok "$name"; fi; }

echo "KTAP version 1"

if ! command -v msgfmt >/dev/null 2>&1 || ! command -v xgettext >/dev/null 2>&1; then
	skp_dep "message catalogues" "gettext (msgfmt, xgettext) is not installed"
	finish
fi

# --- the catalogues -----------------------------------------------------

# Every po/LANG.po: msgfmt --check (formats, headers, plural forms).
for po in "$PO"/*.po; do
	lang=$(basename "$po" .po)
	msgfmt --check --statistics -o /dev/null "$po" >"$OUT" 2>"$ERR"
	check "po/$lang.po passes msgfmt --check" [ $? = 0 ]
done
# vi.po: complete (msgfmt --statistics says neither fuzzy nor untranslated)
msgfmt --statistics -o /dev/null "$PO/vi.po" >"$OUT" 2>"$ERR"
t() { grep -q 'translated message' "$ERR" && ! grep -q -e fuzzy -e untranslated "$ERR"; }
check "po/vi.po: 0 fuzzy, 0 untranslated ($(cat "$ERR"))" t

# Each catalogue keeps to the glossary at its top (po/check-glossary.py)
for po in "$PO"/*.po; do
	lang=$(basename "$po" .po)
	python3 "$PO/check-glossary.py" "$po" >"$OUT" 2>"$ERR"; rc=$?
	t() { [ "$rc" = 0 ] && [ ! -s "$OUT" ]; }
	check "po/$lang.po uses its glossary's term wherever the English does" t
done
# ... and the check can fail: a message that drops the glossary's term
cat >gloss.po <<'EOF'
# Glossary:
#   passphrase          cụm mật khẩu
#   key slot, keyslot   khe khóa
msgid ""
msgstr "Content-Type: text/plain; charset=UTF-8\n"

msgid "wrong passphrase for keyslot %d"
msgstr "sai mật khẩu cho khe khóa %d"

msgid "use --key-slot N"
msgstr "dùng --key-slot N"
EOF
python3 "$PO/check-glossary.py" gloss.po >"$OUT" 2>"$ERR"; rc=$?
t() { [ "$rc" = 1 ] && [ "$(wc -l <"$OUT")" = 1 ] && grep -q "missing 'cụm mật khẩu'" "$OUT"; }
check "po/check-glossary.py finds a message without the glossary's term" t

# The .pot is what xgettext makes of today's sources (same msgids both ways).
make -s -C "$SRC" pot XGETTEXT_OUT="$T/now.pot" >"$OUT" 2>"$ERR"
t() { msgcmp --use-untranslated "$T/now.pot" "$PO/vaultctl.pot" >>"$ERR" 2>&1 &&
      msgcmp --use-untranslated "$PO/vaultctl.pot" "$T/now.pot" >>"$ERR" 2>&1; }
check "po/vaultctl.pot is current (make pot; msgcmp both ways)" t
# Every msgid of the .pot has a translation in vi.po (and none is fuzzy).
msgcmp "$PO/vi.po" "$PO/vaultctl.pot" >"$OUT" 2>"$ERR"
check "po/vi.po translates every msgid of po/vaultctl.pot" [ $? = 0 ]

# --- no text bypasses gettext -------------------------------------------

(cd "$SRC" && python3 "$PO/check-bypass.py" *.c token/*.c luks2/*.c) >"$OUT" 2>"$ERR"; rc=$?
t() { [ "$rc" = 0 ] && [ ! -s "$OUT" ]; }
check "no prose printed or prompted without _() (po/check-bypass.py)" t
# ... and the check can fail: a file with a bare prose printf and a prompt
cat >bypass.c <<'EOF'
int f(void)
{
	printf(_("fine: %s\n"), "x");
	printf("%s: %u\n", "machine", 1u);	/* not prose */
	printf("Hello, this is not translated\n");
	snprintf(p, sizeof(p), "Enter passphrase for %s: ", d);
	printf("key set %s", k);	/* no-i18n: a dm message */
}
EOF
python3 "$PO/check-bypass.py" bypass.c >"$OUT" 2>"$ERR"; rc=$?
t() { [ "$rc" = 1 ] && [ "$(wc -l <"$OUT")" = 2 ] && grep -q 'bypass.c:5: Hello' "$OUT" &&
      grep -q 'bypass.c:6: Enter passphrase' "$OUT"; }
check "po/check-bypass.py finds a bare printf and prompt, and only them" t
# The boot scripts that run at boot (initramfs-tools' local-top, dracut's
# vault-dracut-open and initqueue hooks, vault-unlock): every message to the
# console goes through eval_gettext; none prints a literal sentence.
BOOT_SH=$(make -s -C "$SRC" -f Makefile --eval 'print-boot-sh: ; @echo $(BOOT_SH_SRCS)' print-boot-sh)
# The hooks that build the image (hooks/vault, module-setup.sh) too: their
# warnings and errors (warn, err, dwarn, derror, dfatal, vault_fatal,
# vault_cannot) take eval_gettext's or vault_msg's text, or a variable.
# bare_messages FILE...: lines that print or pass on a literal message
MSG_FUNCS='warn|err|dwarn|derror|dfatal|vault_fatal|vault_cannot'
bare_messages() {
	grep -n -E '(echo|panic|log_[a-z]+_msg|emergency_shell( -n [a-z]+)?) "(dm-)?vault: ' "$@"
	grep -n -E "(^|[^a-z_])($MSG_FUNCS) \"" "$@" |
		grep -v -E "($MSG_FUNCS) \"(\\\$\((eval_gettext|eval_ngettext|vault_msg) |\\\$[A-Za-z_][A-Za-z0-9_]*\")"
	grep -n -E 'systemd-ask-password.*"Enter ' "$@"
}
t() { [ -n "$BOOT_SH" ] && (cd "$SRC" && ! bare_messages $BOOT_SH) >"$OUT"; }
check "the boot scripts' and hooks' messages and prompt go through eval_gettext ($(echo $BOOT_SH | wc -w) scripts)" t
# ... and the check can fail
printf '%s\n' 'echo "vault: $name could not be unlocked" >&2' \
	'emergency_shell -n vault "dm-vault: the root is not there"' \
	'echo "$(eval_gettext '"'"'vault: fine'"'"')"' \
	'	warn "$c_utf8 is missing"' \
	'dwarn "$(vault_msg '"'"'vault: fine'"'"')"' 'derror "$m"' >bare.sh
t() { [ "$(bare_messages bare.sh | wc -l)" = 3 ] && bare_messages bare.sh | grep -q '^4:'; }
check "... the check finds a bare echo, emergency_shell and warn message, and only them" t
# ... and their English fallback (no gettext.sh in the image):
# vault-gettext.sh's own eval_gettext expands the message's variables, not
# their contents, with no command from PATH (an image made with BUSYBOX=n
# has no sed)
fallback=$(sed -n '/^	eval_gettext() {$/,/^	}$/p' "$SRC/boot/vault-gettext.sh")
t() { [ -n "$fallback" ] &&
      out=$(name='v`id`$(id)"' dev=/dev/vda PATH=/nonexistent /bin/sh -c "$fallback"'
		eval_gettext "vault: in the shell, \"vaultctl open \$name\" then \"exit\" (\$dev)."') &&
      [ "$out" = 'vault: in the shell, "vaultctl open v`id`$(id)"" then "exit" (/dev/vda).' ]; }
check "the boot scripts' English fallback expands a message's variables, never their contents" t
# The help text spells out two defaults (a msgid is one literal): still true?
cipher=$(sed -n 's/^#define DEFAULT_CIPHER[[:space:]]*"\(.*\)"/\1/p' "$SRC/vaultctl.h")
tab=$(sed -n 's/^#define VAULTTAB_DEFAULT[[:space:]]*"\(.*\)"/\1/p' "$SRC/vaulttab.h")
LC_ALL=C $VAULTCTL --help >"$OUT" 2>"$ERR"
LC_ALL=C $VAULTCTL open --help >>"$OUT" 2>>"$ERR"
LC_ALL=C $VAULTCTL tab-check --help >>"$OUT" 2>>"$ERR"
t() { [ -n "$cipher" ] && [ -n "$tab" ] && grep -qF "(default $cipher)" "$OUT" &&
      grep -qF "(default $tab)" "$OUT"; }
check "the help's defaults match DEFAULT_CIPHER ($cipher) and VAULTTAB_DEFAULT ($tab)" t

# --- the translated man pages (Documentation/LL/vaultctl.8) -------------

DOC=$(cd "$SRC/../Documentation" && pwd)
# opts MANPAGE: the long options and commands a man page names, one a line
opts() { grep -o -e '\\-\\-[a-z0-9\\-]*[a-z0-9]' -e '^\.BI\{0,1\} "[a-z-]*' "$1" | sed 's/\\//g; s/^\.BI\{0,1\} "//' | sort -u; }
for man in "$DOC"/*/vaultctl.8; do
	[ -f "$man" ] || continue
	lang=$(basename "$(dirname "$man")")
	if command -v groff >/dev/null 2>&1; then
		groff -k -man -Tutf8 -ww -z "$man" >"$OUT" 2>"$ERR"
		t() { [ ! -s "$ERR" ]; }
		check "Documentation/$lang/vaultctl.8 renders without a groff warning" t
	fi
	opts "$DOC/vaultctl.8" >"$T/man.en"
	opts "$man" >"$T/man.$lang"
	comm -23 "$T/man.en" "$T/man.$lang" >"$OUT"
	t() { [ -s "$T/man.en" ] && [ ! -s "$OUT" ]; }
	check "Documentation/$lang/vaultctl.8 names every option and command the English one does ($(wc -l <"$T/man.en"))" t
done

# The translated guides (Documentation/LL/*.rst): valid reStructuredText
# (docutils, when installed: every internal link resolves)
for rst in "$DOC"/*/*.rst; do
	[ -f "$rst" ] || continue
	python3 -c 'import docutils' 2>/dev/null || break
	python3 -c '
import docutils.core, io, sys
err = io.StringIO()
docutils.core.publish_string(open(sys.argv[1], encoding="utf-8").read(), writer_name="null",
	settings_overrides={"warning_stream": err, "report_level": 2, "halt_level": 5})
sys.stdout.write(err.getvalue())' "$rst" >"$OUT" 2>"$ERR"; rc=$?
	t() { [ "$rc" = 0 ] && [ ! -s "$OUT" ]; }
	check "${rst#"$DOC"/} is valid reStructuredText" t
done
# ... and a translated guide names every option, vaultctl command and path its
# English guide names: an administrator copies those from the translation.
# vaultctl's commands (the words "vaultctl WORD" may name) from its --help;
# prose such as "vaultctl reads" is no command and need not be kept.
LC_ALL=C $VAULTCTL --help 2>/dev/null | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\).*/\1/p' | sort -u >"$T/cmds"
# guide_names RST: its --long-options, "vaultctl COMMAND"s and /paths, one a
# line; lines are joined first, so a name broken over two lines still counts
guide_names() {
	tr '\n' ' ' <"$1" | tr -s ' ' |
	grep -o -E -e '(^|[^A-Za-z0-9_-])--[a-z0-9][a-z0-9-]*' -e 'vaultctl [a-z][a-z-]*' \
		-e '(^|[[:space:]`(=])/[A-Za-z0-9_][A-Za-z0-9._/*@:+-]*' |
	sed -E 's/^[^v/-]//; s/[.:,]+$//' |
	awk -v cmds="$T/cmds" 'BEGIN { while ((getline c <cmds) > 0) cmd["vaultctl " c] = 1 }
		/^vaultctl / && !($0 in cmd) { next } { print }' | LC_ALL=C sort -u
}
# guide_missing EN LL: the names of EN that LL lacks, in $OUT; $T/names.en has EN's
guide_missing() {
	: >"$ERR"
	guide_names "$1" >"$T/names.en"
	guide_names "$2" >"$T/names.ll"
	LC_ALL=C comm -23 "$T/names.en" "$T/names.ll" >"$OUT"
}
for rst in "$DOC"/*/*.rst; do
	[ -f "$rst" ] && [ -f "$DOC/${rst##*/}" ] || continue
	guide_missing "$DOC/${rst##*/}" "$rst"
	t() { [ -s "$T/cmds" ] && [ -s "$T/names.en" ] && [ ! -s "$OUT" ]; }
	check "Documentation/${rst#"$DOC"/} names every option, command and path the English one does ($(wc -l <"$T/names.en"))" t
done
# ... and the check can fail: a translation that drops an option, a command
# and a path (and renders prose about vaultctl, and breaks a name over lines)
mkdir -p guide/ll
cat >guide/g.rst <<'EOF'
vaultctl reads ``/etc/vaulttab``; ``vaultctl open --all NAME`` opens, ``vaultctl
dump DEVICE`` shows the header, ``vaultctl tab-check -v`` checks
``/etc/fstab`` and ``--key-file FILE`` reads ``/etc/vault/keys/home.key``
(``--batch-mode``: no question).
EOF
cat >guide/ll/g.rst <<'EOF'
vaultctl đọc ``/etc/vaulttab``; ``vaultctl
open --all NAME`` mở, ``vaultctl dump DEVICE`` hiện phần đầu, và ``vaultctl
--key-file FILE`` đọc ``/etc/vault/keys/home.key``.
EOF
guide_missing guide/g.rst guide/ll/g.rst
t() { [ "$(cat "$OUT")" = "--batch-mode
/etc/fstab
vaultctl tab-check" ] && ! grep -q -x -e 'vaultctl reads' -e '-v' "$T/names.en"; }
check "a translated guide that drops an option, a command and a path is reported, and only they are" t

# --- dracut's boot script in Vietnamese ---------------------------------

# vault-dracut-open as dracut's initqueue runs it, with the /etc/vault/locale
# module-setup.sh writes for a vi system (LANGUAGE=vi, LC_ALL=C.UTF-8: no
# vi_VN locale needed) and a vaultctl stand-in that fails: a nofail entry is
# given up on and the next one stops the round, each said in Vietnamese.
# dracut_open LOCALEFILE: runs it; stderr in $ERR, status in $rc
mkdir -p dr
printf 'LANGUAGE=vi\nLC_ALL=C.UTF-8\n' >dr/locale.vi
: >dr/locale.none
printf 'extra /dev/null none nofail\nhome /dev/zero none\n' >dr/vaulttab
printf '#!/bin/sh\nexit 2\n' >dr/vaultctl
chmod 755 dr/vaultctl
dracut_open() {
	rm -rf dr/state
	env -i PATH="$PATH" VAULTTAB=dr/vaulttab VAULT_STATE=dr/state VAULTCTL=dr/vaultctl \
		VAULT_GETTEXT="$SRC/boot/vault-gettext.sh" VAULT_LOCALE_FILE="$1" \
		TEXTDOMAINDIR="$LOCALEDIR" sh "$SRC/boot/dracut/90vault/vault-dracut-open" >"$OUT" 2>"$ERR"
	rc=$?
}
# tr_vi MSGID: the catalogue's Vietnamese for MSGID (gettext(1), the build
# tree's catalogues; LANGUAGE=vi under C.UTF-8, as an image has it, needs
# no vi_VN locale)
tr_vi() { env LANGUAGE=vi LC_ALL=C.UTF-8 TEXTDOMAINDIR="$LOCALEDIR" gettext -d vaultctl -- "$1"; }
# vi_msg MSGID NAME DEV RC: tr_vi with a boot script's variables filled in
vi_msg() {
	tr_vi "$1" | sed -e "s|\$name|$2|g" -e "s|\$dev|$3|g" -e "s|\$rc|$4|g"
}
nofail_en='vault: $name ($dev) could not be unlocked; going on without it (nofail)'
fail_en='vault: $name ($dev) is not unlocked (vaultctl exited with status $rc)'
if ! command -v gettext.sh >/dev/null 2>&1 || [ ! -d /usr/lib/locale/C.utf8 ]; then
	skp "dracut's boot script in Vietnamese" "gettext.sh (gettext-base) or the C.UTF-8 locale is missing"
elif [ ! -f "$LOCALEDIR/vi/LC_MESSAGES/vaultctl.mo" ]; then
	nok "build tree catalogue $LOCALEDIR/vi/LC_MESSAGES/vaultctl.mo exists (make mo)"
else
	dracut_open dr/locale.vi
	nofail_vi=$(vi_msg "$nofail_en" extra /dev/null 2)
	fail_vi=$(vi_msg "$fail_en" home /dev/zero 2)
	t() { [ "$rc" = 2 ] && [ "$nofail_vi" != "extra (/dev/null)" ] &&
	      grep -qxF -- "$nofail_vi" "$ERR" && grep -qxF -- "$fail_vi" "$ERR" &&
	      [ "$(wc -l <"$ERR")" = 2 ] && ! grep -q 'unlocked' "$ERR"; }
	check "dracut's vault-dracut-open with /etc/vault/locale LANGUAGE=vi: its messages are Vietnamese, exit 2" t
	dracut_open dr/locale.none
	t() { [ "$rc" = 2 ] &&
	      grep -qxF 'vault: extra (/dev/null) could not be unlocked; going on without it (nofail)' "$ERR" &&
	      grep -qxF 'vault: home (/dev/zero) is not unlocked (vaultctl exited with status 2)' "$ERR"; }
	check "... without /etc/vault/locale: English, exit 2" t
fi

# The hooks that build the image speak the language of whoever runs
# update-initramfs or dracut: the initramfs-tools hook's warning about a
# root it cannot trace, and module-setup.sh's vault_msg (dracut sources the
# file; here bash does, and calls it as install() would).
untraced_en='the source of the root, $src, is not there to trace, and no entry of $TAB is marked initramfs: if it sits on a vault volume, mark that entry initramfs'
dkms_en='vault: kernel $kernel has no dm-vault.ko; no vault volume needs this initramfs'
if ! command -v gettext.sh >/dev/null 2>&1 || [ ! -d /usr/lib/locale/C.utf8 ] ||
	[ ! -r /usr/share/initramfs-tools/hook-functions ]; then
	skp "the hooks in Vietnamese" "gettext.sh, the C.UTF-8 locale or initramfs-tools is missing"
else
	printf 'home /dev/vault-nonexistent none luks\n' >dr/hooktab
	# hook LANGFN: the hook as mkinitramfs runs it (no CONFDIR), stderr in $ERR
	hook() {
		env -i PATH="$PATH" VAULTTAB=dr/hooktab VAULT_ROOT=/dev/vault-no-root "$@" \
			TEXTDOMAINDIR="$LOCALEDIR" sh "$SRC/boot/initramfs-tools/hooks/vault" >"$OUT" 2>"$ERR"
	}
	hook LANGUAGE=vi LC_ALL=C.UTF-8
	want=$(tr_vi "$untraced_en" | sed -e 's|\$src|/dev/vault-no-root|g' -e 's|\$TAB|dr/hooktab|g')
	t() { [ "$want" != "$untraced_en" ] && grep -qxF -- "W: vault: $want" "$ERR"; }
	check "the initramfs-tools hook warns in Vietnamese when update-initramfs runs with LANGUAGE=vi" t
	hook LC_ALL=C
	t() { grep -qxF 'W: vault: the source of the root, /dev/vault-no-root, is not there to trace, and no entry of dr/hooktab is marked initramfs: if it sits on a vault volume, mark that entry initramfs' "$ERR"; }
	check "... and in English with LC_ALL=C" t
	out=$(env LANGUAGE=vi LC_ALL=C.UTF-8 TEXTDOMAINDIR="$LOCALEDIR" bash -c '
		moddir=$1/boot/dracut/90vault dracutsysrootdir=/nonexistent
		. "$moddir/module-setup.sh" && kernel=6.1.0-99-amd64 &&
		vault_msg "$2"; echo "|${TEXTDOMAIN:-unset}"' _ "$SRC" "$dkms_en" 2>&1)
	want=$(tr_vi "$dkms_en" | sed 's|\$kernel|6.1.0-99-amd64|g')
	t() { [ "$want" != "$dkms_en" ] && [ "$out" = "$want|unset" ]; }
	check "dracut's module-setup.sh: vault_msg speaks Vietnamese, and leaves dracut's environment alone" t
fi

# --- vaultctl in Vietnamese ---------------------------------------------

if ! command -v localedef >/dev/null 2>&1; then
	skp "vaultctl in Vietnamese" "localedef is missing: vi_VN.UTF-8 cannot be built"
	finish
fi
mkdir -p loc
if ! localedef -i vi_VN -f UTF-8 loc/vi_VN.UTF-8 >"$OUT" 2>"$ERR" && [ ! -d loc/vi_VN.UTF-8 ]; then
	skp "vaultctl in Vietnamese" "localedef could not build vi_VN.UTF-8: $(head -n 1 "$ERR")"
	finish
fi
if [ ! -f "$LOCALEDIR/vi/LC_MESSAGES/vaultctl.mo" ]; then
	nok "build tree catalogue $LOCALEDIR/vi/LC_MESSAGES/vaultctl.mo exists (make mo)"
	finish
fi
# in_vi/in_en COMMAND...: in Vietnamese / in English, with the build tree's catalogues
in_vi() { env LC_ALL= LANGUAGE= LOCPATH="$T/loc" LANG=vi_VN.UTF-8 VAULTCTL_LOCALEDIR="$LOCALEDIR" "$@"; }
in_en() { env LC_ALL= LANGUAGE= LOCPATH="$T/loc" LANG=C VAULTCTL_LOCALEDIR="$LOCALEDIR" "$@"; }
# translated EN VI: VI is a translation (not the English) and $OUT or $ERR shows it
translated() { [ -n "$2" ] && [ "$2" != "$1" ] && cat "$OUT" "$ERR" | grep -qF -- "$2"; }

help_en='show help (of a command, after its name)'
help_vi=$(tr_vi "$help_en")
in_vi $VALGRIND_CMD "$VAULTCTL" --help >"$OUT" 2>"$ERR"
t() { translated "$help_en" "$help_vi" && ! grep -q -e '^Usage:' -e "$help_en" "$OUT"; }
check "LANG=vi_VN.UTF-8 vaultctl --help is Vietnamese ($help_vi)" t
in_en $VALGRIND_CMD "$VAULTCTL" --help >"$OUT" 2>"$ERR"
t() { grep -q '^Usage: vaultctl \[OPTIONS\] COMMAND' "$OUT" && grep -qF -- "$help_en" "$OUT"; }
check "LANG=C vaultctl --help is English" t

if [ "$(id -u)" != 0 ] || ! command -v cryptsetup >/dev/null 2>&1; then
	skp "a wrong passphrase and the prompt in Vietnamese" "needs root and cryptsetup (image files, as luks.sh)"
	finish
fi
FAST="--pbkdf pbkdf2 --pbkdf-force-iterations 1000"
printf 'right pass' >good; printf 'wrong pass' >bad
truncate -s 24M v.img
vc format $FAST --batch-mode --key-file good v.img
check "a LUKS2 image to test with (vaultctl format)" [ "$rc" = 0 ]

wrong_en='No key available with this passphrase (v.img).'
wrong_vi=$(tr_vi 'No key available with this passphrase (%s).' | sed 's/%s/v.img/')
in_vi $VALGRIND_CMD "$VAULTCTL" open --test-passphrase --key-file bad v.img >"$OUT" 2>"$ERR"; rc=$?
t() { [ "$rc" = 2 ] && translated "$wrong_en" "vaultctl: $wrong_vi" && ! grep -q 'No key' "$ERR"; }
check "LANG=vi_VN.UTF-8: a wrong passphrase is refused in Vietnamese, exit 2 ($wrong_vi)" t
in_en $VALGRIND_CMD "$VAULTCTL" open --test-passphrase --key-file bad v.img >"$OUT" 2>"$ERR"; rc=$?
t() { [ "$rc" = 2 ] && grep -qxF "vaultctl: $wrong_en" "$ERR"; }
check "LANG=C: a wrong passphrase is refused in English, exit 2" t

# ontty WAIT INPUT LANGFN ARGS...: vaultctl on a terminal (script(1)) run by
# LANGFN (in_vi, in_en); types INPUT once WAIT shows; output in $OUT, status in $rc
ontty() {
	wait=$1 input=$2 lang=$3; shift 3
	: >"$OUT"
	{ i=0; while [ $i -lt 300 ] && ! grep -qF -- "$wait" "$OUT"; do
		sleep 0.1; i=$((i + 1)); done
	  printf '%s' "$input"; sleep 1; } |
		$lang script -qec "$VALGRIND_CMD $VAULTCTL $*; r=\$?; echo; echo rc=\$r" /dev/null >"$OUT" 2>&1
	rc=$(sed -n 's/^rc=\([0-9]*\).*/\1/p' "$OUT" | tail -n 1)
	: >"$ERR"
}
if ! command -v script >/dev/null 2>&1 || ! script -qec true /dev/null >/dev/null 2>&1; then
	skp "the open prompt on a terminal" "script(1) cannot make a terminal here"
	finish
fi
prompt_en='Enter passphrase for v.img: '
prompt_vi=$(tr_vi 'Enter passphrase for %s: ' | sed 's/%s/v.img/')
ontty "$prompt_vi" 'right pass
' in_vi open --test-passphrase v.img
t() { [ "$rc" = 0 ] && translated "$prompt_en" "$prompt_vi" && ! grep -q 'Enter passphrase' "$OUT"; }
check "LANG=vi_VN.UTF-8: open prompts in Vietnamese ($prompt_vi) and the passphrase opens" t
ontty "$prompt_en" 'right pass
' in_en open --test-passphrase v.img
t() { [ "$rc" = 0 ] && grep -qF -- "$prompt_en" "$OUT"; }
check "LANG=C: open prompts in English and the passphrase opens" t
finish
