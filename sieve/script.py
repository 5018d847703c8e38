"""The Sieve script (RFC 5228) of one mailbox, rendered from its settings: a pure function.

Dovecot's Pigeonhole runs it as a `sieve_before` script, ahead of the owner's own ManageSieve
script. Pigeonhole runs the next script only while the implicit keep stands, so a message that
a rule files, forwards without a copy or discards is done here, and everything else (marked
read, forwarded with a copy, answered) goes on to the owner's script. Hence no `stop`: it
would end the whole sequence and the owner's script would never see the message.

What the script does, in order:
1. spam-flagged mail (X-Spam-Flag: YES from SpamAssassin, X-Spam: Yes from rspamd) goes to
   Junk, unless the owner turned that off;
2. the enabled filter rules, as one if/elsif chain with the spam test at its head: the first
   that matches acts, and spam is never filtered further (nor forwarded);
3. the vacation reply (RFC 5230), to mail that is not spam-flagged, within its dates, and never
   to what RFC 3834 says not to answer: a null sender, list mail (List-Id, List-Post,
   List-Unsubscribe, Precedence list/bulk/junk), mail Auto-Submitted other than "no".
   Pigeonhole refuses some of these itself; the script says them all, so the rule holds
   whatever the server's settings. When the owner chose which addresses it answers for, a
   message must name one of them in its recipient headers (RFC 5230 4.5 for that subset:
   Pigeonhole would also answer the address the message was sent to).

Every string is quoted (backslash and double quote escaped). The script never requires the
"variables" extension, so "${...}" in a subject or body is literal text. The default settings
render exactly mailadmin.contract.views_v1.DEFAULT_SIEVE_SCRIPT.

Values come checked by sieve/rules.py; what this module refuses itself (ValueError) is only
what would make a script Pigeonhole cannot compile, which would stop every rule of the
mailbox, spam to Junk included.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sieve.models import Action, Condition, Match

SPAM_TEST = 'anyof (header :is "X-Spam-Flag" "YES", header :is "X-Spam" "Yes")'
JUNK = "Junk"
# The extensions a script may need, in the order its `require` lists them.
_EXTENSIONS = (
    "fileinto",
    "mailbox",
    "copy",
    "imap4flags",
    "envelope",
    "vacation",
    "date",
    "relational",
)
# RFC 5230 4.5: the headers in which the user's address must appear for a reply.
_RECIPIENT_HEADERS = ("to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc")
_LIST_HEADERS = ("list-id", "list-post", "list-unsubscribe")


@dataclass(frozen=True)
class Rule:
    """An enabled filter rule (sieve.models.FilterRule's fields)."""

    condition: str
    match: str
    value: str
    action: str
    header_name: str = ""
    folder: str = ""
    forward_to: str = ""
    keep_copy: bool = False


@dataclass(frozen=True)
class Reply:
    """An enabled vacation reply. `addresses`: the mailbox's addresses it answers for (its
    :addresses); `chosen`: the owner picked them, so a message must name one of them."""

    from_address: str
    subject: str
    body: str
    days: int
    addresses: tuple[str, ...] = ()
    chosen: bool = False
    start: date | None = None
    end: date | None = None


def quote(text: str) -> str:
    """`text` as a Sieve quoted string."""
    if "\0" in text or "\r" in text:
        raise ValueError("a Sieve string cannot hold NUL or a carriage return")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _one_line(text: str) -> str:
    if "\n" in text:
        raise ValueError(f"a line break in {text!r}")
    return quote(text)


def _string_list(items: Iterable[str]) -> str:
    quoted = [_one_line(item) for item in items]
    return quoted[0] if len(quoted) == 1 else "[" + ", ".join(quoted) + "]"


def _test(rule: Rule) -> str:
    """The test of a rule. "is" on the sender or a recipient compares the address itself
    (the address test); "contains" looks at the whole header, display name included."""
    if rule.match not in Match.values:
        raise ValueError(f"unknown match {rule.match!r}")
    match = f":{rule.match}"
    value = _one_line(rule.value)
    if rule.condition == Condition.SENDER:
        fields = ["from"]
    elif rule.condition == Condition.RECIPIENT:
        fields = ["to", "cc"]
    elif rule.condition == Condition.SUBJECT:
        return f'header {match} "subject" {value}'
    elif rule.condition == Condition.HEADER:
        return f"header {match} {_one_line(rule.header_name)} {value}"
    else:
        raise ValueError(f"unknown condition {rule.condition!r}")
    kind = "address" if rule.match == Match.IS else "header"
    return f"{kind} {match} {_string_list(fields)} {value}"


def _commands(rule: Rule) -> list[str]:
    if rule.action == Action.FILE_INTO:
        return [f"fileinto :create {_one_line(rule.folder)};"]
    if rule.action == Action.FORWARD:
        copy = ":copy " if rule.keep_copy else ""
        return [f"redirect {copy}{_one_line(rule.forward_to)};"]
    if rule.action == Action.DISCARD:
        return ["discard;"]
    if rule.action == Action.MARK_READ:
        # The implicit keep stands (INBOX, or where the owner's own script files it), with
        # the flag; a `keep :flags` here would store a second copy next to that.
        return ['addflag "\\\\Seen";']
    raise ValueError(f"unknown action {rule.action!r}")


def _extensions_of(rule: Rule) -> set[str]:
    if rule.action == Action.FILE_INTO:
        return {"fileinto", "mailbox"}
    if rule.action == Action.FORWARD and rule.keep_copy:
        return {"copy"}
    if rule.action == Action.MARK_READ:
        return {"imap4flags"}
    return set()


def _vacation_tests(reply: Reply) -> list[str]:
    tests = [
        'not envelope :is "from" ""',
        "not anyof (" + ", ".join(f"exists {quote(h)}" for h in _LIST_HEADERS) + ")",
        'not header :is "precedence" ["list", "bulk", "junk"]',
        'anyof (not exists "auto-submitted", header :is "auto-submitted" "no")',
        f"not {SPAM_TEST}",
    ]
    if reply.start is not None:
        tests.append(f'currentdate :value "ge" "date" "{reply.start.isoformat()}"')
    if reply.end is not None:
        tests.append(f'currentdate :value "le" "date" "{reply.end.isoformat()}"')
    if reply.chosen:
        headers = _string_list(_RECIPIENT_HEADERS)
        tests.append(f"address :is {headers} {_string_list(reply.addresses)}")
    return tests


def _vacation_lines(reply: Reply) -> list[str]:
    if not reply.addresses:
        raise ValueError("a vacation reply answers for at least its own address")
    tests = _vacation_tests(reply)
    lead = "if allof ("
    lines = [
        "# The vacation reply (RFC 5230), once per sender in its days; never to a null",
        "# sender, list or bulk mail, automatic mail (RFC 3834) or spam.",
    ]
    for number, test in enumerate(tests):
        prefix = lead if number == 0 else " " * len(lead)
        suffix = ") {" if number == len(tests) - 1 else ","
        lines.append(prefix + test + suffix)
    command = (
        f"vacation :days {int(reply.days)} :from {_one_line(reply.from_address)} "
        f":addresses {_string_list(reply.addresses)} :subject {_one_line(reply.subject)} "
        f"{quote(reply.body)};"
    )
    lines += ["  " + command, "}"]
    return lines


def render(
    *, spam_to_junk: bool = True, rules: Sequence[Rule] = (), vacation: Reply | None = None
) -> str:
    """The whole script of a mailbox: `rules` are its enabled filter rules in order,
    `vacation` its reply when it is on."""
    needed: set[str] = set()
    branches: list[tuple[str, list[str]]] = []
    comments: list[str] = []
    if spam_to_junk:
        needed |= {"fileinto", "mailbox"}
        branches.append((SPAM_TEST, [f"fileinto :create {quote(JUNK)};"]))
        comments.append(
            "# Spam-flagged mail goes to Junk (SpamAssassin: X-Spam-Flag, rspamd: X-Spam)."
        )
    for rule in rules:
        needed |= _extensions_of(rule)
        branches.append((_test(rule), _commands(rule)))
    if rules:
        comments.append(
            "# Then the filter rules in order: the first that matches acts."
            if spam_to_junk
            else "# The filter rules in order: the first that matches acts."
        )
    body = list(comments)
    for number, (test, commands) in enumerate(branches):
        opening = f"if {test} {{" if number == 0 else f"}} elsif {test} {{"
        body.append(opening)
        body += ["  " + command for command in commands]
    if branches:
        body.append("}")
    if vacation is not None:
        needed |= {"envelope", "vacation"}
        if vacation.start is not None or vacation.end is not None:
            needed |= {"date", "relational"}
        body += _vacation_lines(vacation)
    if not body:
        body.append("# Nothing to do: no spam to Junk, no filter rules, no vacation reply.")
    lines = []
    if needed:
        lines.append("require " + _string_list(e for e in _EXTENSIONS if e in needed) + ";")
    return "\n".join(lines + body) + "\n"
