"""docs/operations.md is followed by people on a fresh account: every command it shows must exist as written.

Each `python -m manifests_py …` and `nox -s …` command (in code blocks and inline code) is parsed by the real argument
parser (`manifests_py.__main__.build_parser`); each nox session must be defined in noxfile.py, and a session that hands
its arguments to `manifests_py` has them parsed too. Relative links must name existing files and headings.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
import shlex
from pathlib import Path

from manifests_py.__main__ import build_parser

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "operations.md"
NOXFILE = ROOT / "noxfile.py"

ELLIPSIS = "…"  # an inline mention such as `nox -s cluster -- up …` names the command; its arguments are elsewhere


def _code(markdown: str) -> list[str]:
    """Command lines from fenced blocks, then inline code spans outside them."""
    blocks = re.findall(r"^\s*```[a-z]*\n(.*?)^\s*```", markdown, flags=re.M | re.S)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    prose = re.sub(r"^\s*```[a-z]*\n.*?^\s*```", "", markdown, flags=re.M | re.S)
    return lines + re.findall(r"`([^`\n]+)`", prose)


def _commands(prefix: tuple[str, ...]) -> list[list[str]]:
    commands = []
    for text in _code(GUIDE.read_text()):
        words = shlex.split(text)
        rest = words[len(prefix) :]
        # A bare `nox -s` or `python -m manifests_py …` in prose names the tool, not a command.
        if tuple(words[: len(prefix)]) == prefix and rest and rest[0] != ELLIPSIS:
            commands.append(rest)
    return commands


def _sessions() -> dict[str, str | None]:
    """nox session name -> the manifests_py subcommand it passes its arguments to (None: it takes none of ours)."""
    sessions: dict[str, str | None] = {}
    for node in ast.parse(NOXFILE.read_text()).body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if ast.unparse(target) != "nox.session":
                continue
            name = node.name
            if isinstance(decorator, ast.Call):
                for keyword in decorator.keywords:
                    if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                        name = str(keyword.value.value)
            forwards = [
                call.args[1].value
                for call in ast.walk(node)
                if isinstance(call, ast.Call)
                and ast.unparse(call.func) == "_manifests_py"
                and len(call.args) == 3
                and isinstance(call.args[1], ast.Constant)
                and ast.unparse(call.args[2]) == "*session.posargs"
            ]
            sessions[name] = str(forwards[0]) if forwards else None
    return sessions


def _parse_error(argv: list[str]) -> str | None:
    """argparse's complaint about ``python -m manifests_py <argv>``, or None if it parses."""
    if ELLIPSIS in " ".join(argv):
        # Only the subcommand is named: `<subcommand> --help` exits 0 for a real one.
        argv = [*argv[:1], "--help"]
    output = io.StringIO()
    try:
        with contextlib.redirect_stderr(output), contextlib.redirect_stdout(io.StringIO()):
            build_parser().parse_args(argv)
    except SystemExit as exit_:
        return None if exit_.code == 0 else output.getvalue().strip().splitlines()[-1]
    return None


def test_the_guide_shows_the_lifecycle_commands() -> None:
    # Guards the extraction itself: these are the commands the guide is about.
    manifests_py = {words[0] for words in _commands(("python", "-m", "manifests_py")) if words}
    assert {"secrets", "render", "check", "infra-sync", "argocd-values"} <= manifests_py
    nox = {words[0] for words in _commands(("nox", "-s")) if words}
    assert {"cluster", "release", "manifests_diff", "manifests_check", "restore_drill"} <= nox
    actions = {tuple(words[2:3]) for words in _commands(("nox", "-s")) if words[:2] == ["cluster", "--"]}
    assert {("up",), ("down",), ("status",)} <= actions


def test_every_manifests_py_command_in_the_guide_parses() -> None:
    problems = [
        f"python -m manifests_py {shlex.join(argv)}: {error}"
        for argv in _commands(("python", "-m", "manifests_py"))
        if (error := _parse_error(argv))
    ]
    assert not problems, "\n".join(problems)


def test_every_nox_session_in_the_guide_exists_and_its_arguments_parse() -> None:
    sessions = _sessions()
    problems = []
    for words in _commands(("nox", "-s")):
        session, rest = words[0], words[1:]
        if session not in sessions:
            problems.append(f"nox -s {session}: no such session in noxfile.py")
            continue
        subcommand = sessions[session]
        posargs = rest[1:] if rest[:1] == ["--"] else rest
        # Without arguments the session is only named (e.g. `nox -s cluster` in a table); with them, they must parse.
        if subcommand is not None and posargs and (error := _parse_error([subcommand, *posargs])):
            problems.append(f"nox -s {shlex.join(words)}: {error}")
    assert not problems, "\n".join(problems)


def _slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.replace("`", "").strip().lower()).replace(" ", "-")


def test_every_link_in_the_guide_leads_somewhere() -> None:
    markdown = GUIDE.read_text()
    anchors = {_slug(heading) for heading in re.findall(r"^#+ (.+)$", markdown, flags=re.M)}
    problems = []
    for target in re.findall(r"\]\(([^)\s]+)\)", markdown):
        if target.startswith(("http://", "https://")):
            continue
        path, _, anchor = target.partition("#")
        if not path:
            if anchor not in anchors:
                problems.append(f"#{anchor}: no such heading")
            continue
        relative = (GUIDE.parent / path).resolve().relative_to(ROOT).as_posix()
        if not (ROOT / relative).exists():
            problems.append(f"{target}: no such file")
    assert not problems, "\n".join(problems)
