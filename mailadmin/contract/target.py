"""The installation the generated files describe: the database, the roles, the paths and the
Postfix settings the exporter takes as options, with the checks that keep them plain."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_SAFE_PATH = re.compile(r"^/[A-Za-z0-9._/+-]*$")
_DELIMITER = re.compile(r"^[-+=_~]{0,4}$")
_LISTEN = re.compile(r"^[A-Za-z0-9.:_-]+$")
POSTFIX_QUEUE_DIR = "/var/spool/postfix"
POSTFIX_SASL_SOCKET = f"{POSTFIX_QUEUE_DIR}/private/auth"
POSTFIX_LMTP_SOCKET = f"{POSTFIX_QUEUE_DIR}/private/dovecot-lmtp"
POSTFIX_QUOTA_STATUS_SOCKET = f"{POSTFIX_QUEUE_DIR}/private/quota-status"
# Who delivers to the mailboxes: Dovecot's LMTP (quota, Sieve) or Postfix's virtual(8).
DELIVERIES = ("lmtp", "virtual")
_GROUP = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
_HOST_PORT = re.compile(r"^[A-Za-z0-9.-]+:[0-9]{1,5}$")
# The doveadm HTTP API key the exporter generates (export.new_secret): letters and digits only,
# so it needs no quoting in Dovecot's configuration and no escaping in an env file.
_API_KEY = re.compile(r"^[A-Za-z0-9]{24,128}$")


def is_loopback(address: str) -> bool:
    """Whether a listener on `address` (an IP address) is reachable from this machine only."""
    return ipaddress.ip_address(address).is_loopback


@dataclass(frozen=True)
class Target:
    """Everything the generated files need to know about the installation."""

    dialect: str
    database: str  # database name, or the SQLite file path
    hosts: tuple[tuple[str, int | None], ...] = ()
    postfix_role: str = "mailadmin_postfix"
    dovecot_role: str = "mailadmin_dovecot"
    postfix_password: str = ""
    dovecot_password: str = ""
    postfix_dir: str = "/etc/postfix/mailadmin"
    dovecot_dir: str = "/etc/dovecot"
    # The main Dovecot configuration, for the programs Dovecot starts with a clean
    # environment (the quota warning's dovecot-lda).
    dovecot_conf: str = "/etc/dovecot/dovecot.conf"
    mail_base: str = "/var/vmail"
    min_uid: int = 1000
    password_scheme: str = "ARGON2ID"  # noqa: S105 - a scheme name
    mynetworks: str = "127.0.0.0/8 [::1]/128"
    proxy: bool = True
    mysql_role_host: str = "%"
    # Where Dovecot opens its SASL socket for Postfix; under the Postfix queue directory
    # main.cf names it relative to it (private/auth), elsewhere by its absolute path.
    sasl_socket: str = POSTFIX_SASL_SOCKET
    # The address extension delimiter (MAILADMIN_RECIPIENT_DELIMITER): Postfix's
    # recipient_delimiter; empty means no extensions.
    recipient_delimiter: str = "+"
    message_size_limit: int = 26214400  # MAILADMIN_MESSAGE_SIZE_LIMIT, bytes
    # The certificate (full chain) and key for Postfix and Dovecot; none: no TLS lines.
    tls_cert: str = ""
    tls_key: str = ""
    # The master.cf service names of submission (STARTTLS) and submissions (implicit TLS):
    # a port name from /etc/services or host:port.
    submission_listen: str = "submission"
    submissions_listen: str = "submissions"
    delivery: str = "lmtp"
    # Dovecot's LMTP and quota-status sockets for Postfix (under its queue directory main.cf
    # names them relative to it, as the SASL socket).
    lmtp_socket: str = POSTFIX_LMTP_SOCKET
    quota_status_socket: str = POSTFIX_QUOTA_STATUS_SOCKET
    # The group every mail process gets (mail_access_groups) to reach the dict and
    # quota-warning sockets: mail processes run as each mailbox's own uid.
    mail_group: str = "mailadmin-mail"
    # ManageSieve's TCP port for mail clients (RFC 5804: 4190); 0: no ManageSieve.
    managesieve_port: int = 4190
    # Where Sieve's vacation replies and redirects are sent: host:port of an SMTP server;
    # empty: Dovecot's sendmail_path (Postfix's sendmail on the same host).
    submission_host: str = ""
    # doveadm's HTTP API, which the panel asks for the scripts mail clients keep over
    # ManageSieve (sieveList); 0: no listener. Off unless asked: no port is reserved for it,
    # and its key may run every doveadm command on every mailbox (docs/mail-stack.md).
    doveadm_port: int = 0
    # The listener's address: loopback unless the panel runs on another host, which then
    # talks TLS to it (the key must not cross a network in clear).
    doveadm_listen: str = "127.0.0.1"
    doveadm_api_key: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def check(self) -> None:
        if self.dialect not in ("pgsql", "mysql", "sqlite"):
            raise ValueError(f"unknown dialect {self.dialect!r}: use pgsql, mysql or sqlite")
        for role in (self.postfix_role, self.dovecot_role):
            if not _ROLE.match(role):
                raise ValueError(f"role name {role!r}: use lowercase letters, digits and _")
        if self.postfix_role == self.dovecot_role:
            raise ValueError("the Postfix and Dovecot roles must differ")
        for label, path in (
            ("mail base", self.mail_base),
            ("Postfix config dir", self.postfix_dir),
            ("Dovecot config dir", self.dovecot_dir),
            ("Dovecot config", self.dovecot_conf),
            ("SASL socket", self.sasl_socket),
        ):
            if not _SAFE_PATH.match(path) or "/../" in path + "/":
                raise ValueError(f"{label} {path!r}: an absolute path of plain characters")
        if self.dialect == "sqlite" and not _SAFE_PATH.match(self.database):
            raise ValueError(f"SQLite database path {self.database!r}: an absolute plain path")
        if self.min_uid < 1:
            raise ValueError("the minimum uid must be at least 1")
        if not _DELIMITER.match(self.recipient_delimiter):
            raise ValueError(
                f"recipient delimiter {self.recipient_delimiter!r}: up to four of + - = _ ~,"
                " or empty for none"
            )
        if self.message_size_limit < 1024:
            raise ValueError("the message size limit must be at least 1024 bytes")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("give the TLS certificate and its key together, or neither")
        for label, path in (("TLS certificate", self.tls_cert), ("TLS key", self.tls_key)):
            if path and (not _SAFE_PATH.match(path) or "/../" in path + "/"):
                raise ValueError(f"{label} {path!r}: an absolute path of plain characters")
        for listen in (self.submission_listen, self.submissions_listen):
            if not _LISTEN.match(listen):
                raise ValueError(f"service {listen!r}: a port name, a port or host:port")
        if self.submission_listen == self.submissions_listen:
            raise ValueError("submission and submissions need different listeners")
        if self.delivery not in DELIVERIES:
            raise ValueError(f"delivery {self.delivery!r}: use lmtp or virtual")
        for label, path in (
            ("LMTP socket", self.lmtp_socket),
            ("quota-status socket", self.quota_status_socket),
        ):
            if not _SAFE_PATH.match(path) or "/../" in path + "/":
                raise ValueError(f"{label} {path!r}: an absolute path of plain characters")
        if not _GROUP.match(self.mail_group):
            raise ValueError(f"mail group {self.mail_group!r}: a group name")
        if not 0 <= self.managesieve_port <= 65535:
            raise ValueError("the ManageSieve port is 1 to 65535, or 0 for none")
        if self.submission_host and not _HOST_PORT.match(self.submission_host):
            raise ValueError(f"submission host {self.submission_host!r}: host:port")
        self._check_doveadm()

    def _check_doveadm(self) -> None:
        if not 0 <= self.doveadm_port <= 65535:
            raise ValueError("the doveadm HTTP port is 1 to 65535, or 0 for none")
        if not self.doveadm_port:
            return
        if self.delivery != "lmtp":
            raise ValueError(
                "the doveadm HTTP listener shows the ManageSieve scripts Dovecot's LMTP runs:"
                " it needs --delivery lmtp"
            )
        if self.doveadm_port == self.managesieve_port:
            raise ValueError("doveadm and ManageSieve need different ports")
        try:
            loopback = is_loopback(self.doveadm_listen)
        except ValueError:
            raise ValueError(
                f"doveadm listener {self.doveadm_listen!r}: an IP address (127.0.0.1)"
            ) from None
        if not loopback and not self.tls_cert:
            raise ValueError(
                f"a doveadm listener on {self.doveadm_listen} is reachable from other hosts:"
                " give --tls-cert and --tls-key, so that its API key never crosses a network"
                " in clear"
            )
        if not _API_KEY.match(self.doveadm_api_key):
            raise ValueError("the doveadm API key must be 24 to 128 letters and digits")
