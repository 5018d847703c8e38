"""Normalisation and validation of domain names, local parts and addresses.

Everything mailadmin stores is in canonical form: lowercase, domains as IDNA 2008 A-labels
(UTS 46 mapping, the `idna` package, not Python's IDNA 2003 codec). Limits follow RFC 5321
(local part 64 octets, domain 253, label 63, path 254) and refuse what would break Postfix,
Dovecot or the mail directory layout, with a message that says why.

Local parts are RFC 5322 dot-atoms, less the characters that change what the mail stack or its
operators' tools do with an address, whatever the quoting:
- "/" would split the mail directory path; "%" is expanded by Postfix and Dovecot alike;
- "*" and "?" are wildcards to doveadm (`doveadm expunge -u 'a*@example.com'` acts on every
  matching user, and no shell quoting stops that) and in LDAP filters, which is why Dovecot's
  default auth_username_chars leaves them out;
- a leading "-" reads as an option to the programs mail may be piped to.
The rest of atext stays: ! # $ & ' + = ^ ` { | } ~ are shell metacharacters, but they are in
real addresses (o'brien, john+work, first=last) and single quotes defuse them, so operator
scripts quote addresses ('o'\''brien@example.com' for the quote itself). Local parts stored
before "*" and "?" were refused keep their rows, but the panel, the importer and Dovecot's
login (auth_username_chars, mailadmin/contract/dovecot_files.py) no longer take them.
"""

from __future__ import annotations

import functools
import re

import idna
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MAX_LOCAL_PART = 64
MAX_DOMAIN = 253
MAX_LABEL = 63
MAX_ADDRESS = 254

_LDH_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
# RFC 5322 atext, less "/", "%", "*" and "?" (see above); dots only between atoms. Quoted
# local parts are not accepted.
_ATEXT = r"[a-z0-9!#$&'+=^_`{|}~-]"
_WILDCARDS = ("*", "?")
_LOCAL_PART = re.compile(rf"^{_ATEXT}+(?:\.{_ATEXT}+)*$")


def _rough_a_label(text: str) -> str:
    """The A-label form for counting lengths only (IDNA checks the rest afterwards)."""
    if text.isascii():
        return text
    try:
        mapped = idna.uts46_remap(text, std3_rules=False, transitional=False)
    except (idna.IDNAError, UnicodeError):
        return ""
    return ".".join(
        label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii")
        for label in mapped.split(".")
    )


def _check_lengths(ascii_name: str) -> None:
    if len(ascii_name) > MAX_DOMAIN:
        raise ValidationError(
            _("A domain name is at most %(max)d characters long."),
            code="too_long",
            params={"max": MAX_DOMAIN},
        )
    if any(len(label) > MAX_LABEL for label in ascii_name.split(".")):
        raise ValidationError(
            _("Each part of a domain name is at most %(max)d characters long."),
            code="label_too_long",
            params={"max": MAX_LABEL},
        )


def normalize_domain(value: str) -> str:
    """Return the lowercase A-label form of a domain name, or raise ValidationError."""
    text = (value or "").strip().rstrip(".")
    if not text:
        raise ValidationError(_("Enter a domain name."), code="required")
    if any(ch.isspace() for ch in text):
        raise ValidationError(_("A domain name cannot contain spaces."), code="invalid")
    # Before IDNA, which would refuse an over-long name with a less plain reason of its own.
    _check_lengths(_rough_a_label(text))
    try:
        ascii_name = idna.encode(text, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise ValidationError(
            _("“%(value)s” is not a valid domain name (%(reason)s)."),
            code="invalid",
            params={"value": value, "reason": str(exc)},
        ) from None
    ascii_name = ascii_name.lower()
    _check_lengths(ascii_name)
    labels = ascii_name.split(".")
    if len(labels) < 2:
        raise ValidationError(
            _("“%(value)s” is not a fully qualified domain name (example.com)."),
            code="not_fqdn",
            params={"value": value},
        )
    for label in labels:
        if not _LDH_LABEL.match(label):
            raise ValidationError(
                _("“%(label)s” is not a valid part of a domain name."),
                code="invalid",
                params={"label": label},
            )
    if labels[-1].isdigit():
        raise ValidationError(
            _("The last part of a domain name cannot be a number."), code="numeric_tld"
        )
    return ascii_name


# split_address meets the same few domains on thousands of addresses (an import, a list of
# destinations), and IDNA 2008 checks are the slowest step: each domain is normalised once.
# Errors are not cached.
_normalize_domain_cached = functools.lru_cache(maxsize=4096)(normalize_domain)


@functools.lru_cache(maxsize=4096)
def domain_to_unicode(ascii_name: str) -> str:
    """The Unicode form of a stored A-label domain, for display; unchanged if not decodable.

    Cached: a list page shows the same few domains on every row, and IDNA checks are slow."""
    try:
        return idna.decode(ascii_name)
    except (idna.IDNAError, UnicodeError):
        return ascii_name


def normalize_local_part(value: str) -> str:
    """Return the lowercase local part, or raise ValidationError."""
    text = (value or "").strip().lower()
    if not text:
        raise ValidationError(_("Enter the part before the @."), code="required")
    if len(text.encode("utf-8")) > MAX_LOCAL_PART:
        raise ValidationError(
            _("The part before the @ is at most %(max)d characters long."),
            code="too_long",
            params={"max": MAX_LOCAL_PART},
        )
    if text.startswith("-"):
        # A leading dash reads as an option to the programs that mail may be piped to.
        raise ValidationError(_("The part before the @ cannot start with “-”."), code="invalid")
    if any(wildcard in text for wildcard in _WILDCARDS):
        raise ValidationError(
            _(
                "The part before the @ cannot contain “*” or “?”: mail tools such as doveadm "
                "read them as wildcards that match other users."
            ),
            code="wildcard",
        )
    if not _LOCAL_PART.match(text):
        raise ValidationError(
            _(
                "“%(value)s” is not allowed before the @: use letters, digits and "
                "!#$&'+=^_`{|}~- with single dots between them."
            ),
            code="invalid",
            params={"value": value},
        )
    return text


def split_address(value: str, *, allow_catchall: bool = False) -> tuple[str, str]:
    """Split and normalise `local@domain`; `@domain` gives ("", domain) when allowed."""
    text = (value or "").strip()
    if text.count("@") != 1:
        raise ValidationError(
            _("“%(value)s” is not an e-mail address (local@domain)."),
            code="invalid",
            params={"value": value},
        )
    local, domain = text.split("@")
    if not local:
        if not allow_catchall:
            raise ValidationError(
                _("“%(value)s” has nothing before the @."), code="invalid", params={"value": value}
            )
        return "", _normalize_domain_cached(domain)
    local_part = normalize_local_part(local)
    domain_name = _normalize_domain_cached(domain)
    if len(local_part) + 1 + len(domain_name) > MAX_ADDRESS:
        raise ValidationError(
            _("An e-mail address is at most %(max)d characters long."),
            code="too_long",
            params={"max": MAX_ADDRESS},
        )
    return local_part, domain_name


def normalize_address(value: str, *, allow_catchall: bool = False) -> str:
    local_part, domain = split_address(value, allow_catchall=allow_catchall)
    return f"{local_part}@{domain}"


_TRANSPORT = re.compile(r"^[a-z0-9][a-z0-9_-]*:[^\s,'\"%]*$")


def normalize_transport(value: str) -> str:
    """Check a Postfix transport_maps result such as `smtp:[mx.example.net]:25`."""
    text = (value or "").strip()
    if not text:
        return ""
    if len(text) > 255 or not _TRANSPORT.match(text):
        raise ValidationError(
            _(
                "“%(value)s” is not a Postfix transport: write transport:nexthop, "
                "for example smtp:[mx.example.net]:25 or lmtp:unix:private/dovecot-lmtp."
            ),
            code="invalid",
            params={"value": value},
        )
    return text
