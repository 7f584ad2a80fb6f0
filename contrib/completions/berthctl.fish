function __berthctl_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __berthctl_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __berthctl_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __berthctl_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __berthctl_parse_tokens -S
    set -l unparsed_tokens (__berthctl_tokens -pc)
    switch $unparsed_tokens[1]
    case 'berthctl'
        __berthctl_parse_subcommand 0 'h/help'
        switch $unparsed_tokens[1]
        case 'version'
            __berthctl_parse_subcommand 0 'a/address=' 'n/namespace=' 'timeout=' 'format=' 'h/help'
        case 'info'
            __berthctl_parse_subcommand 0 'a/address=' 'n/namespace=' 'timeout=' 'format=' 'h/help'
        case 'namespaces'
            __berthctl_parse_subcommand 0 'h/help'
            switch $unparsed_tokens[1]
            case 'create'
                __berthctl_parse_subcommand -r 2 'a/address=' 'n/namespace=' 'timeout=' 'format=' 'h/help'
            case 'ls'
                __berthctl_parse_subcommand 0 'a/address=' 'n/namespace=' 'timeout=' 'format=' 'q/quiet' 'h/help'
            case 'rm'
                __berthctl_parse_subcommand -r 1 'a/address=' 'n/namespace=' 'timeout=' 'format=' 'h/help'
            case 'label'
                __berthctl_parse_subcommand -r 2 'a/address=' 'n/namespace=' 'timeout=' 'format=' 'h/help'
            end
        case 'snapshots'
            __berthctl_parse_subcommand 0 'h/help'
            switch $unparsed_tokens[1]
            case 'prepare'
                __berthctl_parse_subcommand 2 'a/address=' 'n/namespace=' 'timeout=' 'format=' 'snapshotter=' 'target=' 'h/help'
            case 'view'
                __berthctl_parse_subcommand 2 'a/address=' 'n/namespace=' 'timeout=' 'format=' 'snapshotter=' 'target=' 'h/help'
            case 'commit'
                __berthctl_parse_subcommand 2 'a/address=' 'n/namespace=' 'timeout=' 'format=' 'snapshotter=' 'h/help'
            case 'rm'
                __berthctl_parse_subcommand -r 1 'a/address=' 'n/namespace=' 'timeout=' 'format=' 'snapshotter=' 'h/help'
            case 'ls'
                __berthctl_parse_subcommand -r 1 'a/address=' 'n/namespace=' 'timeout=' 'format=' 'snapshotter=' 'h/help'
            case 'info'
                __berthctl_parse_subcommand 1 'a/address=' 'n/namespace=' 'timeout=' 'format=' 'snapshotter=' 'h/help'
            case 'usage'
                __berthctl_parse_subcommand 1 'a/address=' 'n/namespace=' 'timeout=' 'format=' 'snapshotter=' 'b' 'h/help'
            case 'tree'
                __berthctl_parse_subcommand 0 'a/address=' 'n/namespace=' 'timeout=' 'format=' 'snapshotter=' 'h/help'
            case 'label'
                __berthctl_parse_subcommand -r 2 'a/address=' 'n/namespace=' 'timeout=' 'format=' 'snapshotter=' 'h/help'
            case 'mounts'
                __berthctl_parse_subcommand 2 'a/address=' 'n/namespace=' 'timeout=' 'format=' 'snapshotter=' 'h/help'
            end
        case 'containers'
            __berthctl_parse_subcommand 0 'h/help'
            switch $unparsed_tokens[1]
            case 'create'
                __berthctl_parse_subcommand -r 2 'a/address=' 'n/namespace=' 'timeout=' 'format=' 'e/env=+' 'cwd=' 'u/user=' 'mount=+' 'net-host' 'hostname=' 'memory-limit=' 'cpus=' 'pids-limit=' 'cap-add=+' 'cap-drop=+' 'privileged' 'read-only' 'seccomp-profile=' 'runtime=' 'label=+' 'h/help'
            case 'ls'
                __berthctl_parse_subcommand 0 'a/address=' 'n/namespace=' 'timeout=' 'format=' 'q/quiet' 'h/help'
            case 'info'
                __berthctl_parse_subcommand 1 'a/address=' 'n/namespace=' 'timeout=' 'format=' 'h/help'
            case 'rm'
                __berthctl_parse_subcommand -r 1 'a/address=' 'n/namespace=' 'timeout=' 'format=' 'h/help'
            case 'label'
                __berthctl_parse_subcommand -r 2 'a/address=' 'n/namespace=' 'timeout=' 'format=' 'h/help'
            end
        case 'tasks'
            __berthctl_parse_subcommand 0 'h/help'
            switch $unparsed_tokens[1]
            case 'start'
                __berthctl_parse_subcommand 1 'a/address=' 'n/namespace=' 'timeout=' 'format=' 'rootfs=' 'log-uri=' 'h/help'
            case 'ls'
                __berthctl_parse_subcommand 0 'a/address=' 'n/namespace=' 'timeout=' 'format=' 'h/help'
            case 'kill'
                __berthctl_parse_subcommand 1 'a/address=' 'n/namespace=' 'timeout=' 'format=' 's/signal=' 'all' 'exec-id=' 'h/help'
            case 'ps'
                __berthctl_parse_subcommand 1 'a/address=' 'n/namespace=' 'timeout=' 'format=' 'h/help'
            case 'exec'
                __berthctl_parse_subcommand -r 2 'a/address=' 'n/namespace=' 'timeout=' 'format=' 'exec-id=' 'e/env=+' 'cwd=' 'd/detach' 'h/help'
            case 'pause'
                __berthctl_parse_subcommand 1 'a/address=' 'n/namespace=' 'timeout=' 'format=' 'h/help'
            case 'resume'
                __berthctl_parse_subcommand 1 'a/address=' 'n/namespace=' 'timeout=' 'format=' 'h/help'
            case 'rm'
                __berthctl_parse_subcommand -r 1 'a/address=' 'n/namespace=' 'timeout=' 'format=' 'h/help'
            case 'logs'
                __berthctl_parse_subcommand 1 'a/address=' 'n/namespace=' 'timeout=' 'format=' 'f/follow' 'h/help'
            end
        case 'run'
            __berthctl_parse_subcommand -r 2 'a/address=' 'n/namespace=' 'timeout=' 'format=' 'e/env=+' 'cwd=' 'u/user=' 'mount=+' 'net-host' 'hostname=' 'memory-limit=' 'cpus=' 'pids-limit=' 'cap-add=+' 'cap-drop=+' 'privileged' 'read-only' 'seccomp-profile=' 'runtime=' 'rootfs=' 'rm' 'd/detach' 't/tty' 'log-uri=' 'h/help'
        case 'events'
            __berthctl_parse_subcommand -r 1 'a/address=' 'n/namespace=' 'timeout=' 'format=' 'since=' 'h/help'
        case 'help'
            __berthctl_parse_subcommand -r 1 
        end
    end
end

function __berthctl_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __berthctl_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __berthctl_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __berthctl_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__berthctl_tokens -p)
    if test -z "$(__berthctl_tokens -t)"
        set -l index (count (__berthctl_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'berthctl' -f
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl" -eq 1' -fa 'version' -d 'Show the client and server versions.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl" -eq 1' -fa 'info' -d 'Show what berthd runs on and what it found.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl" -eq 1' -fa 'namespaces' -d 'Manage namespaces.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl" -eq 1' -fa 'snapshots' -d 'Manage snapshots (the layered file systems containers run on).'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl" -eq 1' -fa 'containers' -d 'Manage containers (metadata; their processes are tasks).'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl" -eq 1' -fa 'tasks' -d 'Manage tasks (the running processes of containers).'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl" -eq 1' -fa 'run' -d 'Run a container: berthctl run [flags] (IMAGE | --rootfs DIR) ID [CMD [ARG...]]'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl" -eq 1' -fa 'events' -d 'Print events as they happen, until interrupted.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl version" a address' -s 'a' -l 'address' -d 'Address of berthd\'s socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl version" n namespace' -s 'n' -l 'namespace' -d 'Namespace to use (env BERTH_NAMESPACE). Default: default' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl version" timeout' -l 'timeout' -d 'Seconds to wait for each call to berthd.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl version" format' -l 'format' -d 'Output format: table or json.' -rfka 'table json'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl version" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl info" a address' -s 'a' -l 'address' -d 'Address of berthd\'s socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl info" n namespace' -s 'n' -l 'namespace' -d 'Namespace to use (env BERTH_NAMESPACE). Default: default' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl info" timeout' -l 'timeout' -d 'Seconds to wait for each call to berthd.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl info" format' -l 'format' -d 'Output format: table or json.' -rfka 'table json'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl info" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl namespaces" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl namespaces" -eq 1' -fa 'create' -d 'Create a namespace with optional labels.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl namespaces" -eq 1' -fa 'ls' -d 'List namespaces.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl namespaces" -eq 1' -fa 'rm' -d 'Remove empty namespaces; each name is tried, and the exit status says if any failed.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl namespaces" -eq 1' -fa 'label' -d 'Set labels on a namespace; key= removes a label. Prints the resulting labels.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl namespaces create" a address' -s 'a' -l 'address' -d 'Address of berthd\'s socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl namespaces create" n namespace' -s 'n' -l 'namespace' -d 'Namespace to use (env BERTH_NAMESPACE). Default: default' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl namespaces create" timeout' -l 'timeout' -d 'Seconds to wait for each call to berthd.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl namespaces create" format' -l 'format' -d 'Output format: table or json.' -rfka 'table json'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl namespaces create" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl namespaces ls" a address' -s 'a' -l 'address' -d 'Address of berthd\'s socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl namespaces ls" n namespace' -s 'n' -l 'namespace' -d 'Namespace to use (env BERTH_NAMESPACE). Default: default' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl namespaces ls" timeout' -l 'timeout' -d 'Seconds to wait for each call to berthd.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl namespaces ls" format' -l 'format' -d 'Output format: table or json.' -rfka 'table json'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl namespaces ls" q quiet' -l 'quiet' -s 'q' -d 'Print only the names.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl namespaces ls" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl namespaces rm" a address' -s 'a' -l 'address' -d 'Address of berthd\'s socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl namespaces rm" n namespace' -s 'n' -l 'namespace' -d 'Namespace to use (env BERTH_NAMESPACE). Default: default' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl namespaces rm" timeout' -l 'timeout' -d 'Seconds to wait for each call to berthd.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl namespaces rm" format' -l 'format' -d 'Output format: table or json.' -rfka 'table json'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl namespaces rm" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl namespaces label" a address' -s 'a' -l 'address' -d 'Address of berthd\'s socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl namespaces label" n namespace' -s 'n' -l 'namespace' -d 'Namespace to use (env BERTH_NAMESPACE). Default: default' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl namespaces label" timeout' -l 'timeout' -d 'Seconds to wait for each call to berthd.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl namespaces label" format' -l 'format' -d 'Output format: table or json.' -rfka 'table json'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl namespaces label" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl snapshots" -eq 1' -fa 'prepare' -d 'Create an active snapshot on a committed parent.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl snapshots" -eq 1' -fa 'view' -d 'Create a read-only view of a committed snapshot.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl snapshots" -eq 1' -fa 'commit' -d 'Commit an active snapshot under a name.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl snapshots" -eq 1' -fa 'rm' -d 'Remove snapshots; each key is tried, and the exit status says if any failed.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl snapshots" -eq 1' -fa 'ls' -d 'List snapshots.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl snapshots" -eq 1' -fa 'info' -d 'Show a snapshot\'s info as JSON.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl snapshots" -eq 1' -fa 'usage' -d 'Show the disk usage of one or every snapshot (parents excluded).'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl snapshots" -eq 1' -fa 'tree' -d 'Show snapshots as a tree of parents and children.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl snapshots" -eq 1' -fa 'label' -d 'Set labels on a snapshot; key= removes a label. Prints the resulting labels.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl snapshots" -eq 1' -fa 'mounts' -d 'Print the mount command lines that mount a snapshot on TARGET.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots prepare" a address' -s 'a' -l 'address' -d 'Address of berthd\'s socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots prepare" n namespace' -s 'n' -l 'namespace' -d 'Namespace to use (env BERTH_NAMESPACE). Default: default' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots prepare" timeout' -l 'timeout' -d 'Seconds to wait for each call to berthd.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots prepare" format' -l 'format' -d 'Output format: table or json.' -rfka 'table json'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots prepare" snapshotter' -l 'snapshotter' -d 'The snapshotter to use.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots prepare" target' -l 'target' -d 'Print the mount command for this target.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots prepare" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots view" a address' -s 'a' -l 'address' -d 'Address of berthd\'s socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots view" n namespace' -s 'n' -l 'namespace' -d 'Namespace to use (env BERTH_NAMESPACE). Default: default' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots view" timeout' -l 'timeout' -d 'Seconds to wait for each call to berthd.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots view" format' -l 'format' -d 'Output format: table or json.' -rfka 'table json'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots view" snapshotter' -l 'snapshotter' -d 'The snapshotter to use.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots view" target' -l 'target' -d 'Print the mount command for this target.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots view" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots commit" a address' -s 'a' -l 'address' -d 'Address of berthd\'s socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots commit" n namespace' -s 'n' -l 'namespace' -d 'Namespace to use (env BERTH_NAMESPACE). Default: default' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots commit" timeout' -l 'timeout' -d 'Seconds to wait for each call to berthd.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots commit" format' -l 'format' -d 'Output format: table or json.' -rfka 'table json'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots commit" snapshotter' -l 'snapshotter' -d 'The snapshotter to use.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots commit" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots rm" a address' -s 'a' -l 'address' -d 'Address of berthd\'s socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots rm" n namespace' -s 'n' -l 'namespace' -d 'Namespace to use (env BERTH_NAMESPACE). Default: default' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots rm" timeout' -l 'timeout' -d 'Seconds to wait for each call to berthd.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots rm" format' -l 'format' -d 'Output format: table or json.' -rfka 'table json'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots rm" snapshotter' -l 'snapshotter' -d 'The snapshotter to use.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots rm" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots ls" a address' -s 'a' -l 'address' -d 'Address of berthd\'s socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots ls" n namespace' -s 'n' -l 'namespace' -d 'Namespace to use (env BERTH_NAMESPACE). Default: default' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots ls" timeout' -l 'timeout' -d 'Seconds to wait for each call to berthd.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots ls" format' -l 'format' -d 'Output format: table or json.' -rfka 'table json'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots ls" snapshotter' -l 'snapshotter' -d 'The snapshotter to use.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots ls" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots info" a address' -s 'a' -l 'address' -d 'Address of berthd\'s socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots info" n namespace' -s 'n' -l 'namespace' -d 'Namespace to use (env BERTH_NAMESPACE). Default: default' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots info" timeout' -l 'timeout' -d 'Seconds to wait for each call to berthd.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots info" format' -l 'format' -d 'Output format: table or json.' -rfka 'table json'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots info" snapshotter' -l 'snapshotter' -d 'The snapshotter to use.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots info" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots usage" a address' -s 'a' -l 'address' -d 'Address of berthd\'s socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots usage" n namespace' -s 'n' -l 'namespace' -d 'Namespace to use (env BERTH_NAMESPACE). Default: default' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots usage" timeout' -l 'timeout' -d 'Seconds to wait for each call to berthd.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots usage" format' -l 'format' -d 'Output format: table or json.' -rfka 'table json'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots usage" snapshotter' -l 'snapshotter' -d 'The snapshotter to use.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots usage" b' -s 'b' -d 'Print sizes in bytes.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots usage" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots tree" a address' -s 'a' -l 'address' -d 'Address of berthd\'s socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots tree" n namespace' -s 'n' -l 'namespace' -d 'Namespace to use (env BERTH_NAMESPACE). Default: default' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots tree" timeout' -l 'timeout' -d 'Seconds to wait for each call to berthd.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots tree" format' -l 'format' -d 'Output format: table or json.' -rfka 'table json'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots tree" snapshotter' -l 'snapshotter' -d 'The snapshotter to use.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots tree" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots label" a address' -s 'a' -l 'address' -d 'Address of berthd\'s socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots label" n namespace' -s 'n' -l 'namespace' -d 'Namespace to use (env BERTH_NAMESPACE). Default: default' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots label" timeout' -l 'timeout' -d 'Seconds to wait for each call to berthd.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots label" format' -l 'format' -d 'Output format: table or json.' -rfka 'table json'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots label" snapshotter' -l 'snapshotter' -d 'The snapshotter to use.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots label" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots mounts" a address' -s 'a' -l 'address' -d 'Address of berthd\'s socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots mounts" n namespace' -s 'n' -l 'namespace' -d 'Namespace to use (env BERTH_NAMESPACE). Default: default' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots mounts" timeout' -l 'timeout' -d 'Seconds to wait for each call to berthd.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots mounts" format' -l 'format' -d 'Output format: table or json.' -rfka 'table json'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots mounts" snapshotter' -l 'snapshotter' -d 'The snapshotter to use.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl snapshots mounts" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl containers" -eq 1' -fa 'create' -d 'Create a container: ID [CMD [ARG...]].'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl containers" -eq 1' -fa 'ls' -d 'List containers.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl containers" -eq 1' -fa 'info' -d 'Show a container as JSON.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl containers" -eq 1' -fa 'rm' -d 'Remove containers.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl containers" -eq 1' -fa 'label' -d 'Set labels on a container (key= removes).'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers create" a address' -s 'a' -l 'address' -d 'Address of berthd\'s socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers create" n namespace' -s 'n' -l 'namespace' -d 'Namespace to use (env BERTH_NAMESPACE). Default: default' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers create" timeout' -l 'timeout' -d 'Seconds to wait for each call to berthd.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers create" format' -l 'format' -d 'Output format: table or json.' -rfka 'table json'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers create"' -s 'e' -l 'env' -d 'Environment variable KEY=VALUE (repeatable).' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers create" cwd' -l 'cwd' -d 'Working directory of the process.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers create" u user' -s 'u' -l 'user' -d 'uid[:gid] of the process.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers create"' -l 'mount' -d 'Bind mount: type=bind,src=PATH,dst=PATH[,options=ro:rbind].' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers create" net-host' -l 'net-host' -d 'Use the host\'s network namespace.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers create" hostname' -l 'hostname' -d 'Hostname in the container.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers create" memory-limit' -l 'memory-limit' -d 'Memory limit in bytes.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers create" cpus' -l 'cpus' -d 'CPUs (e.g. 0.5).' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers create" pids-limit' -l 'pids-limit' -d 'Most processes in the container.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers create"' -l 'cap-add' -d 'Add a capability (e.g. CAP_NET_ADMIN).' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers create"' -l 'cap-drop' -d 'Drop a capability.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers create" privileged' -l 'privileged' -d 'All capabilities, all devices, no seccomp, no masked paths.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers create" read-only' -l 'read-only' -d 'Mount the root file system read-only.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers create" seccomp-profile' -l 'seccomp-profile' -d 'A seccomp profile (OCI linux.seccomp JSON) instead of the default.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers create" runtime' -l 'runtime' -d 'Runtime: berth, runc or crun.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers create"' -l 'label' -d 'Label key=value (repeatable).' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers create" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers ls" a address' -s 'a' -l 'address' -d 'Address of berthd\'s socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers ls" n namespace' -s 'n' -l 'namespace' -d 'Namespace to use (env BERTH_NAMESPACE). Default: default' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers ls" timeout' -l 'timeout' -d 'Seconds to wait for each call to berthd.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers ls" format' -l 'format' -d 'Output format: table or json.' -rfka 'table json'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers ls" q quiet' -l 'quiet' -s 'q' -d 'Print only ids.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers ls" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers info" a address' -s 'a' -l 'address' -d 'Address of berthd\'s socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers info" n namespace' -s 'n' -l 'namespace' -d 'Namespace to use (env BERTH_NAMESPACE). Default: default' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers info" timeout' -l 'timeout' -d 'Seconds to wait for each call to berthd.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers info" format' -l 'format' -d 'Output format: table or json.' -rfka 'table json'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers info" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers rm" a address' -s 'a' -l 'address' -d 'Address of berthd\'s socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers rm" n namespace' -s 'n' -l 'namespace' -d 'Namespace to use (env BERTH_NAMESPACE). Default: default' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers rm" timeout' -l 'timeout' -d 'Seconds to wait for each call to berthd.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers rm" format' -l 'format' -d 'Output format: table or json.' -rfka 'table json'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers rm" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers label" a address' -s 'a' -l 'address' -d 'Address of berthd\'s socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers label" n namespace' -s 'n' -l 'namespace' -d 'Namespace to use (env BERTH_NAMESPACE). Default: default' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers label" timeout' -l 'timeout' -d 'Seconds to wait for each call to berthd.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers label" format' -l 'format' -d 'Output format: table or json.' -rfka 'table json'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl containers label" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl tasks" -eq 1' -fa 'start' -d 'Start a container\'s task (detached, output to a log).'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl tasks" -eq 1' -fa 'ls' -d 'List tasks.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl tasks" -eq 1' -fa 'kill' -d 'Signal a task (default SIGTERM).'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl tasks" -eq 1' -fa 'ps' -d 'List a task\'s processes.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl tasks" -eq 1' -fa 'exec' -d 'Run a process in a task: --exec-id ID CONTAINER CMD...'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl tasks" -eq 1' -fa 'pause' -d 'Freeze a task.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl tasks" -eq 1' -fa 'resume' -d 'Thaw a paused task.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl tasks" -eq 1' -fa 'rm' -d 'Delete stopped tasks, printing their exit status.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_positional "berthctl tasks" -eq 1' -fa 'logs' -d 'Print a task\'s log (a --log-uri file); -f follows it.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks start" a address' -s 'a' -l 'address' -d 'Address of berthd\'s socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks start" n namespace' -s 'n' -l 'namespace' -d 'Namespace to use (env BERTH_NAMESPACE). Default: default' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks start" timeout' -l 'timeout' -d 'Seconds to wait for each call to berthd.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks start" format' -l 'format' -d 'Output format: table or json.' -rfka 'table json'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks start" rootfs' -l 'rootfs' -d 'Root file system directory.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks start" log-uri' -l 'log-uri' -d 'Where the output goes: file:///path.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks start" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks ls" a address' -s 'a' -l 'address' -d 'Address of berthd\'s socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks ls" n namespace' -s 'n' -l 'namespace' -d 'Namespace to use (env BERTH_NAMESPACE). Default: default' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks ls" timeout' -l 'timeout' -d 'Seconds to wait for each call to berthd.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks ls" format' -l 'format' -d 'Output format: table or json.' -rfka 'table json'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks ls" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks kill" a address' -s 'a' -l 'address' -d 'Address of berthd\'s socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks kill" n namespace' -s 'n' -l 'namespace' -d 'Namespace to use (env BERTH_NAMESPACE). Default: default' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks kill" timeout' -l 'timeout' -d 'Seconds to wait for each call to berthd.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks kill" format' -l 'format' -d 'Output format: table or json.' -rfka 'table json'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks kill" s signal' -l 'signal' -s 's' -d 'Signal name or number.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks kill" all' -l 'all' -d 'Signal every process of the task (-a is the global --address).'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks kill" exec-id' -l 'exec-id' -d 'Signal this exec\'d process instead.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks kill" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks ps" a address' -s 'a' -l 'address' -d 'Address of berthd\'s socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks ps" n namespace' -s 'n' -l 'namespace' -d 'Namespace to use (env BERTH_NAMESPACE). Default: default' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks ps" timeout' -l 'timeout' -d 'Seconds to wait for each call to berthd.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks ps" format' -l 'format' -d 'Output format: table or json.' -rfka 'table json'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks ps" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks exec" a address' -s 'a' -l 'address' -d 'Address of berthd\'s socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks exec" n namespace' -s 'n' -l 'namespace' -d 'Namespace to use (env BERTH_NAMESPACE). Default: default' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks exec" timeout' -l 'timeout' -d 'Seconds to wait for each call to berthd.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks exec" format' -l 'format' -d 'Output format: table or json.' -rfka 'table json'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks exec" exec-id' -l 'exec-id' -d 'Id of the new process.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks exec"' -s 'e' -l 'env' -d 'Environment variable KEY=VALUE.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks exec" cwd' -l 'cwd' -d 'Working directory.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks exec" d detach' -l 'detach' -s 'd' -d 'Return at once.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks exec" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks pause" a address' -s 'a' -l 'address' -d 'Address of berthd\'s socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks pause" n namespace' -s 'n' -l 'namespace' -d 'Namespace to use (env BERTH_NAMESPACE). Default: default' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks pause" timeout' -l 'timeout' -d 'Seconds to wait for each call to berthd.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks pause" format' -l 'format' -d 'Output format: table or json.' -rfka 'table json'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks pause" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks resume" a address' -s 'a' -l 'address' -d 'Address of berthd\'s socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks resume" n namespace' -s 'n' -l 'namespace' -d 'Namespace to use (env BERTH_NAMESPACE). Default: default' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks resume" timeout' -l 'timeout' -d 'Seconds to wait for each call to berthd.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks resume" format' -l 'format' -d 'Output format: table or json.' -rfka 'table json'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks resume" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks rm" a address' -s 'a' -l 'address' -d 'Address of berthd\'s socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks rm" n namespace' -s 'n' -l 'namespace' -d 'Namespace to use (env BERTH_NAMESPACE). Default: default' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks rm" timeout' -l 'timeout' -d 'Seconds to wait for each call to berthd.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks rm" format' -l 'format' -d 'Output format: table or json.' -rfka 'table json'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks rm" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks logs" a address' -s 'a' -l 'address' -d 'Address of berthd\'s socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks logs" n namespace' -s 'n' -l 'namespace' -d 'Namespace to use (env BERTH_NAMESPACE). Default: default' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks logs" timeout' -l 'timeout' -d 'Seconds to wait for each call to berthd.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks logs" format' -l 'format' -d 'Output format: table or json.' -rfka 'table json'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks logs" f follow' -l 'follow' -s 'f' -d 'Keep printing as the log grows.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl tasks logs" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl run" a address' -s 'a' -l 'address' -d 'Address of berthd\'s socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl run" n namespace' -s 'n' -l 'namespace' -d 'Namespace to use (env BERTH_NAMESPACE). Default: default' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl run" timeout' -l 'timeout' -d 'Seconds to wait for each call to berthd.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl run" format' -l 'format' -d 'Output format: table or json.' -rfka 'table json'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl run"' -s 'e' -l 'env' -d 'Environment variable KEY=VALUE (repeatable).' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl run" cwd' -l 'cwd' -d 'Working directory of the process.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl run" u user' -s 'u' -l 'user' -d 'uid[:gid] of the process.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl run"' -l 'mount' -d 'Bind mount: type=bind,src=PATH,dst=PATH[,options=ro:rbind].' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl run" net-host' -l 'net-host' -d 'Use the host\'s network namespace.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl run" hostname' -l 'hostname' -d 'Hostname in the container.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl run" memory-limit' -l 'memory-limit' -d 'Memory limit in bytes.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl run" cpus' -l 'cpus' -d 'CPUs (e.g. 0.5).' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl run" pids-limit' -l 'pids-limit' -d 'Most processes in the container.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl run"' -l 'cap-add' -d 'Add a capability (e.g. CAP_NET_ADMIN).' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl run"' -l 'cap-drop' -d 'Drop a capability.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl run" privileged' -l 'privileged' -d 'All capabilities, all devices, no seccomp, no masked paths.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl run" read-only' -l 'read-only' -d 'Mount the root file system read-only.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl run" seccomp-profile' -l 'seccomp-profile' -d 'A seccomp profile (OCI linux.seccomp JSON) instead of the default.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl run" runtime' -l 'runtime' -d 'Runtime: berth, runc or crun.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl run" rootfs' -l 'rootfs' -d 'Root file system directory.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl run" rm' -l 'rm' -d 'Remove the container after it exits.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl run" d detach' -s 'd' -l 'detach' -d 'Do not wait for the container.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl run" t tty' -s 't' -l 'tty' -d 'Allocate a terminal (not supported yet).'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl run" log-uri' -l 'log-uri' -d 'Where the task\'s output goes: file:///path (JSON lines).' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl run" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl events" a address' -s 'a' -l 'address' -d 'Address of berthd\'s socket (env BERTH_ADDRESS). Default: /run/berth/berthd.sock' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl events" n namespace' -s 'n' -l 'namespace' -d 'Namespace to use (env BERTH_NAMESPACE). Default: default' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl events" timeout' -l 'timeout' -d 'Seconds to wait for each call to berthd.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl events" format' -l 'format' -d 'Output format: table or json.' -rfka 'table json'
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl events" since' -l 'since' -d 'Replay the events after this seq first, then follow.' -rfka ''
complete -c 'berthctl' -n '__berthctl_should_offer_completions_for_flags_or_options "berthctl events" h help' -s 'h' -l 'help' -d 'Show help information.'
