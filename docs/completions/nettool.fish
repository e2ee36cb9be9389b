# nettool fish shell completion

function __fish_nettool_no_subcommand --description 'Test if there has been any subcommand yet'
    for i in (commandline -opc)
        if contains -- $i demo serve version completion help h help h
            return 1
        end
    end
    return 0
end

complete -c nettool -n '__fish_nettool_no_subcommand' -f -l help -s h -d 'show help'
complete -c nettool -n '__fish_nettool_no_subcommand' -f -l version -s V -d 'print the version and exit'
complete -c nettool -n '__fish_nettool_no_subcommand' -f -l help -s h -d 'show help'
complete -c nettool -n '__fish_nettool_no_subcommand' -f -l version -s V -d 'print the version and exit'
complete -c nettool -n '__fish_seen_subcommand_from demo' -f -l help -s h -d 'show help'
complete -r -c nettool -n '__fish_nettool_no_subcommand' -a 'demo' -d 'walk the tutorial\'s journey on loopback: resolve, ping, connect, GET, echo, myip (no internet needed)'
complete -c nettool -n '__fish_seen_subcommand_from demo' -f -l output -s o -r -d 'output format: text, json (one document) or jsonl (one object per line, streamed)'
complete -c nettool -n '__fish_seen_subcommand_from demo' -f -l json -d 'shortcut for --output json'
complete -c nettool -n '__fish_seen_subcommand_from demo' -f -l no-color -d 'no colour, even on a terminal (NO_COLOR works too)'
complete -c nettool -n '__fish_seen_subcommand_from demo' -f -l quiet -s q -d 'less chatter: results and summaries only'
complete -c nettool -n '__fish_seen_subcommand_from serve' -f -l help -s h -d 'show help'
complete -r -c nettool -n '__fish_nettool_no_subcommand' -a 'serve' -d 'run the tutorial\'s servers on loopback: dns, echo, http'
complete -c nettool -n '__fish_seen_subcommand_from version' -f -l help -s h -d 'show help'
complete -r -c nettool -n '__fish_nettool_no_subcommand' -a 'version' -d 'print version, commit and Go version (machine-readable with --json)'
complete -c nettool -n '__fish_seen_subcommand_from version' -f -l output -s o -r -d 'output format: text, json (one document) or jsonl (one object per line, streamed)'
complete -c nettool -n '__fish_seen_subcommand_from version' -f -l json -d 'shortcut for --output json'
complete -c nettool -n '__fish_seen_subcommand_from version' -f -l no-color -d 'no colour, even on a terminal (NO_COLOR works too)'
complete -c nettool -n '__fish_seen_subcommand_from version' -f -l quiet -s q -d 'less chatter: results and summaries only'
complete -c nettool -n '__fish_seen_subcommand_from completion' -f -l help -s h -d 'show help'
complete -r -c nettool -n '__fish_nettool_no_subcommand' -a 'completion' -d 'print a shell completion script: bash, zsh or fish'
complete -c nettool -n '__fish_seen_subcommand_from completion' -f -l output -s o -r -d 'output format: text, json (one document) or jsonl (one object per line, streamed)'
complete -c nettool -n '__fish_seen_subcommand_from completion' -f -l json -d 'shortcut for --output json'
complete -c nettool -n '__fish_seen_subcommand_from completion' -f -l no-color -d 'no colour, even on a terminal (NO_COLOR works too)'
complete -c nettool -n '__fish_seen_subcommand_from completion' -f -l quiet -s q -d 'less chatter: results and summaries only'
complete -c nettool -n '__fish_seen_subcommand_from completion' -f -l help -s h -d 'show help'
complete -c nettool -n '__fish_seen_subcommand_from help h' -f -l help -s h -d 'show help'
complete -r -c nettool -n '__fish_seen_subcommand_from completion' -a 'help h' -d 'Shows a list of commands or help for one command'
complete -c nettool -n '__fish_seen_subcommand_from help h' -f -l help -s h -d 'show help'
complete -r -c nettool -n '__fish_nettool_no_subcommand' -a 'help h' -d 'Shows a list of commands or help for one command'
