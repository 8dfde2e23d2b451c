"""The commands a finding's fix names, for the action plan's copy buttons.

A check says how to fix a problem in its remediation text, in sentences that name the exact
PowerShell cmdlets and Windows tools (``Set-AdfsProperties -AutoCertificateRollover $true``,
``setspn -S HOST/sts.contoso.com gmsa-adfs$``). A check that knows the exact commands for the
case at hand (real account names, thumbprints) lists them in its evidence under ``commands``;
those are taken as they are. Otherwise the commands are read out of the remediation text with a
small grammar: a command starts at a cmdlet (an approved PowerShell verb, a dash and a noun,
https://learn.microsoft.com/en-us/powershell/scripting/developer/cmdlet/approved-verbs-for-windows-powershell-commands)
or at a known Windows tool, and takes the tokens that read as its arguments: ``-Parameter`` and
its value, ``$variables``, ``<placeholders>``, quoted strings, ``/switches``, paths, a pipeline
into another cmdlet. A plain English word, a comma before prose, a full stop, a semicolon or an
unbalanced parenthesis ends it. Commands joined by ``;`` (or ``; then``) form one script.

Nothing here judges: it only finds text that is already in the finding. A hand-rolled scanner
because no library parses commands out of English prose; the test suite holds it to every
built-in check's remediation text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

__all__ = ["CommandScript", "commands_of", "empty_arguments", "fix_script"]

# Approved PowerShell verbs (Get-Verb), the ones a remediation text may start a command with.
_VERBS = (
    "Add Approve Assert Backup Block Build Checkpoint Clear Close Compare Complete Compress Confirm Connect "
    "Convert ConvertFrom ConvertTo Copy Debug Deny Deploy Disable Disconnect Dismount Edit Enable Enter Exit "
    "Expand Export Find Format Get Grant Group Hide Import Initialize Install Invoke Join Limit Lock Measure "
    "Merge Mount Move New Open Optimize Out Ping Pop Protect Publish Push Read Receive Redo Register Remove "
    "Rename Repair Request Reset Resize Resolve Restart Restore Resume Revoke Save Search Select Send Set Show "
    "Skip Split Start Step Stop Submit Suspend Switch Sync Test Trace Unblock Undo Uninstall Unlock Unprotect "
    "Unpublish Unregister Update Use Wait Watch Write"
).split()
#: Verbs that change something: the command an action plan item offers first.
_CHANGING_VERBS = frozenset(
    "Add Clear Disable Enable Grant Import Install Invoke Move New Publish Register Remove Rename Repair Reset Restart "
    "Revoke Set Start Stop Uninstall Unpublish Unregister Update".split()
)
#: Windows tools (and our own CLI) that remediation texts name, lower case as typed.
_TOOLS = ("setspn", "w32tm", "auditpol.exe", "auditpol", "netsh", "dsacls", "adprep", "certutil", "nltest",
          "repadmin", "dcdiag", "klist", "adfs-readiness")
#: Tool invocations that change something (the rest only read).
_CHANGING_TOOL_ARGS = {"setspn": ("-s", "-d", "-a", "-u"), "w32tm": ("/config", "/resync"),
                       "auditpol.exe": ("/set",), "auditpol": ("/set",), "adprep": ("/forestprep", "/domainprep"),
                       "netsh": ("add", "delete", "set"), "certutil": ("-repairstore", "-addstore", "-delstore"),
                       "nltest": ("/dsregdns", "/dsderegdns")}

_HEAD = re.compile(
    r"(?<![\w\-./\\$<])(?:(?P<cmdlet>(?:%s)-[A-Z][A-Za-z0-9]+)|(?P<tool>%s)|(?P<script>\.\\[\w\-]+\.ps1))"
    r"(?![\w\-])" % ("|".join(_VERBS), "|".join(re.escape(t) for t in _TOOLS)),
)
_CLOSERS = {"(": ")", "<": ">", "'": "'", '"': '"', "{": "}", "[": "]"}
#: Characters that mark a bare word as a command argument rather than English.
_ARGISH = re.compile(r"[/\\.:=_$\-0-9@#%]")
_CAMEL = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_EXPRESSION = re.compile(r"^\(+(?:[A-Z][a-z]+-[A-Z]|\$|@)")
_OUR_COMMANDS = frozenset("check demo collector list-checks explain init history collect assess".split())


@dataclass(frozen=True)
class CommandScript:
    """Commands that belong together (joined by ``;`` in the text), to run in order.

    ``lines``: the commands, one per line (str); ``changing``: True when one of them changes
    something (a Set-/Update-/Add-... cmdlet, setspn -S, ...), False when they only read.
    """

    lines: tuple[str, ...]
    changing: bool

    @property
    def text(self) -> str:
        """The script as it is copied: one command per line."""
        return "\n".join(self.lines)


def commands_of(remediation: str, evidence: Mapping[str, Any] | None = None) -> list[CommandScript]:
    """Every command script the fix names, in text order.

    The evidence's ``commands`` (a list of str a check computed for this case) comes first and
    alone, as one script; otherwise the scripts read from ``remediation`` (see the module
    docstring). Returns [] when the text names no command.
    """
    given = (evidence or {}).get("commands")
    if isinstance(given, (list, tuple)) and given and all(isinstance(c, str) and c.strip() for c in given):
        lines = tuple(c.strip() for c in given)
        return [CommandScript(lines, any(_is_changing(line) for line in lines))]
    scripts: list[list[str]] = []
    position = 0
    joined = False  # the previous command ended with ";": the next one continues its script
    while True:
        match = _HEAD.search(remediation, position)
        if match is None:
            break
        command, end, ended_by = _read_command(remediation, match)
        if match.group("tool") and " " not in command:
            position = end  # a tool named without arguments is prose ("the adfs-readiness configuration")
            joined = False
            continue
        between = remediation[position:match.start()].strip().lstrip(";")
        if joined and _only_joiner(between) and scripts:
            scripts[-1].append(command)
        else:
            scripts.append([command])
        joined = ended_by == ";"
        position = end
    return [CommandScript(tuple(lines), any(_is_changing(line) for line in lines)) for lines in scripts]


def fix_script(remediation: str, evidence: Mapping[str, Any] | None = None) -> CommandScript | None:
    """The script an action plan offers for the fix: the first that changes something and has
    arguments, else the first that changes something, else the first at all; None when the text
    names no command."""
    scripts = commands_of(remediation, evidence)
    complete = [s for s in scripts if s.changing and any(" " in line for line in s.lines)]
    changing = [s for s in scripts if s.changing]
    for candidates in (complete, changing, scripts):
        if candidates:
            return candidates[0]
    return None


def _only_joiner(text: str) -> bool:
    return text.strip().lower() in ("", "then", "then,", "and then")


def _is_changing(line: str) -> bool:
    """True when any command of ``line`` changes something: not only its first word but every cmdlet
    and tool it runs, after a pipe or inside a script block ("Get-ADUser ... | ForEach-Object {
    Set-ADUser ... }" writes, and must not be offered as a read-only check)."""
    return any(_invocation_changes(line[match.start():]) for match in _HEAD.finditer(line))


def _invocation_changes(command: str) -> bool:
    """Whether the cmdlet or tool ``command`` starts with changes something (its arguments up to
    the next pipe, ";" or script-block brace)."""
    own = re.split(r"[|;{}]", command, maxsplit=1)[0]
    head = own.split(None, 1)[0] if own.strip() else ""
    if "-" in head and not head.lower().startswith(tuple(_TOOLS)):
        return head.split("-", 1)[0] in _CHANGING_VERBS
    args = own.lower().split()[1:]
    wanted = _CHANGING_TOOL_ARGS.get(head.lower(), ())
    # "/dsderegdns:dc2.contoso.com": the switch is what comes before its ":" value.
    return any(a in wanted or a.split(":", 1)[0] in wanted for a in args)


def _read_command(text: str, head: re.Match[str]) -> tuple[str, int, str]:
    """The command starting at ``head``: (command, end position, what ended it: ";", "." or "")."""
    is_tool = head.group("tool") is not None or head.group("script") is not None
    tokens = [head.group(0)]
    tool = (head.group("tool") or "").lower()
    i = head.end()
    args_since_head = 0
    expecting_value = False
    after_pipe = False
    after_list_comma = False
    ended_by = ""
    while i < len(text):
        if text[i] in ";,.)" and (i + 1 == len(text) or text[i + 1].isspace()):
            # Punctuation right after the last token ends the command.
            ended_by = text[i] if text[i] in ";." else ""
            if text[i] == "," and _list_continues(text, i, tokens):
                after_list_comma = True
                tokens[-1] += ","
                i += 1
                continue
            break
        if not text[i].isspace():
            break
        j = i
        while j < len(text) and text[j] == " ":
            j += 1
        token, k = _token(text, j)
        if not token:
            break
        stripped, trail = _split_trailing(token)
        accept = False
        if not stripped:
            break
        if after_pipe:
            accept = bool(_HEAD.fullmatch(stripped))
            after_pipe = False
            args_since_head = -1
        elif stripped == "|":
            after_pipe = accept = True
        elif stripped == ">" and is_tool:
            accept = expecting_value = True
        elif re.match(r"^-[A-Za-z]", stripped):
            accept = True
            expecting_value = not is_tool or len(stripped) > 2
            if is_tool:
                expecting_value = True
        elif stripped[:1] in "$<'\"@" or (stripped[:1] in "/\\" and len(stripped) > 1) or stripped[:1].isdigit():
            accept = True
            expecting_value = False
        elif stripped[:1] == "(":
            # "-Window (New-TimeSpan ...)" is a value; a "(" after a value, or around words, is prose.
            accept = expecting_value and bool(_EXPRESSION.match(stripped))
            expecting_value = False
        elif expecting_value:
            accept = not _is_english(stripped) and stripped != "/"
            expecting_value = False
        elif after_list_comma:
            accept = bool(_CAMEL.match(stripped))
        elif tool == "adfs-readiness":
            accept = args_since_head == 0 and stripped in _OUR_COMMANDS
        elif tool == "netsh":
            accept = stripped.isalpha() and stripped.islower() and stripped not in _ENGLISH
        elif is_tool:
            accept = bool(_ARGISH.search(stripped)) and not _is_english(stripped)
        else:
            # A cmdlet's first positional argument: "Format-List HostName", "Import-Module X.psd1".
            accept = args_since_head == 0 and (bool(_CAMEL.match(stripped)) or (
                bool(_ARGISH.search(stripped)) and not _is_english(stripped) and stripped != "/"))
        args_since_head += 1
        after_list_comma = False
        if not accept:
            break
        if stripped == "|":
            tokens.append("|")
        else:
            tokens.append(stripped)
        i = j + len(stripped)
        if trail:
            ended_by = trail[0] if trail[0] in ";." else ""
            if trail[0] == "," and _list_continues(text, i, tokens):
                after_list_comma = True
                tokens[-1] += ","
                i += 1
                continue
            break
    while tokens and tokens[-1] == "|":
        tokens.pop()
    command = " ".join(_fill_missing_values(tokens, tool if head.group("tool") else None))
    return command, i, ended_by


#: PowerShell switch parameters remediation texts use: a bare one is complete.
_SWITCHES = frozenset(
    "force isprimary urgent assecurestring confirm whatif recurse passthru append wait nonewwindow "
    "allowclobber skippublishercheck includechain".split())
#: The placeholder a value-taking parameter named without its value gets.
PLACEHOLDERS = {
    "hostname": "<federation service name>",
    "groupserviceaccountidentifier": "<DOMAIN\\gmsa-name$>",
    "signingcertificate": "<token-signing certificate, Base64>",
    "nextsigningcertificate": "<next token-signing certificate, Base64>",
    "thumbprint": "<thumbprint>",
}
#: Tool switches that need arguments, and the placeholders for them.
_TOOL_ARGUMENTS = {("setspn", "-s"): "<SPN> <service account>", ("setspn", "-d"): "<SPN> <account>",
                   ("setspn", "-a"): "<SPN> <service account>"}
_PARAMETER = re.compile(r"^-[A-Za-z][A-Za-z0-9]*$")
#: Every placeholder a command may have been given (for tests and renderers to recognise them).
FILLED_PLACEHOLDERS = frozenset(PLACEHOLDERS.values()) | frozenset(_TOOL_ARGUMENTS.values())


def empty_arguments(line: str) -> list[str]:
    """The parameters of command ``line`` named without a value (a value-taking ``-Parameter``
    at the end, or followed by another parameter or a pipe); switches are complete bare. [] for
    a complete command. The action plan's commands must all give []."""
    tokens = line.split()
    tool = tokens[0].lower() if tokens and tokens[0].lower() in _TOOLS else None
    missing = []
    for index, token in enumerate(tokens[1:], start=1):
        if not _PARAMETER.match(token):
            continue
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        bare = following is None or following == "|" or following.startswith("-")
        if not bare:
            continue
        if tool is not None:
            if (tool, token.lower()) in _TOOL_ARGUMENTS:
                missing.append(token)
        elif token[1:].lower() not in _SWITCHES:
            missing.append(token)
    return missing


def _fill_missing_values(tokens: list[str], tool: str | None) -> list[str]:
    """``tokens`` with a clearly marked placeholder after every parameter the text names without
    its value (``Set-AdfsProperties -HostName`` → ``... -HostName <federation service name>``):
    a copied command must never run with an empty argument. Switches stay bare."""
    out: list[str] = []
    for index, token in enumerate(tokens):
        out.append(token)
        if index == 0 or not _PARAMETER.match(token):
            continue
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if tool is not None:
            wanted = _TOOL_ARGUMENTS.get((tool.lower(), token.lower()))
            if wanted and (following is None or following.startswith("-")):
                out.append(wanted)
            continue
        if token[1:].lower() in _SWITCHES:
            continue
        if following is None or following == "|" or _PARAMETER.match(following):
            out.append(PLACEHOLDERS.get(token[1:].lower(), f"<{token[1:]}>"))
    return out


def _list_continues(text: str, comma: int, tokens: list[str]) -> bool:
    """``Format-List HostName, HttpsPort``: a comma followed by another CamelCase name continues
    a list argument; a comma followed by prose ends the command."""
    rest = text[comma + 1:].lstrip(" ")
    word = re.match(r"[^\s,;.)]+", rest)
    if word is None:
        return False
    return bool(_CAMEL.match(word.group(0))) and len(tokens) > 1 and not _is_english(word.group(0))


def _token(text: str, start: int) -> tuple[str, int]:
    """The token at ``start``: up to the next space outside quotes, <...>, (...) and {...}."""
    depth: list[str] = []
    i = start
    while i < len(text):
        c = text[i]
        if depth:
            if c == depth[-1]:
                depth.pop()
            elif c in _CLOSERS and depth[-1] not in ("'", '"'):
                depth.append(_CLOSERS[c])
            i += 1
            continue
        if c.isspace():
            break
        if c in _CLOSERS and not (c == "<" and i + 1 < len(text) and text[i + 1] == " "):
            closing = _CLOSERS[c]
            if text.find(closing, i + 1) == -1:
                break
            depth.append(closing)
        elif c == ")":
            break  # an unbalanced ")" closes a parenthesis of the sentence
        i += 1
    return text[start:i], i


def _split_trailing(token: str) -> tuple[str, str]:
    """A token without the punctuation that ends a sentence or clause after it."""
    stripped = token.rstrip(".,;")
    if stripped.startswith("/") and token.endswith("..."):  # "/manualpeerlist:..."
        return token, ""
    return stripped, token[len(stripped):]


_ENGLISH = frozenset(
    "a an and as at by for from in into is it of on or so that the then to when where with without unless "
    "until once only also lists shows finds only".split()
)


def _is_english(word: str) -> bool:
    return word.lower() in _ENGLISH or (word.isalpha() and word.islower())
