"""What Postfix does with one recipient address, step by step, read from the contract views.

The trace asks the database exactly what Postfix asks it: the queries of the exported lookup
tables, with the same keys, in the same order, against the same views. It always uses their
view form (files.POSTFIX_QUERIES), in every dialect: on PostgreSQL the exported tables call
lookup functions whose bodies are these same queries (files.LOOKUP_FUNCTIONS), which only the
Postfix role may execute.
It follows an inbound message from a client that is neither in mynetworks nor authenticated:

1. smtpd, RCPT TO: check_recipient_access (a disabled mailbox, and every address of a
   disabled domain, is refused there), the address class of the domain
   (virtual_alias_domains, virtual_mailbox_domains, relay_domains; anything else is refused
   by reject_unauth_destination; a U-label finds its A-label in every table), then
   smtpd_reject_unlisted_recipient (the address must be in virtual_alias_maps, catch-all
   included, or in virtual_mailbox_maps; a relayed domain's in relay_recipient_maps).
2. cleanup: virtual_alias_maps expansion as cleanup_map1n.c does it: `user@domain`, then
   `@domain`; each result is expanded in turn (a first result "@other" is the same user in
   the other domain, virtual(5)); an address that expands to itself is kept; more than 1000
   rewrites of one address or 1000 addresses defers the message.
3. For each final recipient: transport_maps (full address, then domain), then virtual(8) with
   virtual_mailbox_maps and virtual_uid_maps/virtual_gid_maps, or the relay or the outside.

Address extensions (recipient_delimiter, settings.MAILADMIN_RECIPIENT_DELIMITER): every address
lookup asks the exact key first, then the key without the extension (split_address), then the
catch-all, as mail_addr_find(3) does; an entry found without the extension does not pass the
extension on (propagate_unmatched_extensions = canonical), so virtual(8) and Dovecot LMTP get
the address the mailbox stores.

The work is bounded whatever the data: the trace follows at most TRACE_LIMIT addresses past
the recipient (the first ones, in Postfix's order) and counts the rest of a wider expansion
without tracing it. Each address traced costs a handful of the exported queries, one key
each as Postfix sends them; sending many keys in one statement (a UNION ALL of the same
queries, or a join of the views with a list of keys) plans far slower on the views than the
single queries run (measured on PostgreSQL: 8.5 s against 1.9 s for 999 keys), so the bound
comes from the limit, not from batching.

Everything here only reads. Besides the Postfix lookups, a few reads of mailadmin's own tables
explain a miss (an inactive mailbox, alias or domain); those are notes, never decisions.
The result holds codes and parameters; the panel turns them into sentences.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection

from mailadmin.contract.queries import MAIN_CF_MAPS, POSTFIX_QUERIES
from mailadmin.contract.views_v1 import DOMAIN_DISABLED_ACTION, ROLE_LOCAL_PARTS

# Postfix's defaults (postconf -d), which the exported main.cf lines keep.
RECURSION_LIMIT = 1000  # virtual_alias_recursion_limit
EXPANSION_LIMIT = 1000  # virtual_alias_expansion_limit
MYDESTINATION = ("localhost",)  # the generated main.cf lines set mydestination = localhost
# Addresses past the recipient the trace follows and shows; the rest is counted.
TRACE_LIMIT = 50

_PLACEHOLDER = re.compile(r"'%([sud])'")
_UNQUOTED = re.compile(r"(?<!%)%[sud]")

# Outcomes of a step.
OK = "ok"
INFO = "info"
REJECT = "reject"
DEFER = "defer"
BOUNCE = "bounce"
HIDDEN = "hidden"


@dataclass(frozen=True)
class Split:
    """An address cut at its recipient delimiter, as strip_addr(3) cuts it."""

    bare: str = ""  # the address without its extension; empty when it is not split
    extension: str = ""  # the extension with its delimiter: "+tag"
    kept: str = ""  # why a local part holding a delimiter stays whole: "reserved", "leading"


# split_addr.c: local parts Postfix never splits, whatever the delimiter (postmaster,
# MAILER-DAEMON, double_bounce_sender = double-bounce), and, with owner_request_special = yes
# (the default, which the exported lines keep) and "-" among the delimiters, owner-... and
# ...-request. These rules hold for every domain: the exported lookups are no different for
# a local, hosted, alias or relayed one.
_NEVER_SPLIT = ("postmaster", "mailer-daemon", "double-bounce")


def split_address(address: str, delimiter: str) -> Split:
    """`address` cut at the first character of its local part found in `delimiter` (several
    characters: whichever comes first), or not cut at all (empty delimiter, none found, or
    a local part Postfix keeps whole)."""
    local, at, domain = address.rpartition("@")
    if not at:
        local = address
    if not delimiter or not any(char in local for char in delimiter):
        return Split()
    folded = local.lower()
    if folded in _NEVER_SPLIT:
        return Split(kept="reserved")
    if "-" in delimiter and (
        folded.startswith("owner-") or (len(folded) > 8 and folded.endswith("-request"))
    ):
        return Split(kept="reserved")
    cut = next(index for index, char in enumerate(local) if char in delimiter)
    if cut == 0:
        return Split(kept="leading")  # no empty local part
    return Split(f"{local[:cut]}{at}{domain}", local[cut:])


@dataclass(frozen=True)
class Lookup:
    """One query Postfix sends: the table (as exported, e.g. virtual_alias_maps), the key."""

    table: str
    key: str
    query: str
    rows: tuple[str, ...] = ()
    suppressed: bool = False  # Postfix does not send the query for this key at all

    @property
    def found(self) -> bool:
        return bool(self.rows)

    @property
    def answer(self) -> str | None:
        """What postmap -q prints: the rows joined with commas, or None when not found."""
        return ",".join(self.rows) if self.rows else None


@dataclass
class Step:
    stage: str  # "domain", "rcpt", "expand", "deliver"
    code: str
    outcome: str
    params: dict[str, object] = field(default_factory=dict)
    lookups: list[Lookup] = field(default_factory=list)
    depth: int = 0


@dataclass(frozen=True)
class Delivery:
    address: str
    code: str  # the code of the step that decided it
    outcome: str


@dataclass
class Trace:
    address: str
    steps: list[Step] = field(default_factory=list)
    verdict: str = ""  # "rejected", "deferred", "accepted" or "partial" (TRACE_LIMIT)
    reply: str = ""  # the SMTP reply for a rejection
    deliveries: list[Delivery] = field(default_factory=list)
    untraced: int = 0  # addresses of the expansion past TRACE_LIMIT

    @property
    def lookups(self) -> list[Lookup]:
        return [lookup for step in self.steps for lookup in step.lookups]


class Lookups:
    """Runs the exported queries through Django's connection; each key is asked once."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], Lookup] = {}

    def ask(self, table: str, key: str) -> Lookup:
        cache_key = (table, key)
        if cache_key not in self._cache:
            self._cache[cache_key] = self._run(table, key)
        return self._cache[cache_key]

    def ask_all(self, parameter: str, key: str) -> list[Lookup]:
        """Every query the parameter's tables (or the one table) send for `key`, up to the
        first answer."""
        asked = []
        for table in MAIN_CF_MAPS.get(parameter, (parameter,)):
            lookup = self.ask(table, key)
            asked.append(lookup)
            if lookup.found:
                break
        return asked

    @staticmethod
    def _run(table: str, key: str) -> Lookup:
        template = POSTFIX_QUERIES[table]
        sql, params, suppressed = expand_query(template, key)
        if suppressed:
            return Lookup(table, key, template, suppressed=True)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = tuple(str(row[0]) for row in cursor.fetchall() if row[0] is not None)
        return Lookup(table, key, template, rows)


def expand_query(template: str, key: str) -> tuple[str, list[str], bool]:
    """The query Postfix would send for `key`, as SQL with parameters, and whether Postfix
    suppresses it (%u with an empty local part, %d for a key without a domain).

    Postfix quotes the values itself; here they become query parameters, so the database sees
    the same comparison without the text ever being pasted into SQL.
    """
    if _UNQUOTED.search(_PLACEHOLDER.sub("", template)):
        raise ValueError(f"unquoted %s, %u or %d in {template!r}")
    local, at, domain = key.rpartition("@")
    if not at:
        local, domain = key, ""
    values = {"s": key, "u": local, "d": domain}
    used = set(_PLACEHOLDER.findall(template))
    if ("u" in used and not local) or ("d" in used and not domain):
        return "", [], True
    params: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        params.append(values[match.group(1)])
        return "%s"

    # A literal "%%" in a Postfix query is also how Django's cursor writes a literal "%".
    return _PLACEHOLDER.sub(placeholder, template), params, False


DomainFilter = Callable[[str], bool]


def _everything(_domain: str) -> bool:
    return True


class Tracer:
    def __init__(self, may_see: DomainFilter | None = None) -> None:
        self.db = Lookups()
        self.may_see = may_see or _everything
        self.delimiter = str(settings.MAILADMIN_RECIPIENT_DELIMITER)
        # Addresses reached through an entry found without the extension: the extension.
        self.dropped: dict[str, str] = {}

    def split(self, address: str) -> Split:
        return split_address(address, self.delimiter)

    def find(self, parameter: str, address: str, *, catchall: bool = False) -> list[Lookup]:
        """mail_addr_find(3): the address, then the address without its extension, then
        (`catchall`) "@domain", each key in every table of the parameter, up to the first
        answer."""
        keys = [address]
        bare = self.split(address).bare
        if bare:
            keys.append(bare)
        local, _at, domain = address.rpartition("@")
        if catchall and local:
            keys.append(f"@{domain}")
        asked: list[Lookup] = []
        for key in keys:
            asked += self.db.ask_all(parameter, key)
            if asked[-1].found:
                break
        return asked

    def _fallback(self, address: str, lookup: Lookup) -> dict[str, object] | None:
        """The parameters of a step when `lookup` answered the key without the extension."""
        if not lookup.found or lookup.key != self.split(address).bare:
            return None
        return {"address": address, "key": lookup.key, "delimiter": self.delimiter}

    # -- address classes ----------------------------------------------------------------------

    def domain_class(self, domain: str) -> tuple[str, list[Lookup]]:
        """trivial-rewrite's resolve: local, virtual alias, virtual mailbox, relay, default."""
        if domain in MYDESTINATION:
            return "local", []
        asked = []
        for table, kind in (
            ("virtual_alias_domains", "alias"),
            ("virtual_mailbox_domains", "hosted"),
            ("relay_domains", "relay"),
        ):
            lookup = self.db.ask(table, domain)
            asked.append(lookup)
            if lookup.found:
                return kind, asked
        return "foreign", asked

    # -- the whole trace ----------------------------------------------------------------------

    def trace(self, address: str) -> Trace:
        # Postfix folds every key (ICU case folding for UTF-8): BÜCHER -> bücher.
        address = address.casefold()
        result = Trace(address)
        domain = address.rpartition("@")[2]
        kind, asked = self.domain_class(domain)
        step = Step("domain", f"domain_{kind}", INFO, {"domain": domain}, asked)
        result.steps.append(step)
        if asked and asked[-1].found and asked[-1].rows[0] != domain:
            # An SMTPUTF8 client's U-label: every table maps it to the stored A-label.
            a_label: dict[str, object] = {"domain": domain, "a_label": asked[-1].rows[0]}
            result.steps.append(Step("domain", "domain_unicode", INFO, a_label))
        result.steps += _domain_notes(domain, kind)
        if kind != "foreign":
            result.steps += self._split_notes(address)
        if not self._rcpt(result, address, kind):
            result.verdict = "rejected"
            return result
        finals = self._expand(result, address)
        if finals is None:
            result.verdict = "deferred"
            return result
        for final in finals:
            self._deliver(result, final)
        result.verdict = "partial" if result.untraced else "accepted"
        return result

    def _split_notes(self, address: str) -> list[Step]:
        split = self.split(address)
        if split.bare:
            params: dict[str, object] = {
                "address": address,
                "bare": split.bare,
                "extension": split.extension,
                "delimiter": self.delimiter,
            }
            return [Step("rcpt", "extension_split", INFO, params)]
        if split.kept:
            params = {"address": address, "delimiter": self.delimiter}
            return [Step("rcpt", f"extension_{split.kept}", INFO, params)]
        return []

    def _rcpt(self, result: Trace, address: str, kind: str) -> bool:
        """smtpd's RCPT TO checks for an unauthenticated client from outside mynetworks."""
        if kind == "foreign":
            result.reply = f"554 5.7.1 <{address}>: Relay access denied"
            result.steps.append(Step("rcpt", "rcpt_relay_denied", REJECT, {"reply": result.reply}))
            return False
        # check_recipient_access comes first in smtpd_recipient_restrictions: a disabled
        # mailbox is refused there, before any other table is asked.
        accessed = self.find("recipient_access", address)
        access = accessed[-1]
        if access.found:
            # The answer is "550 5.2.1 Mailbox disabled" (or "Domain disabled"); smtpd puts
            # the address in between. It comes before permit_mynetworks: every client gets it.
            answer = access.answer or ""
            code, status, text = answer.split(" ", 2)
            result.reply = f"{code} {status} <{address}>: Recipient address rejected: {text}"
            refused = "rcpt_domain_disabled" if answer == DOMAIN_DISABLED_ACTION else None
            params: dict[str, object] = {"reply": result.reply}
            fallback = self._fallback(address, access)
            if refused is None and fallback is not None:
                refused = "rcpt_extension_access_refused"
                params.update(fallback)
            result.steps.append(
                Step("rcpt", refused or "rcpt_access_refused", REJECT, params, accessed)
            )
            if refused != "rcpt_domain_disabled":
                result.steps += _address_notes(address, depth=0, bare=self.split(address).bare)
            return False
        if kind == "local":
            result.steps.append(Step("rcpt", "rcpt_local_accepted", OK, {}))
            return True
        if kind == "relay":
            asked = [*accessed, *self.find("relay_recipient_maps", address)]
            listed = asked[-1]
            if listed.found:
                fallback = self._fallback(address, listed)
                code = "rcpt_relay_accepted" if fallback is None else "rcpt_extension_relay"
                result.steps.append(Step("rcpt", code, OK, fallback or {}, asked))
                return True
            result.reply = (
                f"550 5.1.1 <{address}>: Recipient address rejected: "
                "User unknown in relay recipient table"
            )
            result.steps.append(
                Step("rcpt", "rcpt_unknown_relay", REJECT, {"reply": result.reply}, asked)
            )
            return False
        asked = [*accessed, *self.find("virtual_alias_maps", address, catchall=True)]
        if asked[-1].found:
            fallback = self._fallback(address, asked[-1])
            if fallback is not None:
                result.steps.append(Step("rcpt", "rcpt_extension_alias", OK, fallback, asked))
                return True
            code = "rcpt_in_alias_maps" if asked[-1].key == address else "rcpt_catchall"
            result.steps.append(Step("rcpt", code, OK, {"key": asked[-1].key}, asked))
            return True
        if kind == "hosted":
            asked += self.find("virtual_mailbox_maps", address)
            if asked[-1].found:
                fallback = self._fallback(address, asked[-1])
                code = "rcpt_in_mailbox_maps" if fallback is None else "rcpt_extension_mailbox"
                result.steps.append(Step("rcpt", code, OK, fallback or {}, asked))
                return True
            table = "virtual mailbox"
        else:
            table = "virtual alias"
        result.reply = (
            f"550 5.1.1 <{address}>: Recipient address rejected: User unknown in {table} table"
        )
        result.steps.append(
            Step("rcpt", f"rcpt_unknown_{kind}", REJECT, {"reply": result.reply}, asked)
        )
        result.steps += _address_notes(address, depth=0, bare=self.split(address).bare)
        return False

    def _expand(self, result: Trace, address: str) -> list[str] | None:
        """cleanup_map1n: rewrite each address in place until it stops changing."""
        addresses = [address]
        fixed: set[str] = set()  # addresses that expanded into themselves
        shown: set[str] = set()
        followed: set[str] = set()  # addresses past the recipient, at most TRACE_LIMIT
        depth_of = {address: 0}
        index = 0
        while index < len(addresses):
            if len(addresses) > EXPANSION_LIMIT:
                result.steps.append(
                    Step("expand", "expand_too_many", DEFER, {"limit": EXPANSION_LIMIT})
                )
                return None
            count = 0
            while True:
                current = addresses[index]
                depth = depth_of.get(current, 0)
                if current in fixed:
                    break
                if current != address and current not in followed:
                    if len(followed) >= TRACE_LIMIT:
                        # This slot and the ones after it are not traced; the ones before are
                        # final (each was rewritten until nothing answered).
                        result.untraced = len(addresses) - index
                        rest: dict[str, object] = {"limit": TRACE_LIMIT, "more": result.untraced}
                        result.steps.append(Step("expand", "expand_not_traced", INFO, rest))
                        return list(dict.fromkeys(addresses[:index]))
                    followed.add(current)
                if not self.may_see(current.rpartition("@")[2]):
                    break
                if count >= RECURSION_LIMIT:
                    result.steps.append(
                        Step(
                            "expand",
                            "expand_loop",
                            DEFER,
                            {"address": current, "limit": RECURSION_LIMIT},
                        )
                    )
                    return None
                asked = self.find("virtual_alias_maps", current, catchall=True)
                found = asked[-1] if asked[-1].found else None
                first_time = current not in shown
                shown.add(current)
                if found is None:
                    if first_time:
                        result.steps.append(
                            Step("expand", "expand_none", INFO, {"address": current}, asked, depth)
                        )
                    break
                rows = [row.lower() for row in found.rows]
                split = self.split(current)
                # Found without the extension: it is not passed on to the results
                # (propagate_unmatched_extensions = canonical).
                stripped = bool(split.bare) and found.key == split.bare
                if rows[0].startswith("@"):
                    # An alias domain's catch-all answers "@target": the same user there
                    # (mail_addr_map: the whole local part, less an extension left unmatched).
                    user = (split.bare if stripped else current).rpartition("@")[0]
                    rows[0] = user + rows[0]
                # A mailbox answers for itself (so that a catch-all never takes its mail).
                only_itself = [row.lower() for row in rows] == [current]
                if first_time:
                    code = "expand_alias" if found.key == current else "expand_catchall"
                    if only_itself and found.key == current:
                        code = "expand_mailbox_self"
                    params: dict[str, object] = {
                        "address": current,
                        "key": found.key,
                        "results": rows,
                    }
                    if stripped:
                        code = "expand_extension"
                        params["delimiter"] = self.delimiter
                    result.steps.append(Step("expand", code, INFO, params, asked, depth))
                    result.steps += _alias_notes(current, found.key, depth, rows, split.bare)
                extension = split.extension if stripped else self.dropped.get(current)
                for position, target in enumerate(rows):
                    depth_of.setdefault(target, depth + 1)
                    if extension and target != current:
                        self.dropped.setdefault(target, extension)
                    if position == 0:
                        addresses[index] = target
                    else:
                        addresses.append(target)
                    if target == current:
                        fixed.add(current)
                        if first_time and not only_itself:
                            result.steps.append(
                                Step("expand", "expand_self", INFO, {"address": current}, [], depth)
                            )
                count += 1
            index += 1
        # cleanup drops duplicate recipients (case-insensitive) before the queue file is written.
        return list(dict.fromkeys(addresses))

    def _deliver(self, result: Trace, address: str) -> None:
        domain = address.rpartition("@")[2]
        if not self.may_see(domain):
            self._finish(result, Step("deliver", "deliver_hidden", HIDDEN, {"address": address}))
            return
        kind, asked = self.domain_class(domain)
        params: dict[str, object] = {"address": address, "domain": domain}
        if kind == "foreign":
            step = Step("deliver", "deliver_external", OK, params, asked)
            self._finish(result, step)
            return
        if kind == "local":
            self._finish(result, Step("deliver", "deliver_local", OK, params))
            return
        if kind == "alias":
            # Still in an alias domain after expansion: trivial-rewrite hands it to error(8).
            step = Step("deliver", "deliver_unknown_alias", BOUNCE, params, asked)
            self._finish(result, step)
            return
        # trivial-rewrite: the address, the address without its extension, then the domain.
        asked += self.find("transport_maps", address)
        transport = asked[-1]
        if not transport.found:
            transport = self.db.ask("transport_maps", domain)
            asked.append(transport)
        self._deliver_fallback(result, address, transport)
        if kind == "relay":
            if transport.found:
                params["transport"] = transport.rows[0]
                self._finish(result, Step("deliver", "deliver_relay", OK, params, asked))
            else:
                self._finish(result, Step("deliver", "deliver_relay_mx", OK, params, asked))
            return
        if transport.found and not transport.rows[0].startswith("virtual:"):
            params["transport"] = transport.rows[0]
            self._finish(result, Step("deliver", "deliver_transport", OK, params, asked))
            if transport.rows[0].startswith("lmtp:"):
                self._dropped_note(result, address, "note_extension_dropped_lmtp")
            return
        self._virtual(result, address, params, asked)

    def _deliver_fallback(self, result: Trace, address: str, lookup: Lookup) -> None:
        """A delivery table answered the address without its extension: say so."""
        fallback = self._fallback(address, lookup)
        if fallback is not None:
            fallback["table"] = lookup.table
            result.steps.append(Step("deliver", "note_extension_fallback", INFO, fallback))

    def _dropped_note(self, result: Trace, address: str, code: str) -> None:
        if address in self.dropped:
            params: dict[str, object] = {"address": address, "extension": self.dropped[address]}
            result.steps.append(Step("deliver", code, INFO, params))

    def _virtual(
        self, result: Trace, address: str, params: dict[str, object], asked: list[Lookup]
    ) -> None:
        """virtual(8): the mailbox path and its owner, or a bounce for an unknown user."""
        # mail_addr_find(3) for each table: the address, then without its extension.
        asked += self.find("virtual_mailbox_maps", address)
        mailbox = asked[-1]
        if not mailbox.found:
            self._finish(result, Step("deliver", "deliver_unknown_mailbox", BOUNCE, params, asked))
            result.steps += _address_notes(address, depth=0, bare=self.split(address).bare)
            return
        self._deliver_fallback(result, address, mailbox)
        asked += self.find("virtual_uid_maps", address)
        uid = asked[-1]
        asked += self.find("virtual_gid_maps", address)
        gid = asked[-1]
        path = mailbox.rows[0]
        base = str(settings.MAILADMIN_MAIL_BASE).rstrip("/")
        params.update(
            path=path,
            full_path=f"{base}/{path}",
            uid=uid.rows[0] if uid.found else "",
            gid=gid.rows[0] if gid.found else "",
            minimum_uid=settings.MAILADMIN_MIN_UID,
        )
        if not uid.found or not gid.found:
            code, outcome = "deliver_no_owner", DEFER
        elif int(uid.rows[0]) < settings.MAILADMIN_MIN_UID:
            code, outcome = "deliver_uid_too_low", DEFER
        elif path.endswith("/"):
            code, outcome = "deliver_maildir", OK
        else:
            code, outcome = "deliver_mbox", OK
        self._finish(result, Step("deliver", code, outcome, params, asked))
        if outcome == OK:
            self._dropped_note(result, address, "note_extension_dropped_virtual")

    @staticmethod
    def _finish(result: Trace, step: Step) -> None:
        result.steps.append(step)
        result.deliveries.append(Delivery(str(step.params["address"]), step.code, step.outcome))


# -- notes from mailadmin's own tables: why a lookup found nothing ------------------------------


def _domain_notes(domain: str, kind: str) -> list[Step]:
    from domains.models import AliasDomain, Domain

    notes = []
    row = Domain.objects.filter(name=domain).first()
    if row is not None and not row.active:
        notes.append(Step("domain", "note_domain_inactive", INFO, {"domain": domain}))
    alias_domain = AliasDomain.objects.filter(name=domain).select_related("target").first()
    # A disabled alias domain, or one whose target is disabled, is still an alias domain to
    # Postfix (it stays ours), and recipient_access refuses its mail.
    if alias_domain is not None:
        target = alias_domain.target
        if not alias_domain.active:
            notes.append(Step("domain", "note_alias_domain_inactive", INFO, {"domain": domain}))
        elif not (target.active and target.is_hosted):
            notes.append(
                Step(
                    "domain",
                    "note_alias_domain_target_off",
                    INFO,
                    {"domain": domain, "target": target.name},
                )
            )
    return notes


def _address_notes(address: str, *, depth: int, bare: str = "") -> list[Step]:
    """Disabled rows of the address, and of the address without its extension (`bare`)."""
    from mailboxes.models import Alias, Mailbox

    addresses = [address, bare] if bare else [address]
    domain = address.rpartition("@")[2]
    locals_ = [item.rpartition("@")[0] for item in addresses]
    notes = []
    mailboxes = Mailbox.objects.filter(domain__name=domain, local_part__in=locals_, active=False)
    off = set(mailboxes.values_list("local_part", flat=True))
    for item, local in zip(addresses, locals_, strict=True):
        if local in off:
            notes.append(
                Step("deliver", "note_mailbox_inactive", INFO, {"address": item}, [], depth)
            )
    aliases = Alias.objects.filter(domain__name=domain, local_part__in=locals_, active=False)
    off = set(aliases.values_list("local_part", flat=True))
    for item, local in zip(addresses, locals_, strict=True):
        if local in off:
            notes.append(Step("expand", "note_alias_inactive", INFO, {"address": item}, [], depth))
    return notes


def _alias_notes(address: str, key: str, depth: int, rows: list[str], bare: str = "") -> list[Step]:
    """A catch-all, or the address without its extension (`bare`), answered: say so when an
    inactive alias of an address asked before was passed over. A role address nobody set up
    answered: say it is the server's postmaster fallback."""
    from domains.models import ServerSettings
    from mailboxes.models import Alias, Mailbox

    local, _at, domain = address.rpartition("@")
    if key == address:
        if local not in ROLE_LOCAL_PARTS:
            return []
        server = ServerSettings.objects.filter(id=1).values_list("postmaster_address", flat=True)
        own = (
            Alias.objects.filter(domain__name=domain, local_part=local, active=True).exists()
            or Mailbox.objects.filter(domain__name=domain, local_part=local).exists()
        )
        if own or rows != [target.lower() for target in server]:
            return []
        return [Step("expand", "note_role_fallback", INFO, {"address": address}, [], depth)]
    passed = [address] if key == bare else [address, bare] if bare else [address]
    wanted = {item.rpartition("@")[0]: item for item in passed}
    off = Alias.objects.filter(domain__name=domain, local_part__in=wanted, active=False)
    return [
        Step("expand", "note_alias_inactive", INFO, {"address": wanted[local]}, [], depth)
        for local in off.values_list("local_part", flat=True)
    ]


def trace_address(address: str, *, may_see: DomainFilter | None = None) -> Trace:
    """Trace `address` (lowercase; the domain as its A-label, or as the U-label an SMTPUTF8
    client sends, which every table maps to the A-label). `may_see(domain)` False hides
    what happens inside a domain the asking admin does not administer."""
    return Tracer(may_see).trace(address)
