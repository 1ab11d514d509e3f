#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The bash completion (userspace/completion/vaultctl.bash) against vaultctl's
# own help: `vaultctl <TAB>` offers every command `vaultctl help` lists,
# `vaultctl key <TAB>` its subcommands, and `vaultctl CMD -<TAB>` every option
# `vaultctl CMD --help` lists, and no option that CMD does not take.
# Prints KTAP.  Usage: completion.sh VAULTCTL (run-tests.sh runs it with sh)
# shellcheck shell=bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

VAULTCTL=${1:?usage: completion.sh VAULTCTL}
HERE=$(cd "$(dirname "$0")" && pwd)
COMP=$HERE/../completion/vaultctl.bash
BC=/usr/share/bash-completion/bash_completion
echo "KTAP version 1"
n=0 pass=0 fail=0
ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n $1"; }
nok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"; shift; for l in "$@"; do echo "# $l"; done; }
finish() { echo "# $pass passed, $fail failed"; [ "$fail" = 0 ]; exit; }

if [ ! -r "$BC" ]; then
	n=1
	if [ "${VAULT_STRICT_DEPS:-0}" = 1 ]; then
		echo "not ok 1 bash completion # bash-completion is not installed"; exit 1
	fi
	echo "ok 1 bash completion # SKIP bash-completion is not installed"; exit 0
fi
# shellcheck source=/dev/null
. "$BC"
# shellcheck source=userspace/completion/vaultctl.bash
. "$COMP"

# complete WORD...: what the completion offers for the command line WORDS
# (the cursor on the last, possibly empty, word), one a line.
complete_words() {
	COMP_WORDS=(vaultctl "$@")
	COMP_CWORD=$#
	COMP_LINE="vaultctl $*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_vaultctl vaultctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "${COMPREPLY[@]}" | sed 's/=.*//' | sort -u
}

# help_opts CMD...: the options `vaultctl CMD... --help` lists.
help_opts() {
	"$VAULTCTL" "$@" --help 2>/dev/null | sed -n '/^Options:/,$p' |
		grep -oE '^ +(-[a-zA-Z], )?--[a-z0-9-]+' | grep -oE -- '-{1,2}[a-zA-Z0-9-]+' | sort -u
}

cmds=$("$VAULTCTL" help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }' | sort -u)
offered=$(complete_words "")
missing=$(comm -23 <(echo "$cmds") <(echo "$offered"))
if [ -n "$cmds" ] && [ -z "$missing" ]; then
	ok "vaultctl <TAB> offers all $(echo "$cmds" | wc -l) commands of vaultctl help"
else
	nok "vaultctl <TAB> offers all commands of vaultctl help" "missing:" "$missing"
fi
subs=$("$VAULTCTL" help | awk '$1 == "key" { print $2 }' | sort -u)
offered=$(complete_words key "")
if [ "$subs" = "$offered" ]; then
	ok "vaultctl key <TAB> offers $(echo "$subs" | tr '\n' ' ')"
else
	nok "vaultctl key <TAB> offers the key subcommands" "help: $subs" "offered: $offered"
fi

# Each command's options; "open --all" and "close --all" are commands of
# their own in vaultctl's help; `help` and `key` show the global help.
global=$(printf '%s\n' -v --verbose --debug -h --help -V --version)
for c in $(echo "$cmds" | grep -vx -e help -e key) "key add" "key remove" "key list" "open --all" "close --all"; do
	# shellcheck disable=SC2086
	want=$(help_opts $c)
	case $c in
	"key "*) words=(key "${c#key }") ;;
	*" --all") words=("${c% --all}" --all) ;;
	*) words=("$c") ;;
	esac
	got=$(complete_words "${words[@]}" -)
	missing=$(comm -23 <(echo "$want") <(echo "$got"))
	# Offered but not taken: neither in this help, the --all variant's
	# (open and close take --all), nor global.
	also=$(help_opts "${words[0]}" --all 2>/dev/null)
	extra=$(comm -13 <(printf '%s\n' "$want" "$also" "$global" | sort -u) <(echo "$got"))
	if [ -n "$want" ] && [ -z "$missing" ] && [ -z "$extra" ]; then
		ok "vaultctl $c -<TAB> offers its $(echo "$want" | wc -l) options"
	else
		nok "vaultctl $c -<TAB> offers its options" "missing: $missing" "not taken: $extra"
	fi
done

# Values and arguments.
# expect NAME WANT WORD...: the completion of WORD... is WANT (lines).
expect() {
	local name=$1 want=$2 got
	shift 2
	got=$(complete_words "$@")
	if [ "$got" = "$want" ]; then
		ok "$name"
	else
		nok "$name" "offered: $(echo "$got" | tr '\n' ' ')"
	fi
}
T=$(mktemp -d /tmp/vault-comp.XXXXXX)
trap 'rm -rf "$T"' EXIT
printf '# comment\nroot /dev/sda3 none luks\nhome /dev/sdb1 /k luks,nofail\n' > "$T/tab"
expect "open --type <TAB>: luks2 plain" "$(printf 'luks2\nplain')" open --type ""
expect "format --pbkdf <TAB>: the KDFs" "$(printf 'argon2i\nargon2id\npbkdf2')" format --pbkdf ""
expect "open --all --vaulttab FILE <TAB>: its entry names" "$(printf 'home\nroot')" \
	open --all --vaulttab "$T/tab" ""
expect "help <TAB>: the commands" "$cmds" help ""
expect "open --cipher aes-cbc<TAB>: the essiv spec" "aes-cbc-essiv:sha256" open --cipher aes-cbc
finish
