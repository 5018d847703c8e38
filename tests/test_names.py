"""Validation of domains, local parts and addresses, with the inputs a fuzzer would try."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from mailadmin.names import (
    domain_to_unicode,
    normalize_address,
    normalize_domain,
    normalize_local_part,
    normalize_transport,
    split_address,
)
from mailadmin.sizes import format_size, parse_size, parse_typed_size


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("Example.COM", "example.com"),
        ("example.com.", "example.com"),
        ("  mail.example.org ", "mail.example.org"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("ПРИКЛАД.укр", "xn--80aikifvh.xn--j1amh"),
        ("faß.de", "xn--fa-hia.de"),  # IDNA 2008: ß is kept, not mapped to "ss" as in 2003
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
    ],
)
def test_domains_are_stored_as_lowercase_a_labels(raw, canonical):
    assert normalize_domain(raw) == canonical


def test_a_label_is_shown_in_unicode():
    assert domain_to_unicode("xn--bcher-kva.example") == "bücher.example"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "required"),
        ("localhost", "not_fqdn"),
        ("exa mple.com", "invalid"),
        ("-example.com", "invalid"),
        ("example-.com", "invalid"),
        ("exa_mple.com", "invalid"),
        ("example..com", "invalid"),
        ("example.123", "numeric_tld"),
        ("a" * 64 + ".com", "label_too_long"),  # said plainly, before IDNA's own reason
        (".".join(["a" * 63] * 4) + ".com", "too_long"),  # 257 characters
        ("bücher" * 11 + ".example", "label_too_long"),  # its A-label is 67 characters
        ("ex%ample.com", "invalid"),
        ("ex'ample.com", "invalid"),
        ("example.com\x00", "invalid"),
        ("@example.com", "invalid"),
    ],
)
def test_bad_domains_are_refused_with_a_message(raw, code):
    with pytest.raises(ValidationError) as info:
        normalize_domain(raw)
    assert info.value.messages[0]
    assert info.value.code == code


def test_domain_of_253_characters_is_the_limit():
    name = ".".join(["a" * 61] * 4) + ".com"  # 4*62 + 3 = 251
    assert len(normalize_domain(name)) == 251


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [("John.Doe", "john.doe"), ("o'brien", "o'brien"), ("a+tag", "a+tag"), ("x_y-z", "x_y-z")],
)
def test_local_parts_are_lowercased(raw, canonical):
    assert normalize_local_part(raw) == canonical


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "required"),
        (".john", "invalid"),
        ("john.", "invalid"),
        ("jo..hn", "invalid"),
        ("a/b", "invalid"),  # would split the mail directory
        ("../etc", "invalid"),
        ("100%", "invalid"),
        ('"quoted"', "invalid"),
        ("sp ace", "invalid"),
        ("-option", "invalid"),
        ("ünïcode", "invalid"),
        ("a" * 65, "too_long"),
        ("tab\there", "invalid"),
        ("new\nline", "invalid"),
        ("nul\x00", "invalid"),
        ("semi;colon", "invalid"),
        ("comma,here", "invalid"),
        ("a*b", "wildcard"),  # doveadm -u reads * and ? as wildcards: one user would be many
        ("*", "wildcard"),
        ("all?", "wildcard"),
        ("?", "wildcard"),
    ],
)
def test_bad_local_parts_are_refused(raw, code):
    with pytest.raises(ValidationError) as info:
        normalize_local_part(raw)
    assert info.value.code == code


@pytest.mark.parametrize("raw", ["a*b", "who?"])
def test_wildcards_are_refused_with_the_reason(raw):
    with pytest.raises(ValidationError) as info:
        normalize_local_part(raw)
    assert info.value.code == "wildcard"  # its own message, which names doveadm
    with pytest.raises(ValidationError) as info:
        normalize_address(f"{raw}@example.com")
    assert info.value.code == "wildcard"


def test_the_rest_of_atext_stays_allowed():
    """Shell metacharacters are RFC 5322 atext and in real addresses (o'brien, a+tag);
    single quotes defuse them in a shell, unlike doveadm's wildcards (mailadmin/names.py)."""
    local = "a!#$&'+=^_`{|}~-.z"
    assert normalize_local_part(local) == local


def test_dovecot_accepts_exactly_the_local_part_characters():
    """auth_username_chars (the exported Dovecot file) is the set a local part may use."""
    from mailadmin.contract.dovecot_files import DOVECOT_USERNAME_CHARS

    allowed = set()
    for char in map(chr, range(33, 127)):
        try:
            normalize_local_part(f"a{char}b")
        except ValidationError:
            continue
        allowed |= {char, char.upper()}
    assert set(DOVECOT_USERNAME_CHARS) == allowed | {"@"}


def test_catchall_only_where_allowed():
    assert split_address("@Example.com", allow_catchall=True) == ("", "example.com")
    with pytest.raises(ValidationError) as info:
        split_address("@example.com")
    assert info.value.messages == ["“@example.com” has nothing before the @."]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("user", "invalid"),
        ("a@b@example.com", "invalid"),
        ("user@", "required"),
        ("user@localhost", "not_fqdn"),
        ("@", "invalid"),
    ],
)
def test_bad_addresses_are_refused(raw, code):
    with pytest.raises(ValidationError) as info:
        normalize_address(raw)
    assert info.value.code == code


def test_address_length_limit():
    local = "a" * 64
    domain = ".".join(["b" * 60] * 3) + ".com"  # 186 characters: 64 + 1 + 186 = 251
    assert normalize_address(f"{local}@{domain}") == f"{local}@{domain}"
    with pytest.raises(ValidationError) as info:
        normalize_address(f"{local}@{'c' * 10}.{domain}")  # 262 characters
    assert info.value.code == "too_long"


@given(st.text(max_size=80))
def test_local_part_validation_never_crashes_and_output_is_safe(text):
    try:
        value = normalize_local_part(text)
    except ValidationError:
        return
    assert value == value.lower()
    assert not {"/", "%", "@", " ", '"', "\\", "\x00"} & set(value)
    assert 0 < len(value.encode()) <= 64


@given(st.text(max_size=300))
def test_domain_validation_never_crashes_and_output_is_ascii(text):
    try:
        value = normalize_domain(text)
    except ValidationError:
        return
    assert value.isascii() and value == value.lower()
    assert len(value) <= 253
    assert all(0 < len(label) <= 63 for label in value.split("."))


@given(st.emails())
def test_generated_addresses_normalise_idempotently(address):
    try:
        value = normalize_address(address)
    except ValidationError:
        return
    assert normalize_address(value) == value


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ("smtp:[mx.example.net]:25", True),
        ("lmtp:unix:private/dovecot-lmtp", True),
        ("relay:", True),
        ("smtp:[mx.example.net]:25, other", False),
        ("smtp: space", False),
        ("noseparator", False),
        ("SMTP:x", False),
        ("smtp:'x'", False),
    ],
)
def test_transport_syntax(raw, ok):
    if ok:
        assert normalize_transport(raw) == raw
    else:
        with pytest.raises(ValidationError) as info:
            normalize_transport(raw)
        assert info.value.code == "invalid"
        assert "is not a Postfix transport" in info.value.messages[0]


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("0", 0),
        ("unlimited", 0),
        ("1024", 1024),
        ("1K", 1024),
        ("500M", 500 * 2**20),
        ("2G", 2 * 2**30),
        ("1.5GiB", 3 * 2**29),
        ("2 gb", 2 * 2**30),
    ],
)
def test_parse_size(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("-1G", "invalid"),
        ("lots", "invalid"),
        ("1X", "invalid"),
        ("1.2.3M", "invalid"),
        ("9" * 30 + "T", "too_large"),
    ],
)
def test_parse_size_refuses(text, code):
    with pytest.raises(ValidationError) as info:
        parse_size(text)
    assert info.value.code == code


@pytest.mark.parametrize("text", ["5", "1024", "1.5", " 20 "])
def test_a_typed_size_needs_a_unit(text):
    """In the panel and the CLI a number alone was bytes ("5" five bytes); files keep it."""
    with pytest.raises(ValidationError) as info:
        parse_typed_size(text)
    assert info.value.code == "no_unit"
    assert parse_size(text) == int(float(text))


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("", 0),
        ("0", 0),
        ("0.0", 0),
        ("unlimited", 0),
        ("5B", 5),
        ("5M", 5 * 2**20),
        ("2 gb", 2**31),
    ],
)
def test_a_typed_size_with_a_unit(text, size):
    assert parse_typed_size(text) == size


def test_format_size():
    assert format_size(0) == "unlimited"
    assert format_size(512) == "512 B"
    assert format_size(3 * 2**29) == "1.5 GiB"
