"""The key registry holds: no module outside app/keys.py builds a Redis key on the namespace or
the flag prefix, every Lua script is a file (no script text inline in Python), and every key a
script touches comes from its KEYS[] — directly, or derived from a declared key's name as its
header documents — never from ARGV or a literal."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"
REGISTRY = {APP / "keys.py"}
SCRIPTS = sorted(APP.rglob("*.lua"))
# What a key name is built on: the Redis namespace or the flag prefix, under the names the
# code gives them (`Keys.ns`, `settings.redis_namespace`, `self.prefix`, ...).
KEY_BASES = {"ns", "redis_namespace", "flag_prefix", "key_prefix"}
KEY_BASE_ATTRIBUTES = KEY_BASES | {"namespace", "prefix"}


def _is_key_base(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return node.id in KEY_BASES
    if isinstance(node, ast.Attribute):
        return node.attr in KEY_BASE_ATTRIBUTES
    return False


def _leftmost(node: ast.expr) -> ast.expr:
    while isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        node = node.left
    return node


def key_builds(source: str) -> list[tuple[int, str]]:
    """(line, text) of every f-string or `+` that starts with the namespace or flag prefix."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.JoinedStr) and node.values:
            first = node.values[0]
            if isinstance(first, ast.FormattedValue) and _is_key_base(first.value):
                found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and _is_key_base(_leftmost(node)):
            found.append((node.lineno, ast.unparse(node)))
    return found


def inline_scripts(source: str) -> list[tuple[int, str]]:
    """(line, start) of every string constant in Python that is Lua calling Redis."""
    return [
        (node.lineno, node.value[:60])
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "redis.call(" in node.value
    ]


def test_the_checks_catch_what_they_look_for() -> None:
    assert key_builds('k = f"{self.keys.ns}approval:{x}"') == [(1, "f'{self.keys.ns}approval:{x}'")]
    assert key_builds('k = self.namespace + "leases"') == [(1, "self.namespace + 'leases'")]
    assert key_builds('k = settings.flag_prefix + "changes"') == [(1, "settings.flag_prefix + 'changes'")]
    assert key_builds('t = f"{namespace}/{kind}/{name}"') == []  # a Kubernetes namespace, not ours
    assert inline_scripts('S = """\nredis.call(\'GET\', KEYS[1])\n"""') == [
        (1, "\nredis.call('GET', KEYS[1])\n")
    ]


@pytest.mark.parametrize("path", sorted(APP.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_outside_the_registry_builds_a_key(path: Path) -> None:
    if path in REGISTRY:
        return
    source = path.read_text()
    assert key_builds(source) == [], f"name the key in app/keys.py (Keys or FlagKeys), not in {path.name}"
    assert inline_scripts(source) == [], f"put the Lua script in a .lua file beside {path.name}"


# -- Lua ------------------------------------------------------------------------------------

# Commands whose every argument is a key; for the others the first argument is, except those
# with no key, a channel, or keys after a marker.
ALL_KEYS = {"DEL", "EXISTS", "UNLINK", "MGET", "TOUCH"}
NO_KEY = {"TIME", "PUBLISH"}
STREAMS_AFTER = {"XREADGROUP": "STREAMS", "XREAD": "STREAMS"}


def _strip_comments(lua: str) -> str:
    return "\n".join(re.sub(r"--.*$", "", line) for line in lua.splitlines())


def _split_top(text: str) -> list[str]:
    """`text` split at commas outside brackets and strings."""
    parts, depth, quote, current = [], 0, "", []
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    parts.append("".join(current).strip())
    return parts


def _calls(lua: str) -> list[list[str]]:
    """The argument lists of every redis.call / redis.pcall."""
    out = []
    for match in re.finditer(r"redis\.p?call\(", lua):
        depth, i = 1, match.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(lua[i], 0)
            i += 1
        out.append(_split_top(lua[match.end() : i - 1]))
    return out


ASSIGNMENT = re.compile(r"(?:local[ \t]+)?([A-Za-z_][\w \t,]*?)[ \t]*=[ \t]*([^\n=][^\n]*)")


def _roots(lua: str) -> dict[str, str]:
    """Names bound to a declared key (or a function of one): name -> the KEYS[] entry it derives
    from. `local A, B = KEYS[1], KEYS[2]`, `local function f(x) return A .. x end`,
    `for _, k in ipairs(KEYS)`, `for _, k in ipairs({KEYS[1], KEYS[3]})`."""
    roots: dict[str, str] = {}
    changed = True
    while changed:
        changed = False
        for names, values in ASSIGNMENT.findall(lua):
            for name, value in zip(_split_top(names), _split_top(values), strict=False):
                root = _root_of(value, roots)
                if root and name.strip() not in roots and name.strip().isidentifier():
                    roots[name.strip()] = root
                    changed = True
        for name, body in re.findall(r"local function (\w+)\([^)]*\)\s*return ([^\n]*?)\s*end", lua):
            root = _root_of(body, roots)
            if root and name + "()" not in roots:
                roots[name + "()"] = root
                changed = True
        for name, over in re.findall(r"for\s+\w+\s*,\s*(\w+)\s+in\s+ipairs\(([^\n]*?)\)\s+do", lua):
            if re.fullmatch(r"KEYS|\{\s*KEYS\[\d+\](\s*,\s*KEYS\[\d+\])*\s*\}", over) and name not in roots:
                roots[name] = "KEYS"
                changed = True
    return roots


def _root_of(expr: str, roots: dict[str, str]) -> str | None:
    """The declared key `expr` is built on: its first operand is KEYS[n], a root, or a call of one."""
    first = expr.split("..")[0].strip()
    if match := re.fullmatch(r"KEYS\[([^\]]+)\]", first):
        return f"KEYS[{match[1]}]"
    if first in roots:
        return roots[first]
    if (call := re.fullmatch(r"(\w+)\(.*\)", first)) and call[1] + "()" in roots:
        return roots[call[1] + "()"]
    return None


def script_keys(lua: str) -> list[tuple[str, str, str | None]]:
    """(command, key expression, the declared key it is built on, None if none) for every key a
    script passes to Redis."""
    code = _strip_comments(lua)
    roots = _roots(code)
    out = []
    for args in _calls(code):
        command = args[0].strip("'\"").upper()
        if command in NO_KEY:
            continue
        if command in STREAMS_AFTER:
            marker = [a.strip("'\"").upper() for a in args].index(STREAMS_AFTER[command])
            keys = args[marker + 1 : marker + 1 + (len(args) - marker - 1) // 2]
        elif command in ALL_KEYS:
            keys = args[1:]
        else:
            keys = args[1:2]
        out += [(command, key, _root_of(key, roots)) for key in keys]
    return out


def test_the_script_check_catches_a_key_from_argv() -> None:
    assert script_keys("redis.call('GET', ARGV[1] .. 'x')") == [("GET", "ARGV[1] .. 'x'", None)]
    assert script_keys("local P = ARGV[2]\nredis.call('HGETALL', P .. name)")[0][2] is None
    assert script_keys("redis.call('DEL', KEYS[1], 'literal')") == [
        ("DEL", "KEYS[1]", "KEYS[1]"),
        ("DEL", "'literal'", None),
    ]
    lua = "local F = KEYS[6]\nlocal function v(n) return F .. n end\nredis.call('GET', v(name))"
    assert script_keys(lua) == [("GET", "v(name)", "KEYS[6]")]


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_key_a_script_touches_comes_from_its_keys(path: Path) -> None:
    lua = path.read_text()
    found = script_keys(lua)
    assert found, f"{path.name}: no key found (is the check reading it?)"
    undeclared = [(command, key) for command, key, root in found if root is None]
    assert undeclared == [], f"{path.name}: keys not from KEYS[]: {undeclared}"
    header = "\n".join(line for line in lua.splitlines() if line.startswith("--"))
    # Every key it indexes is one its header says the caller gives it.
    for index in sorted(set(re.findall(r"KEYS\[(\d+)\]", _strip_comments(lua)))):
        assert f"KEYS[{index}]" in header, f"{path.name}: KEYS[{index}] is not in its header"
    # A key derived from a declared key's name: the header says how.
    for _, key, root in found:
        if ".." in key or "(" in key:
            assert f"{root} .." in header, (
                f"{path.name}: {key} derives from {root}; document it in the header"
            )


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_script_has_a_caller_beside_it(path: Path) -> None:
    callers = [p for p in path.parent.glob("*.py") if f'"{path.name}"' in p.read_text()]
    assert callers, f"no module beside {path.name} loads it"
