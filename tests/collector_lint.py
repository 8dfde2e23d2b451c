"""A read-only lint of the bundled PowerShell collector, on a real PowerShell grammar
(tree-sitter + tree-sitter-powershell from PyPI): :func:`violations` lists every syntax error and
every construct that could change the server.

What is allowed (an allow-list: anything else is a violation):

* commands: any ``Get-*`` cmdlet or function; ``ForEach-Object``, ``Where-Object``, ``Select-Object``,
  ``Sort-Object``, ``Join-Path``, ``Split-Path``, ``ConvertTo-Json``, ``Write-Host``,
  ``Write-Warning``; ``Import-Module`` of ADFS / WebApplicationProxy; ``Out-File`` only with
  ``-FilePath $Path`` (the file the admin names); ``Invoke-WebRequest`` only with ``-Method Get``;
  ``netsh`` only as ``netsh http show sslcert``; ``New-Object`` only of :data:`NEW_OBJECT_TYPES`;
  functions the script defines itself, when their names pass the same rules;
* ``&`` only to run the ``$Block`` script block parameter of the script's own guard function;
* .NET: static calls only on :data:`STATIC_TYPES`, and method calls only of :data:`METHODS`;
* redirection (``>``, ``>>``, ``2>``, ``*>``) only to ``$null`` or ``$Path``; stream merges (``2>&1``).

A command named with a changing verb (Set-, Add-, Remove-, Update-, New-, ...) is never on the list.
"""

from __future__ import annotations

import re

import tree_sitter
import tree_sitter_powershell

__all__ = ["violations", "parse", "commands", "READ_ONLY_COMMANDS"]

READ_ONLY_COMMANDS = {"foreach-object", "where-object", "select-object", "sort-object", "join-path", "split-path",
                      "convertto-json", "write-host", "write-warning"}
NEW_OBJECT_TYPES: set[str] = set()
STATIC_TYPES = {"[convert]", "[string]", "[system.security.cryptography.x509certificates.rsacertificateextensions]"}
METHODS = {"tostring", "touniversaltime", "tolowerinvariant", "getrsaprivatekey", "isnullorempty", "tobase64string",
           "dispose"}
_LANGUAGE = tree_sitter.Language(tree_sitter_powershell.language())


def parse(source: bytes) -> tree_sitter.Tree:
    """The syntax tree of ``source`` (PowerShell)."""
    return tree_sitter.Parser(_LANGUAGE).parse(source)


def _walk(node: tree_sitter.Node):
    yield node
    for child in node.children:
        yield from _walk(child)


def _text(node: tree_sitter.Node) -> str:
    return node.text.decode("utf-8", "replace")


def commands(tree: tree_sitter.Tree) -> list[tuple[str, str, tuple[int, int]]]:
    """(command name or invocation operator, the whole command's text, position) of every command."""
    found = []
    for node in _walk(tree.root_node):
        if node.type == "command" and node.children:
            first = node.children[0]
            found.append((_text(first), _text(node), node.start_point))
    return found


def _defined_functions(tree: tree_sitter.Tree) -> set[str]:
    names = set()
    for node in _walk(tree.root_node):
        if node.type == "function_statement":
            name = next((c for c in node.children if c.type == "function_name"), None)
            if name is not None:
                names.add(_text(name).lower())
    return names


def _command_violation(name: str, text: str, defined: set[str]) -> str | None:
    lowered = name.lower()
    arguments = " ".join(text.split()[1:])
    if lowered == "&":
        return None if re.fullmatch(r"&\s*\$Block", text.strip()) else "'&' runs something other than $Block"
    if lowered == ".":
        return "dot-sourcing runs another script"
    if lowered.startswith("get-") or lowered in READ_ONLY_COMMANDS:
        return None
    if lowered == "import-module":
        return None if arguments in ("ADFS", "WebApplicationProxy") else f"Import-Module {arguments}"
    if lowered == "out-file":
        return None if re.search(r"-FilePath \$Path(\s|$)", text) else "Out-File to a path other than -FilePath $Path"
    if lowered == "invoke-webrequest":
        return None if re.search(r"-Method Get(\s|$)", text, re.I) else "Invoke-WebRequest without -Method Get"
    if lowered == "netsh":
        return None if arguments.lower() == "http show sslcert" else f"netsh {arguments}"
    if lowered == "new-object":
        type_name = (arguments.split() or [""])[0].lower()
        return None if type_name in NEW_OBJECT_TYPES else f"New-Object {type_name}"
    if lowered in defined:
        return "a function of the script whose name is not read-only"
    return "not on the read-only allow-list"


_GLUED_REDIRECTION = re.compile(r"^(?:[1-6*])?>>?(?!&)(?P<target>\S+)$")


def _redirection_target(node: tree_sitter.Node) -> str | None:
    """The file a redirection writes to, or None for a stream merge (2>&1)."""
    if node.type == "generic_token":
        match = _GLUED_REDIRECTION.match(_text(node))
        return match.group("target") if match else None
    name = next((c for c in node.children if c.type == "redirected_file_name"), None)
    return _text(name).strip() if name is not None else None


def violations(source: bytes) -> list[str]:
    """Every syntax error (ERROR or MISSING node) and every construct not on the allow-list, as
    ``line:column what``; empty for a read-only script."""
    tree = parse(source)
    found = []
    for node in _walk(tree.root_node):
        where = f"{node.start_point[0] + 1}:{node.start_point[1] + 1}"
        if node.type == "ERROR" or node.is_missing:
            found.append(f"{where} syntax error near {_text(node)[:40]!r}")
        elif node.type == "invokation_expression":
            members = [c for c in node.children if c.type == "member_name"]
            method = _text(members[0]).lower() if members else ""
            types = [c for c in node.children if c.type == "type_literal"]
            if types and _text(types[0]).lower() not in STATIC_TYPES:
                found.append(f"{where} static call on {_text(types[0])}")
            elif method and method not in METHODS:
                found.append(f"{where} method {method}()")
        elif node.type == "redirection" or (node.type == "generic_token" and _GLUED_REDIRECTION.match(_text(node))):
            # "> file" writes a file as Out-File does; only $null (discard) and $Path (the admin's
            # file) are allowed. The grammar reads "2>C:\x" without a space as one generic token.
            target = _redirection_target(node)
            if target is not None and target.lower() not in ("$null", "$path"):
                found.append(f"{where} redirection to {target[:40]!r}: a write to a file other than $Path")
    defined = _defined_functions(tree)
    for name, text, (row, column) in commands(tree):
        problem = _command_violation(name, text, defined)
        if problem:
            found.append(f"{row + 1}:{column + 1} {text[:60]!r}: {problem}")
    return found
