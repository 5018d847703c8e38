"""What the benchmark database holds, as a function of M (bench/seed.py gives the proportions):
the counts of each kind of row, the words names are made of, and the password hashes."""

from __future__ import annotations

from dataclasses import dataclass

# Words for realistic names; split once below.
_NAMES = (
    "anna alex boris carla daniel elena felix galina hugo irina jan julia karl lena max "
    "maria nick olga oleh petro rita sam sofia taras uma victor wanda yana zoe ivan "
    "kateryna bohdan mykola nadia roman svitlana andriy oksana dmytro larysa"
)
_SURNAMES = (
    "smith kovalenko muller bondar novak shevchenko garcia melnyk rossi tkachenko dubois "
    "kravets jensen boyko silva lysenko nowak moroz weber savchenko brown rudenko fischer "
    "marchenko costa kozak martin pavlenko schmidt levchenko wilson hrytsenko bauer oliynyk "
    "taylor polishchuk meyer zinchenko clark ivanenko"
)
_ROLES = "info sales support office billing team hr admin press jobs contact noreply"
_WORDS = (
    "acme blue city delta eco fast green home info joy kiev lake mono nova open prime "
    "quick river star terra"
)
FIRST, LAST, ROLES, WORDS = (words.split() for words in (_NAMES, _SURNAMES, _ROLES, _WORDS))
BIG_DOMAIN = "bigcorp.example"
PANEL_SUPERUSER = "bench"
PANEL_DOMAIN_ADMIN = "benchadmin"


@dataclass(frozen=True)
class Plan:
    mailboxes: int
    domains: int
    relay_domains: int
    aliases: int
    alias_domains: int
    big_domain_mailboxes: int

    @classmethod
    def for_mailboxes(cls, mailboxes: int) -> Plan:
        if mailboxes < 20:
            raise ValueError("at least 20 mailboxes")
        domains = max(5, mailboxes // 50)
        return cls(
            mailboxes=mailboxes,
            domains=domains,
            relay_domains=max(2, domains // 100),
            aliases=mailboxes // 5,
            alias_domains=max(1, domains // 10),
            big_domain_mailboxes=mailboxes // 10,
        )


def password_hashes() -> list[str]:
    """A few real hashes of each written scheme; rows reuse them (hashing 1M is not the point)."""
    from mailadmin.passwords import hash_password

    return [
        hash_password(f"bench-password-{i}", scheme)
        for scheme in ("ARGON2ID", "SHA512-CRYPT")
        for i in range(2)
    ]
