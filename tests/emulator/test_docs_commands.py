"""Every command in the docs names something that exists (issue 17).

The docs tell a reader what to type: `make demo`, `make destroy
PIPELINE=<PipelineName> ARGS=--dry-run`, `cargo test -p integration --test
emulator`, `.venv/bin/python scripts/render_dashboard.py`, ... A target that
was renamed, a script that moved, an option that was dropped or a sample
event that was deleted leaves a doc that fails the reader at the first step.
This test reads every Markdown page of the project, takes out the commands in
it and checks, offline and without building or running anything, that what
each one names is there.

Which pages: every *.md under the repository root (os.walk, so a new page is
read by itself), except the git-ignored trees (.venv*, target, .demo,
node_modules, .git) and the pages in NOT_DOCS (with the reason).

Which commands:

* Fenced code blocks labelled sh, bash, shell, zsh or console (console: only
  the lines after a `$ ` prompt), and unlabelled blocks whose first line is a
  command (starts with `$ ` or with a program this test knows: make, cargo,
  bash, python, aws, ...). Diagrams, file trees, query languages, JSON, HTTP
  and Rust blocks are not commands. A block is read as the shell reads it:
  `\\` continues a line, so does an open quote or `$(`; `# comments` go;
  `;`, `&&`, `||`, `|` and `&` separate commands; `$( ... )` is a command of
  its own; redirections are not arguments (and a file a page writes with `>`
  may be read by a later command of that page); leading VAR=value
  assignments are the environment; a shell function a page defines
  (`out() { aws ...; }`) is a command of that page, and its body is checked.
* Inline code spans in the prose that start with one of those programs and
  have an argument (`make demo`, `cargo lambda invoke serve_predictions
  --data-file events/apigw-predictions.json`, `aws s3 cp ...`), and spans
  that set a Makefile variable which a recipe passes to a script, on their own
  (`ARGS=--dry-run`, `BENCH_ARGS="--runs 9"`: their options are checked
  against that script).
* <placeholder> and … are not names: `make destroy PIPELINE=<PipelineName>`
  checks the target and the variable, not the value.

What is checked:

* make: every target is a rule of the Makefile (not a variable's, not only
  .PHONY); every VAR=value is a variable the Makefile uses or sets; when a
  recipe of the goal (or of a prerequisite) passes $(VAR) unquoted to a
  Python script (ARGS to scripts/destroy.py, BENCH_ARGS to bench/bench.py),
  each --option in the value is one that script accepts; make's own options
  are limited to the harmless ones (-n, -s, -k, -j).
* cargo: the subcommand is one cargo (or cargo lambda: build, watch, invoke,
  deploy, new, init) has; -p/--package names a workspace member (Cargo.toml's
  members globs, each member's [package] name); --bin a binary and --test a
  test target of the workspace (of the -p package when there is one); `cargo
  lambda invoke NAME` a binary; clippy's lint levels (-D, -W, -A, -F) come
  after `--` (before it they are cargo check's, which rejects them).
* Scripts, run as `bash x.sh`, `python x.py`, `python3 x`,
  `.venv/bin/python x.py`, `../../.venv/bin/python ...`, or by their path
  (`scripts/x.sh`, `./train`, `bench/bench.py`): the file exists (from the
  repository root, or from the page's own directory), and is executable when
  it is run by its path; for a Python script
  with a subcommand table (a module-level COMMANDS dict, e.g.
  scripts/demo_aws.py) the subcommand is in it and the arguments fit its
  function's parameters; for an argparse script (scripts/destroy.py,
  bench/bench.py, scripts/render_dashboard.py, ...) every --option is one of
  its add_argument() names. Both are read from the script's source (ast), not
  by running it: nothing is imported or executed. The venv's python must be
  the repository's .venv (`make venv` makes it there); `python -m M` runs
  pytest, venv, pip or a module of the repository.
* External tools (EXTERNAL_TOOLS: sam, aws, docker, curl, git, jq) and shell
  builtins and POSIX utilities (SHELL: echo, cp, mkdir, kill, eval, ...) are
  recognised and not checked themselves.
* Every command, of any kind: an argument that is a path into the
  repository (its first component is there: events/..., examples/...,
  tests/emulator, ./train; also after @, file:// and fileb://, and after
  --option=) exists; a bare file name (template.yaml, sample-request.csv,
  msg.json) exists next to the page or at the root, or is written by a
  command of the same page.
* Anything else, a program this test does not know, fails with its page and
  line, unless it is in ALLOWED with the reason it cannot be checked: a new
  command in the docs is either checkable or listed on purpose.

test_self_check runs the checker on a small page of bad commands (a missing
make target, a missing script, a wrong demo_aws subcommand, unknown options,
a missing package and sample event, an unknown program) and good ones, and
requires each bad one, and nothing else, to be reported.

`.venv/bin/python tests/emulator/test_docs_commands.py` prints every command
found, with its kind (make, cargo, script, external, ...) and any problem.
"""

from __future__ import annotations

import ast
import functools
import os
import re
import shlex
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Directories never searched for pages: git-ignored or generated trees.
SKIPPED_DIRS = {".git", "target", ".demo", "node_modules"}  # and every .venv*

# Pages that are not instructions, each with why.
NOT_DOCS = {
    "CHANGELOG.md": "the history: it names commands as they were when each change was made",
}

# Programs run from outside the project: recognised, not checked (their
# path arguments into the repository still are).
EXTERNAL_TOOLS = {
    "sam": "the AWS SAM CLI",
    "aws": "the AWS CLI",
    "docker": "Docker",
    "curl": "curl",
    "git": "git",
    "jq": "jq (the dead-letter queue walkthrough)",
}

# Shell builtins and POSIX utilities: nothing of the project's to check.
SHELL = {
    "cd", "cat", "cp", "echo", "env", "eval", "export", "kill", "ls", "mkdir",
    "mv", "printf", "rm", "sleep", "source", "test", "true", "false", "unset", "wait",
}

# Commands this test cannot check, each with why. Keyed by the command as
# the page has it (after placeholders, without comments). Keep it short:
# test_allowed_entries_are_used fails on an entry no page has any more.
ALLOWED: dict[str, str] = {}

# Python modules run with `python -m`.
PYTHON_MODULES = {"pytest", "venv", "pip"}

# Extensions that make a bare argument a file name (checked to exist).
FILE_EXTENSIONS = {
    "csv", "json", "jsonl", "md", "py", "rs", "sh", "svg", "toml", "txt", "yaml", "yml",
}

SHELL_BLOCKS = {"sh", "bash", "shell", "zsh"}
CONSOLE_BLOCKS = {"console", "shell-session"}

CARGO_SUBCOMMANDS = {
    "bench", "b", "build", "c", "check", "clean", "clippy", "doc", "fix", "fmt",
    "lambda", "metadata", "r", "run", "t", "test", "tree", "update",
}
CARGO_LAMBDA_SUBCOMMANDS = {"build", "deploy", "init", "invoke", "new", "watch"}
# cargo lambda invoke's options that take a value (the function name is the
# first argument that is neither an option nor such a value).
CARGO_LAMBDA_INVOKE_VALUES = {
    "--data-file", "--data-ascii", "--data-example", "--invoke-address", "--invoke-port",
    "--alias", "--region", "--profile", "--endpoint-url", "--output-format", "--client-context",
    "-F", "-A", "-E", "-a", "-P", "-o",
}
CLIPPY_LINT_LEVELS = {"-D", "-W", "-A", "-F", "--deny", "--warn", "--allow", "--forbid"}

MAKE_FLAGS = {"-n", "--dry-run", "--just-print", "-s", "--silent", "-k", "--keep-going", "-B", "-q"}

ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
PLACEHOLDER = re.compile(r"<([A-Za-z][A-Za-z0-9 _.:/-]*)>")
SUBST = "__SUBST__"  # stands for a $( ... ) in its command's words
VENV_PYTHON = re.compile(r"^(?P<prefix>(?:\.\./)*)\.venv/bin/python3?(?:\.\d+)?$")
VENV_TOOL = re.compile(r"^(?:\.\./)*\.venv(?:-[\w-]+)?/bin/[\w.-]+$")
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\s]*)")
INLINE_CODE = re.compile(r"(?<!`)`((?:[^`\n]|\n(?![ \t]*\n))+)`(?!`)")


def is_placeholder(word: str) -> bool:
    return "‹" in word or "…" in word or SUBST in word or "$" in word


# --------------------------------------------------------------------------
# Pages and the commands in them
# --------------------------------------------------------------------------


def doc_files(root: Path = ROOT) -> list[Path]:
    pages = []
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d not in SKIPPED_DIRS and not d.startswith(".venv"))
        for name in sorted(files):
            path = Path(directory) / name
            if name.endswith(".md") and path.relative_to(root).as_posix() not in NOT_DOCS:
                pages.append(path)
    return sorted(pages)


@dataclass(frozen=True)
class Snippet:
    """One command line of a page, as the shell would read it."""

    doc: Path
    line: int
    text: str
    inline: bool


def first_word(line: str) -> str:
    words = line.split()
    while words and ASSIGNMENT.match(words[0]):
        words.pop(0)
    return words[0] if words else ""


def is_program(word: str) -> bool:
    return (
        word in {"make", "cargo", "bash", "sh", "python", "python3"}
        or word in EXTERNAL_TOOLS
        or bool(VENV_PYTHON.match(word) or VENV_TOOL.match(word))
        or word.startswith(("./", "scripts/", "bench/"))
    )


def logical_lines(body: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """A shell block's physical lines -> its command lines: continuations
    joined (a trailing backslash, an open quote, an open `$(`), comments gone."""
    out: list[tuple[int, str]] = []
    cur: list[str] = []
    start: int | None = None
    quote: str | None = None
    depth = 0
    for lineno, line in body:
        if start is None:
            if not line.strip():
                continue
            start = lineno
        i, continued = 0, False
        while i < len(line):
            c = line[i]
            if quote == "'":
                if c == "'":
                    quote = None
            elif quote == '"':
                if c == "\\" and i + 1 < len(line):
                    cur.append(c + line[i + 1])
                    i += 2
                    continue
                if c == '"':
                    quote = None
            else:
                if c == "\\" and i == len(line) - 1:
                    continued = True
                    break
                if c == "\\":
                    cur.append(line[i : i + 2])
                    i += 2
                    continue
                if c in "'\"":
                    quote = c
                elif c == "#" and (i == 0 or line[i - 1].isspace()):
                    break
                elif c == "$" and line[i + 1 : i + 2] == "(":
                    depth += 1
                    cur.append("$(")
                    i += 2
                    continue
                elif c == "(" and depth:
                    depth += 1
                elif c == ")" and depth:
                    depth -= 1
            cur.append(c)
            i += 1
        if continued or quote or depth:
            cur.append("\n" if quote else " ")
            continue
        text = "".join(cur).strip()
        if text:
            out.append((start, text))
        cur, start = [], None
    if start is not None and "".join(cur).strip():
        out.append((start, "".join(cur).strip()))  # unterminated: checked as it is
    return out


def snippets(doc: Path, text: str | None = None) -> list[Snippet]:
    """Every command of a page: its shell blocks' lines and its inline ones."""
    if text is None:
        text = doc.read_text(encoding="utf-8")
    lines = text.splitlines()
    prose = list(lines)
    found: list[Snippet] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info, indent = m["fence"], m["info"].lower(), len(m["indent"])
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        j = i + 1
        while j < len(lines) and not closing.match(lines[j]):
            j += 1
        body = [(n + 1, lines[n][indent:] if lines[n][:indent].isspace() else lines[n].lstrip()) for n in range(i + 1, j)]
        for n in range(i, min(j + 1, len(lines))):
            prose[n] = ""
        i = j + 1
        mode = None
        if info in SHELL_BLOCKS:
            mode = "sh"
        elif info in CONSOLE_BLOCKS:
            mode = "console"
        elif info == "":
            head = next((t.strip() for _, t in body if t.strip()), "")
            if head.startswith("$ "):
                mode = "console"
            elif is_program(first_word(head)):
                mode = "sh"
        if mode == "console":
            kept, prompt = [], False
            for n, t in body:
                if t.startswith("$ "):
                    kept.append((n, t[2:]))
                    prompt = t.rstrip().endswith("\\")
                elif prompt:
                    kept.append((n, t))
                    prompt = t.rstrip().endswith("\\")
            body = kept
        if mode:
            found += [Snippet(doc, n, t, False) for n, t in logical_lines(body)]
    # Inline code spans of the prose (fenced blocks blanked; spans may wrap).
    prose_text = "\n".join(prose)
    for m in INLINE_CODE.finditer(prose_text):
        span = " ".join(m[1].split())
        line = prose_text.count("\n", 0, m.start()) + 1
        words = span.split()
        if not words:
            continue
        if (is_program(first_word(span)) and len(words) > 1 and not ASSIGNMENT.match(words[0])) or (
            all(ASSIGNMENT.match(w) for w in shlex_words(span) or ["-"]) and makefile_variable_span(span)
        ):
            found.append(Snippet(doc, line, span, True))
    return sorted(found, key=lambda s: s.line)


def shlex_words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return []


def makefile_variable_span(span: str) -> bool:
    """`ARGS=--dry-run`: sets a variable the Makefile passes to a script."""
    words = shlex_words(span)
    mk = makefile()
    return bool(words) and all(mk.scripts_for(w.split("=", 1)[0]) for w in words)


# --------------------------------------------------------------------------
# Shell words
# --------------------------------------------------------------------------


def extract_substitutions(text: str) -> tuple[str, list[str]]:
    """Each outermost $( ... ) -> SUBST, and the commands inside them."""
    out: list[str] = []
    inner: list[str] = []
    quote: str | None = None
    i = 0
    while i < len(text):
        c = text[i]
        if quote == "'":
            quote = None if c == "'" else quote
        elif c == "\\":
            out.append(text[i : i + 2])
            i += 2
            continue
        elif c == "'" and quote is None:
            quote = "'"
        elif c == '"':
            quote = None if quote == '"' else '"'
        elif c == "$" and text[i + 1 : i + 2] == "(":
            depth, j, q = 1, i + 2, None
            while j < len(text) and depth:
                d = text[j]
                if q:
                    q = None if d == q else q
                elif d in "'\"":
                    q = d
                elif d == "(":
                    depth += 1
                elif d == ")":
                    depth -= 1
                j += 1
            inner.append(text[i + 2 : j - 1])
            out.append(SUBST)
            i = j
            continue
        out.append(c)
        i += 1
    return "".join(out), inner


@dataclass
class Parsed:
    commands: list[list[str]] = field(default_factory=list)  # words, assignments first
    writes: list[str] = field(default_factory=list)  # redirection targets (>, >>)
    functions: list[str] = field(default_factory=list)  # shell functions defined: name() { ...; }
    error: str | None = None


def parse_shell(text: str) -> Parsed:
    parsed = Parsed()
    text, inner = extract_substitutions(text)
    text = PLACEHOLDER.sub(lambda m: "‹" + m[1].replace(" ", "_") + "›", text)
    lex = shlex.shlex(text, posix=True, punctuation_chars=True)
    lex.whitespace_split = True
    lex.commenters = ""
    try:
        tokens = list(lex)
    except ValueError as err:
        parsed.error = f"cannot be read as a shell command: {err}"
        return parsed
    cur: list[str] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if not cur and i + 1 < len(tokens) and tokens[i + 1] == "()":  # a function: its body's commands are checked
            parsed.functions.append(t)
            i += 2
            continue
        if not cur and t in ("{", "}"):  # a function's body, or a group
            i += 1
            continue
        if t and set(t) <= set("();<>|&"):
            if "<" in t or ">" in t:
                if ">" in t and i + 1 < len(tokens):
                    parsed.writes.append(tokens[i + 1])
                i += 2
                continue
            if cur:
                parsed.commands.append(cur)
            cur = []
            i += 1
            continue
        cur.append(t)
        i += 1
    if cur:
        parsed.commands.append(cur)
    for sub in inner:
        p = parse_shell(sub)
        parsed.commands += p.commands
        parsed.writes += p.writes
        parsed.functions += p.functions
        parsed.error = parsed.error or p.error
    return parsed


# --------------------------------------------------------------------------
# What the project has: Makefile, Cargo workspace, scripts
# --------------------------------------------------------------------------


@dataclass
class Makefile:
    path: Path
    targets: set[str]
    prerequisites: dict[str, list[str]]
    recipes: dict[str, list[str]]
    variables: set[str]
    default_goal: str | None

    def goals_closure(self, goals: list[str]) -> list[str]:
        seen: list[str] = []
        todo = list(goals)
        while todo:
            g = todo.pop()
            if g not in seen:
                seen.append(g)
                todo += self.prerequisites.get(g, [])
        return seen

    def scripts_for(self, variable: str, goals: list[str] | None = None) -> set[str]:
        """The Python scripts to which the recipes of goals (and of their
        prerequisites; all recipes when goals is None) pass $(variable)
        unquoted, i.e. split into options."""
        names = self.goals_closure(goals) if goals is not None else list(self.recipes)
        ref = re.compile(rf"(?<![\"'])\$[({{]{re.escape(variable)}[)}}]")
        scripts = set()
        for name in names:
            for line in self.recipes.get(name, []):
                if ref.search(line):
                    scripts |= {s for s in re.findall(r"[\w./-]+\.py\b", line) if "$" not in s}
        return scripts


@functools.cache
def makefile(root: Path = ROOT) -> Makefile:
    path = root / "Makefile"
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    targets: set[str] = set()
    prerequisites: dict[str, list[str]] = {}
    recipes: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("\t"):
            for t in current:
                recipes.setdefault(t, []).append(line.strip())
            continue
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        rule = re.match(r"^([^:=#\s][^:=#]*?)\s*::?(?!=)\s*([^;=]*)", line)
        if rule and not re.match(r"^\s*[\w.]+\s*[?:+!]?=", line):
            current = [t for t in rule[1].split() if "$" not in t and "%" not in t]
            for t in current:
                if not t.startswith("."):
                    targets.add(t)
                prerequisites.setdefault(t, []).extend(p for p in rule[2].split() if "$" not in p)
        else:
            current = []
    variables = set(re.findall(r"\$[({]([A-Za-z_][A-Za-z0-9_]*)[)}]", text))
    variables |= set(re.findall(r"^\s*(?:override\s+|export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*[?:+!]?=", text, re.M))
    goal = re.search(r"^\.DEFAULT_GOAL\s*:?=\s*(\S+)", text, re.M)
    default = goal[1] if goal else next((t for t in prerequisites if not t.startswith(".")), None)
    return Makefile(path, targets, prerequisites, recipes, variables, default)


@dataclass
class Workspace:
    packages: dict[str, Path]  # name -> directory
    bins: dict[str, set[str]]  # package -> binaries
    tests: dict[str, set[str]]  # package -> integration test targets


@functools.cache
def workspace(root: Path = ROOT) -> Workspace:
    manifest = tomllib.loads((root / "Cargo.toml").read_text(encoding="utf-8"))
    ws = manifest.get("workspace", {})
    dirs: list[Path] = []
    for pattern in ws.get("members", []):
        dirs += sorted(p for p in root.glob(pattern) if (p / "Cargo.toml").is_file())
    excluded = {(root / e).resolve() for e in ws.get("exclude", [])}
    if "package" in manifest:
        dirs.insert(0, root)
    packages, bins, tests = {}, {}, {}
    for d in dirs:
        if d.resolve() in excluded:
            continue
        toml = tomllib.loads((d / "Cargo.toml").read_text(encoding="utf-8"))
        name = toml["package"]["name"]
        packages[name] = d
        b = {t["name"] for t in toml.get("bin", []) if "name" in t}
        if (d / "src" / "main.rs").is_file():
            b.add(name)
        b |= {p.stem for p in (d / "src" / "bin").glob("*.rs")}
        bins[name] = b
        t = {t["name"] for t in toml.get("test", []) if "name" in t}
        t |= {p.stem for p in (d / "tests").glob("*.rs")}
        t |= {p.parent.name for p in (d / "tests").glob("*/main.rs")}
        tests[name] = t
    return Workspace(packages, bins, tests)


@dataclass
class ScriptInfo:
    options: set[str] | None  # argparse option strings; None: no argparse
    commands: dict[str, tuple[int, int | None]] | None  # subcommand -> (min, max) arguments


@functools.cache
def script_info(path: Path) -> ScriptInfo:
    """What a Python script accepts, from its source: nothing is run."""
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ScriptInfo(None, None)
    if path.suffix != ".py" and "python" not in source.split("\n", 1)[0]:
        return ScriptInfo(None, None)
    tree = ast.parse(source)
    options: set[str] | None = None
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    subparsers: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, (ast.Attribute, ast.Name)):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
            if name == "ArgumentParser":
                options = (options or set()) | {"-h", "--help"}
            elif name == "add_argument":
                options = (options or set()) | {
                    a.value for a in node.args if isinstance(a, ast.Constant) and str(a.value).startswith("-")
                }
            elif name == "add_parser" and node.args and isinstance(node.args[0], ast.Constant):
                subparsers.add(node.args[0].value)
    commands: dict[str, tuple[int, int | None]] | None = None
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        if (
            isinstance(target, ast.Name)
            and re.fullmatch(r"[A-Z_]*COMMANDS", target.id)
            and isinstance(getattr(node, "value", None), ast.Dict)
        ):
            commands = {}
            for key, value in zip(node.value.keys, node.value.values):
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    fn = functions.get(value.id) if isinstance(value, ast.Name) else None
                    if fn is None:
                        commands[key.value] = (0, None)
                    else:
                        positional = fn.args.posonlyargs + fn.args.args
                        least = len(positional) - len(fn.args.defaults)
                        commands[key.value] = (least, None if fn.args.vararg else len(positional))
    if subparsers:
        commands = {**(commands or {}), **{s: (0, None) for s in subparsers}}
    return ScriptInfo(options, commands)


# --------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------


@dataclass
class Verdict:
    kind: str
    problems: list[str]


class Checker:
    """Checks the commands of one page; bases are where its relative paths
    may start: the repository root, and the page's directory."""

    def __init__(self, doc: Path, written: set[str], root: Path = ROOT, functions: set[str] = frozenset()) -> None:
        self.root = root
        self.doc = doc
        self.bases = [root] + ([doc.parent] if doc.parent != root else [])
        self.written = written
        self.functions = functions  # shell functions the page defines

    def rel(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    # paths -------------------------------------------------------------

    def path_problem(self, token: str) -> str | None:
        t = token
        if t.startswith("-"):
            if "=" not in t:
                return None
            t = t.split("=", 1)[1]
        for prefix in ("fileb://", "file://", "@"):
            if t.startswith(prefix):
                t = t[len(prefix) :]
                break
        if not t or is_placeholder(t) or re.search(r"[*?\[\]{}<>:,=\s'\"]", t) or t.startswith(("/", "~")):
            return None
        if "/" in t.rstrip("/"):
            first = t.split("/")[0]
            homes = self.bases if first in (".", "..") else [b for b in self.bases if (b / first).exists()]
            if not homes or any((b / t).exists() for b in homes):
                return None
            return f"{t}: no such file or directory in the repository"
        ext = t.rsplit(".", 1)[1].lower() if "." in t.strip(".") else ""
        if ext not in FILE_EXTENSIONS or t in self.written or any((b / t).exists() for b in self.bases):
            return None
        return f"{t}: no such file at the root or next to the page, and no command of the page writes it"

    def paths(self, words: list[str]) -> list[str]:
        return [p for p in map(self.path_problem, words) if p]

    def find(self, script: str) -> Path | None:
        return next((b / script for b in self.bases if (b / script).is_file()), None)

    # scripts -----------------------------------------------------------

    def script_args(self, path: Path, args: list[str], via: str = "") -> list[str]:
        info = script_info(path)
        name = self.rel(path) + (f" (through {via})" if via else "")
        problems = []
        if info.commands is not None and not via:
            if not args:
                problems.append(f"{name} needs a subcommand: {', '.join(sorted(info.commands))}")
            elif not is_placeholder(args[0]):
                if args[0] not in info.commands:
                    problems.append(f"{name} has no subcommand {args[0]!r} (its COMMANDS: {', '.join(info.commands)})")
                else:
                    least, most = info.commands[args[0]]
                    n = len(args) - 1
                    if n < least or (most is not None and n > most):
                        want = f"{least}" if least == most else f"{least} to {most if most is not None else 'any'}"
                        problems.append(f"{name} {args[0]} takes {want} arguments, not {n}")
        if info.options is not None:
            for a in args:
                if a == "--":
                    break
                if a.startswith("-") and not re.match(r"^-\d", a) and not is_placeholder(a):
                    option = a.split("=", 1)[0]
                    if option not in info.options:
                        problems.append(f"{name} has no option {option}")
        return problems

    def script(self, script: str, args: list[str]) -> list[str]:
        if is_placeholder(script):
            return []
        path = self.find(script)
        if path is None:
            return [f"{script}: no such script"]
        return self.script_args(path, args) + self.paths(args)

    # programs ----------------------------------------------------------

    def make(self, args: list[str]) -> list[str]:
        mk = makefile(self.root)
        problems: list[str] = []
        goals: list[str] = []
        assignments: dict[str, str] = {}
        i = 0
        while i < len(args):
            a = args[i]
            if a.startswith("-"):
                if a == "-j" and i + 1 < len(args) and args[i + 1].isdigit():
                    i += 1
                elif not (a in MAKE_FLAGS or re.fullmatch(r"-j\d*|--jobs(=\d+)?", a)):
                    problems.append(f"make option {a} is not one this test knows to be harmless")
            elif ASSIGNMENT.match(a):
                name, value = a.split("=", 1)
                if name not in mk.variables:
                    problems.append(f"the Makefile has no variable {name}")
                assignments[name] = value
            elif not is_placeholder(a):
                goals.append(a)
                if a not in mk.targets:
                    problems.append(f"the Makefile has no target {a!r}")
            i += 1
        problems += self.make_variables(assignments, goals or ([mk.default_goal] if mk.default_goal else []))
        return problems

    def make_variables(self, assignments: dict[str, str], goals: list[str] | None) -> list[str]:
        problems = []
        mk = makefile(self.root)
        for name, value in assignments.items():
            for script in sorted(mk.scripts_for(name, goals)):
                path = self.root / script
                if path.is_file():
                    problems += self.script_args(path, shlex_words(value), via=name)
        return problems

    def cargo(self, args: list[str]) -> list[str]:
        ws = workspace(self.root)
        args = list(args)
        if args and args[0].startswith("+"):
            args.pop(0)
        if not args:
            return ["cargo without a subcommand"]
        sub = args.pop(0)
        if sub not in CARGO_SUBCOMMANDS:
            return [f"cargo has no subcommand {sub!r} (known here: {', '.join(sorted(CARGO_SUBCOMMANDS))})"]
        problems: list[str] = []
        cut = args.index("--") if "--" in args else len(args)
        before = args[:cut]
        all_bins = set().union(*ws.bins.values()) if ws.bins else set()
        if sub == "lambda":
            if not before:
                return []
            lsub = before.pop(0)
            if lsub not in CARGO_LAMBDA_SUBCOMMANDS:
                return [f"cargo lambda has no subcommand {lsub!r} ({', '.join(sorted(CARGO_LAMBDA_SUBCOMMANDS))})"]
            if lsub == "invoke":
                i = 0
                while i < len(before):
                    a = before[i]
                    if a in CARGO_LAMBDA_INVOKE_VALUES:
                        i += 2
                        continue
                    if not a.startswith("-"):
                        if not is_placeholder(a) and a not in all_bins:
                            problems.append(f"cargo lambda invoke {a}: no binary {a!r} in the workspace")
                        break
                    i += 1
        packages: list[str] = []
        i = 0
        while i < len(before):
            a, value = before[i], None
            for long, short in (("--package", "-p"), ("--bin", None), ("--test", None)):
                if a == long or (short and a == short):
                    value = before[i + 1] if i + 1 < len(before) else ""
                    i += 1
                elif a.startswith(long + "="):
                    value = a.split("=", 1)[1]
                elif short and a.startswith(short) and len(a) > 2 and not a.startswith("--"):
                    value = a[2:]
                else:
                    continue
                if is_placeholder(value):
                    break
                if long == "--package":
                    packages.append(value)
                    if value not in ws.packages:
                        problems.append(f"{a} {value}: no package {value!r} in the workspace ({', '.join(sorted(ws.packages))})")
                elif long == "--bin":
                    if value not in all_bins:
                        problems.append(f"--bin {value}: no binary {value!r} in the workspace")
                else:
                    scope = [p for p in packages if p in ws.tests] or list(ws.tests)
                    if not any(value in ws.tests[p] for p in scope):
                        problems.append(f"--test {value}: no test target {value!r} in {', '.join(scope)}")
                break
            if sub == "clippy" and a in CLIPPY_LINT_LEVELS:
                problems.append(f"clippy's {a} goes after `--` (cargo clippy -- {a} ...): before it, it is cargo check's, which has no {a}")
            i += 1
        return problems + self.paths(args)

    def python(self, interpreter: str, args: list[str]) -> list[str]:
        problems = []
        m = VENV_PYTHON.match(interpreter)
        if m and not any((b / (m["prefix"] or ".")).resolve() == self.root.resolve() for b in self.bases):
            problems.append(f"{interpreter}: not the repository's .venv (where `make venv` makes it)")
        i = 0
        while i < len(args):
            a = args[i]
            if a == "-m":
                module = args[i + 1] if i + 1 < len(args) else ""
                local = any(
                    (b / module.replace(".", "/")).with_suffix(".py").is_file()
                    or (b / module.replace(".", "/") / "__init__.py").is_file()
                    for b in self.bases
                )
                if module.split(".")[0] not in PYTHON_MODULES and not local:
                    problems.append(f"python -m {module}: a module this test does not know")
                return problems + self.paths(args[i + 2 :])
            if a == "-c":
                return problems
            if a in ("-W", "-X"):
                i += 2
                continue
            if a.startswith("-"):
                i += 1
                continue
            return problems + self.script(a, args[i + 1 :])
        return problems

    def check(self, words: list[str], inline: bool = False) -> Verdict:
        env = []
        while words and ASSIGNMENT.match(words[0]):
            env.append(words[0])
            words = words[1:]
        if not words:
            if inline:  # ARGS=--dry-run: options for the script the Makefile passes them to
                values = dict(w.split("=", 1) for w in env)
                return Verdict("make variable", self.make_variables(values, None))
            return Verdict("assignment", [])
        program, args = words[0], words[1:]
        text = " ".join(words)
        if text in ALLOWED:
            return Verdict("allowed", [])
        if program == "make":
            return Verdict("make", self.make(args))
        if program == "cargo":
            return Verdict("cargo", self.cargo(args))
        if program in ("bash", "sh"):
            rest = [a for a in args if not a.startswith("-")]
            if "-c" in args:
                return Verdict("script", [])
            return Verdict("script", self.script(rest[0], rest[1:]) if rest else [])
        if program in ("python", "python3") or VENV_PYTHON.match(program):
            return Verdict("python", self.python(program, args))
        if VENV_TOOL.match(program):
            return Verdict("venv tool", self.paths(args))
        if program in EXTERNAL_TOOLS:
            return Verdict("external", self.paths(args))
        if program in SHELL:
            return Verdict("shell", self.paths(args))
        if program in self.functions:
            return Verdict("shell function", self.paths(args))
        if "/" in program:
            path = None if is_placeholder(program) else self.find(program)
            if path is not None and not os.access(path, os.X_OK):
                return Verdict("script", [f"{program} is run by its path, but it is not executable: run it with its interpreter, or through make"])
            return Verdict("script", self.script(program, args))
        return Verdict(
            "unclassified",
            [f"{program}: a program this test does not know: make it checkable, or add the command to ALLOWED with why"],
        )


@dataclass(frozen=True)
class Finding:
    snippet: Snippet
    command: str
    kind: str
    problems: tuple[str, ...]


def check_page(doc: Path, text: str | None = None, root: Path = ROOT) -> list[Finding]:
    found = snippets(doc, text)
    parsed = [(s, parse_shell(s.text)) for s in found]
    written = {w for _, p in parsed for w in p.writes}
    functions = {f for _, p in parsed for f in p.functions}
    checker = Checker(doc, written, root, functions)
    findings = []
    for s, p in parsed:
        if p.error:
            findings.append(Finding(s, s.text, "unreadable", (p.error,)))
        for words in p.commands:
            verdict = checker.check(words, inline=s.inline)
            findings.append(Finding(s, " ".join(words), verdict.kind, tuple(verdict.problems)))
    return findings


def report(findings: list[Finding], root: Path = ROOT) -> list[str]:
    lines = []
    for f in findings:
        where = f"{f.snippet.doc.relative_to(root).as_posix()}:{f.snippet.line}"
        lines += [f"{where}: `{f.command}`: {p}" for p in f.problems]
    return lines


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------

PAGES = doc_files()


@pytest.mark.parametrize("doc", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_doc_commands_name_what_exists(doc: Path) -> None:
    problems = report(check_page(doc))
    assert not problems, "commands in the docs that name what is not there:\n" + "\n".join(problems)


def test_the_docs_are_read() -> None:
    """The pages the issue names are found, and commands are found in them."""
    names = {p.relative_to(ROOT).as_posix() for p in PAGES}
    expected = {"README.md", "CONTRIBUTING.md", "SECURITY.md", "events/README.md", "tests/emulator/README.md"}
    expected |= {p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md")}
    expected |= {p.relative_to(ROOT).as_posix() for p in ROOT.glob("examples/*/README.md")}
    assert expected <= names, f"pages not read: {sorted(expected - names)}"
    assert not any(n.startswith((".venv", "target/", ".demo/")) for n in names)
    commands = {(f.snippet.doc.name, f.command) for p in PAGES for f in check_page(p)}
    assert ("README.md", "make demo") in commands
    assert ("CONTRIBUTING.md", "make test") in commands


def test_allowed_entries_are_used() -> None:
    used = {f.command for p in PAGES for f in check_page(p) if f.kind == "allowed"}
    assert not set(ALLOWED) - used, f"ALLOWED entries no page has any more: {sorted(set(ALLOWED) - used)}"


SAMPLE = """\
# A page of commands, good and bad

```sh
make no-such-target                                   # 4: no such target
bash scripts/no_such_script.sh                        # 5: no such script
.venv/bin/python scripts/demo_aws.py no-such-command  # 6: no such subcommand
.venv/bin/python scripts/destroy.py --pipeline x --no-such-option  # 7: no such option
make destroy PIPELINE=mlops ARGS="--dry-run --also-no-such-option"  # 8: through ARGS
cargo test -p no_such_package                         # 9: no such package
cargo lambda invoke serve_predictions --data-file events/no-such-event.json  # 10
frobnicate --now                                      # 11: unknown program
make demo && .venv/bin/python scripts/demo_aws.py field A B  # 12 to 15: good
cargo lambda invoke serve_predictions --data-file events/apigw-predictions.json
aws s3 cp examples/diabetes-regression/data/diabetes.csv s3://<bucket>/data/x.csv
make destroy PIPELINE=<PipelineName> ARGS="--region eu-west-1 --dry-run"
```

Prose: `make bench BENCH_ARGS="--runs 9 --no-such-bench-option"` (line 18),
`ARGS=--no-such-destroy-option` (19); good: `make help`, `ARGS=--yes`.
```
make lint        # 21: an unlabelled block of commands, good
make lint-all    # 22: bad
cargo clippy -D warnings   # 23: a lint level before `--`
cargo test -p integration --test emulator && cargo test --test no_such_test  # 24
show() { make no-such-fn-target; }; show DataBucketName   # 25: a function's body is checked, its calls are known
```
"""


def test_self_check() -> None:
    """The checker reports each bad command of SAMPLE, and nothing else."""
    doc = ROOT / "SAMPLE.md"  # as if a page at the root
    problems = report(check_page(doc, SAMPLE))
    expected = {
        4: "no target 'no-such-target'",
        5: "scripts/no_such_script.sh: no such script",
        6: "scripts/demo_aws.py has no subcommand 'no-such-command'",
        7: "scripts/destroy.py has no option --no-such-option",
        8: "scripts/destroy.py (through ARGS) has no option --also-no-such-option",
        9: "no package 'no_such_package'",
        10: "events/no-such-event.json: no such file",
        11: "frobnicate: a program this test does not know",
        18: "bench/bench.py (through BENCH_ARGS) has no option --no-such-bench-option",
        19: "scripts/destroy.py (through ARGS) has no option --no-such-destroy-option",
        22: "no target 'lint-all'",
        23: "clippy's -D goes after `--`",
        24: "no test target 'no_such_test'",
        25: "no target 'no-such-fn-target'",
    }
    for line, text in expected.items():
        assert any(p.startswith(f"SAMPLE.md:{line}:") and text in p for p in problems), (
            f"line {line} ({text}) not reported; reported:\n" + "\n".join(problems)
        )
    assert len(problems) == len(expected), "reported more than the bad lines:\n" + "\n".join(problems)


def main() -> int:
    for doc in PAGES:
        for f in check_page(doc):
            where = f"{doc.relative_to(ROOT).as_posix()}:{f.snippet.line}"
            status = "; ".join(f.problems) if f.problems else "ok"
            print(f"{where:45} {f.kind:13} {f.command}  -- {status}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
