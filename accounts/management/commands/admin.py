from __future__ import annotations

import math
from typing import Any

from django.core.management.base import CommandError
from django.utils import timezone

from accounts import services
from accounts.models import LoginKind
from accounts.selectors import admin_get, admins, throttles
from mailadmin.cli import SubcommandCommand, domain_label, found, iso, plural, yes_no


class Command(SubcommandCommand):
    help = (
        "Add, list, grant, revoke and delete panel admins (superadmins and domain admins); "
        "list and lift login throttles."
    )

    def add_actions(self) -> None:
        add = self.action("add", "Add an admin; the password is read from stdin or generated.")
        add.add_argument("username", metavar="USERNAME")
        add.add_argument("--superadmin", action="store_true", help="may do everything")
        add.add_argument(
            "--domain",
            dest="domains",
            action="append",
            default=[],
            metavar="DOMAIN",
            help="a domain this admin manages (repeat for several)",
        )
        add.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from stdin (default: generate one and print it once)",
        )
        self.action("list", "List admins with their domains.", json_output=True)
        for name, text in (
            ("grant", "Let an admin manage more domains."),
            ("revoke", "Take domains away from an admin."),
        ):
            action = self.action(name, text)
            action.add_argument("username", metavar="USERNAME")
            action.add_argument(
                "--domain", dest="domains", action="append", required=True, metavar="DOMAIN"
            )
        password = self.action(
            "password", "Set an admin's password (from stdin, or generated and printed once)."
        )
        password.add_argument("username", metavar="USERNAME")
        password.add_argument("--password-stdin", action="store_true")
        delete = self.action("delete", "Delete an admin account (their domains stay).")
        delete.add_argument("username", metavar="USERNAME")
        delete.add_argument("--yes", action="store_true", help="do not ask")
        self.action(
            "throttles", "List login throttles: failures and waits, newest first.", json_output=True
        )
        lift = self.action("unthrottle", "Lift login throttles of an identity, a network or both.")
        lift.add_argument(
            "identity",
            nargs="?",
            default="",
            metavar="IDENTITY",
            help="an admin's username or an owner's address, in any spelling the login accepts",
        )
        lift.add_argument(
            "--network", default="", metavar="ADDRESS", help="an IP address (IPv6: its /64)"
        )
        lift.add_argument("--kind", default="", choices=LoginKind.values, help="only this kind")

    def _user(self, username: str) -> Any:
        return found(lambda user, username: admin_get(username=username), username=username)

    def _print_generated(self, username: str, password: str | None) -> None:
        if password is not None:
            self.stdout.write(
                f"  username: {username}\n  password: {password}\nThis password is shown only now."
            )

    def handle_add(self, options: dict[str, Any]) -> None:
        password = self.read_password() if options["password_stdin"] else None
        user, generated = services.admin_create(
            actor=None,
            username=options["username"],
            password=password,
            superadmin=options["superadmin"],
            domains=options["domains"],
        )
        role = "superadmin" if user.is_superuser else "domain admin"
        self.stdout.write(f"Created {role} {user.get_username()}.")
        self._print_generated(user.get_username(), generated)

    def handle_list(self, options: dict[str, Any]) -> None:
        records = (
            {
                "username": user.get_username(),
                "superadmin": user.is_superuser,
                "active": user.is_active,
                "domains": [d.name for d in user.administered_domains.all()],
                "last_login": iso(user.last_login),
            }
            for user in admins()
        )
        columns = (
            ("USERNAME", lambda r: r["username"]),
            ("SUPERADMIN", lambda r: yes_no(bool(r["superadmin"]))),
            ("ACTIVE", lambda r: yes_no(bool(r["active"]))),
            ("DOMAINS", lambda r: ", ".join(map(domain_label, r["domains"])) or "-"),
        )
        self.print_records(options, records, columns, empty="No admins.")

    def handle_grant(self, options: dict[str, Any]) -> None:
        user = self._user(options["username"])
        new = services.admin_grant(actor=None, user=user, domains=options["domains"])
        names = ", ".join(domain_label(d.name) for d in new) or "nothing new"
        self.stdout.write(f"Granted {user.get_username()}: {names}.")

    def handle_revoke(self, options: dict[str, Any]) -> None:
        user = self._user(options["username"])
        gone = services.admin_revoke(actor=None, user=user, domains=options["domains"])
        names = ", ".join(domain_label(d.name) for d in gone) or "nothing"
        self.stdout.write(f"Revoked from {user.get_username()}: {names}.")

    def handle_password(self, options: dict[str, Any]) -> None:
        user = self._user(options["username"])
        password = self.read_password() if options["password_stdin"] else None
        generated = services.admin_set_password(actor=None, user=user, password=password)
        self.stdout.write(f"Changed the password of {user.get_username()}.")
        self._print_generated(user.get_username(), generated)

    def handle_delete(self, options: dict[str, Any]) -> None:
        user = self._user(options["username"])
        if not options["yes"]:
            self.confirm(
                f"Delete the admin {user.get_username()}?",
                refusal="not deleted: confirm with --yes",
            )
        services.admin_delete(actor=None, user=user)
        self.stdout.write(f"Deleted the admin {user.get_username()}.")

    def handle_throttles(self, options: dict[str, Any]) -> None:
        now = timezone.now()
        records = (
            {
                "kind": row.kind,
                "identity": row.identity or None,
                "network": row.network or None,
                "failures": row.failures,
                "wait_seconds": math.ceil((row.blocked_until - now).total_seconds())
                if row.blocked_until and row.blocked_until > now
                else 0,
                "blocked_until": iso(row.blocked_until),
                "last_failure": iso(row.last_failure),
            }
            for row in throttles()
        )
        columns = (
            ("KIND", lambda r: r["kind"]),
            ("IDENTITY", lambda r: r["identity"] or "*"),
            ("NETWORK", lambda r: r["network"] or "*"),
            ("FAILURES", lambda r: r["failures"]),
            ("WAIT", lambda r: r["wait_seconds"] or "-"),
            ("LAST FAILURE", lambda r: r["last_failure"] or "-"),
        )
        self.print_records(options, records, columns, empty="No login throttles.")

    def handle_unthrottle(self, options: dict[str, Any]) -> None:
        if not options["identity"] and not options["network"]:
            raise CommandError("name an IDENTITY, a --network or both")
        lifted = services.throttles_lift(
            actor=None,
            identity=options["identity"],
            network=options["network"],
            kind=options["kind"],
        )
        if lifted:
            self.stdout.write(f"Lifted {plural(lifted, 'throttle', 'throttles')}.")
        else:
            self.stdout.write("No throttle matched.")
