# bash completion for lqctl (tools/lqctl). VM names come from the running
# lqd (lqctl --json vm list), so they complete only when lqd answers.
_lqctl_vms()
{
	local sock=()
	[[ -n $_lqctl_socket ]] && sock=(--socket "$_lqctl_socket")
	lqctl "${sock[@]}" --json vm list 2>/dev/null |
		grep -o '"name":"[a-z0-9-]*"' | cut -d'"' -f4
}

_lqctl()
{
	local cur prev words cword
	_init_completion 2>/dev/null || {
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD-1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	}
	local i noun= verb= _lqctl_socket=
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		--socket) _lqctl_socket=${words[i+1]}; ((i++)) ;;
		--json) ;;
		*) if [[ -z $noun ]]; then noun=${words[i]}; elif [[ -z $verb ]]; then verb=${words[i]}; fi ;;
		esac
	done
	case $prev in
	--socket|--kernel|--initrd) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--restart-policy) COMPREPLY=($(compgen -W "never on-failure always" -- "$cur")); return ;;
	--disk) COMPREPLY=($(compgen -W "path=" -- "$cur")); compopt -o nospace 2>/dev/null; return ;;
	--cpus|--memory|--cmdline|--label|--timeout) return ;;
	esac
	if [[ -z $noun ]]; then
		COMPREPLY=($(compgen -W "vm host --socket --json --help" -- "$cur"))
		return
	fi
	case $noun in
	host) [[ -z $verb ]] && COMPREPLY=($(compgen -W "info" -- "$cur")) ;;
	vm)
		if [[ -z $verb ]]; then
			COMPREPLY=($(compgen -W "create update list get start stop reboot pause resume delete console" -- "$cur"))
			return
		fi
		case $verb in
		create) [[ $cur == -* ]] && COMPREPLY=($(compgen -W "--cpus --memory --kernel --initrd --cmdline --disk --rng --restart-policy --label --start" -- "$cur")) ;;
		update)
			if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "--cpus --memory --kernel --initrd --cmdline --disk --rng --no-rng --restart-policy --label" -- "$cur"))
			else COMPREPLY=($(compgen -W "$(_lqctl_vms)" -- "$cur")); fi ;;
		stop|delete)
			if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "--timeout --force" -- "$cur"))
			else COMPREPLY=($(compgen -W "$(_lqctl_vms)" -- "$cur")); fi ;;
		console)
			if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "-f --follow" -- "$cur"))
			else COMPREPLY=($(compgen -W "$(_lqctl_vms)" -- "$cur")); fi ;;
		get|start|reboot|pause|resume) COMPREPLY=($(compgen -W "$(_lqctl_vms)" -- "$cur")) ;;
		esac ;;
	esac
}
complete -F _lqctl lqctl
