"""The AD FS claim rule language: a grammar (lark, LALR) and the analysis of where each issued
claim's value comes from.

The grammar is written from Microsoft's reference, "The Role of the Claim Rule Language"
(https://learn.microsoft.com/windows-server/identity/ad-fs/technical-reference/the-role-of-the-claim-rule-language):
rules are separated by semicolons; a rule is an optional condition part, ``=>`` and one issuance
statement (``issue`` or ``add``). Conditions are claim selectors (``c:[Type == "...", Value =~
"..."]``, joined with ``&&``) or an aggregate function (``EXISTS([...])``, ``NOT EXISTS([...])``,
``COUNT([...]) > n``). Constraints compare a claim property (Type, Value, Issuer, OriginalIssuer,
ValueType, Properties["..."]) with ``==``, ``!=``, ``=~`` or ``!~``. An issuance statement copies a
claim (``claim = c``), makes a new one (``Type = ..., Value = ..., Properties["..."] = ...``) or
queries an attribute store (``store = "...", types = (...), query = "...", param = ...``, in that
order). Expressions are strings, ``+`` concatenations, ``c.Value``-style property access and
function calls (``RegexReplace(...)``). Keywords are case-insensitive, as AD FS accepts them;
``@RuleName = "..."`` / ``@RuleTemplate = "..."`` annotations precede a rule.

The Active Directory attribute store's query is ``<LDAP filter>;<attributes, comma-separated>;<domain\\user>``
and its ``types`` receive the attributes in order (the same reference, "Attribute store").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from adfs_readiness.facts.claim_rules import (
    ACCOUNT_TYPE_CLAIM,
    ISSUER_ID_CLAIM,
    ClaimRuleSet,
    ClaimSource,
    IssuedClaim,
    IssuerIdRule,
)

__all__ = ["parse_claim_rules", "CLAIM_RULE_GRAMMAR", "MAX_RULE_TEXT"]

#: Rule sets longer than this are not parsed (a real trust has a few kilobytes).
MAX_RULE_TEXT = 512 * 1024

CLAIM_RULE_GRAMMAR = r"""
start: (rule ";")* rule?

rule: annotation* conditions? "=>" issuance

annotation: "@" NAME "=" STRING

conditions: condition ("&&" condition)*
?condition: selector | aggregate
selector: (NAME ":")? "[" [constraint ("," constraint)*] "]"
aggregate: NOT? EXISTS "(" "[" [constraint ("," constraint)*] "]" ")"        -> exists
         | COUNT "(" "[" [constraint ("," constraint)*] "]" ")" COMPARE INT  -> count
constraint: property CONDITION_OP expr

property: TYPE | VALUE | ISSUER | ORIGINAL_ISSUER | VALUE_TYPE | PROPERTIES "[" STRING "]"

issuance: (ISSUE | ADD) "(" arguments ")"
?arguments: copy | store | new_claim
copy: CLAIM "=" NAME
new_claim: claim_argument ("," claim_argument)*
claim_argument: property "=" expr
store: STORE "=" expr "," TYPES "=" "(" expr ("," expr)* ")" ("," store_option)*
store_option: QUERY "=" expr   -> query
            | PARAM "=" expr   -> param

?expr: term ("+" term)*         -> concat
?term: STRING                   -> literal
     | NAME "." property        -> access
     | NAME "(" [expr ("," expr)*] ")" -> call

TYPE.2: /type\b/i
VALUE_TYPE.3: /valuetype\b/i
VALUE.2: /value\b/i
ORIGINAL_ISSUER.3: /originalissuer\b/i
ISSUER.2: /issuer\b/i
PROPERTIES.2: /properties\b/i
ISSUE.2: /issue\b/i
ADD.2: /add\b/i
CLAIM.2: /claim\b/i
STORE.2: /store\b/i
TYPES.3: /types\b/i
QUERY.2: /query\b/i
PARAM.2: /param\b/i
NOT.2: /not\b/i
EXISTS.2: /exists\b/i
COUNT.2: /count\b/i
CONDITION_OP: "==" | "!=" | "=~" | "!~"
COMPARE: "==" | "!=" | "<=" | ">=" | "<" | ">"
NAME: /[A-Za-z_][A-Za-z0-9_]*/
STRING: /"(\\.|[^"\\])*"/
INT: /[0-9]+/

%ignore /\s+/
"""


@lru_cache(maxsize=1)
def _parser() -> Lark:
    # Built once per process (building the LALR tables takes ~50 ms); a Lark LALR parser keeps no
    # state between parse() calls, so sharing it across threads is safe.
    return Lark(CLAIM_RULE_GRAMMAR, parser="lalr", lexer="contextual", maybe_placeholders=True)


# --- the parse tree as plain objects ----------------------------------------------------------


@dataclass(frozen=True)
class _Expr:
    """An expression: ``kind`` "literal" (``text``), "access" (``variable``.``prop``), "call"
    (``name`` with ``args``) or "concat" (``args``)."""

    kind: str
    text: str | None = None
    raw: str | None = None  # a literal as AD FS hands it to a function (only \" unescaped)
    variable: str | None = None
    prop: str | None = None
    name: str | None = None
    args: tuple[_Expr, ...] = ()


@dataclass(frozen=True)
class _Selector:
    variable: str | None
    constraints: tuple[tuple[str, str, _Expr], ...]


@dataclass(frozen=True)
class _Rule:
    name: str | None
    selectors: tuple[_Selector, ...]
    action: str  # "issue" | "add"
    form: str  # "copy" | "new" | "store"
    copy_of: str | None = None
    arguments: tuple[tuple[str, _Expr], ...] = ()
    store: _Expr | None = None
    types: tuple[_Expr, ...] = ()
    query: _Expr | None = None
    params: tuple[_Expr, ...] = field(default_factory=tuple)


def _unquote(token: Token | str) -> str:
    # AD FS strings are delimited by double quotes; a backslash escapes the next character.
    text = str(token)[1:-1]
    out, index = [], 0
    while index < len(text):
        if text[index] == "\\" and index + 1 < len(text) and text[index + 1] in '"\\':
            out.append(text[index + 1])
            index += 2
        else:
            out.append(text[index])
            index += 1
    return "".join(out)


def _property_name(tree: Any) -> str:
    tokens = [t for t in tree.children if isinstance(t, Token)]
    if tokens[0].type == "PROPERTIES":
        return f'Properties["{_unquote(tokens[1])}"]'
    return {"TYPE": "Type", "VALUE": "Value", "ISSUER": "Issuer", "ORIGINAL_ISSUER": "OriginalIssuer",
            "VALUE_TYPE": "ValueType"}[tokens[0].type]


@v_args(inline=True)
class _ToRules(Transformer):
    """Turns the lark tree into _Rule objects (names are case-insensitive in AD FS, kept as written)."""

    def literal(self, token: Token) -> _Expr:
        # The regular expressions of RegexReplace keep their backslashes: AD FS hands the text between
        # the quotes to .NET as written (Microsoft's rules split DOMAIN\user with [^\\]+\\), so ``raw``
        # only unescapes a quote.
        return _Expr("literal", text=_unquote(token), raw=str(token)[1:-1].replace('\\"', '"'))

    def access(self, name: Token, prop: Any) -> _Expr:
        return _Expr("access", variable=str(name), prop=_property_name(prop))

    def call(self, name: Token, *args: Any) -> _Expr:
        return _Expr("call", name=str(name), args=tuple(a for a in args if a is not None))

    def concat(self, *parts: _Expr) -> _Expr:
        return parts[0] if len(parts) == 1 else _Expr("concat", args=tuple(parts))

    def constraint(self, prop: Any, op: Token, value: _Expr) -> tuple[str, str, _Expr]:
        return (_property_name(prop), str(op), value)

    def selector(self, *items: Any) -> _Selector:
        variable = str(items[0]) if items and isinstance(items[0], Token) else None
        constraints = tuple(i for i in items if isinstance(i, tuple))
        return _Selector(variable, constraints)

    def exists(self, *items: Any) -> _Selector:
        # An aggregate binds no variable: what it tests is not a value source.
        return _Selector(None, ())

    def count(self, *items: Any) -> _Selector:
        return _Selector(None, ())

    def conditions(self, *selectors: _Selector) -> tuple[_Selector, ...]:
        return selectors

    def annotation(self, name: Token, value: Token) -> tuple[str, str]:
        return (str(name).lower(), _unquote(value))

    def copy(self, _keyword: Token, variable: Token) -> dict:
        return {"form": "copy", "copy_of": str(variable)}

    def claim_argument(self, prop: Any, value: _Expr) -> tuple[str, _Expr]:
        return (_property_name(prop), value)

    def new_claim(self, *arguments: tuple[str, _Expr]) -> dict:
        return {"form": "new", "arguments": arguments}

    def query(self, _keyword: Token, value: _Expr) -> tuple[str, _Expr]:
        return ("query", value)

    def param(self, _keyword: Token, value: _Expr) -> tuple[str, _Expr]:
        return ("param", value)

    def store(self, _store: Token, store: _Expr, _types: Token, *rest: Any) -> dict:
        types = tuple(r for r in rest if isinstance(r, _Expr))
        options = [r for r in rest if isinstance(r, tuple)]
        query = next((v for k, v in options if k == "query"), None)
        params = tuple(v for k, v in options if k == "param")
        return {"form": "store", "store": store, "types": types, "query": query, "params": params}

    def issuance(self, action: Token, arguments: dict) -> dict:
        return {"action": str(action).lower(), **arguments}

    def rule(self, *items: Any) -> _Rule:
        annotations = dict(i for i in items if isinstance(i, tuple) and len(i) == 2 and isinstance(i[0], str))
        selectors = next((i for i in items if isinstance(i, tuple) and (not i or isinstance(i[0], _Selector))), ())
        issuance = next(i for i in items if isinstance(i, dict))
        return _Rule(name=annotations.get("rulename"), selectors=tuple(selectors), **issuance)

    def start(self, *rules: _Rule | None) -> list[_Rule]:
        return [r for r in rules if r is not None]


# --- source analysis --------------------------------------------------------------------------


def _ad_attributes(query: str) -> list[str] | None:
    """The attribute list of an Active Directory store query ``filter;attr1,attr2;user``."""
    parts = query.split(";")
    if len(parts) < 2:
        return None
    attributes = [a.strip() for a in parts[1].split(",")]
    return attributes if all(attributes) else None


class _Analysis:
    def __init__(self, rules: list[_Rule]) -> None:
        self.rules = rules
        self.labels = [r.name or f"rule {i + 1}" for i, r in enumerate(rules)]

    def _produced(self, index: int, rule: _Rule) -> list[tuple[str, list[ClaimSource]]]:
        """(claim type, sources) for each claim type rule ``index`` produces."""
        label = self.labels[index]
        if rule.form == "copy":
            claim_type = self._bound_type(rule, rule.copy_of)
            if claim_type is None:
                return []
            return [(claim_type, self._sources_of_type(claim_type, index, label, transformed=False))]
        if rule.form == "new":
            arguments = {k.lower(): v for k, v in rule.arguments}
            type_expr = arguments.get("type")
            if type_expr is None or type_expr.kind != "literal" or type_expr.text is None:
                return []
            value = arguments.get("value")
            sources = (self._sources_of_expr(value, rule, index, label) if value is not None
                       else [ClaimSource("literal", label)])
            return [(type_expr.text, sources)]
        # Attribute store: each type receives the attribute at its position in the query.
        store = rule.store.text if rule.store is not None and rule.store.kind == "literal" else None
        query = rule.query.text if rule.query is not None and rule.query.kind == "literal" else None
        attributes = (_ad_attributes(query) if query is not None and store is not None
                      and store.lower() == "active directory" else None)
        produced = []
        for position, type_expr in enumerate(rule.types):
            if type_expr.kind != "literal" or type_expr.text is None:
                continue
            attribute = attributes[position] if attributes is not None and position < len(attributes) else None
            kind = "attribute" if store is not None else "unknown"
            produced.append((type_expr.text, [ClaimSource(kind, label, store=store, attribute=attribute)]))
        return produced

    def _bound_type(self, rule: _Rule, variable: str | None) -> str | None:
        """The claim type a rule's variable is bound to by ``Type == "..."`` in its selector."""
        for selector in rule.selectors:
            if selector.variable is not None and variable is not None and selector.variable.lower() == variable.lower():
                for prop, op, value in selector.constraints:
                    if prop == "Type" and op == "==" and value.kind == "literal":
                        return value.text
        return None

    def _sources_of_expr(self, expr: _Expr, rule: _Rule, index: int, label: str,
                         transformed: bool = False) -> list[ClaimSource]:
        if expr.kind == "literal":
            return [ClaimSource("literal", label, transformed=transformed)]
        if expr.kind == "access":
            claim_type = self._bound_type(rule, expr.variable)
            if claim_type is None or expr.prop != "Value":
                return [ClaimSource("unknown", label, transformed=transformed)]
            return self._sources_of_type(claim_type, index, label, transformed)
        # A function call or a concatenation: the value derives from the claims it reads.
        sources: list[ClaimSource] = []
        for argument in expr.args:
            if argument.kind != "literal" or expr.kind == "concat":
                sources.extend(self._sources_of_expr(argument, rule, index, label, transformed=True))
        return sources or [ClaimSource("literal", label, transformed=True)]

    def _sources_of_type(self, claim_type: str, before: int, label: str, transformed: bool) -> list[ClaimSource]:
        """Where a claim of ``claim_type`` seen by rule ``before`` can come from: the rules before
        it that produce it (issue or add), else the incoming claim set (the claims provider)."""
        sources: list[ClaimSource] = []
        for index in range(before):
            for produced_type, produced_sources in self._produced(index, self.rules[index]):
                if produced_type.lower() == claim_type.lower():
                    sources.extend(_marked(s, transformed) for s in produced_sources)
        return sources or [ClaimSource("incoming", label, claim_type=claim_type, transformed=transformed)]

    def issuer_id_rules(self) -> list[IssuerIdRule]:
        """Every ``issue`` rule making a new issuerid claim, with what its value is for a user."""
        found = []
        for index, rule in enumerate(self.rules):
            if rule.action != "issue" or rule.form != "new":
                continue
            arguments = {k.lower(): v for k, v in rule.arguments}
            type_expr = arguments.get("type")
            if type_expr is None or type_expr.kind != "literal" or (type_expr.text or "").lower() != ISSUER_ID_CLAIM:
                continue
            found.append(_issuer_id_rule(self.labels[index], rule, arguments.get("value"), self._bound_type))
        return found

    def issued(self) -> list[IssuedClaim]:
        by_type: dict[str, tuple[str, list[ClaimSource]]] = {}
        for index, rule in enumerate(self.rules):
            if rule.action != "issue":
                continue
            for claim_type, sources in self._produced(index, rule):
                entry = by_type.setdefault(claim_type.lower(), (claim_type, []))
                entry[1].extend(s for s in sources if s not in entry[1])
        return [IssuedClaim(claim_type, tuple(sources)) for claim_type, sources in by_type.values()]


def _accounts(rule: _Rule) -> str:
    """Whom a rule applies to by its accounttype condition (see IssuerIdRule.accounts)."""
    for selector in rule.selectors:
        constraints = {(prop, op): value for prop, op, value in selector.constraints}
        kind = constraints.get(("Type", "=="))
        if kind is None or kind.kind != "literal" or (kind.text or "").lower() != ACCOUNT_TYPE_CLAIM:
            continue
        equal, differ = constraints.get(("Value", "==")), constraints.get(("Value", "!="))
        if equal is not None and equal.kind == "literal":
            return "computers" if (equal.text or "").upper() == "DJ" else "users"
        if differ is not None and differ.kind == "literal" and (differ.text or "").upper() == "DJ":
            return "users"
    return "all"


def _issuer_id_rule(label: str, rule: _Rule, value: _Expr | None, bound_type: Any) -> IssuerIdRule:
    accounts = _accounts(rule)
    if value is not None and value.kind == "literal":
        return IssuerIdRule(label, accounts, "literal", literal=value.text)
    if (value is not None and value.kind == "call" and (value.name or "").lower() == "regexreplace"
            and len(value.args) == 3 and value.args[0].kind == "access" and value.args[0].prop == "Value"
            and value.args[1].kind == "literal" and value.args[2].kind == "literal"):
        return IssuerIdRule(label, accounts, "regexreplace", input_claim=bound_type(rule, value.args[0].variable),
                            pattern=value.args[1].raw, replacement=value.args[2].raw)
    return IssuerIdRule(label, accounts, "unknown")


def _marked(source: ClaimSource, transformed: bool) -> ClaimSource:
    if transformed and not source.transformed:
        return ClaimSource(source.kind, source.rule, source.store, source.attribute, source.claim_type, True)
    return source


def _position(text: str, exc: UnexpectedInput) -> str:
    line, column = getattr(exc, "line", None), getattr(exc, "column", None)
    where = f"line {line}, column {column}" if line is not None else "somewhere"
    if isinstance(exc, UnexpectedToken):
        expected = ", ".join(sorted(exc.expected)[:8])
        return f"{where}: unexpected {str(exc.token)!r}, expected one of: {expected}"
    if isinstance(exc, UnexpectedCharacters):
        position = exc.pos_in_stream
        character = text[position] if position is not None and 0 <= position < len(text) else "?"
        return f"{where}: unexpected character {character!r}"
    return f"{where}: {type(exc).__name__}"


def parse_claim_rules(text: str) -> ClaimRuleSet:
    """Parse an issuance transform rule set (the text Get-AdfsRelyingPartyTrust's
    IssuanceTransformRules holds) and analyse which claim types it issues from which sources.

    Never raises for bad input: a text that is not claim rule language (or longer than
    :data:`MAX_RULE_TEXT`) gives ``ClaimRuleSet(parse_error=...)``. An empty text is an empty rule
    set (the trust issues nothing)."""
    if len(text) > MAX_RULE_TEXT:
        return ClaimRuleSet(parse_error=f"the rule set is {len(text)} characters long (more than {MAX_RULE_TEXT})")
    try:
        tree = _parser().parse(text)
        rules = _ToRules().transform(tree)
    except UnexpectedInput as exc:
        return ClaimRuleSet(parse_error=_position(text, exc))
    except (LarkError, RecursionError) as exc:
        return ClaimRuleSet(parse_error=f"{type(exc).__name__}: {exc}")
    analysis = _Analysis(rules)
    return ClaimRuleSet(rule_count=len(rules), rule_names=tuple(analysis.labels), issued=tuple(analysis.issued()),
                        issuer_id_rules=tuple(analysis.issuer_id_rules()))
