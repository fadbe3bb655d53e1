"""The command line as trafstat's own `--help` describes it, read into plain objects.

The man page (make_manpage.py) and the bash completion (make_completion.py) are generated from
this at build time, so neither can drift from the CLI: `--help` is printed from the option tables
of src/cli/options.cpp, and the value lists of HOOK, MODE, KEY... from the enums' name tables
(NameTable::described() and alternatives()).

What it reads is CLI11's help as trafstat formats it:

    Usage: trafstat replay [options] FILE
    <blank>
    <description>
    <blank>
    Positionals:
      FILE REQUIRED               pcap or pcapng file; - reads standard input
    <blank>
    Options:
      -i,--interval SECONDS       Also print one report per SECONDS ...
      --hook HOOK                 Where to count [default: xdp]:
                                    xdp         ingress, earliest: ...
    <blank>
    <footer: paragraphs, "Examples:" blocks>

Descriptions start in column 30; a longer name pushes its description to the next line.
"""

import re
import subprocess
from dataclasses import dataclass, field

# The subcommands, in the order of the top-level help's examples; "" is live counting.
COMMANDS = ("", "replay", "gen", "attach", "agent", "status", "dump", "detach", "control")
DESCRIPTION_COLUMN = 30
# A value list in a description: "bps, pps, bytes or packets", "tx (...) or pass (...)".
VALUE_WORD = re.compile(r"[a-z][a-z0-9-]*")


@dataclass
class Option:
    flags: list  # ["-i", "--interval"]
    type_name: str  # "SECONDS"; "" for a flag
    constraint: str  # "UINT in [16 - 67108864]" (CLI11's range), or ""
    lines: list  # the description, one entry per help line, value rows included

    @property
    def description(self):
        """The description's text before any value rows, on one line."""
        return " ".join(line for line in self.lines if not line.startswith("  "))

    @property
    def value_rows(self):
        """[(value, meaning)] of a described name table ("  xdp   ingress, ...")."""
        rows = []
        for line in self.lines:
            match = re.fullmatch(r"  (\S+)\s{2,}(.*)", line)
            if match:
                rows.append((match.group(1), match.group(2)))
        return rows

    @property
    def values(self):
        """The words the option takes, when its help lists them; [] otherwise."""
        if self.value_rows:
            return [value for value, _ in self.value_rows]
        if "|" in self.type_name:
            return self.type_name.split("|")
        # "... : a, b or c [default: a]": the text after the last colon, less parentheses and the
        # default, when it is nothing but a list of at least two lowercase words.
        text = re.sub(r"\[default:[^]]*\]", "", self.description)
        text = re.sub(r"\([^)]*\)", "", text)
        text = text.rsplit(":", 1)[-1]
        words = [word.strip() for word in re.split(r",|\bor\b", text)]
        if len(words) >= 2 and all(VALUE_WORD.fullmatch(word) for word in words):
            return words
        return []


@dataclass
class Positional:
    name: str  # "IFACE"
    repeated: bool  # IFACE ...
    required: bool
    description: str


@dataclass
class Example:
    command: str
    comment: str


@dataclass
class Command:
    name: str  # "" for live counting
    usage: str
    description: str
    positionals: list = field(default_factory=list)
    options: list = field(default_factory=list)
    paragraphs: list = field(default_factory=list)  # the footer's text, each a list of lines
    examples: list = field(default_factory=list)  # [(heading, [Example])]

    def option(self, flag):
        return next((o for o in self.options if flag in o.flags), None)


def values_of(commands, command, option):
    """What `option` of `command` takes: its own list, else that of the same flag in the first
    command that lists one (`control --hook` takes the hooks that live counting describes)."""
    if option.values:
        return option.values
    for other in commands:
        same = other.option(option.flags[-1])
        if same and same.type_name == option.type_name and same.values:
            return same.values
    return []


def help_text(trafstat, command):
    args = [trafstat] + ([command] if command else []) + ["--help"]
    return subprocess.run(args, stdout=subprocess.PIPE, text=True, check=True).stdout


def blocks(text):
    """The text's paragraphs: lists of lines, split at blank lines."""
    out, block = [], []
    for line in text.splitlines():
        if line.strip():
            block.append(line.rstrip())
        elif block:
            out.append(block)
            block = []
    if block:
        out.append(block)
    return out


def description_part(line):
    return line[DESCRIPTION_COLUMN:] if len(line) > DESCRIPTION_COLUMN else ""


def parse_options(lines):
    options = []
    for line in lines:
        if re.match(r"  -", line):
            # Names that fill the column push the description to the next line.
            inline = len(line) > DESCRIPTION_COLUMN and line[DESCRIPTION_COLUMN - 2 : DESCRIPTION_COLUMN] == "  "
            names = line[:DESCRIPTION_COLUMN] if inline else line
            head, _, rest = names.strip().partition(" ")
            # "N:UINT in [16 - 67108864]": CLI11 adds the range it checks to the type's name.
            type_name, constraint = re.fullmatch(r"(.*?)(?::([A-Z]+ in \[.*\]))?", rest).groups()
            option = Option(head.split(","), type_name, constraint or "", [])
            if inline:
                option.lines.append(description_part(line))
            options.append(option)
        elif options:
            options[-1].lines.append(description_part(line))
    return options


def parse_positionals(lines):
    positionals = []
    for line in lines:
        words = line[:DESCRIPTION_COLUMN].split()
        positionals.append(
            Positional(words[0], "..." in words[1:], "REQUIRED" in words[1:], description_part(line).strip())
        )
    return positionals


def parse_examples(block):
    """An "Examples:" block: a heading line, then "  command   comment" lines; None otherwise."""
    heading, rows = block[0], block[1:]
    if not heading.endswith(":") or not rows or not all(row.startswith("  ") for row in rows):
        return None
    examples = []
    for row in rows:
        command, *comment = re.split(r"\s{2,}", row.strip(), maxsplit=1)
        examples.append(Example(command, " ".join(comment)))
    return heading[:-1], examples


def parse_help(name, text):
    parts = blocks(text)
    usage = parts[0][0].removeprefix("Usage: ")
    command = Command(name, usage, " ".join(parts[1]))
    for block in parts[2:]:
        if command.examples and all(line.startswith("  ") for line in block):
            # More examples under the last heading, after a blank line.
            command.examples[-1][1].extend(parse_examples(["more:"] + block)[1])
        elif block[0] == "Positionals:":
            command.positionals = parse_positionals(block[1:])
        elif block[0] == "Options:":
            command.options = parse_options(block[1:])
        elif examples := parse_examples(block):
            command.examples.append(examples)
        else:
            command.paragraphs.append(block)
    return command


def read_commands(trafstat):
    """Every command of the binary, in COMMANDS order."""
    return [parse_help(name, help_text(trafstat, name)) for name in COMMANDS]
