# SPDX-License-Identifier: GPL-2.0-or-later
# bash completion for vaultctl(8): its commands, each command's options (the
# ones `vaultctl COMMAND --help` lists), option values, block devices for
# DEVICE, open mappings for NAME, vaulttab names after `open/close --all`.
# userspace/tests/completion.sh checks it against vaultctl's own help.
# shellcheck shell=bash disable=SC2207	# COMPREPLY=($(compgen ...)): bash-completion's idiom

_vaultctl_global='-v --verbose --debug -h --help -V --version'
_vaultctl_keyfile='-d --key-file --keyfile-offset -l --keyfile-size'
_vaultctl_pbkdf='--pbkdf --hash -i --iter-time --pbkdf-memory --pbkdf-parallel
	--pbkdf-force-iterations'

# _vaultctl_opts COMMAND [all|SUBCOMMAND]: the options COMMAND takes.
_vaultctl_opts()
{
	local o
	case $1 in
	open)
		if [[ $2 == all ]]; then
			o='--all --vaulttab --token-only --token-pin-agent --tpm2-measure-pcr'
		else
			o="-M --type -c --cipher -s --key-size $_vaultctl_keyfile
			   -o --offset -p --iv-offset --skip --sector-size
			   --iv-large-sectors --allow-discards --same-cpu-crypt
			   --no-read-workqueue --no-write-workqueue -r --readonly
			   -b --size -S --key-slot -T --tries --token-id --token-type
			   --token-only --token-pin-agent --disable-tokens
			   --test-passphrase --tpm2-device --tpm2-measure-pcr --all
			   --vaulttab --header --token-timeout"
		fi ;;
	close) o='--all --vaulttab' ;;
	resume) o="-s --key-size $_vaultctl_keyfile -S --key-slot -T --tries" ;;
	resize)
		o="-s --key-size $_vaultctl_keyfile -b --size --device-size -S --key-slot
		   -T --tries --token-id --token-type --token-only --token-pin-agent
		   --disable-tokens --tpm2-device" ;;
	key) [[ $2 == add ]] && o='-s --key-size -d --key-file --keyfile-offset' ;;
	token)
		case $2 in
		import) o='--json-file --token-id -S --key-slot' ;;
		export) o='--json-file --token-id' ;;
		remove) o='--token-id' ;;
		esac ;;
	dump)
		o="--dump-json-metadata --dump-volume-key --volume-key-file
		   $_vaultctl_keyfile -S --key-slot -T --tries -q --batch-mode" ;;
	uuid) o='--uuid -q --batch-mode' ;;
	config) o='--label --subsystem' ;;
	format)
		o="-M --type -c --cipher -s --key-size $_vaultctl_keyfile
		   --sector-size $_vaultctl_pbkdf --label --uuid
		   --luks2-metadata-size -S --key-slot -T --tries -q --batch-mode
		   --force" ;;
	add-key | change-key)
		o="$_vaultctl_keyfile $_vaultctl_pbkdf -S --key-slot -T --tries" ;;
	remove-key | kill-slot) o="$_vaultctl_keyfile -T --tries -q --batch-mode" ;;
	enroll)
		o="$_vaultctl_keyfile -T --tries -q --batch-mode --recovery-key
		   --recovery-key-file --qrcode --wipe-slot --tpm2-device
		   --tpm2-pcrs --tpm2-with-pin --tpm2-with-pin=no --clevis
		   --clevis-trust --pkcs11-token-uri" ;;
	header-restore) o='-q --batch-mode --force' ;;
	reencrypt)
		o="--init-only --resilience --resume-only --hotzone-size --max-rate -c --cipher -s --key-size --sector-size
		   --progress-frequency -q --batch-mode $_vaultctl_keyfile $_vaultctl_pbkdf -T --tries" ;;
	revoke)
		o="--key-slot -S --hotzone-size --max-rate --progress-frequency -q --batch-mode
		   $_vaultctl_keyfile $_vaultctl_pbkdf -T --tries" ;;
	encrypt)
		o="--reduce-device-size --header --hotzone-size --resume-only $_vaultctl_keyfile $_vaultctl_pbkdf
		   -s --key-size --label --uuid -T --tries -q --batch-mode" ;;
	decrypt) o="--header --hotzone-size --resume-only $_vaultctl_keyfile -S --key-slot -T --tries -q --batch-mode" ;;
	erase) o='-q --batch-mode' ;;
	tab-check) o='--vaulttab' ;;
	esac
	echo "$o $_vaultctl_global"
}

_vaultctl_commands='open close status suspend resume resize key format add-key
	remove-key change-key kill-slot enroll dump header-backup header-restore
	uuid config token reencrypt revoke encrypt decrypt is-luks erase repair tab-check answer version help'

# The names of the open dm-vault mappings (those vaultctl made).
_vaultctl_mappings()
{
	dmsetup ls --target vault 2>/dev/null | awk '$1 != "No" { print $1 }'
}

_vaultctl_tab_names()
{
	awk '$1 !~ /^#/ && NF >= 2 { print $1 }' "${1:-/etc/vaulttab}" 2>/dev/null
}

_vaultctl()
{
	local cur prev words cword
	_init_completion || return

	# Find the command (and `key`'s subcommand) among the words so far.
	local i cmd='' sub='' all='' tab='' nargs=0 w
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		case $w in
		--all) all=all ;;
		--vaulttab=*) tab=${w#*=} ;;
		-*) [[ $w == --vaulttab ]] && tab=${words[i + 1]} ;;
		*)
			case ${words[i - 1]} in
			-M | --type | -c | --cipher | -s | --key-size | -d | --key-file | \
			--keyfile-offset | -o | --offset | -p | --iv-offset | --skip | \
			--sector-size | -b | --size | -l | --keyfile-size | --pbkdf | \
			--hash | -i | --iter-time | --pbkdf-memory | --pbkdf-parallel | \
			--pbkdf-force-iterations | --label | --uuid | --luks2-metadata-size | \
			-S | --key-slot | -T | --tries | --vaulttab | --token-id | \
			--token-type | --recovery-key-file | --qrcode | --wipe-slot | \
			--tpm2-device | --tpm2-pcrs | --tpm2-measure-pcr | --subsystem | \
			--volume-key-file | --json-file | --device-size | --token-timeout | \
			--clevis | --pkcs11-token-uri)
				continue ;;
			esac
			# --clevis PIN CONFIG: CONFIG is the option's second value
			[[ ${words[i - 2]} == --clevis ]] && continue
			if [[ -z $cmd ]]; then
				cmd=$w
			elif [[ ($cmd == key || $cmd == token) && -z $sub ]]; then
				sub=$w
			else
				((nargs++))
			fi ;;
		esac
	done

	# Values of the option before the cursor.
	case $prev in
	-M | --type) COMPREPLY=($(compgen -W 'luks2 plain' -- "$cur")); return ;;
	-c | --cipher)
		COMPREPLY=($(compgen -W 'aes-xts-plain64 aes-cbc-essiv:sha256
			xchacha12,aes-adiantum-plain64 capi:xts(aes)-plain64' -- "$cur"))
		# ':' splits words for readline: complete after it.
		__ltrim_colon_completions "$cur"
		return ;;
	-s | --key-size) COMPREPLY=($(compgen -W '256 512' -- "$cur")); return ;;
	--sector-size) COMPREPLY=($(compgen -W '512 1024 2048 4096' -- "$cur")); return ;;
	--pbkdf) COMPREPLY=($(compgen -W 'argon2id argon2i pbkdf2' -- "$cur")); return ;;
	--hash) COMPREPLY=($(compgen -W 'sha256 sha512 sha1' -- "$cur")); return ;;
	--luks2-metadata-size)
		COMPREPLY=($(compgen -W '16k 32k 64k 128k 256k 512k 1m 2m 4m' -- "$cur"))
		return ;;
	--token-type) COMPREPLY=($(compgen -W 'systemd-tpm2 systemd-pkcs11 systemd-recovery clevis' -- "$cur")); return ;;
	--clevis)
		# the installed pins: clevis-encrypt-PIN in $PATH
		COMPREPLY=($(compgen -c -- "clevis-encrypt-$cur" | sed 's/^clevis-encrypt-//' | sort -u))
		return ;;
	--qrcode) COMPREPLY=($(compgen -W 'auto always never' -- "$cur")); return ;;
	--tpm2-measure-pcr) COMPREPLY=($(compgen -W 'yes no' -- "$cur")); return ;;
	--wipe-slot)
		COMPREPLY=($(compgen -W 'all empty password recovery tpm2 pkcs11 fido2' -- "$cur"))
		return ;;
	--pkcs11-token-uri)
		COMPREPLY=($(compgen -W 'auto' -- "$cur"))
		return ;;
	--tpm2-device)
		COMPREPLY=($(compgen -W 'auto' -- "$cur") $(compgen -f -- "$cur"))
		return ;;
	-d | --key-file | --vaulttab | --recovery-key-file | --volume-key-file | --json-file)
		_filedir
		return ;;
	-o | --offset | -p | --iv-offset | --skip | -b | --size | -l | --keyfile-size | \
	--keyfile-offset | -i | --iter-time | --pbkdf-memory | --pbkdf-parallel | \
	--pbkdf-force-iterations | --label | --uuid | -S | --key-slot | -T | --tries | \
	--token-id | --tpm2-pcrs | --subsystem | --device-size | --token-timeout)
		return ;;
	esac
	# CONFIG after --clevis PIN: JSON, nothing to complete
	[[ ${words[cword - 2]} == --clevis ]] && return

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$_vaultctl_global" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$_vaultctl_commands" -- "$cur"))
		fi
		return
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_vaultctl_opts "$cmd" "${all:-$sub}")" -- "$cur"))
		[[ ${COMPREPLY-} == *= ]] && compopt -o nospace
		return
	fi

	# Arguments.
	case $cmd in
	help) ((nargs == 0)) && COMPREPLY=($(compgen -W "$_vaultctl_commands" -- "$cur")) ;;
	key)
		if [[ -z $sub ]]; then
			COMPREPLY=($(compgen -W 'add remove list' -- "$cur"))
		fi ;;
	token)
		if [[ -z $sub ]]; then
			COMPREPLY=($(compgen -W 'import export remove' -- "$cur"))
		elif ((nargs == 0)); then
			_filedir
		fi ;;
	open)
		if [[ -n $all ]]; then
			COMPREPLY=($(compgen -W "$(_vaultctl_tab_names "$tab")" -- "$cur"))
		elif ((nargs == 0)); then
			_filedir
		fi ;;
	close)
		if [[ -n $all ]]; then
			COMPREPLY=($(compgen -W "$(_vaultctl_tab_names "$tab")" -- "$cur"))
		elif ((nargs == 0)); then
			COMPREPLY=($(compgen -W "$(_vaultctl_mappings)" -- "$cur"))
		fi ;;
	status | suspend | resume | resize)
		((nargs == 0)) && COMPREPLY=($(compgen -W "$(_vaultctl_mappings)" -- "$cur")) ;;
	format | add-key | remove-key | change-key | kill-slot | enroll | dump | \
	header-backup | header-restore | uuid | config | reencrypt | revoke | encrypt | decrypt | \
	is-luks | erase | repair)
		# DEVICE (a block device or an image file), then a FILE.
		((nargs <= 1)) && _filedir ;;
	esac
} &&
	complete -F _vaultctl vaultctl
