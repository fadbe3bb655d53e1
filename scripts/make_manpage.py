#!/usr/bin/python3
"""Writes trafstat(8) at build time: the synopsis, the options of every command and the examples
from the built binary's own `--help` (cli_help.py), the exit status from docs/exit-codes.md, and
the hand-written sections of dist/man/sections.scd (FILES, SEE ALSO); scdoc (Debian package
scdoc) turns the whole into roff.

    make_manpage.py --trafstat build/trafstat --exit-codes docs/exit-codes.md
                    --sections dist/man/sections.scd --scdoc /usr/bin/scdoc --output build/trafstat.8
"""

import argparse
import re
import subprocess

import cli_help


def escape(text):
    """Text as scdoc prints it literally."""
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_")


def inline(text):
    """Markdown-ish text of the help and docs/ (`literal`, [link](target)) as scdoc: literals in
    bold, links as their text."""
    text = re.sub(r"\[([^]]*)\]\([^)]*\)", r"\1", text)
    parts = re.split(r"`([^`]*)`", text)
    return "".join(f"*{escape(part)}*" if i % 2 else escape(part) for i, part in enumerate(parts))


def usage(text):
    """A usage line with the command in bold and the arguments underlined."""
    out = []
    for word in text.split(" "):
        if word in ("trafstat",) + cli_help.COMMANDS:
            out.append(f"*{word}*")
        else:
            word = re.sub(r"--[a-z-]+", lambda m: f"*{m.group(0)}*", word)
            out.append(re.sub(r"\b(options|[A-Z]{2,})\b", r"_\1_", word))
    return " ".join(out)


def option_item(option):
    names = ", ".join(f"*{flag}*" for flag in option.flags)
    if option.type_name:
        names += f" _{escape(option.type_name)}_"
    description = inline(option.description)
    if option.constraint:
        # CLI11's "UINT in [16 - 67108864]": the range it checks.
        low_high = re.search(r"\[(\S+) - (\S+)\]", option.constraint)
        if low_high:
            description += f" From {low_high.group(1)} to {low_high.group(2)}."
    lines = [names, f"\t{description}"]
    lines += [f"\t- *{value}*: {inline(meaning)}" for value, meaning in option.value_rows]
    return lines + [""]


def command_body(command):
    """Description, arguments, options and the footer's notes of one command."""
    lines = [inline(command.description), ""]
    for positional in command.positionals:
        lines += [
            f"_{positional.name}_{'...' if positional.repeated else ''}",
            f"\t{inline(positional.description)}",
            "",
        ]
    for option in command.options:
        lines += option_item(option)
    for paragraph in command.paragraphs:
        lines += [inline(" ".join(line.strip() for line in paragraph)), ""]
    return lines


def exit_status(markdown):
    """The table of docs/exit-codes.md as a list of codes, then the notes after it."""
    lines = ["# EXIT STATUS", ""]
    rows = [line for line in markdown.splitlines() if re.match(r"\| \d+ \|", line)]
    for row in rows:
        code, meaning, example = [cell.strip() for cell in row.strip("|").split(" | ")]
        lines += [f"*{code}*", f"\t{inline(meaning)}"]
        if example:
            lines += ["", f"\tFor example: {inline(example.strip('`'))}"]
        lines.append("")
    notes = markdown.split(rows[-1], 1)[1]
    for paragraph in cli_help.blocks(notes):
        lines += [inline(" ".join(paragraph)), ""]
    return lines


def examples(commands):
    lines = ["# EXAMPLES", ""]
    for command in commands:
        for heading, items in command.examples:
            if heading != "Examples":
                lines += [inline(heading) + ":", ""]
            for item in items:
                lines += [f"*{escape(item.command)}*"]
                lines += [f"\t{inline(item.comment)}", ""] if item.comment else [""]
    return lines


def manpage(commands, version, exit_codes, sections):
    live = commands[0]
    name = live.description[0].lower() + live.description[1:].rstrip(".")
    lines = [f'trafstat(8) "{escape(version)}" "System Administration"', ""]
    lines += ["# NAME", "", f"trafstat - {inline(name)}", ""]
    lines += ["# SYNOPSIS", ""]
    for command in commands:
        lines += [usage(command.usage), ""]
    lines += ["# DESCRIPTION", ""] + command_body(live)[:2]
    lines += [
        "The commands below share the kernel program; each has its own options (*trafstat* _command_ *--help*).",
        "",
    ]
    lines += ["# OPTIONS", ""] + command_body(live)[2:]
    lines += ["# COMMANDS", ""]
    for command in commands[1:]:
        lines += [f"## {command.name}", "", usage(command.usage), ""] + command_body(command)
    lines += exit_status(exit_codes)
    # The hand-written sections, with the generated examples before SEE ALSO (man-pages(7) order).
    before, see_also = sections.split("# SEE ALSO", 1)
    return "\n".join(lines) + "\n" + before + "\n".join(examples(commands)) + "\n# SEE ALSO" + see_also


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trafstat", required=True)
    parser.add_argument("--exit-codes", required=True)
    parser.add_argument("--sections", required=True)
    parser.add_argument("--scdoc", required=True)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()

    commands = cli_help.read_commands(args.trafstat)
    version = subprocess.run([args.trafstat, "--version"], stdout=subprocess.PIPE, text=True, check=True).stdout
    with open(args.exit_codes) as f:
        exit_codes = f.read()
    with open(args.sections) as f:
        sections = f.read()
    source = manpage(commands, version.splitlines()[0].strip(), exit_codes, sections)
    with open(args.output + ".scd", "w") as f:
        f.write(source)
    with open(args.output, "w") as out:
        subprocess.run([args.scdoc], input=source, stdout=out, text=True, check=True)


if __name__ == "__main__":
    main()
