#!/usr/bin/python3
"""Writes trafstat's bash completion at build time from the built binary's own `--help`
(cli_help.py): the commands, each command's options, the values of the options whose help lists
them (hooks, modes, sort keys, protocols... from the enums' name tables), files and directories
for FILE and DIR, and the interfaces of /sys/class/net for IFACE. The script stands alone: it
needs bash, not the bash-completion package's helpers (that package loads it, from
share/bash-completion/completions/trafstat).

    make_completion.py --trafstat build/trafstat --output build/trafstat.bash-completion
"""

import argparse
import shlex

import cli_help

HEADER = r"""# bash completion for trafstat(8). Generated from `trafstat --help` by scripts/make_completion.py
# at build time: do not edit.

# The interfaces of this network namespace.
_trafstat_interfaces()
{
    local names=(/sys/class/net/*)
    COMPREPLY+=($(compgen -W "${names[*]##*/}" -- "$1"))
}

_trafstat()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    # --sort=bps: bash splits the word at "=" (COMP_WORDBREAKS).
    if [[ $cur == = ]]; then
        cur=""
    elif [[ $prev == = && COMP_CWORD -ge 2 ]]; then
        prev=${COMP_WORDS[COMP_CWORD - 2]}
    fi
    COMPREPLY=()
    local command="" options positional
    if ((COMP_CWORD > 1)); then
        command=${COMP_WORDS[1]}
    fi
    case $command in
"""

FOOTER = r"""    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$options" -- "$cur"))
        return
    fi
    case $positional in
        IFACE) _trafstat_interfaces "$cur" ;;
        FILE) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")) ;;
    esac
    if ((COMP_CWORD == 1)); then
        COMPREPLY+=($(compgen -W "COMMANDS" -- "$cur"))
    fi
}

complete -F _trafstat trafstat
"""


def value_case(commands, command):
    """The `case $prev` arms of a command: what follows each option that takes a value."""
    arms, free = [], []
    for option in command.options:
        if not option.type_name:
            continue
        values = cli_help.values_of(commands, command, option)
        if values:
            action = f'COMPREPLY=($(compgen -W "{" ".join(values)}" -- "$cur"))'
        elif option.type_name in ("FILE", "DIR"):
            action = (
                f'compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -{option.type_name[0].lower()} -- "$cur"))'
            )
        else:
            free += option.flags  # a number, a duration, an address: the user's own
            continue
        arms.append(f"                {'|'.join(option.flags)}) {action}; return ;;")
    if free:
        arms.append(f"                {'|'.join(free)}) return ;;")
    return arms


def command_case(commands, command):
    flags = " ".join(flag for option in command.options for flag in option.flags)
    positional = command.positionals[0].name if command.positionals else ""
    lines = [f"        {command.name or '*'})"]
    lines.append(f"            options={shlex.quote(flags)}")
    lines.append(f"            positional={positional}")
    arms = value_case(commands, command)
    if arms:
        lines += ["            case $prev in"] + arms + ["            esac"]
    lines.append("            ;;")
    return lines


def completion(commands):
    # Live counting ("") last: its arm is the default (*).
    ordered = commands[1:] + commands[:1]
    body = [line for command in ordered for line in command_case(commands, command)]
    names = " ".join(command.name for command in commands[1:])
    return HEADER + "\n".join(body) + "\n" + FOOTER.replace("COMMANDS", names)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trafstat", required=True)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    with open(args.output, "w") as f:
        f.write(completion(cli_help.read_commands(args.trafstat)))


if __name__ == "__main__":
    main()
