from __future__ import annotations

from typing import Any

from accounts import services
from accounts.selectors import admin_get, admins
from mailadmin.cli import SubcommandCommand, domain_label, found, table, yes_no


class Command(SubcommandCommand):
    help = "Add, list, grant, revoke and delete panel admins (superadmins and domain admins)."

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
        self.action("list", "List admins with their domains.")
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
        rows = [
            (
                user.get_username(),
                yes_no(user.is_superuser),
                yes_no(user.is_active),
                ", ".join(domain_label(d.name) for d in user.administered_domains.all()) or "-",
            )
            for user in admins()
        ]
        if not rows:
            self.stdout.write("No admins.")
            return
        for line in table(("USERNAME", "SUPERADMIN", "ACTIVE", "DOMAINS"), rows):
            self.stdout.write(line)

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
