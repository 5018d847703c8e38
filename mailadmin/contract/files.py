"""The text of every file the exporter writes: Postfix lookup tables, the main.cf and master.cf
lines (postfix_files), the Dovecot SQL config (dovecot_files) and the SQL that creates the
read-only roles (roles), for one installation (target).

Together with views_v1 (the views) and queries (the lookups over them) these modules are the
mail-stack contract.
"""

from __future__ import annotations

from mailadmin.contract.dovecot_delivery import (
    DELIVERY_CONF,
    DICT_CONF,
    QUOTA_WARNING_SCRIPT,
    delivery_conf,
    dict_sql_conf,
    quota_warning_script,
)
from mailadmin.contract.dovecot_files import dovecot_auth_conf, dovecot_sql_conf
from mailadmin.contract.postfix_files import (
    SENDER_LOGIN_ACCESS,
    main_cf_lines,
    master_cf_lines,
    postfix_table,
)
from mailadmin.contract.queries import POSTFIX_QUERIES
from mailadmin.contract.roles import roles_sql
from mailadmin.contract.target import Target


def render_all(target: Target) -> dict[str, str]:
    """Relative path -> content of every file for `target`."""
    target.check()
    files = {f"postfix/{name}.cf": postfix_table(target, name) for name in POSTFIX_QUERIES}
    files[f"postfix/{SENDER_LOGIN_ACCESS}.cf"] = postfix_table(target, SENDER_LOGIN_ACCESS)
    files["postfix/main.cf.lines"] = main_cf_lines(target)
    files["postfix/master.cf.lines"] = master_cf_lines(target)
    files["dovecot/dovecot-sql.conf.ext"] = dovecot_sql_conf(target)
    files["dovecot/auth-mailadmin.conf.ext"] = dovecot_auth_conf(target)
    files[f"dovecot/{DELIVERY_CONF}"] = delivery_conf(target)
    files[f"dovecot/{DICT_CONF}"] = dict_sql_conf(target)
    files[f"dovecot/{QUOTA_WARNING_SCRIPT}"] = quota_warning_script(target)
    files["sql/roles.sql"] = roles_sql(target)
    return files
