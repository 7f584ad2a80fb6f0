#compdef berthctl

__berthctl_complete() {
    local -ar non_empty_completions=("${@:#(|:*)}")
    local -ar empty_completions=("${(M)@:#(|:*)}")
    _describe -V '' non_empty_completions -- empty_completions -P $'\'\''
}

__berthctl_custom_complete() {
    local -a completions
    completions=("${(@f)"$("${command_name}" "${@}" "${command_line[@]}")"}")
    if [[ "${#completions[@]}" -gt 1 ]]; then
        __berthctl_complete "${completions[@]:0:-1}"
    fi
}

__berthctl_cursor_index_in_current_word() {
    if [[ -z "${QIPREFIX}${IPREFIX}${PREFIX}" ]]; then
        printf 0
    else
        printf %s "${#${(z)LBUFFER}[-1]}"
    fi
}

_berthctl() {
    emulate -RL zsh -G
    setopt extendedglob nullglob numericglobsort
    unsetopt aliases banghist

    local -xr SAP_SHELL=zsh
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(builtin emulate zsh -c 'printf %s "${ZSH_VERSION}"')"
    local -r SAP_SHELL_VERSION

    local context state state_descr line
    local -A opt_args

    local -r command_name="${words[1]}"
    local -ar command_line=("${words[@]}")
    local -ir current_word_index="$((CURRENT - 1))"

    local -i ret=1
    local -ar arg_specs=(
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'version:Show the client and server versions.'
            'info:Show what berthd runs on and what it found.'
            'namespaces:Manage namespaces.'
            'snapshots:Manage snapshots (the layered file systems containers run on).'
            'containers:Manage containers (metadata; their processes are tasks).'
            'tasks:Manage tasks (the running processes of containers).'
            'run:Run a container: berthctl run [flags] (IMAGE | --rootfs DIR) ID [CMD [ARG...]]'
            'events:Print events as they happen, until interrupted.'
            'help:Show subcommand help information.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        version|info|namespaces|snapshots|containers|tasks|run|events|help)
            "_berthctl_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_berthctl_version() {
    local -i ret=1
    local -ar ___format=('table' 'json')
    local -ar arg_specs=(
        '(-a --address)'{-a,--address}'[Address of berthd'\''s socket (env BERTH_ADDRESS). Default\: /run/berth/berthd.sock]:address:'
        '(-n --namespace)'{-n,--namespace}'[Namespace to use (env BERTH_NAMESPACE). Default\: default]:namespace:'
        '--timeout[Seconds to wait for each call to berthd.]:timeout:'
        '--format[Output format\: table or json.]:format:{__berthctl_complete "${___format[@]}"}'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_berthctl_info() {
    local -i ret=1
    local -ar ___format=('table' 'json')
    local -ar arg_specs=(
        '(-a --address)'{-a,--address}'[Address of berthd'\''s socket (env BERTH_ADDRESS). Default\: /run/berth/berthd.sock]:address:'
        '(-n --namespace)'{-n,--namespace}'[Namespace to use (env BERTH_NAMESPACE). Default\: default]:namespace:'
        '--timeout[Seconds to wait for each call to berthd.]:timeout:'
        '--format[Output format\: table or json.]:format:{__berthctl_complete "${___format[@]}"}'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_berthctl_namespaces() {
    local -i ret=1
    local -ar arg_specs=(
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'create:Create a namespace with optional labels.'
            'ls:List namespaces.'
            'rm:Remove empty namespaces; each name is tried, and the exit status says if any failed.'
            'label:Set labels on a namespace; key= removes a label. Prints the resulting labels.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        create|ls|rm|label)
            "_berthctl_namespaces_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_berthctl_namespaces_create() {
    local -i ret=1
    local -ar ___format=('table' 'json')
    local -ar arg_specs=(
        '(-a --address)'{-a,--address}'[Address of berthd'\''s socket (env BERTH_ADDRESS). Default\: /run/berth/berthd.sock]:address:'
        '(-n --namespace)'{-n,--namespace}'[Namespace to use (env BERTH_NAMESPACE). Default\: default]:namespace:'
        '--timeout[Seconds to wait for each call to berthd.]:timeout:'
        '--format[Output format\: table or json.]:format:{__berthctl_complete "${___format[@]}"}'
        ':name:'
        '*:labels:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_berthctl_namespaces_ls() {
    local -i ret=1
    local -ar ___format=('table' 'json')
    local -ar arg_specs=(
        '(-a --address)'{-a,--address}'[Address of berthd'\''s socket (env BERTH_ADDRESS). Default\: /run/berth/berthd.sock]:address:'
        '(-n --namespace)'{-n,--namespace}'[Namespace to use (env BERTH_NAMESPACE). Default\: default]:namespace:'
        '--timeout[Seconds to wait for each call to berthd.]:timeout:'
        '--format[Output format\: table or json.]:format:{__berthctl_complete "${___format[@]}"}'
        '(--quiet -q)'{--quiet,-q}'[Print only the names.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_berthctl_namespaces_rm() {
    local -i ret=1
    local -ar ___format=('table' 'json')
    local -ar arg_specs=(
        '(-a --address)'{-a,--address}'[Address of berthd'\''s socket (env BERTH_ADDRESS). Default\: /run/berth/berthd.sock]:address:'
        '(-n --namespace)'{-n,--namespace}'[Namespace to use (env BERTH_NAMESPACE). Default\: default]:namespace:'
        '--timeout[Seconds to wait for each call to berthd.]:timeout:'
        '--format[Output format\: table or json.]:format:{__berthctl_complete "${___format[@]}"}'
        '*:names:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_berthctl_namespaces_label() {
    local -i ret=1
    local -ar ___format=('table' 'json')
    local -ar arg_specs=(
        '(-a --address)'{-a,--address}'[Address of berthd'\''s socket (env BERTH_ADDRESS). Default\: /run/berth/berthd.sock]:address:'
        '(-n --namespace)'{-n,--namespace}'[Namespace to use (env BERTH_NAMESPACE). Default\: default]:namespace:'
        '--timeout[Seconds to wait for each call to berthd.]:timeout:'
        '--format[Output format\: table or json.]:format:{__berthctl_complete "${___format[@]}"}'
        ':name:'
        '*:labels:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_berthctl_snapshots() {
    local -i ret=1
    local -ar arg_specs=(
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'prepare:Create an active snapshot on a committed parent.'
            'view:Create a read-only view of a committed snapshot.'
            'commit:Commit an active snapshot under a name.'
            'rm:Remove snapshots; each key is tried, and the exit status says if any failed.'
            'ls:List snapshots.'
            'info:Show a snapshot'\''s info as JSON.'
            'usage:Show the disk usage of one or every snapshot (parents excluded).'
            'tree:Show snapshots as a tree of parents and children.'
            'label:Set labels on a snapshot; key= removes a label. Prints the resulting labels.'
            'mounts:Print the mount command lines that mount a snapshot on TARGET.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        prepare|view|commit|rm|ls|info|usage|tree|label|mounts)
            "_berthctl_snapshots_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_berthctl_snapshots_prepare() {
    local -i ret=1
    local -ar ___format=('table' 'json')
    local -ar arg_specs=(
        '(-a --address)'{-a,--address}'[Address of berthd'\''s socket (env BERTH_ADDRESS). Default\: /run/berth/berthd.sock]:address:'
        '(-n --namespace)'{-n,--namespace}'[Namespace to use (env BERTH_NAMESPACE). Default\: default]:namespace:'
        '--timeout[Seconds to wait for each call to berthd.]:timeout:'
        '--format[Output format\: table or json.]:format:{__berthctl_complete "${___format[@]}"}'
        '--snapshotter[The snapshotter to use.]:snapshotter:'
        '--target[Print the mount command for this target.]:target:'
        ':key:'
        ':parent:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_berthctl_snapshots_view() {
    local -i ret=1
    local -ar ___format=('table' 'json')
    local -ar arg_specs=(
        '(-a --address)'{-a,--address}'[Address of berthd'\''s socket (env BERTH_ADDRESS). Default\: /run/berth/berthd.sock]:address:'
        '(-n --namespace)'{-n,--namespace}'[Namespace to use (env BERTH_NAMESPACE). Default\: default]:namespace:'
        '--timeout[Seconds to wait for each call to berthd.]:timeout:'
        '--format[Output format\: table or json.]:format:{__berthctl_complete "${___format[@]}"}'
        '--snapshotter[The snapshotter to use.]:snapshotter:'
        '--target[Print the mount command for this target.]:target:'
        ':key:'
        ':parent:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_berthctl_snapshots_commit() {
    local -i ret=1
    local -ar ___format=('table' 'json')
    local -ar arg_specs=(
        '(-a --address)'{-a,--address}'[Address of berthd'\''s socket (env BERTH_ADDRESS). Default\: /run/berth/berthd.sock]:address:'
        '(-n --namespace)'{-n,--namespace}'[Namespace to use (env BERTH_NAMESPACE). Default\: default]:namespace:'
        '--timeout[Seconds to wait for each call to berthd.]:timeout:'
        '--format[Output format\: table or json.]:format:{__berthctl_complete "${___format[@]}"}'
        '--snapshotter[The snapshotter to use.]:snapshotter:'
        ':name:'
        ':key:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_berthctl_snapshots_rm() {
    local -i ret=1
    local -ar ___format=('table' 'json')
    local -ar arg_specs=(
        '(-a --address)'{-a,--address}'[Address of berthd'\''s socket (env BERTH_ADDRESS). Default\: /run/berth/berthd.sock]:address:'
        '(-n --namespace)'{-n,--namespace}'[Namespace to use (env BERTH_NAMESPACE). Default\: default]:namespace:'
        '--timeout[Seconds to wait for each call to berthd.]:timeout:'
        '--format[Output format\: table or json.]:format:{__berthctl_complete "${___format[@]}"}'
        '--snapshotter[The snapshotter to use.]:snapshotter:'
        '*:keys:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_berthctl_snapshots_ls() {
    local -i ret=1
    local -ar ___format=('table' 'json')
    local -ar arg_specs=(
        '(-a --address)'{-a,--address}'[Address of berthd'\''s socket (env BERTH_ADDRESS). Default\: /run/berth/berthd.sock]:address:'
        '(-n --namespace)'{-n,--namespace}'[Namespace to use (env BERTH_NAMESPACE). Default\: default]:namespace:'
        '--timeout[Seconds to wait for each call to berthd.]:timeout:'
        '--format[Output format\: table or json.]:format:{__berthctl_complete "${___format[@]}"}'
        '--snapshotter[The snapshotter to use.]:snapshotter:'
        '*:filters:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_berthctl_snapshots_info() {
    local -i ret=1
    local -ar ___format=('table' 'json')
    local -ar arg_specs=(
        '(-a --address)'{-a,--address}'[Address of berthd'\''s socket (env BERTH_ADDRESS). Default\: /run/berth/berthd.sock]:address:'
        '(-n --namespace)'{-n,--namespace}'[Namespace to use (env BERTH_NAMESPACE). Default\: default]:namespace:'
        '--timeout[Seconds to wait for each call to berthd.]:timeout:'
        '--format[Output format\: table or json.]:format:{__berthctl_complete "${___format[@]}"}'
        '--snapshotter[The snapshotter to use.]:snapshotter:'
        ':key:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_berthctl_snapshots_usage() {
    local -i ret=1
    local -ar ___format=('table' 'json')
    local -ar arg_specs=(
        '(-a --address)'{-a,--address}'[Address of berthd'\''s socket (env BERTH_ADDRESS). Default\: /run/berth/berthd.sock]:address:'
        '(-n --namespace)'{-n,--namespace}'[Namespace to use (env BERTH_NAMESPACE). Default\: default]:namespace:'
        '--timeout[Seconds to wait for each call to berthd.]:timeout:'
        '--format[Output format\: table or json.]:format:{__berthctl_complete "${___format[@]}"}'
        '--snapshotter[The snapshotter to use.]:snapshotter:'
        '-b[Print sizes in bytes.]'
        ':key:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_berthctl_snapshots_tree() {
    local -i ret=1
    local -ar ___format=('table' 'json')
    local -ar arg_specs=(
        '(-a --address)'{-a,--address}'[Address of berthd'\''s socket (env BERTH_ADDRESS). Default\: /run/berth/berthd.sock]:address:'
        '(-n --namespace)'{-n,--namespace}'[Namespace to use (env BERTH_NAMESPACE). Default\: default]:namespace:'
        '--timeout[Seconds to wait for each call to berthd.]:timeout:'
        '--format[Output format\: table or json.]:format:{__berthctl_complete "${___format[@]}"}'
        '--snapshotter[The snapshotter to use.]:snapshotter:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_berthctl_snapshots_label() {
    local -i ret=1
    local -ar ___format=('table' 'json')
    local -ar arg_specs=(
        '(-a --address)'{-a,--address}'[Address of berthd'\''s socket (env BERTH_ADDRESS). Default\: /run/berth/berthd.sock]:address:'
        '(-n --namespace)'{-n,--namespace}'[Namespace to use (env BERTH_NAMESPACE). Default\: default]:namespace:'
        '--timeout[Seconds to wait for each call to berthd.]:timeout:'
        '--format[Output format\: table or json.]:format:{__berthctl_complete "${___format[@]}"}'
        '--snapshotter[The snapshotter to use.]:snapshotter:'
        ':key:'
        '*:labels:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_berthctl_snapshots_mounts() {
    local -i ret=1
    local -ar ___format=('table' 'json')
    local -ar arg_specs=(
        '(-a --address)'{-a,--address}'[Address of berthd'\''s socket (env BERTH_ADDRESS). Default\: /run/berth/berthd.sock]:address:'
        '(-n --namespace)'{-n,--namespace}'[Namespace to use (env BERTH_NAMESPACE). Default\: default]:namespace:'
        '--timeout[Seconds to wait for each call to berthd.]:timeout:'
        '--format[Output format\: table or json.]:format:{__berthctl_complete "${___format[@]}"}'
        '--snapshotter[The snapshotter to use.]:snapshotter:'
        ':target:'
        ':key:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_berthctl_containers() {
    local -i ret=1
    local -ar arg_specs=(
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'create:Create a container: ID [CMD [ARG...]].'
            'ls:List containers.'
            'info:Show a container as JSON.'
            'rm:Remove containers.'
            'label:Set labels on a container (key= removes).'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        create|ls|info|rm|label)
            "_berthctl_containers_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_berthctl_containers_create() {
    local -i ret=1
    local -ar ___format=('table' 'json')
    local -ar arg_specs=(
        '(-a --address)'{-a,--address}'[Address of berthd'\''s socket (env BERTH_ADDRESS). Default\: /run/berth/berthd.sock]:address:'
        '(-n --namespace)'{-n,--namespace}'[Namespace to use (env BERTH_NAMESPACE). Default\: default]:namespace:'
        '--timeout[Seconds to wait for each call to berthd.]:timeout:'
        '--format[Output format\: table or json.]:format:{__berthctl_complete "${___format[@]}"}'
        '*'{-e,--env}'[Environment variable KEY=VALUE (repeatable).]:env:'
        '--cwd[Working directory of the process.]:cwd:'
        '(-u --user)'{-u,--user}'[uid\[\:gid\] of the process.]:user:'
        '*--mount[Bind mount\: type=bind,src=PATH,dst=PATH\[,options=ro\:rbind\].]:mount:'
        '--net-host[Use the host'\''s network namespace.]'
        '--hostname[Hostname in the container.]:hostname:'
        '--memory-limit[Memory limit in bytes.]:memory-limit:'
        '--cpus[CPUs (e.g. 0.5).]:cpus:'
        '--pids-limit[Most processes in the container.]:pids-limit:'
        '*--cap-add[Add a capability (e.g. CAP_NET_ADMIN).]:cap-add:'
        '*--cap-drop[Drop a capability.]:cap-drop:'
        '--privileged[All capabilities, all devices, no seccomp, no masked paths.]'
        '--read-only[Mount the root file system read-only.]'
        '--seccomp-profile[A seccomp profile (OCI linux.seccomp JSON) instead of the default.]:seccomp-profile:'
        '--runtime[Runtime\: berth, runc or crun.]:runtime:'
        '*--label[Label key=value (repeatable).]:label:'
        ':id:'
        '*:args:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_berthctl_containers_ls() {
    local -i ret=1
    local -ar ___format=('table' 'json')
    local -ar arg_specs=(
        '(-a --address)'{-a,--address}'[Address of berthd'\''s socket (env BERTH_ADDRESS). Default\: /run/berth/berthd.sock]:address:'
        '(-n --namespace)'{-n,--namespace}'[Namespace to use (env BERTH_NAMESPACE). Default\: default]:namespace:'
        '--timeout[Seconds to wait for each call to berthd.]:timeout:'
        '--format[Output format\: table or json.]:format:{__berthctl_complete "${___format[@]}"}'
        '(--quiet -q)'{--quiet,-q}'[Print only ids.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_berthctl_containers_info() {
    local -i ret=1
    local -ar ___format=('table' 'json')
    local -ar arg_specs=(
        '(-a --address)'{-a,--address}'[Address of berthd'\''s socket (env BERTH_ADDRESS). Default\: /run/berth/berthd.sock]:address:'
        '(-n --namespace)'{-n,--namespace}'[Namespace to use (env BERTH_NAMESPACE). Default\: default]:namespace:'
        '--timeout[Seconds to wait for each call to berthd.]:timeout:'
        '--format[Output format\: table or json.]:format:{__berthctl_complete "${___format[@]}"}'
        ':id:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_berthctl_containers_rm() {
    local -i ret=1
    local -ar ___format=('table' 'json')
    local -ar arg_specs=(
        '(-a --address)'{-a,--address}'[Address of berthd'\''s socket (env BERTH_ADDRESS). Default\: /run/berth/berthd.sock]:address:'
        '(-n --namespace)'{-n,--namespace}'[Namespace to use (env BERTH_NAMESPACE). Default\: default]:namespace:'
        '--timeout[Seconds to wait for each call to berthd.]:timeout:'
        '--format[Output format\: table or json.]:format:{__berthctl_complete "${___format[@]}"}'
        '*:ids:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_berthctl_containers_label() {
    local -i ret=1
    local -ar ___format=('table' 'json')
    local -ar arg_specs=(
        '(-a --address)'{-a,--address}'[Address of berthd'\''s socket (env BERTH_ADDRESS). Default\: /run/berth/berthd.sock]:address:'
        '(-n --namespace)'{-n,--namespace}'[Namespace to use (env BERTH_NAMESPACE). Default\: default]:namespace:'
        '--timeout[Seconds to wait for each call to berthd.]:timeout:'
        '--format[Output format\: table or json.]:format:{__berthctl_complete "${___format[@]}"}'
        ':id:'
        '*:labels:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_berthctl_tasks() {
    local -i ret=1
    local -ar arg_specs=(
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'start:Start a container'\''s task (detached, output to a log).'
            'ls:List tasks.'
            'kill:Signal a task (default SIGTERM).'
            'ps:List a task'\''s processes.'
            'exec:Run a process in a task: --exec-id ID CONTAINER CMD...'
            'pause:Freeze a task.'
            'resume:Thaw a paused task.'
            'rm:Delete stopped tasks, printing their exit status.'
            'logs:Print a task'\''s log (a --log-uri file); -f follows it.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        start|ls|kill|ps|exec|pause|resume|rm|logs)
            "_berthctl_tasks_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_berthctl_tasks_start() {
    local -i ret=1
    local -ar ___format=('table' 'json')
    local -ar arg_specs=(
        '(-a --address)'{-a,--address}'[Address of berthd'\''s socket (env BERTH_ADDRESS). Default\: /run/berth/berthd.sock]:address:'
        '(-n --namespace)'{-n,--namespace}'[Namespace to use (env BERTH_NAMESPACE). Default\: default]:namespace:'
        '--timeout[Seconds to wait for each call to berthd.]:timeout:'
        '--format[Output format\: table or json.]:format:{__berthctl_complete "${___format[@]}"}'
        '--rootfs[Root file system directory.]:rootfs:'
        '--log-uri[Where the output goes\: file\:///path.]:log-uri:'
        ':id:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_berthctl_tasks_ls() {
    local -i ret=1
    local -ar ___format=('table' 'json')
    local -ar arg_specs=(
        '(-a --address)'{-a,--address}'[Address of berthd'\''s socket (env BERTH_ADDRESS). Default\: /run/berth/berthd.sock]:address:'
        '(-n --namespace)'{-n,--namespace}'[Namespace to use (env BERTH_NAMESPACE). Default\: default]:namespace:'
        '--timeout[Seconds to wait for each call to berthd.]:timeout:'
        '--format[Output format\: table or json.]:format:{__berthctl_complete "${___format[@]}"}'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_berthctl_tasks_kill() {
    local -i ret=1
    local -ar ___format=('table' 'json')
    local -ar arg_specs=(
        '(-a --address)'{-a,--address}'[Address of berthd'\''s socket (env BERTH_ADDRESS). Default\: /run/berth/berthd.sock]:address:'
        '(-n --namespace)'{-n,--namespace}'[Namespace to use (env BERTH_NAMESPACE). Default\: default]:namespace:'
        '--timeout[Seconds to wait for each call to berthd.]:timeout:'
        '--format[Output format\: table or json.]:format:{__berthctl_complete "${___format[@]}"}'
        '(--signal -s)'{--signal,-s}'[Signal name or number.]:signal:'
        '--all[Signal every process of the task (-a is the global --address).]'
        '--exec-id[Signal this exec'\''d process instead.]:exec-id:'
        ':id:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_berthctl_tasks_ps() {
    local -i ret=1
    local -ar ___format=('table' 'json')
    local -ar arg_specs=(
        '(-a --address)'{-a,--address}'[Address of berthd'\''s socket (env BERTH_ADDRESS). Default\: /run/berth/berthd.sock]:address:'
        '(-n --namespace)'{-n,--namespace}'[Namespace to use (env BERTH_NAMESPACE). Default\: default]:namespace:'
        '--timeout[Seconds to wait for each call to berthd.]:timeout:'
        '--format[Output format\: table or json.]:format:{__berthctl_complete "${___format[@]}"}'
        ':id:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_berthctl_tasks_exec() {
    local -i ret=1
    local -ar ___format=('table' 'json')
    local -ar arg_specs=(
        '(-a --address)'{-a,--address}'[Address of berthd'\''s socket (env BERTH_ADDRESS). Default\: /run/berth/berthd.sock]:address:'
        '(-n --namespace)'{-n,--namespace}'[Namespace to use (env BERTH_NAMESPACE). Default\: default]:namespace:'
        '--timeout[Seconds to wait for each call to berthd.]:timeout:'
        '--format[Output format\: table or json.]:format:{__berthctl_complete "${___format[@]}"}'
        '--exec-id[Id of the new process.]:exec-id:'
        '*'{-e,--env}'[Environment variable KEY=VALUE.]:env:'
        '--cwd[Working directory.]:cwd:'
        '(--detach -d)'{--detach,-d}'[Return at once.]'
        ':id:'
        '*:args:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_berthctl_tasks_pause() {
    local -i ret=1
    local -ar ___format=('table' 'json')
    local -ar arg_specs=(
        '(-a --address)'{-a,--address}'[Address of berthd'\''s socket (env BERTH_ADDRESS). Default\: /run/berth/berthd.sock]:address:'
        '(-n --namespace)'{-n,--namespace}'[Namespace to use (env BERTH_NAMESPACE). Default\: default]:namespace:'
        '--timeout[Seconds to wait for each call to berthd.]:timeout:'
        '--format[Output format\: table or json.]:format:{__berthctl_complete "${___format[@]}"}'
        ':id:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_berthctl_tasks_resume() {
    local -i ret=1
    local -ar ___format=('table' 'json')
    local -ar arg_specs=(
        '(-a --address)'{-a,--address}'[Address of berthd'\''s socket (env BERTH_ADDRESS). Default\: /run/berth/berthd.sock]:address:'
        '(-n --namespace)'{-n,--namespace}'[Namespace to use (env BERTH_NAMESPACE). Default\: default]:namespace:'
        '--timeout[Seconds to wait for each call to berthd.]:timeout:'
        '--format[Output format\: table or json.]:format:{__berthctl_complete "${___format[@]}"}'
        ':id:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_berthctl_tasks_rm() {
    local -i ret=1
    local -ar ___format=('table' 'json')
    local -ar arg_specs=(
        '(-a --address)'{-a,--address}'[Address of berthd'\''s socket (env BERTH_ADDRESS). Default\: /run/berth/berthd.sock]:address:'
        '(-n --namespace)'{-n,--namespace}'[Namespace to use (env BERTH_NAMESPACE). Default\: default]:namespace:'
        '--timeout[Seconds to wait for each call to berthd.]:timeout:'
        '--format[Output format\: table or json.]:format:{__berthctl_complete "${___format[@]}"}'
        '*:ids:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_berthctl_tasks_logs() {
    local -i ret=1
    local -ar ___format=('table' 'json')
    local -ar arg_specs=(
        '(-a --address)'{-a,--address}'[Address of berthd'\''s socket (env BERTH_ADDRESS). Default\: /run/berth/berthd.sock]:address:'
        '(-n --namespace)'{-n,--namespace}'[Namespace to use (env BERTH_NAMESPACE). Default\: default]:namespace:'
        '--timeout[Seconds to wait for each call to berthd.]:timeout:'
        '--format[Output format\: table or json.]:format:{__berthctl_complete "${___format[@]}"}'
        '(--follow -f)'{--follow,-f}'[Keep printing as the log grows.]'
        ':path:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_berthctl_run() {
    local -i ret=1
    local -ar ___format=('table' 'json')
    local -ar arg_specs=(
        '(-a --address)'{-a,--address}'[Address of berthd'\''s socket (env BERTH_ADDRESS). Default\: /run/berth/berthd.sock]:address:'
        '(-n --namespace)'{-n,--namespace}'[Namespace to use (env BERTH_NAMESPACE). Default\: default]:namespace:'
        '--timeout[Seconds to wait for each call to berthd.]:timeout:'
        '--format[Output format\: table or json.]:format:{__berthctl_complete "${___format[@]}"}'
        '*'{-e,--env}'[Environment variable KEY=VALUE (repeatable).]:env:'
        '--cwd[Working directory of the process.]:cwd:'
        '(-u --user)'{-u,--user}'[uid\[\:gid\] of the process.]:user:'
        '*--mount[Bind mount\: type=bind,src=PATH,dst=PATH\[,options=ro\:rbind\].]:mount:'
        '--net-host[Use the host'\''s network namespace.]'
        '--hostname[Hostname in the container.]:hostname:'
        '--memory-limit[Memory limit in bytes.]:memory-limit:'
        '--cpus[CPUs (e.g. 0.5).]:cpus:'
        '--pids-limit[Most processes in the container.]:pids-limit:'
        '*--cap-add[Add a capability (e.g. CAP_NET_ADMIN).]:cap-add:'
        '*--cap-drop[Drop a capability.]:cap-drop:'
        '--privileged[All capabilities, all devices, no seccomp, no masked paths.]'
        '--read-only[Mount the root file system read-only.]'
        '--seccomp-profile[A seccomp profile (OCI linux.seccomp JSON) instead of the default.]:seccomp-profile:'
        '--runtime[Runtime\: berth, runc or crun.]:runtime:'
        '--rootfs[Root file system directory.]:rootfs:'
        '--rm[Remove the container after it exits.]'
        '(-d --detach)'{-d,--detach}'[Do not wait for the container.]'
        '(-t --tty)'{-t,--tty}'[Allocate a terminal (not supported yet).]'
        '--log-uri[Where the task'\''s output goes\: file\:///path (JSON lines).]:log-uri:'
        ':id:'
        '*:args:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_berthctl_events() {
    local -i ret=1
    local -ar ___format=('table' 'json')
    local -ar arg_specs=(
        '(-a --address)'{-a,--address}'[Address of berthd'\''s socket (env BERTH_ADDRESS). Default\: /run/berth/berthd.sock]:address:'
        '(-n --namespace)'{-n,--namespace}'[Namespace to use (env BERTH_NAMESPACE). Default\: default]:namespace:'
        '--timeout[Seconds to wait for each call to berthd.]:timeout:'
        '--format[Output format\: table or json.]:format:{__berthctl_complete "${___format[@]}"}'
        '--since[Replay the events after this seq first, then follow.]:since:'
        '*:filters:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_berthctl_help() {
    local -i ret=1
    local -ar arg_specs=(
        '*:subcommands:'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

if [[ "${funcstack[1]}" = _berthctl ]]; then
    _berthctl "${@}"
else
    compdef _berthctl berthctl
fi
