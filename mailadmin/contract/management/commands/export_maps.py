from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from mailadmin import dburl
from mailadmin.contract.dialects import DIALECTS, dialect_of
from mailadmin.contract.export import (
    HandEdited,
    doveadm_api_key,
    make_private_dir,
    role_passwords,
    write_files,
)
from mailadmin.contract.files import render_all
from mailadmin.contract.target import (
    DELIVERIES,
    POSTFIX_LMTP_SOCKET,
    POSTFIX_QUOTA_STATUS_SOCKET,
    POSTFIX_SASL_SOCKET,
    Target,
)
from mailadmin.passwords import default_scheme


class Command(BaseCommand):
    help = "Write the Postfix tables, main.cf and master.cf lines, Dovecot config and role SQL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dialect", choices=DIALECTS, help="default: the panel's database")
        parser.add_argument("--out", required=True, type=Path, help="folder to write into")
        parser.add_argument(
            "--db-url",
            help="where Postfix and Dovecot reach the database, without user or password "
            "(postgresql://db1,db2:5432/mailadmin); default: the panel's database",
        )
        parser.add_argument("--postfix-role", default="mailadmin_postfix")
        parser.add_argument("--dovecot-role", default="mailadmin_dovecot")
        parser.add_argument(
            "--postfix-dir",
            default="/etc/postfix/mailadmin",
            help="where the .cf files will be installed (named in main.cf)",
        )
        parser.add_argument(
            "--dovecot-dir",
            default="/etc/dovecot",
            help="where the Dovecot files will be installed",
        )
        parser.add_argument(
            "--dovecot-conf",
            default="/etc/dovecot/dovecot.conf",
            help="Dovecot's main configuration file (for the quota warning's dovecot-lda)",
        )
        parser.add_argument(
            "--sasl-socket",
            default=POSTFIX_SASL_SOCKET,
            help="the socket Dovecot opens for Postfix's SMTP AUTH (smtpd_sasl_path)",
        )
        parser.add_argument("--mynetworks", default="127.0.0.0/8 [::1]/128")
        parser.add_argument(
            "--tls-cert",
            default="",
            help="certificate (full chain, PEM) for Postfix and Dovecot; none: no TLS lines",
        )
        parser.add_argument("--tls-key", default="", help="the certificate's private key (PEM)")
        parser.add_argument(
            "--submission-listen",
            default="submission",
            help="master.cf service of submission with STARTTLS (port 587, or host:port)",
        )
        parser.add_argument(
            "--submissions-listen",
            default="submissions",
            help="master.cf service of submission over implicit TLS (port 465, or host:port)",
        )
        parser.add_argument(
            "--delivery",
            choices=DELIVERIES,
            default=settings.MAILADMIN_DELIVERY,
            help="who delivers: Dovecot's LMTP (quota, Sieve) or Postfix's virtual(8);"
            " default: MAILADMIN_DELIVERY (lmtp)",
        )
        parser.add_argument(
            "--lmtp-socket",
            default=POSTFIX_LMTP_SOCKET,
            help="where Dovecot's LMTP listens for Postfix (default: in Postfix's queue)",
        )
        parser.add_argument(
            "--quota-status-socket",
            default=POSTFIX_QUOTA_STATUS_SOCKET,
            help="where Dovecot's quota-status policy service listens for Postfix",
        )
        parser.add_argument(
            "--mail-group",
            default="mailadmin-mail",
            help="the group Dovecot's mail processes get for the dict and quota-warning sockets",
        )
        parser.add_argument(
            "--managesieve-port",
            type=int,
            default=4190,
            help="ManageSieve's port for mail clients (0: none)",
        )
        parser.add_argument(
            "--submission-host",
            default="",
            help="host:port that takes Sieve's vacation replies and redirects (default: sendmail)",
        )
        parser.add_argument(
            "--doveadm-port",
            type=int,
            default=0,
            help="doveadm's HTTP API for the panel, which shows the ManageSieve scripts "
            "(0, the default: none; its key is kept in the secrets file)",
        )
        parser.add_argument(
            "--doveadm-listen",
            default="127.0.0.1",
            help="the doveadm HTTP listener's address (default 127.0.0.1; another needs TLS)",
        )
        parser.add_argument("--no-proxy", action="store_true", help="do not use proxy: tables")
        parser.add_argument("--mysql-role-host", default="%")
        parser.add_argument(
            "--rotate-passwords", action="store_true", help="new passwords for the two roles"
        )
        parser.add_argument(
            "--rotate-api-key",
            action="store_true",
            help="a new doveadm API key (then give the panel the new one)",
        )
        parser.add_argument("--force", action="store_true", help="overwrite hand-edited files")

    def handle(self, *args: Any, **options: Any) -> None:
        target = self._target(options)
        files = render_all(target)
        try:
            results = write_files(options["out"], files, force=options["force"])
        except HandEdited as exc:
            names = ", ".join(str(p) for p in exc.paths)
            raise CommandError(
                f"edited by hand since the last export, kept as they are: {names} "
                "(nothing was written; --force overwrites them)"
            ) from None
        except OSError as exc:
            raise CommandError(f"cannot write {exc.filename}: {exc.strerror}") from None
        for result in results:
            self.stdout.write(f"{result.status:9} {result.path}")

    def _target(self, options: dict[str, Any]) -> Target:
        own_dialect = dialect_of(connection)
        dialect = options["dialect"] or own_dialect
        if options["db_url"]:
            try:
                url = dburl.parse(options["db_url"])
            except ValueError as exc:
                raise CommandError(f"--db-url: {exc}") from None
            if url.password:
                raise CommandError(
                    "--db-url must not carry a password (argv is visible to every user); "
                    f"the role passwords are generated and kept in {options['out']}/"
                    ".mailadmin-secrets.json"
                )
            if url.dialect != dialect:
                raise CommandError(f"--db-url is a {url.dialect} URL but --dialect is {dialect}")
            hosts, database = url.hosts, url.name
            if dialect == "sqlite":
                database = str(Path(url.name).resolve())
        elif dialect == own_dialect:
            db = settings.DATABASES["default"]
            database = str(db["NAME"])
            hosts = ((db["HOST"] or "localhost", int(db["PORT"]) if db.get("PORT") else None),)
        else:
            raise CommandError(f"--db-url is needed: the panel's own database is {own_dialect}")
        passwords: dict[str, str] = {}
        if dialect != "sqlite":
            try:
                make_private_dir(options["out"])
                passwords = role_passwords(
                    options["out"],
                    (options["postfix_role"], options["dovecot_role"]),
                    rotate=options["rotate_passwords"],
                )
            except OSError as exc:
                raise CommandError(f"cannot write to {options['out']}: {exc.strerror}") from None
        api_key = ""
        if options["doveadm_port"]:
            try:
                make_private_dir(options["out"])
                api_key = doveadm_api_key(options["out"], rotate=options["rotate_api_key"])
            except OSError as exc:
                raise CommandError(f"cannot write to {options['out']}: {exc.strerror}") from None
        target = Target(
            dialect=dialect,
            database=database,
            hosts=tuple(hosts),
            postfix_role=options["postfix_role"],
            dovecot_role=options["dovecot_role"],
            postfix_password=passwords.get(options["postfix_role"], ""),
            dovecot_password=passwords.get(options["dovecot_role"], ""),
            postfix_dir=options["postfix_dir"],
            dovecot_dir=options["dovecot_dir"],
            dovecot_conf=options["dovecot_conf"],
            mail_base=settings.MAILADMIN_MAIL_BASE,
            min_uid=settings.MAILADMIN_MIN_UID,
            password_scheme=default_scheme(),
            mynetworks=options["mynetworks"],
            proxy=not options["no_proxy"],
            mysql_role_host=options["mysql_role_host"],
            sasl_socket=options["sasl_socket"],
            recipient_delimiter=settings.MAILADMIN_RECIPIENT_DELIMITER,
            message_size_limit=settings.MAILADMIN_MESSAGE_SIZE_LIMIT,
            tls_cert=options["tls_cert"],
            tls_key=options["tls_key"],
            submission_listen=options["submission_listen"],
            submissions_listen=options["submissions_listen"],
            delivery=options["delivery"],
            lmtp_socket=options["lmtp_socket"],
            quota_status_socket=options["quota_status_socket"],
            mail_group=options["mail_group"],
            managesieve_port=options["managesieve_port"],
            submission_host=options["submission_host"],
            doveadm_port=options["doveadm_port"],
            doveadm_listen=options["doveadm_listen"],
            doveadm_api_key=api_key,
        )
        try:
            target.check()
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        return target
