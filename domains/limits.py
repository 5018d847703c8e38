"""What a domain's limits say about its current use, for the admin who just lowered them.

Lowering a limit below what the domain already uses is allowed (nothing is deleted or cut:
the mailboxes keep their mail and their quotas), but from then on the limit refuses what
needs room (a new mailbox, a new alias, a larger quota). Saying so at once, with the use,
spares the admin finding it out from the next refusal.
"""

from __future__ import annotations

from django.db.models import Count, Max
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, ngettext_lazy

from domains.models import Domain, DomainUsage
from mailadmin.sizes import format_size

MAILBOXES_OVER = ngettext_lazy(
    "%(name)s has %(n)d mailbox, more than its maximum of %(max)d: no mailbox can be added"
    " until some are deleted.",
    "%(name)s has %(n)d mailboxes, more than its maximum of %(max)d: no mailbox can be added"
    " until some are deleted.",
    "n",
)
ALIASES_OVER = ngettext_lazy(
    "%(name)s has %(n)d alias, more than its maximum of %(max)d: no alias can be added until"
    " some are deleted.",
    "%(name)s has %(n)d aliases, more than its maximum of %(max)d: no alias can be added until"
    " some are deleted.",
    "n",
)

# The settings whose change limits_below_use answers.
LIMIT_FIELDS = frozenset({"max_mailboxes", "max_aliases", "max_mailbox_quota", "total_quota"})
# The domain's settings that are sizes in bytes (how `domain set` prints a change).
SIZE_FIELDS = frozenset({"max_mailbox_quota", "total_quota", "default_mailbox_quota"})


def limits_below_use(domain: Domain) -> list[str]:
    """One sentence per limit of `domain` that its current use exceeds; none when it fits."""
    use = DomainUsage.objects.filter(domain_id=domain.pk).first() or DomainUsage()
    found = []
    counted = (
        (use.mailboxes, domain.max_mailboxes, MAILBOXES_OVER),
        (use.aliases, domain.max_aliases, ALIASES_OVER),
    )
    for count, limit, sentence in counted:
        if limit and count > limit:
            found.append(sentence % {"name": domain.display_name, "n": count, "max": limit})
    if domain.total_quota and use.quota_allocated > domain.total_quota:
        found.append(
            _(
                "The quotas of %(name)s's mailboxes add up to %(used)s, more than its total quota"
                " of %(max)s: no quota can grow and no mailbox be added until some is freed."
            )
            % {
                "name": domain.display_name,
                "used": format_size(use.quota_allocated),
                "max": format_size(domain.total_quota),
            }
        )
    if domain.max_mailbox_quota:
        above = domain.mailboxes.filter(quota__gt=domain.max_mailbox_quota).aggregate(
            n=Count("pk"), largest=Max("quota")
        )
        unlimited = domain.mailboxes.filter(quota=0).count()
        if above["n"]:
            found.append(
                ngettext(
                    "%(n)d mailbox has a quota above the maximum of %(max)s (the largest is"
                    " %(largest)s); it keeps its quota until it is changed.",
                    "%(n)d mailboxes have a quota above the maximum of %(max)s (the largest is"
                    " %(largest)s); they keep their quotas until they are changed.",
                    above["n"],
                )
                % {
                    "n": above["n"],
                    "max": format_size(domain.max_mailbox_quota),
                    "largest": format_size(above["largest"]),
                }
            )
        if unlimited:
            found.append(
                ngettext(
                    "%(n)d mailbox has no quota although the maximum is now %(max)s; it keeps"
                    " no limit until its quota is changed.",
                    "%(n)d mailboxes have no quota although the maximum is now %(max)s; they"
                    " keep no limit until their quotas are changed.",
                    unlimited,
                )
                % {"n": unlimited, "max": format_size(domain.max_mailbox_quota)}
            )
    return found
