"""The SQL that creates the read-only roles of Postfix and Dovecot (roles.sql), with the
password verifiers PostgreSQL and MariaDB store, so the file never holds a password in clear."""

from __future__ import annotations

import base64
import hashlib
import hmac

from mailadmin.contract import sqlite_files, views_v1
from mailadmin.contract.queries import LOOKUP_FUNCTIONS
from mailadmin.contract.target import Target
from mailadmin.contract.usage_table import TABLE as USAGE_TABLE

# What Dovecot's quota_clone does to the usage table: an upsert of the figures per change.
# The columns the triggers derive (mailbox, domain, share of the quota) are not the role's.
# MariaDB checks UPDATE of every inserted column for INSERT ... ON DUPLICATE KEY UPDATE.
USAGE_WRITE = "SELECT, INSERT (username, bytes, messages), UPDATE (username, bytes, messages)"


def scram_sha_256(password: str, salt_seed: str, iterations: int = 4096) -> str:
    """A PostgreSQL SCRAM-SHA-256 verifier, so roles.sql never holds a password in clear.

    The salt is derived from the password and the role so that exporting twice gives the same
    file (the hand-edit check compares contents).
    """
    salt = hashlib.sha256(f"{salt_seed}\0{password}".encode()).digest()[:16]
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def mysql_native_password(password: str) -> str:
    """MariaDB's mysql_native_password hash: '*' + SHA1(SHA1(password)) in upper hex."""
    digest = hashlib.sha1(hashlib.sha1(password.encode()).digest()).hexdigest()  # noqa: S324
    return "*" + digest.upper()


def roles_sql(target: Target) -> str:
    roles = (
        (target.postfix_role, target.postfix_password, views_v1.POSTFIX_VIEWS),
        (target.dovecot_role, target.dovecot_password, views_v1.ALL_VIEWS),
    )
    if target.dialect == "pgsql":
        return _pgsql_roles(target, roles)
    if target.dialect == "mysql":
        return _mysql_roles(target, roles)
    return (
        "-- SQLite has no roles: file modes take their place. Postfix reads the Postfix file\n"
        f"-- {sqlite_files.postfix_database(target.database)} (no password hashes; owner the\n"
        "-- panel's user, group postfix, mode 0640); Dovecot reads the panel's own file\n"
        f"-- {target.database} (group dovecot, mode 0640). See docs/operators.md, SQLite.\n"
    )


def _pgsql_roles(target: Target, roles: tuple[tuple[str, str, tuple[str, ...]], ...]) -> str:
    database = target.database.replace('"', '""')
    out = [
        f"-- Run as the owner of the database: psql -d {target.database} -f roles.sql",
        "-- Postfix may read the Postfix views only (no password hashes) and writes nothing;",
        "-- Dovecot may also read mailadmin_dovecot_passdb and the Sieve and owner views, and",
        f"-- write one table, {USAGE_TABLE} (quota_clone). Neither can read another table.",
        "-- Postfix's tables call the mailadmin_postfix_*_lookup functions, which only Postfix",
        "-- may execute. Run again after every upgrade that adds a lookup function.",
    ]
    for role, password, views in roles:
        out += [
            "DO $$ BEGIN",
            f"  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN",
            f"    CREATE ROLE {role};",
            "  END IF;",
            "END $$;",
            f"ALTER ROLE {role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT"
            f" PASSWORD '{scram_sha_256(password, role)}';",
            f"ALTER ROLE {role} SET default_transaction_read_only = "
            + ("off;" if role == target.dovecot_role else "on;"),
            f'GRANT CONNECT ON DATABASE "{database}" TO {role};',
            f"GRANT USAGE ON SCHEMA public TO {role};",
            f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role};",
            f"GRANT SELECT ON {', '.join(views)} TO {role};",
            f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM {role};",
        ]
        if role == target.dovecot_role:
            out.append(f"GRANT {USAGE_WRITE} ON {USAGE_TABLE} TO {role};")
    # The exported tables call the lookup functions (created by the contract's migrations).
    signatures = ", ".join(function.signature for function in LOOKUP_FUNCTIONS)
    out.append(f"GRANT EXECUTE ON FUNCTION {signatures} TO {target.postfix_role};")
    return "\n".join(out) + "\n"


def _mysql_roles(target: Target, roles: tuple[tuple[str, str, tuple[str, ...]], ...]) -> str:
    database = target.database.replace("`", "``")
    host = target.mysql_role_host.replace("'", "")
    out = [
        f"-- Run as an administrator: mariadb {target.database} < roles.sql",
        "-- Postfix may read the Postfix views only (no password hashes) and writes nothing;",
        "-- Dovecot may also read mailadmin_dovecot_passdb and the Sieve and owner views, and",
        f"-- write one table, {USAGE_TABLE} (quota_clone). Neither can read another table.",
    ]
    for role, password, views in roles:
        account = f"'{role}'@'{host}'"
        hashed = mysql_native_password(password)
        out += [
            f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY PASSWORD '{hashed}';",
            f"ALTER USER {account} IDENTIFIED BY PASSWORD '{hashed}';",
        ]
        # No global REVOKE: it would also strip the account's grants on other databases
        # (a second mailadmin installation on the same server).
        out += [f"GRANT SELECT ON `{database}`.`{view}` TO {account};" for view in views]
        if role == target.dovecot_role:
            out.append(f"GRANT {USAGE_WRITE} ON `{database}`.`{USAGE_TABLE}` TO {account};")
    return "\n".join(out) + "\n"
